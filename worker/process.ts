/**
 * A worker as a whole process (`arkor-temporal worker`, `npm run worker`): installs the Runtime
 * (metrics, no SDK signal handling), creates the workers, prints one ready line that scripts and
 * tests wait for, and shuts down gracefully on SIGTERM, SIGINT, SIGQUIT or SIGUSR2, once or
 * repeatedly (worker/shutdown.ts): streams move to other workers at once, running activities get
 * ARKOR_SHUTDOWN_GRACE_MS, and the process exits.
 */
import { loadWorkerSettings } from './config.js';
import { createWorker, type CreateWorkerOptions } from './index.js';
import { installWorkerRuntime } from './runtime.js';
import { handleShutdownRequests } from './shutdown.js';

export type WorkerProcessOptions = Pick<CreateWorkerOptions, 'env'>;

export async function runWorkerProcess(options: WorkerProcessOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  const settings = loadWorkerSettings(env);
  // From here on a signal is never lost, nor fatal: during start-up it stops the worker as soon
  // as it runs.
  const shutdown = handleShutdownRequests({ graceMs: settings.ARKOR_SHUTDOWN_GRACE_MS });
  // Before anything creates the default Runtime (the first NativeConnection would).
  const metricsUrl = installWorkerRuntime(settings);
  const worker = await createWorker({ env });
  console.log(
    `worker ready: namespace=${worker.namespace} address=${worker.address} taskQueue=${worker.taskQueue} ` +
      `streamQueue=${worker.streamTaskQueue} callbackSets=${worker.callbackSets.join(',')} ` +
      `notificationChannels=${worker.notificationChannels.join(',') || '-'}` +
      (metricsUrl ? ` metrics=${metricsUrl}` : ''),
  );
  // A stop requested during start-up: nothing to run. Otherwise the workers are marked running
  // synchronously inside run(), before any later signal can ask them to shut down.
  if (shutdown.request === undefined) {
    const done = worker.run();
    shutdown.onRequest(() => worker.shutdown());
    await done;
  }
  const request = shutdown.request;
  if (request !== undefined) {
    console.log(`worker stopped ${Date.now() - request.at} ms after ${request.reason}`);
    // Whatever a callback module left behind (a timer, a socket) must not keep the process up.
    process.exit(0);
  }
}
