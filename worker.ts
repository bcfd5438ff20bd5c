/**
 * The worker process: `npm run worker`. Temporal settings from envconfig, Arkor settings from
 * the environment or the Arkor credentials files, secrets from its own environment, callbacks
 * from ARKOR_CALLBACKS_MODULE. SIGTERM, SIGINT (and SIGQUIT, SIGUSR2), once or repeatedly, shut
 * it down gracefully (worker/shutdown.ts): streams move to other workers at once, running
 * activities get ARKOR_SHUTDOWN_GRACE_MS, and the process exits.
 */
import { ArkorClient, resolveArkorConnection } from './arkor/index.js';
import { loadCallbackSets } from './activities/user-callbacks.js';
import { fileKeyStore, keyStoreDirFromEnv } from './activities/key-store.js';
import { loadNotificationChannels } from './activities/notification-channels.js';
import { loadScorers } from './activities/scorers.js';
import { loadPreconditions } from './activities/precondition.js';
import { connectWorker, loadTemporalSettings } from './service/connection.js';
import { loadWorkerSettings } from './worker/config.js';
import { installWorkerRuntime } from './worker/runtime.js';
import { handleShutdownRequests } from './worker/shutdown.js';
import { createTrainingWorkers } from './worker/create-worker.js';
import { streamTaskQueue } from './workflows/task-queues.js';

async function main(): Promise<void> {
  const settings = loadWorkerSettings();
  // From here on a signal is never lost, nor fatal: during start-up it stops the worker as soon
  // as it runs.
  const shutdown = handleShutdownRequests({ graceMs: settings.ARKOR_SHUTDOWN_GRACE_MS });
  // Before anything creates the default Runtime (the first NativeConnection would).
  const metricsUrl = installWorkerRuntime(settings);
  const temporal = loadTemporalSettings();
  const arkor = new ArkorClient(await resolveArkorConnection());
  const callbackSets = await loadCallbackSets(settings.ARKOR_CALLBACKS_MODULE);
  // Read at start so that a bad channel variable fails the deploy, not a run.
  const notificationChannels = loadNotificationChannels(process.env);
  const connection = await connectWorker(temporal);
  const workers = await createTrainingWorkers({
    connection,
    namespace: temporal.namespace,
    ...(temporal.dataConverter ? { dataConverter: temporal.dataConverter } : {}),
    taskQueue: settings.TEMPORAL_TASK_QUEUE,
    queues: settings.ARKOR_WORKER_QUEUES,
    maxStreams: settings.ARKOR_MAX_STREAMS,
    maxActivities: settings.ARKOR_MAX_ACTIVITIES,
    ...(settings.ARKOR_MAX_CACHED_WORKFLOWS === undefined ? {} : { maxCachedWorkflows: settings.ARKOR_MAX_CACHED_WORKFLOWS }),
    shutdownGraceMs: settings.ARKOR_SHUTDOWN_GRACE_MS,
    deps: {
      arkor,
      callbackSets,
      env: process.env,
      keyStore: fileKeyStore(keyStoreDirFromEnv(process.env)),
      notificationChannels,
      scorers: await loadScorers(settings.ARKOR_SCORERS_MODULE),
      preconditions: await loadPreconditions(settings.ARKOR_PRECONDITIONS_MODULE),
      stream: {
        logBatchMaxEvents: settings.ARKOR_LOG_BATCH_MAX_EVENTS,
        logBatchMaxDelayMs: settings.ARKOR_LOG_BATCH_MAX_DELAY_MS,
        idleTimeoutMs: settings.ARKOR_STREAM_IDLE_TIMEOUT_MS,
        maxBacklog: settings.ARKOR_MAX_BACKLOG,
        readAgainAfterPauseMs: settings.ARKOR_READ_AGAIN_AFTER_PAUSE_MS,
        checkJobAfterMs: settings.ARKOR_STREAM_CHECK_JOB_AFTER_MS,
        progressBudgetMs: settings.ARKOR_STREAM_PROGRESS_BUDGET_MS,
        blockedRetryMs: settings.ARKOR_STREAM_BLOCKED_RETRY_MS,
      },
    },
  });
  // One line that scripts and tests wait for.
  console.log(
    `worker ready: namespace=${temporal.namespace} address=${temporal.address} ` +
      `taskQueue=${settings.TEMPORAL_TASK_QUEUE} streamQueue=${streamTaskQueue(settings.TEMPORAL_TASK_QUEUE)} ` +
      `callbackSets=${[...callbackSets.keys()].join(',')} notificationChannels=${[...notificationChannels.keys()].join(',') || '-'}` +
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

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
