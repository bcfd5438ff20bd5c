/**
 * A worker as a whole process (`arkor-temporal worker`, `npm run worker`): installs the Runtime
 * (metrics, no SDK signal handling), creates the workers, prints one ready line that scripts and
 * tests wait for, and shuts down gracefully on SIGTERM, SIGINT, SIGQUIT or SIGUSR2, once or
 * repeatedly (worker/shutdown.ts): streams move to other workers at once, running activities get
 * ARKOR_SHUTDOWN_GRACE_MS, and the process exits.
 */
import { loadTemporalSettings, type ConnectionOverrides } from '../service/connection.js';
import { loadWorkerSettings } from './config.js';
import { createWorker } from './index.js';
import { installWorkerRuntime } from './runtime.js';
import { handleShutdownRequests } from './shutdown.js';
import { describeReadiness } from './versioning.js';

/** What the command line sets over the environment (each undefined one: as the environment says). */
export interface WorkerProcessOptions {
  /** Over envconfig (`--address`, `--namespace`, `--tls-*`…). */
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
export async function runWorkerProcess(options: WorkerProcessOptions = {}): Promise<void> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...(options.taskQueue === undefined ? {} : { TEMPORAL_TASK_QUEUE: options.taskQueue }),
    ...(options.callbacksModule === undefined ? {} : { ARKOR_CALLBACKS_MODULE: options.callbacksModule }),
    ...(options.scorersModule === undefined ? {} : { ARKOR_SCORERS_MODULE: options.scorersModule }),
    ...(options.preconditionsModule === undefined ? {} : { ARKOR_PRECONDITIONS_MODULE: options.preconditionsModule }),
  };
  const settings = loadWorkerSettings(env);
  // From here on a signal is never lost, nor fatal: during start-up it stops the worker as soon
  // as it runs.
  const shutdown = handleShutdownRequests({ graceMs: settings.ARKOR_SHUTDOWN_GRACE_MS });
  // Before anything creates the default Runtime (the first NativeConnection would).
  const metricsUrl = installWorkerRuntime(settings);
  const worker = await createWorker({ env, temporal: loadTemporalSettings(options.connection) });
  const { version } = worker;
  const readyLine = (): string =>
    `worker ready: namespace=${worker.namespace} address=${worker.address} taskQueue=${worker.taskQueue} ` +
    `streamQueue=${worker.streamTaskQueue} callbackSets=${worker.callbackSets.join(',')} ` +
    `notificationChannels=${worker.notificationChannels.join(',') || '-'} ` +
    (version ? `deployment=${version.deploymentName} buildId=${version.buildId}` : 'versioning=off') +
    (metricsUrl ? ` metrics=${metricsUrl}` : '');
  // A stop requested during start-up: nothing to run. Otherwise the workers are marked running
  // synchronously inside run(), before any later signal can ask them to shut down.
  if (shutdown.request === undefined) {
    const done = worker.run();
    shutdown.onRequest(() => worker.shutdown());
    // Ready once the version is registered (and current, if it is to make itself current): runs
    // started from then on reach it.
    const readiness = await Promise.race([worker.ready(), done.then(() => undefined)]);
    if (shutdown.request === undefined) {
      console.log(readyLine());
      if (readiness) (readiness.problem ? console.error : console.log)(describeReadiness(readiness));
    }
    await done;
  }
  const request = shutdown.request;
  if (request !== undefined) {
    console.log(`worker stopped ${Date.now() - request.at} ms after ${request.reason}`);
    // Whatever a callback module left behind (a timer, a socket) must not keep the process up.
    process.exit(0);
  }
}
