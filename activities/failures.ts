/**
 * Turns client errors into Temporal failures with the right retry semantics. A status that no
 * retry can fix (bad request, auth, upgrade) must not burn the retry budget for hours.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { CloudApiError, isRetryableStatus } from '../arkor/index.js';

/** Failure types the workflow's retry policies and callers match on. */
export const FailureType = {
  /** The cloud-api answered a status that retrying will not change. */
  ArkorRejected: 'ArkorRejected',
  /** The input is invalid; nothing was submitted. */
  InvalidInput: 'InvalidInput',
  /** A user callback threw. */
  CallbackError: 'CallbackError',
} as const;

/** Rethrows `error`, as a non-retryable failure when the cloud-api status is permanent. */
export function rethrowArkorError(error: unknown, what: string): never {
  if (error instanceof CloudApiError && !isRetryableStatus(error.status)) {
    throw ApplicationFailure.create({
      type: FailureType.ArkorRejected,
      message: `${what}: Arkor answered ${error.status}: ${error.message}`,
      nonRetryable: true,
      details: [{ status: error.status }],
    });
  }
  throw error;
}

/** A non-retryable input failure whose message names the field. */
export function invalidInput(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: FailureType.InvalidInput, message, nonRetryable: true });
}
