/**
 * Prometheus metrics of the worker process: Temporal's Core SDK metrics (task slots, polls,
 * latencies, activity and workflow counters) served by the Runtime's own exporter, which
 * worker/runtime.ts installs.
 */

export interface MetricsSettings {
  /** `ARKOR_METRICS_PORT`: serve on all interfaces at this port. */
  ARKOR_METRICS_PORT?: number | undefined;
  /** `ARKOR_METRICS_BIND`: `host:port` to serve on; wins over `ARKOR_METRICS_PORT`. */
  ARKOR_METRICS_BIND?: string | undefined;
}

/** The exporter's bind address, or undefined when metrics are off (the default). */
export function metricsBindAddress(settings: MetricsSettings): string | undefined {
  if (settings.ARKOR_METRICS_BIND) return settings.ARKOR_METRICS_BIND;
  if (settings.ARKOR_METRICS_PORT !== undefined) return `0.0.0.0:${settings.ARKOR_METRICS_PORT}`;
  return undefined;
}

/** Where to scrape `bindAddress` from this host. */
export function metricsUrl(bindAddress: string): string {
  const split = bindAddress.lastIndexOf(':');
  const host = bindAddress.slice(0, split);
  const port = bindAddress.slice(split + 1);
  // A wildcard address is not somewhere to connect to; loopback reaches it from this host.
  const reachable = host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host;
  return `http://${reachable}:${port}/metrics`;
}
