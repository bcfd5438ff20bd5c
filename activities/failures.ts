/**
 * Turns client errors into Temporal failures with the right retry semantics. A status that no
 * retry can fix (bad request, auth, upgrade) must not burn the retry budget for hours.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { CloudApiError, isRetryableStatus } from '../arkor/index.js';
import { FailureType } from '../contract/failure-types.js';

export { FailureType } from '../contract/failure-types.js';

/** Longest `Retry-After` honoured as the next retry delay; a longer one is cut to this. */
export const MAX_RETRY_AFTER_MS = 10 * 60_000;

/**
 * Rethrows `error`: as a non-retryable `ArkorRejected` failure when the cloud-api status is
 * permanent; as a retryable `ArkorThrottled` failure whose next retry waits the server's
 * `Retry-After` (at most {@link MAX_RETRY_AFTER_MS}) when a transient answer carries one — the
 * activity retry policy's own backoff ignores it and would retry too early; otherwise unchanged.
 */
export function rethrowArkorError(error: unknown, what: string): never {
  if (error instanceof CloudApiError && !isRetryableStatus(error.status)) {
    throw ApplicationFailure.create({
      type: FailureType.ArkorRejected,
      message: `${what}: Arkor answered ${error.status}: ${error.message}`,
      nonRetryable: true,
      details: [{ status: error.status }],
    });
  }
  if (error instanceof CloudApiError && error.retryAfterMs !== undefined && error.retryAfterMs > 0) {
    throw ApplicationFailure.create({
      type: FailureType.ArkorThrottled,
      message: `${what}: Arkor answered ${error.status}: ${error.message}; retrying after ${error.retryAfterMs} ms`,
      nonRetryable: false,
      nextRetryDelay: Math.min(error.retryAfterMs, MAX_RETRY_AFTER_MS),
      details: [{ status: error.status }],
    });
  }
  throw error;
}

/** A non-retryable input failure whose message names the field. */
export function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.InvalidInput, message, nonRetryable: true });
}
