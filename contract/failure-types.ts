/**
 * Failure types that activities throw and the workflow's retry policies match on. Pure, so both
 * sides of the activity boundary import the same names.
 */
export const FailureType = {
  /** The cloud-api answered a status that retrying will not change. */
  ArkorRejected: 'ArkorRejected',
  /** The cloud-api asked us to come back later (429/503 with `Retry-After`); retried after that delay. */
  ArkorThrottled: 'ArkorThrottled',
  /** The input is invalid; nothing was submitted. */
  InvalidInput: 'InvalidInput',
  /** A user callback threw. */
  CallbackError: 'CallbackError',
  /** The job's stream failed and the job could not be read for the stream's progress budget. */
  StreamGaveUp: 'StreamGaveUp',
  /** A user callback did not return within its timeout (retried like an error). */
  CallbackTimeout: 'CallbackTimeout',
} as const;
export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/** What no retry fixes: input that is wrong, and a backend refusal that will be repeated. */
export const NOT_RETRYABLE: FailureType[] = [FailureType.InvalidInput, FailureType.ArkorRejected];
/** What no retry of the user's code fixes: only input that is wrong (a missing callback set, ...). */
export const NOT_RETRYABLE_USER_CODE: FailureType[] = [FailureType.InvalidInput];
