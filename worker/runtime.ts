/**
 * The Temporal Runtime of the worker process. It can be installed only once, before any
 * connection or worker exists, hence a step of its own at the very start of the worker.
 */
import { Runtime } from '@temporalio/worker';
import { metricsBindAddress, metricsUrl, type MetricsSettings } from './metrics.js';

/**
 * Installs the Runtime: without the SDK's signal handling (worker/shutdown.ts stops the worker),
 * with a Prometheus exporter when metrics are configured. Returns the metrics URL, if any.
 */
export function installWorkerRuntime(settings: MetricsSettings): string | undefined {
  const bindAddress = metricsBindAddress(settings);
  Runtime.install({
    // The SDK's handler stops listening after the first signal: a second one — a launcher
    // relaying the signal the whole process group got — then killed the worker mid-shutdown.
    shutdownSignals: [],
    ...(bindAddress === undefined ? {} : { telemetryOptions: { metrics: { prometheus: { bindAddress } } } }),
  });
  return bindAddress === undefined ? undefined : metricsUrl(bindAddress);
}
