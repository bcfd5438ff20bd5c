/**
 * A worker as a whole process (`arkor-temporal worker`, `npm run worker`): installs the Runtime
 * (metrics, no SDK signal handling), creates the workers, prints one ready line that scripts and
 * tests wait for, and shuts down gracefully on SIGTERM, SIGINT, SIGQUIT or SIGUSR2, once or
 * repeatedly (worker/shutdown.ts): streams move to other workers at once, running activities get
 * ARKOR_SHUTDOWN_GRACE_MS, and the process exits.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadTemporalSettings, type ConnectionOverrides } from '../service/connection.js';
import { jsonLogLine } from '../service/logging.js';
import { loadWorkerSettings } from './config.js';
import { createWorker } from './index.js';
import { installWorkerRuntime } from './runtime.js';
import { tracingFromEnv, tracingRequestedBy } from './tracing.js';
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
  // The process's own lines (ready, stopping, stopped) are printed whatever the level: scripts
  // and tests wait for them. As JSON lines when the logs are.
  const say = (line: string, fields: Record<string, unknown> = {}, level: 'INFO' | 'WARN' = 'INFO'): void =>
    settings.ARKOR_LOG_FORMAT === 'json'
      ? void process.stdout.write(
          `${jsonLogLine({ time: new Date(), level, message: line, meta: { sdkComponent: 'worker', ...fields } })}\n`,
        )
      : console.log(level === 'WARN' ? `warning: ${line}` : line);
  // From here on a signal is never lost, nor fatal: during start-up it stops the worker as soon
  // as it runs.
  const shutdown = handleShutdownRequests({ graceMs: settings.ARKOR_SHUTDOWN_GRACE_MS, log: (line) => say(line) });
  // Before anything creates the default Runtime (the first NativeConnection would).
  const metricsUrl = installWorkerRuntime(settings);
  // Traces when OTEL_* asks for them: a global tracer provider with the OTLP exporter.
  const tracing = tracingFromEnv(env);
  const worker = await createWorker({
    env,
    temporal: loadTemporalSettings(options.connection),
    ...(tracing ? { tracing } : {}),
  });
  const { version } = worker;
  const ready = {
    namespace: worker.namespace,
    address: worker.address,
    taskQueue: worker.taskQueue,
    streamQueue: worker.streamTaskQueue,
    callbackSets: worker.callbackSets.join(','),
    notificationChannels: worker.notificationChannels.join(',') || '-',
    ...(version ? { deployment: version.deploymentName, buildId: version.buildId } : { versioning: 'off' }),
    ...(metricsUrl ? { metrics: metricsUrl } : {}),
    ...(tracing ? { traces: tracingRequestedBy(env) } : {}),
  };
  const sayReady = (): void =>
    say(
      settings.ARKOR_LOG_FORMAT === 'json'
        ? 'worker ready'
        : `worker ready: ${Object.entries(ready)
            .map(([key, value]) => `${key}=${value}`)
            .join(' ')}`,
      ready,
    );
  // A stop requested during start-up: nothing to run. Otherwise the workers are marked running
  // synchronously inside run(), before any later signal can ask them to shut down.
  if (shutdown.request === undefined) {
    const done = worker.run();
    shutdown.onRequest(() => worker.shutdown());
    // Ready once the version is registered (and current, if it is to make itself current): runs
    // started from then on reach it.
    const readiness = await Promise.race([worker.ready(), done.then(() => undefined)]);
    if (shutdown.request === undefined) {
      sayReady();
      if (readiness) {
        const line = describeReadiness(readiness);
        if (settings.ARKOR_LOG_FORMAT === 'json') say(line, {}, readiness.problem ? 'WARN' : 'INFO');
        else (readiness.problem ? console.error : console.log)(line);
      }
    }
    await done;
  }
  const request = shutdown.request;
  if (request !== undefined) {
    // The spans still buffered are exported before the process exits (bounded: a collector
    // that is down must not hold the exit).
    if (tracing) await Promise.race([tracing.shutdown().catch(() => undefined), sleep(5_000)]);
    say(`worker stopped ${Date.now() - request.at} ms after ${request.reason}`);
    // Whatever a callback module left behind (a timer, a socket) must not keep the process up.
    process.exit(0);
  }
}
