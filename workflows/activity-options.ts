/**
 * Every activity's options, in one place: timeouts and retries. Options are not part of a
 * workflow's recorded commands, so they may change between versions; values that decide commands
 * (how many logs one onLog call takes) may not, and are the run's settings
 * (`contract/run-settings.ts`), which travel with the run.
 */
import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';
import { durationToMs } from '../contract/duration.js';
import { NOT_RETRYABLE, NOT_RETRYABLE_USER_CODE } from '../contract/failure-types.js';
import {
  DEFAULT_HEARTBEAT_TIMEOUT,
  type CallbackName,
  type DurationInput,
  type ValidTrainingRunInput,
} from '../contract/input.js';

/** How long the server waits without a heartbeat before it retries an activity of this run. */
export function heartbeatTimeoutOf(input: Pick<ValidTrainingRunInput, 'heartbeatTimeout'>): DurationInput {
  return input.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT;
}

/** Preflight and submit: bounded, so that a backend outage fails the run visibly instead of leaving it submitting. */
export function submitActivityOptions(input: ValidTrainingRunInput): ActivityOptions {
  return {
    startToCloseTimeout: '2m',
    scheduleToCloseTimeout: '30m',
    heartbeatTimeout: heartbeatTimeoutOf(input),
    retry: { initialInterval: '1s', maximumInterval: '1m', nonRetryableErrorTypes: NOT_RETRYABLE },
  };
}

/** The precondition is the user's code: retried like a callback (one that keeps throwing fails the run). */
export function preconditionActivityOptions(input: ValidTrainingRunInput): ActivityOptions {
  return {
    startToCloseTimeout: '2m',
    heartbeatTimeout: heartbeatTimeoutOf(input),
    retry: { initialInterval: '1s', maximumInterval: '30s', maximumAttempts: 5, nonRetryableErrorTypes: NOT_RETRYABLE },
  };
}

/**
 * A backend job left running costs GPU hours, so the cancel is retried for an hour until the
 * backend confirms it, reports the job already terminal or gone; a permanent refusal, or an hour
 * of failures, ends the retries with the error in the run's status.
 */
export function cancelActivityOptions(input: ValidTrainingRunInput): ActivityOptions {
  return {
    startToCloseTimeout: '1m',
    scheduleToCloseTimeout: '1h',
    heartbeatTimeout: heartbeatTimeoutOf(input),
    retry: { initialInterval: '1s', maximumInterval: '1m' },
  };
}

/** The wait activity, on the stream queue `taskQueue`. */
export function streamActivityOptions(input: ValidTrainingRunInput, taskQueue: string): ActivityOptions {
  return {
    taskQueue,
    // The stream lasts as long as training; liveness is the heartbeat's job, not this timeout.
    startToCloseTimeout: '30d',
    heartbeatTimeout: input.stream?.heartbeatTimeout ?? heartbeatTimeoutOf(input),
    // Continue-as-new must know that no delivery is still on its way, so wait for the activity
    // to acknowledge its cancellation instead of abandoning it.
    cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    // Short and nearly flat: a stream that fails is usually a worker that died, and the run is
    // blind until a new attempt starts; the attempt count never resets, so a run that lost a
    // few workers must not wait longer each time. Backend trouble is retried inside the attempt.
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 1.5,
      maximumInterval: '2s',
      nonRetryableErrorTypes: NOT_RETRYABLE,
    },
  };
}

/** Deployment reads, re-targets, verification, keys: idempotent steps, bounded retries. */
export function deploymentActivityOptions(input: ValidTrainingRunInput): ActivityOptions {
  return {
    startToCloseTimeout: '1m',
    heartbeatTimeout: heartbeatTimeoutOf(input),
    retry: {
      initialInterval: '1s',
      maximumInterval: '30s',
      maximumAttempts: 10,
      nonRetryableErrorTypes: NOT_RETRYABLE,
    },
  };
}

/** A smoke test: the prompts' chat calls, within the input's `smokeTest.timeout`. */
export function smokeTestActivityOptions(input: ValidTrainingRunInput): ActivityOptions {
  return {
    startToCloseTimeout: input.smokeTest?.timeout ?? '5m',
    heartbeatTimeout: heartbeatTimeoutOf(input),
    retry: {
      initialInterval: '2s',
      maximumInterval: '1m',
      maximumAttempts: 5,
      nonRetryableErrorTypes: NOT_RETRYABLE_USER_CODE,
    },
  };
}

/** One notification: about six hours of attempts, long enough to outlast a receiver's outage. */
export function notificationActivityOptions(input: { heartbeatTimeout?: DurationInput }): ActivityOptions {
  return {
    startToCloseTimeout: '30s',
    heartbeatTimeout: heartbeatTimeoutOf(input),
    retry: {
      initialInterval: '5s',
      backoffCoefficient: 2,
      maximumInterval: '10m',
      maximumAttempts: 40,
      nonRetryableErrorTypes: NOT_RETRYABLE_USER_CODE,
    },
  };
}

/** Defaults: 5 attempts, 1 s doubling to 30 s between them, 5 minutes per attempt. */
export const CALLBACK_DEFAULTS = {
  maximumAttempts: 5,
  initialInterval: '1s',
  maximumInterval: '30s',
  timeout: '5m',
} as const;

/** The `timeout` of one call of the callback `name`. */
function callTimeout(input: ValidTrainingRunInput, name: CallbackName) {
  return input.callbacks.overrides?.[name]?.timeout ?? input.callbacks.timeout ?? CALLBACK_DEFAULTS.timeout;
}

export function callbackActivityOptions(input: ValidTrainingRunInput, name: CallbackName): ActivityOptions {
  const override = input.callbacks.overrides?.[name];
  const retry = { ...input.callbacks.retry, ...override?.retry };
  return {
    startToCloseTimeout: callTimeout(input, name),
    heartbeatTimeout: heartbeatTimeoutOf(input),
    retry: {
      maximumAttempts: retry.maximumAttempts ?? CALLBACK_DEFAULTS.maximumAttempts,
      initialInterval: retry.initialInterval ?? CALLBACK_DEFAULTS.initialInterval,
      maximumInterval: retry.maximumInterval ?? CALLBACK_DEFAULTS.maximumInterval,
      backoffCoefficient: 2,
      // A missing callback set is a deployment mistake that no retry fixes.
      nonRetryableErrorTypes: NOT_RETRYABLE_USER_CODE,
    },
  };
}

/**
 * The onLog timeout applies to each call: the activity that carries a batch of `events` logs
 * calls `onLog` once per event (Arkor's semantics) and fails an attempt whose single call
 * outlives {@link onLogCallTimeoutMs}, so the attempt as a whole may take `events` times as long.
 * A retried attempt resumes after the last event its predecessor finished (heartbeat progress).
 */
export function onLogActivityOptions(input: ValidTrainingRunInput, events: number): ActivityOptions {
  return {
    ...callbackActivityOptions(input, 'onLog'),
    startToCloseTimeout: onLogCallTimeoutMs(input) * Math.max(1, events),
  };
}

/** How long one `onLog` (or `onLogBatch`) call may take. */
export function onLogCallTimeoutMs(input: ValidTrainingRunInput): number {
  return durationToMs(callTimeout(input, 'onLog'));
}
