/**
 * The Temporal Runtime of the worker process. It can be installed only once, before any
 * connection or worker exists, hence a step of its own at the very start of the worker.
 */
import { Runtime } from '@temporalio/worker';
import type { LogSettings } from '../service/logging.js';
import { workerLogger } from './logging.js';
import { metricsBindAddress, metricsUrl, type MetricsSettings } from './metrics.js';
import { trainingHistogramBuckets } from './training-metrics.js';

/**
 * How long pollers stay open once shutdown starts (sdk-core's hot-fix knob, temporalio/sdk-core
 * #1080). Cancelling a long poll can lose a task the server is dispatching to it at that instant:
 * a workflow task is then retried after its 10 s timeout, an activity after its heartbeat
 * timeout. Meanwhile the worker's ShutdownWorker call reaches the server, which stops sending
 * it sticky tasks. Servers advertising `worker_poll_complete_on_shutdown` end polls themselves
 * and make this moot.
 */
const POLL_SHUTDOWN_WAIT_MS = '500';

/** The log variables, as `loadWorkerSettings` reads them (absent: text at INFO, the SDK's default). */
export interface RuntimeLogSettings {
  ARKOR_LOG_FORMAT?: LogSettings['format'] | undefined;
  ARKOR_LOG_LEVEL?: LogSettings['level'] | undefined;
}

/**
 * Installs the Runtime: without the SDK's signal handling (worker/shutdown.ts stops the worker),
 * with the logger the log variables ask for (worker/logging.ts), and with a Prometheus exporter
 * when metrics are configured. Returns the metrics URL, if any.
 */
export function installWorkerRuntime(settings: MetricsSettings & RuntimeLogSettings): string | undefined {
  // Read by the native pollers when workers are created; an operator's own value wins.
  process.env.TEMPORAL_POLL_SHUTDOWN_INTERRUPT_WAIT_MS ??= POLL_SHUTDOWN_WAIT_MS;
  const bindAddress = metricsBindAddress(settings);
  const log: LogSettings = { format: settings.ARKOR_LOG_FORMAT ?? 'text', level: settings.ARKOR_LOG_LEVEL ?? 'INFO' };
  Runtime.install({
    // The SDK's handler stops listening after the first signal: a second one — a launcher
    // relaying the signal the whole process group got — then killed the worker mid-shutdown.
    shutdownSignals: [],
    logger: workerLogger(log),
    telemetryOptions: {
      // JSON lines need the core's records too, forwarded to the logger (text leaves them on stderr).
      ...(log.format === 'json'
        ? { logging: { forward: {}, filter: { core: log.level === 'ERROR' ? 'ERROR' : 'WARN', other: 'ERROR' } } }
        : {}),
      ...(bindAddress === undefined
        ? {}
        : { metrics: { prometheus: { bindAddress, histogramBucketOverrides: trainingHistogramBuckets() } } }),
    },
  });
  return bindAddress === undefined ? undefined : metricsUrl(bindAddress);
}
