/**
 * Tracing, by the standard OpenTelemetry variables (README "Tracing"): NOT YET AVAILABLE. The
 * packages it needs are not dependencies yet (TRACING_PACKAGES); until they are, a worker asked
 * for traces says so at start instead of ignoring the request.
 *
 * Where tracing plugs in once they are (one trace from `start` to the HTTP calls to Arkor):
 * - the client (service/connection.ts `connectClient`): the interceptors package's workflow
 *   client interceptor, so that `start` opens the trace and carries its context in the start
 *   request's headers;
 * - the workflow bundle (worker/bundle.ts `bundleWorkflowCode`): its workflow interceptor
 *   module, so the run and each activity it schedules are spans of that trace;
 * - the workers (worker/create-worker.ts): its activity interceptor and its sinks (the workflow's
 *   spans are exported by the worker, never while replaying);
 * - the Arkor client (`ArkorConnection.fetch`): a fetch that opens a client span per request
 *   (method, route, status) as a child of the activity's span;
 * - the process (worker/process.ts): a tracer provider with the OTLP exporter the `OTEL_*`
 *   variables describe, shut down (flushed) when the worker stops.
 */

/** What to install, exact versions: the interceptors of SDK 1.24 are built on OpenTelemetry JS 1.x. */
export const TRACING_PACKAGES = [
  '@temporalio/interceptors-opentelemetry@1.24.0',
  '@opentelemetry/api@1.9.0',
  '@opentelemetry/core@1.30.1',
  '@opentelemetry/resources@1.30.1',
  '@opentelemetry/sdk-trace-base@1.30.1',
  '@opentelemetry/sdk-trace-node@1.30.1',
  '@opentelemetry/exporter-trace-otlp-http@0.57.2',
] as const;

/** The variable that asks for traces, if one does (OTEL_SDK_DISABLED=true and an exporter `none` do not). */
export function tracingRequestedBy(env: NodeJS.ProcessEnv): string | undefined {
  if (env.OTEL_SDK_DISABLED?.toLowerCase() === 'true') return undefined;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter === 'none') return undefined;
  if (exporter) return 'OTEL_TRACES_EXPORTER';
  for (const name of ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT'] as const) {
    if (env[name]?.trim()) return name;
  }
  return undefined;
}

/** The line a worker asked for traces prints at start, while tracing is not available. */
export function tracingNotice(env: NodeJS.ProcessEnv): string | undefined {
  const variable = tracingRequestedBy(env);
  if (variable === undefined) return undefined;
  return `${variable} asks for traces, but tracing is not available yet: no span is exported (README "Tracing")`;
}
