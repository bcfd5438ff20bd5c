/**
 * Activity options of each callback, from the run's input: every callback has its own retry
 * policy and timeout, with shared defaults.
 */
import type { ActivityOptions } from '@temporalio/workflow';
import { DEFAULT_HEARTBEAT_TIMEOUT, type CallbackName, type ValidTrainingRunInput } from './input.js';

/** Defaults: 5 attempts, 1 s doubling to 30 s between them, 5 minutes per attempt. */
export const CALLBACK_DEFAULTS = {
  maximumAttempts: 5,
  initialInterval: '1s',
  maximumInterval: '30s',
  timeout: '5m',
} as const;

export function callbackActivityOptions(input: ValidTrainingRunInput, name: CallbackName): ActivityOptions {
  const override = input.callbacks.overrides?.[name];
  const retry = { ...input.callbacks.retry, ...override?.retry };
  return {
    startToCloseTimeout: override?.timeout ?? input.callbacks.timeout ?? CALLBACK_DEFAULTS.timeout,
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
