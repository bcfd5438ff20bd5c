/**
 * A `fetch` that opens an OpenTelemetry client span per request (README "Tracing"): a child of
 * the active span (an activity's `RunActivity`), named after the request's route (`GET
 * /v1/jobs/:id`, as the HTTP conventions name a client span: method and URL template, never the
 * ids, so that spans group by route), with the URL's path and the response status as attributes,
 * ending when the response's headers arrive (a stream's body is read long after). Through the
 * global tracer provider: without one (no `OTEL_*` asking for traces) it records nothing.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

/** `fetch` with the request's route (`METHOD /path/:param`) beside it. */
export type RoutedFetch = (url: string, init: RequestInit & { method: string }, route: string) => Promise<Response>;

export function tracedFetch(fetchImpl: typeof fetch): RoutedFetch {
  const tracer = trace.getTracer('arkor-temporal/arkor');
  return async (input, init, route) => {
    const url = new URL(input);
    const method = init.method.toUpperCase();
    const span = tracer.startSpan(
      route,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': method,
          'url.template': route.slice(route.indexOf(' ') + 1),
          'url.path': url.pathname,
          'server.address': url.hostname,
          ...(url.port ? { 'server.port': Number(url.port) } : {}),
        },
      },
      context.active(),
    );
    try {
      const response = await fetchImpl(input, init);
      span.setAttribute('http.response.status_code', response.status);
      if (response.status >= 400) span.setStatus({ code: SpanStatusCode.ERROR });
      return response;
    } catch (error) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
      throw error;
    } finally {
      span.end();
    }
  };
}
