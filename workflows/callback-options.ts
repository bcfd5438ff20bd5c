/**
 * Activity options of each callback, from the run's input: every callback has its own retry
 * policy and timeout, with shared defaults.
 */
import type { ActivityOptions } from '@temporalio/workflow';
import { durationToMs } from './duration.js';
import { DEFAULT_HEARTBEAT_TIMEOUT, type CallbackName, type ValidTrainingRunInput } from './input.js';

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
    heartbeatTimeout: input.heartbeatTimeout ?? DEFAULT_HEARTBEAT_TIMEOUT,
    retry: {
      maximumAttempts: retry.maximumAttempts ?? CALLBACK_DEFAULTS.maximumAttempts,
      initialInterval: retry.initialInterval ?? CALLBACK_DEFAULTS.initialInterval,
      maximumInterval: retry.maximumInterval ?? CALLBACK_DEFAULTS.maximumInterval,
      backoffCoefficient: 2,
      // A missing callback set is a deployment mistake that no retry fixes.
      nonRetryableErrorTypes: ['InvalidInput'],
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
  return { ...callbackActivityOptions(input, 'onLog'), startToCloseTimeout: onLogCallTimeoutMs(input) * Math.max(1, events) };
}

/** How long one `onLog` (or `onLogBatch`) call may take. */
export function onLogCallTimeoutMs(input: ValidTrainingRunInput): number {
  return durationToMs(callTimeout(input, 'onLog'));
}
