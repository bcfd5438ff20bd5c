/**
 * The worker process, as `npm run worker` (worker.ts) and `arkor-temporal worker` run it.
 * Temporal settings from envconfig (with the command line's connection flags over them), Arkor
 * settings from the environment or the Arkor credentials files, secrets from its own environment,
 * the activities' dependencies (callbacks, scorers, preconditions, ...) from worker/deps.ts.
 * SIGTERM, SIGINT (and SIGQUIT, SIGUSR2), once or repeatedly, shut it down gracefully
 * (worker/shutdown.ts): streams move to other workers at once, running activities get
 * ARKOR_SHUTDOWN_GRACE_MS, and the process exits.
 */
import { ArkorClient, resolveArkorConnection } from '../arkor/index.js';
import { connectWorker, loadTemporalSettings, type ConnectionOverrides } from '../service/connection.js';
import { loadWorkerSettings } from './config.js';
import { buildActivityDeps } from './deps.js';
import { installWorkerRuntime } from './runtime.js';
import { handleShutdownRequests } from './shutdown.js';
import { createTrainingWorkers } from './create-worker.js';
import { streamTaskQueue } from '../contract/task-queues.js';

/** What the command line sets over the environment (each undefined one: as the environment says). */
export interface WorkerOptions {
  connection?: ConnectionOverrides;
  /** Over TEMPORAL_TASK_QUEUE. */
  taskQueue?: string;
  /** Over ARKOR_CALLBACKS_MODULE. */
  callbacksModule?: string;
  /** Over ARKOR_SCORERS_MODULE. */
  scorersModule?: string;
  /** Over ARKOR_PRECONDITIONS_MODULE. */
  preconditionsModule?: string;
}

/**
 * Runs the worker until a signal stops it, then exits the process (0). Rejects when it cannot
 * start (a bad setting or module, no server).
 */
export async function runWorker(options: WorkerOptions = {}): Promise<void> {
  const settings = loadWorkerSettings({
    ...process.env,
    ...(options.taskQueue === undefined ? {} : { TEMPORAL_TASK_QUEUE: options.taskQueue }),
    ...(options.callbacksModule === undefined ? {} : { ARKOR_CALLBACKS_MODULE: options.callbacksModule }),
    ...(options.scorersModule === undefined ? {} : { ARKOR_SCORERS_MODULE: options.scorersModule }),
    ...(options.preconditionsModule === undefined ? {} : { ARKOR_PRECONDITIONS_MODULE: options.preconditionsModule }),
  });
  // From here on a signal is never lost, nor fatal: during start-up it stops the worker as soon
  // as it runs.
  const shutdown = handleShutdownRequests({ graceMs: settings.ARKOR_SHUTDOWN_GRACE_MS });
  // Before anything creates the default Runtime (the first NativeConnection would).
  const metricsUrl = installWorkerRuntime(settings);
  const temporal = loadTemporalSettings(options.connection);
  const arkor = new ArkorClient(await resolveArkorConnection());
  // Every module and channel is read here, so that a bad one fails the deploy, not a run.
  const deps = await buildActivityDeps({ settings, arkor, env: process.env });
  const connection = await connectWorker(temporal);
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
    deps,
  });
  // One line that scripts and tests wait for.
  console.log(
    `worker ready: namespace=${temporal.namespace} address=${temporal.address} ` +
      `taskQueue=${settings.TEMPORAL_TASK_QUEUE} streamQueue=${streamTaskQueue(settings.TEMPORAL_TASK_QUEUE)} ` +
      `callbackSets=${[...deps.callbackSets.keys()].join(',')} notificationChannels=${[...deps.notificationChannels.keys()].join(',') || '-'}` +
      (metricsUrl ? ` metrics=${metricsUrl}` : ''),
  );
  try {
    // A stop requested during start-up: nothing to run. Otherwise the workers are marked running
    // synchronously inside run(), before any later signal can ask them to shut down.
    if (shutdown.request === undefined) {
      const done = workers.run();
      shutdown.onRequest(() => workers.shutdown());
      await done;
    }
  } finally {
    await connection.close();
  }
  const request = shutdown.request;
  if (request !== undefined) {
    console.log(`worker stopped ${Date.now() - request.at} ms after ${request.reason}`);
    // Whatever a callback module left behind (a timer, a socket) must not keep the process up.
    process.exit(0);
  }
}
