/**
 * Worker settings from the environment, validated at start so that a typo fails the deploy
 * rather than a run. Temporal connection settings are not here: they come from envconfig.
 */
import { z } from 'zod';
import { RUN_LABEL } from '../contract/metrics.js';
import { buildIdProblem, DEFAULT_DEPLOYMENT_NAME, deploymentNameProblem } from '../contract/deployments.js';
import { DEFAULT_TASK_QUEUE } from '../contract/task-queues.js';
import { logEnvShape } from '../service/logging.js';

const count = z.coerce.number().int().positive();
const ms = z.coerce.number().int().positive();

const workerEnvSchema = z.object({
  TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
  /** Module exporting callback sets (see extensions/callbacks.ts). */
  ARKOR_CALLBACKS_MODULE: z.string().min(1).optional(),
  /** Module exporting scorer functions for smoke-test `{ scorer }` expectations. */
  ARKOR_SCORERS_MODULE: z.string().min(1).optional(),
  /** Module exporting precondition functions (input `precondition.check`). */
  ARKOR_PRECONDITIONS_MODULE: z.string().min(1).optional(),
  /** Which queues this process polls: both, or only one (to scale streams and callbacks apart). */
  ARKOR_WORKER_QUEUES: z.enum(['all', 'main', 'streams']).default('all'),
  /** Streams (wait activities) this worker follows at once. */
  ARKOR_MAX_STREAMS: count.default(200),
  /** Callback and other short activities this worker runs at once. */
  ARKOR_MAX_ACTIVITIES: count.default(20),
  /**
   * Workflow runs the worker keeps cached between tasks; unset = the SDK's default (sized from
   * the heap). Lower it to bound memory with many concurrent runs; 0 disables the cache.
   */
  ARKOR_MAX_CACHED_WORKFLOWS: z.preprocess(
    // An empty variable means unset, not 0 (which would silently disable the cache).
    (value) => (value === '' ? undefined : value),
    z.coerce
      .number()
      .int()
      .min(0)
      .refine((value) => value !== 1, 'must be 0 (no cache) or at least 2')
      .optional(),
  ),
  ARKOR_LOG_BATCH_MAX_EVENTS: count.default(1000),
  ARKOR_LOG_BATCH_MAX_DELAY_MS: ms.default(1000),
  ARKOR_STREAM_IDLE_TIMEOUT_MS: ms.default(60_000),
  /** Undispatched events of a run at which its wait activity stops reading (back-pressure). */
  ARKOR_MAX_BACKLOG: count.default(2000),
  /** A pause on the backlog longer than this closes the stream; it is read again later. */
  ARKOR_READ_AGAIN_AFTER_PAUSE_MS: ms.default(30_000),
  /** A stream failing this long in a row reads the job: a deleted job fails the run. */
  ARKOR_STREAM_CHECK_JOB_AFTER_MS: ms.default(60_000),
  /** No event and no sign of the job for this long: the stream gives up. */
  ARKOR_STREAM_PROGRESS_BUDGET_MS: ms.default(30 * 60_000),
  /** First wait before a blocked stream (401/403/426) tries again; doubles up to 10 minutes. */
  ARKOR_STREAM_BLOCKED_RETRY_MS: ms.default(30_000),
  /**
   * Worker Versioning (README "Deploys"): `on` polls as a version of a worker deployment, and runs
   * stay on the version they started on until they continue as new; `off` for servers without
   * Worker Deployments (older ones, where they were a pre-release off by default, or with
   * `system.enableDeploymentVersions` off).
   */
  ARKOR_WORKER_VERSIONING: z.enum(['on', 'off']).default('on'),
  /** The worker deployment: every worker of one fleet (both queues) shares it. */
  ARKOR_DEPLOYMENT_NAME: z
    .string()
    .superRefine((name, ctx) => {
      const problem = deploymentNameProblem(name);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .default(DEFAULT_DEPLOYMENT_NAME),
  /** This worker's version in the deployment. Unset: the package version and the workflow code's hash. */
  ARKOR_BUILD_ID: z
    .string()
    .superRefine((buildId, ctx) => {
      const problem = buildIdProblem(buildId);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
  /**
   * When this worker makes its version the deployment's current one (new runs start on the
   * current version): `fresh` only a deployment that has never had a current or ramping version
   * (the first deploy), `always` at every start (development), `never` (`arkor-temporal deploy`
   * does it).
   */
  ARKOR_BECOME_CURRENT: z.enum(['fresh', 'always', 'never']).default('fresh'),
  /** How long activities get to finish on SIGINT/SIGTERM before they are cancelled. */
  ARKOR_SHUTDOWN_GRACE_MS: ms.default(10_000),
  /** Serve Prometheus metrics on this port (all interfaces). Off by default. */
  ARKOR_METRICS_PORT: z.coerce.number().int().min(1).max(65_535).optional(),
  /** Serve Prometheus metrics on this `host:port`, e.g. `127.0.0.1:9464`; wins over the port. */
  ARKOR_METRICS_BIND: z
    .string()
    .regex(/^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'must be host:port, e.g. 127.0.0.1:9464')
    .optional(),
  /** `workflow_id`: each run's training gauges get a label of their own (one series per run). Off by default. */
  ARKOR_METRICS_RUN_LABEL: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.literal(RUN_LABEL, { message: `must be ${RUN_LABEL} (or unset)` }).optional(),
  ),
  /** `text` (the SDK's) or `json` (one object a line on stdout), and the lowest level logged. */
  ...logEnvShape,
});

export type WorkerSettings = z.infer<typeof workerEnvSchema>;

/** Reads the worker settings; throws an error naming every bad variable. */
export function loadWorkerSettings(env: NodeJS.ProcessEnv = process.env): WorkerSettings {
  const result = workerEnvSchema.safeParse(env);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  throw new Error(`Invalid worker configuration: ${problems.join('; ')}`);
}
