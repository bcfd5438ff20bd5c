/**
 * `arkor-temporal/worker`: run training workers inside a service's own process.
 *
 * ```ts
 * import { createWorker } from 'arkor-temporal/worker';
 * import { callbacks } from './callbacks.js';
 *
 * const worker = await createWorker({ callbacks });
 * await worker.run(); // until worker.shutdown()
 * ```
 *
 * Everything not passed is read the way `arkor-temporal worker` reads it: Temporal settings from
 * envconfig (`TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`, profiles…), Arkor credentials from the
 * environment or `arkor login`, the `ARKOR_*` worker settings from the environment.
 */
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { ArkorClient, type ArkorConnection, resolveArkorConnection } from '../arkor/index.js';
import { streamTaskQueue } from '../contract/task-queues.js';
import { callbackSetsFrom, type TrainingCallbacks } from '../extensions/callbacks.js';
import { preconditionRegistryFrom, type Precondition } from '../extensions/preconditions.js';
import { scorerRegistryFrom, type Scorer } from '../extensions/scorers.js';
import { loadTemporalSettings, type TemporalSettings } from '../service/connection.js';
import { loadWorkerSettings, type WorkerSettings } from './config.js';
import { connectWorker } from './connection.js';
import { workflowBuildId } from './bundle.js';
import { createTrainingWorkers } from './create-worker.js';
import type { WorkerTracing } from './tracing.js';
import { buildActivityDeps, type DepsOverrides } from './deps.js';
import type { BecomeCurrent, VersionReadiness, WorkerVersioning } from './versioning.js';

export interface CreateWorkerOptions {
  /**
   * The lifecycle callbacks: one set (registered as `default`), or sets by name (a run picks one
   * with `callbacks.set`). Default: the module `ARKOR_CALLBACKS_MODULE` names, else an empty set.
   */
  callbacks?: TrainingCallbacks | Readonly<Record<string, TrainingCallbacks>>;
  /** Scorers for smoke-test `{ scorer }` expectations, by name, beside the built-ins. Default: `ARKOR_SCORERS_MODULE`'s. */
  scorers?: Readonly<Record<string, Scorer>>;
  /** Preconditions for scheduled retrains, by name. Default: `ARKOR_PRECONDITIONS_MODULE`'s. */
  preconditions?: Readonly<Record<string, Precondition>>;
  /** Temporal connection settings. Default: envconfig (`loadTemporalSettings()`). */
  temporal?: TemporalSettings;
  /** An open connection to use (and not close). Default: one opened from `temporal`, closed by `run()`. */
  connection?: NativeConnection;
  /** The Arkor cloud-api. Default: the environment or the `arkor login` credentials. */
  arkor?: ArkorClient | ArkorConnection;
  /**
   * The `ARKOR_*` worker settings (task queue, concurrency, stream tuning…), dataset secrets and
   * notification channels. Default: `process.env`.
   */
  env?: NodeJS.ProcessEnv;
  /** Where spans go (worker/tracing.ts). Default: none (the worker process: `tracingFromEnv`). */
  tracing?: WorkerTracing;
  /**
   * Worker Versioning (README "Deploys"): `false` for unversioned workers (servers without Worker
   * Deployments), or what to change of the version the workers poll as. Defaults:
   * `ARKOR_WORKER_VERSIONING` (`on`), `deploymentName` `ARKOR_DEPLOYMENT_NAME` (`arkor-temporal`),
   * `buildId` `ARKOR_BUILD_ID` (the package version and a hash of the workflow code,
   * `workflowBuildId()`), `becomeCurrent` `ARKOR_BECOME_CURRENT` (`fresh`: only the first version of
   * a new deployment makes itself current; later ones wait for `arkor-temporal deploy set-current`).
   */
  versioning?: false | Partial<WorkerVersioning>;
}

/** A started set of training workers (the main queue and the stream queue). */
export interface TrainingWorker {
  /** The task queue runs are started on (`TEMPORAL_TASK_QUEUE`, default `arkor-training`). */
  readonly taskQueue: string;
  /** Its stream queue, for the wait activities. */
  readonly streamTaskQueue: string;
  readonly namespace: string;
  /** The Temporal server it polls. */
  readonly address: string;
  /** The callback sets it serves, by name. */
  readonly callbackSets: readonly string[];
  /** The notification channels it delivers to (`ARKOR_NOTIFY_*`), by name. */
  readonly notificationChannels: readonly string[];
  readonly settings: WorkerSettings;
  /** The deployment version it polls as; undefined when versioning is off. */
  readonly version: WorkerDeploymentVersion | undefined;
  /**
   * Once `run()` polls: whether the version is registered and current (or why not). Undefined when
   * versioning is off. Never rejects.
   */
  ready(): Promise<VersionReadiness | undefined>;
  /** Polls until `shutdown()` (or a fatal worker error); resolves once every worker stopped. */
  run(): Promise<void>;
  /** Starts a graceful shutdown: streams move to other workers at once, activities get the grace time. */
  shutdown(): void;
}

