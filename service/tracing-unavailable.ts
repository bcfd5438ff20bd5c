/**
 * The error of a worker asked to trace without `@temporalio/interceptors-opentelemetry`, an
 * optional peer dependency (service/otel-interceptors.ts). Apart from the loader, so that the
 * public declarations that name it never name the package.
 */
export const OPENTELEMETRY_INTERCEPTORS_PACKAGE = '@temporalio/interceptors-opentelemetry';

/** Tracing was asked for (a tracer, `OTEL_*` settings) but the interceptors package is not installed. */
export class TracingUnavailableError extends Error {
  override readonly name = 'TracingUnavailableError';
  /** @param askedBy what asked for traces, for the message (for example `OTEL_TRACES_EXPORTER is set`). */
  constructor(askedBy = 'a tracer was given') {
    super(
      `${askedBy}, but tracing needs ${OPENTELEMETRY_INTERCEPTORS_PACKAGE}, an optional peer dependency: ` +
        `install the release matching your @temporalio/* version (npm install ${OPENTELEMETRY_INTERCEPTORS_PACKAGE}@<version>)`,
    );
  }
}
