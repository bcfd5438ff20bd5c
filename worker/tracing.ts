/**
 * Tracing with OpenTelemetry (README "Tracing"), opt-in by the standard `OTEL_*` variables: one
 * trace from `start` to every activity of the run. Needs the optional peer dependency
 * `@temporalio/interceptors-opentelemetry` (service/otel-interceptors.ts).
 *
 * Where it plugs in:
 * - the client (service/connection.ts `clientOn`): the interceptors package's workflow client
 *   interceptor, so that `start` opens the trace (a `StartWorkflow` span, when the process has a
 *   tracer provider) and carries its context in the start request's headers;
 * - the workflow bundle (worker/bundle.ts): its workflow interceptor module, always (the bundle
 *   is prebuilt and cached), so the run (`RunWorkflow`) and each activity it schedules
 *   (`StartActivity`) are spans of that trace. It adds headers, never commands: recorded
 *   histories still replay (test/replay.test.ts);
 * - the workers (worker/create-worker.ts): its activity interceptor (`RunActivity` spans) and its
 *   `exporter` sink, through which the workflow's spans leave the sandbox (never while
 *   replaying). Without `WorkerTracing` the sink drops them and no activity span is recorded;
 * - the process (worker/process.ts): `tracingFromEnv`, a tracer provider with the OTLP HTTP
 *   exporter the `OTEL_*` variables describe, shut down (flushed) when the worker stops.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Context,
  type ContextManager,
  type Tracer,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { envDetectorSync, Resource } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { optionalOpenTelemetryInterceptors } from '../service/otel-interceptors.js';
import { TracingUnavailableError } from '../service/tracing-unavailable.js';

/** What a worker traces with: its activities' tracer, and where the workflows' spans go. */
export interface WorkerTracing {
  /** The tracer of the `RunActivity` spans. */
  tracer: Tracer;
  /** Receives the workflows' spans (`RunWorkflow`, `StartActivity`), exported by the worker. */
  spanProcessor: SpanProcessor;
  /** The resource the workflows' spans are given (the provider's). */
  resource: Resource;
}

/** A worker's tracing and the provider behind it: `shutdown()` flushes what is still buffered. */
export interface TracingSetup extends WorkerTracing {
  provider: BasicTracerProvider;
  shutdown(): Promise<void>;
}

/** The resource of this process: the SDK's defaults, OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES. */
export function tracingResource(): Resource {
  return Resource.default().merge(envDetectorSync.detect());
}

/**
 * A tracer provider over `spanProcessor`, as a worker's tracing (tests pass a
 * `SimpleSpanProcessor` over an `InMemorySpanExporter`). Installs the context propagation it
 * needs (`installTracingContext`) but registers no global tracer provider unless `register`.
 */
export function workerTracing(
  spanProcessor: SpanProcessor,
  options: { resource?: Resource; register?: boolean } = {},
): TracingSetup {
  const resource = options.resource ?? tracingResource();
  const provider = new BasicTracerProvider({ resource, spanProcessors: [spanProcessor] });
  installTracingContext();
  if (options.register) trace.setGlobalTracerProvider(provider);
  return {
    tracer: provider.getTracer('arkor-temporal'),
    spanProcessor,
    resource,
    provider,
    shutdown: () => provider.shutdown(),
  };
}

/**
 * The global context manager (AsyncLocalStorage) and W3C trace-context propagator the
 * interceptors rely on to parent spans and to carry a trace in Temporal headers. Idempotent; an
 * application's own registration, made earlier, is kept.
 */
export function installTracingContext(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
}

/**
 * The tracing `OTEL_*` asks for, else undefined: OTLP over HTTP (`OTEL_EXPORTER_OTLP_ENDPOINT`,
 * `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`…, read by the exporter) or
 * `console` (`OTEL_TRACES_EXPORTER`), batched, under OTEL_SERVICE_NAME. `env` decides whether and
 * which exporter; the exporter and the resource read their settings from `process.env`. Registered
 * as the global tracer provider. Throws on an exporter it does not know.
 */
export function tracingFromEnv(env: NodeJS.ProcessEnv = process.env): TracingSetup | undefined {
  const requestedBy = tracingRequestedBy(env);
  if (requestedBy === undefined) return undefined;
  // Before any exporter exists: a worker asked to trace fails at once rather than tracing nothing.
  if (!optionalOpenTelemetryInterceptors()) throw new TracingUnavailableError(`${requestedBy} is set`);
  const exporters = (env.OTEL_TRACES_EXPORTER?.trim().toLowerCase() || 'otlp').split(',').map((name) => name.trim());
  const spanExporters = exporters.map((name): SpanExporter => {
    if (name === 'otlp') return new OTLPTraceExporter();
    if (name === 'console') return new ConsoleSpanExporter();
    throw new Error(`OTEL_TRACES_EXPORTER: unsupported exporter "${name}" (otlp, console or none)`);
  });
  const processors = spanExporters.map((exporter) => new BatchSpanProcessor(exporter));
  const spanProcessor: SpanProcessor =
    processors.length === 1 && processors[0]
      ? processors[0]
      : {
          onStart: (span, parent) => processors.forEach((p) => p.onStart(span, parent)),
          onEnd: (span) => processors.forEach((p) => p.onEnd(span)),
          forceFlush: async () => void (await Promise.all(processors.map((p) => p.forceFlush()))),
          shutdown: async () => void (await Promise.all(processors.map((p) => p.shutdown()))),
        };
  return workerTracing(spanProcessor, { register: true });
}

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

/** The active context per async flow (what `@opentelemetry/context-async-hooks` provides). */
class AsyncLocalStorageContextManager implements ContextManager {
  private readonly storage = new AsyncLocalStorage<Context>();
  active(): Context {
    return this.storage.getStore() ?? ROOT_CONTEXT;
  }
  with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    ctx: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    return this.storage.run(ctx, () => fn.call(thisArg, ...args));
  }
  bind<T>(ctx: Context, target: T): T {
    if (typeof target !== 'function') return target;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const manager = this;
    return function (this: unknown, ...args: unknown[]) {
      return manager.with(ctx, () => (target as (...a: unknown[]) => unknown).apply(this, args));
    } as T;
  }
  enable(): this {
    return this;
  }
  disable(): this {
    this.storage.disable();
    return this;
  }
}