function isCallbackSet(value: CreateWorkerOptions['callbacks']): value is TrainingCallbacks {
  // A callback set's members are functions; a record of sets has objects.
  return Object.values(value ?? {}).every((member) => typeof member === 'function');
}

function overridesOf(options: CreateWorkerOptions): DepsOverrides {
  const inCode = (name: string): string => `Entry "${name}" passed to createWorker`;
  const { callbacks, scorers, preconditions } = options;
  return {
    ...(callbacks === undefined
      ? {}
      : {
          callbackSets: callbackSetsFrom(
            isCallbackSet(callbacks) ? [['default', callbacks]] : Object.entries(callbacks),
            { entry: inCode, empty: 'createWorker was given no callback set.' },
          ),
        }),
    ...(scorers === undefined
      ? {}
      : {
          scorers: scorerRegistryFrom(Object.entries(scorers), {
            entry: inCode,
            empty: 'createWorker was given no scorer.',
          }),
        }),
    ...(preconditions === undefined
      ? {}
      : { preconditions: preconditionRegistryFrom(Object.entries(preconditions), { entry: inCode }) }),
  };
}

/**
 * Creates the training workers of this process. Every module, channel and setting is read and
 * checked here, so that a bad one fails the start, never a run. Throws on invalid settings.
 */
export async function createWorker(options: CreateWorkerOptions = {}): Promise<TrainingWorker> {
  const env = options.env ?? process.env;
  const settings = loadWorkerSettings(env);
  const temporal = options.temporal ?? loadTemporalSettings();
  const arkor =
    options.arkor instanceof ArkorClient
      ? options.arkor
      : new ArkorClient(options.arkor ?? (await resolveArkorConnection({ env })));
  const deps = await buildActivityDeps({ settings, arkor, env }, overridesOf(options));
  const versioning = await versioningOf(options.versioning, settings);
  const connection = options.connection ?? (await connectWorker(temporal));
  const workers = await createTrainingWorkers({
    connection,
    namespace: temporal.namespace,
    ...(temporal.dataConverter ? { dataConverter: temporal.dataConverter } : {}),
    taskQueue: settings.TEMPORAL_TASK_QUEUE,
    queues: settings.ARKOR_WORKER_QUEUES,
    maxStreams: settings.ARKOR_MAX_STREAMS,
    maxActivities: settings.ARKOR_MAX_ACTIVITIES,
    ...(settings.ARKOR_MAX_CACHED_WORKFLOWS === undefined
      ? {}
      : { maxCachedWorkflows: settings.ARKOR_MAX_CACHED_WORKFLOWS }),
    shutdownGraceMs: settings.ARKOR_SHUTDOWN_GRACE_MS,
    metrics: { runLabel: settings.ARKOR_METRICS_RUN_LABEL },
    ...(options.tracing ? { tracing: options.tracing } : {}),
    deps,
    ...(versioning ? { versioning } : {}),
  });
  return {
    taskQueue: settings.TEMPORAL_TASK_QUEUE,
    streamTaskQueue: streamTaskQueue(settings.TEMPORAL_TASK_QUEUE),
    namespace: temporal.namespace,
    address: temporal.address,
    callbackSets: [...deps.callbackSets.keys()],
    notificationChannels: [...deps.notificationChannels.keys()],
    settings,
    version: workers.version,
    ready: () => workers.ready(),
    async run() {
      try {
        await workers.run();
      } finally {
        if (!options.connection) await connection.close();
      }
    },
    shutdown: () => workers.shutdown(),
  };
}

/** The version to poll as: the options over the settings; undefined when versioning is off. */
async function versioningOf(
  option: CreateWorkerOptions['versioning'],
  settings: WorkerSettings,
): Promise<WorkerVersioning | undefined> {
  if (option === false || (option === undefined && settings.ARKOR_WORKER_VERSIONING === 'off')) return undefined;
  const becomeCurrent: BecomeCurrent = option?.becomeCurrent ?? settings.ARKOR_BECOME_CURRENT;
  return {
    deploymentName: option?.deploymentName ?? settings.ARKOR_DEPLOYMENT_NAME,
    buildId: option?.buildId ?? settings.ARKOR_BUILD_ID ?? (await workflowBuildId()),
    becomeCurrent,
  };
}

export { installWorkerRuntime } from './runtime.js';
export { workflowBuildId } from './bundle.js';
export type { BecomeCurrent, VersionReadiness, WorkerVersioning } from './versioning.js';
export { runWorkerProcess, type WorkerProcessOptions } from './process.js';
export { tracingFromEnv, workerTracing, type TracingSetup, type WorkerTracing } from './tracing.js';
export { TracingUnavailableError } from '../service/tracing-unavailable.js';
export type { TemporalSettings } from '../service/connection.js';
