/**
 * A `fetch` that opens an OpenTelemetry client span per request (README "Tracing"): a child of
 * the active span (an activity's `RunActivity`), named after the method, with the URL's path and
 * the response status, ending when the response's headers arrive (a stream's body is read long
 * after). Through the global tracer provider: without one (no `OTEL_*` asking for traces) it
 * records nothing.
 */
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';

export function tracedFetch(fetchImpl: typeof fetch): typeof fetch {
  const tracer = trace.getTracer('arkor-temporal/arkor');
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    const span = tracer.startSpan(
      `${method} ${url.pathname}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          'http.request.method': method,
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
