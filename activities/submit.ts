/**
 * Submit: checks what only the worker can check, then creates the Arkor job — exactly once per
 * workflow run.
 *
 * The cloud-api has no idempotency key, and a create whose response is lost has still started a
 * GPU job. So the job name carries a marker derived from the workflow run, and every attempt looks
 * for a job with that marker before creating one (docs/arkor-protocol.md §11 D4).
 */
import { createHash } from 'node:crypto';
import { log } from '@temporalio/activity';
import type { JobConfig, TrainingJob } from '../arkor/index.js';
import type { TrainerSettings } from '../contract/input.js';
import type { ActivityDeps } from './deps.js';
import { invalidInput, rethrowArkorError } from './failures.js';
import type { PreflightInput, SubmitJobInput, SubmittedJob } from '../contract/activities.js';

/** The marker appended to the job name: a short hash of the workflow run's identity. */
export function jobMarker(workflowId: string, runId: string): string {
  const digest = createHash('sha256').update(`${workflowId}\0${runId}`).digest('hex').slice(0, 16);
  return `[wf:${digest}]`;
}

/** The job config the cloud-api expects, from the trainer settings and the worker's secrets. */
export function toJobConfig(trainer: TrainerSettings, env: NodeJS.ProcessEnv): JobConfig {
  const dataset = trainer.dataset;
  const datasetSource =
    dataset.type === 'huggingface'
      ? dataset
      : { type: 'blob' as const, url: dataset.url, ...(dataset.tokenEnv ? { token: env[dataset.tokenEnv] } : {}) };
  const config: JobConfig = {
    model: trainer.model,
    datasetSource,
    ...(trainer.lora && {
      loraR: trainer.lora.r,
      loraAlpha: trainer.lora.alpha,
      maxLength: trainer.lora.maxLength,
      loadIn4bit: trainer.lora.loadIn4bit,
    }),
    maxSteps: trainer.maxSteps,
    numTrainEpochs: trainer.numTrainEpochs,
    learningRate: trainer.learningRate,
    batchSize: trainer.batchSize,
    weightDecay: trainer.weightDecay,
    optim: trainer.optim,
    lrSchedulerType: trainer.lrSchedulerType,
    warmupSteps: trainer.warmupSteps,
    loggingSteps: trainer.loggingSteps,
    saveSteps: trainer.saveSteps,
    evalSteps: trainer.evalSteps,
    trainOnResponsesOnly: trainer.trainOnResponsesOnly,
    datasetFormat: trainer.datasetFormat,
    datasetSplit: trainer.datasetSplit,
    dryRun: trainer.dryRun,
  };
  // The SDK sends only keys whose value is defined.
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined)) as JobConfig;
}

/**
 * The job as the workflow may keep it. The cloud-api echoes the config, dataset token included;
 * workflow history is not a place for secrets.
 */
export function redactJob(job: TrainingJob): TrainingJob {
  const source = job.config.datasetSource;
  if (typeof source !== 'object' || source === null || !('token' in source)) return job;
  return { ...job, config: { ...job.config, datasetSource: { ...source, token: '[redacted]' } } };
}

export function createSubmitActivities(deps: ActivityDeps) {
  return {
    /** Rejects, before anything is submitted, what only the worker can see is wrong. */
    preflight(input: PreflightInput): Promise<void> {
      const dataset = input.trainer.dataset;
      if (dataset.type === 'blob' && dataset.tokenEnv && !deps.env[dataset.tokenEnv]) {
        throw invalidInput(`trainer.dataset.tokenEnv: the worker has no environment variable ${dataset.tokenEnv}`);
      }
      if (!deps.callbackSets.has(input.callbackSet)) {
        throw invalidInput(
          `callbacks.set: the worker has no callback set "${input.callbackSet}" (it has: ${[...deps.callbackSets.keys()].join(', ')})`,
        );
      }
      return Promise.resolve();
    },

    async submitJob(input: SubmitJobInput): Promise<SubmittedJob> {
      const marker = jobMarker(input.workflowId, input.runId);
      const name = `${input.trainer.name} ${marker}`;
      try {
        const existing = await findMarkedJobs(deps, marker);
        if (existing[0]) {
          log.info('Reattached to the job an earlier attempt created', { jobId: existing[0].id });
          return { job: redactJob(existing[0]), reattached: true };
        }
        const created = await deps.arkor.createJob({ name, config: toJobConfig(input.trainer, deps.env) });
        // A create that was retried while its first request was still in flight can leave two
        // marked jobs; keep the oldest and cancel the rest so exactly one GPU job runs.
        const marked = await findMarkedJobs(deps, marker);
        for (const extra of marked.slice(1)) {
          log.warn('Cancelling a duplicate job created by a retried submit', { jobId: extra.id });
          await deps.arkor.cancelJob(extra.id).catch(() => undefined);
        }
        return { job: redactJob(marked[0] ?? created), reattached: false };
      } catch (error) {
        rethrowArkorError(error, 'Submitting the training job');
      }
    },
  };
}

/** Jobs whose name ends with the marker, oldest first. */
async function findMarkedJobs(deps: ActivityDeps, marker: string): Promise<TrainingJob[]> {
  const jobs = await deps.arkor.listJobs();
  return jobs
    .filter((job) => job.name.endsWith(marker))
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id));
}
