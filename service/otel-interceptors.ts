/**
 * `@temporalio/interceptors-opentelemetry`, loaded only where it is installed (README "Tracing").
 *
 * It is an optional peer dependency, not a dependency: each of its releases requires the exact
 * same version of `@temporalio/common` and `@temporalio/workflow`, so a dependency on it would pin
 * every service to our SDK version (npm refuses the install, or nests a second copy of the SDK).
 * A service that traces installs the release matching its own SDK; one that does not never loads it.
 *
 * The package is CommonJS, so it is loaded synchronously through `require`: connecting a client
 * stays synchronous and importing `arkor-temporal` needs no top-level await. Nothing public
 * re-exports this module: its declarations name the package, which a consumer may not have.
 */
import { createRequire } from 'node:module';
import type * as OpenTelemetryInterceptorsModule from '@temporalio/interceptors-opentelemetry';
import { OPENTELEMETRY_INTERCEPTORS_PACKAGE, TracingUnavailableError } from './tracing-unavailable.js';

/** The interceptors package, as its own types describe it. */
type OpenTelemetryInterceptors = typeof OpenTelemetryInterceptorsModule;

const require = createRequire(import.meta.url);
let loaded: OpenTelemetryInterceptors | null | undefined;

/** The interceptors package, or `undefined` when it is not installed (loaded once). */
export function optionalOpenTelemetryInterceptors(): OpenTelemetryInterceptors | undefined {
  if (loaded === undefined) {
    try {
      loaded = require(OPENTELEMETRY_INTERCEPTORS_PACKAGE) as OpenTelemetryInterceptors;
    } catch (error) {
      // Only its absence means "not installed"; a copy that fails to load is a real error.
      if (!isModuleNotFound(error, OPENTELEMETRY_INTERCEPTORS_PACKAGE)) throw error;
      loaded = null;
    }
  }
  return loaded ?? undefined;
}

/** The interceptors package, for code that traces: a `TracingUnavailableError` when it is absent. */
export function requireOpenTelemetryInterceptors(): OpenTelemetryInterceptors {
  const interceptors = optionalOpenTelemetryInterceptors();
  if (!interceptors) throw new TracingUnavailableError();
  return interceptors;
}

function isModuleNotFound(error: unknown, name: string): boolean {
  return (
    error instanceof Error &&
    (error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' &&
    error.message.includes(`'${name}'`)
  );
}
