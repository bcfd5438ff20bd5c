/**
 * What a finished run reports. A run whose training failed (or whose callback failed under the
 * `fail` policy) fails the workflow, with this result as the failure's details, so that
 * Temporal (and a Schedule's pause-on-failure) sees a failure; the CLI prints it either way.
 */
import { RunPhase, type FinalPhase, type RunStatus, type StopInfo } from './status.js';
import { errorMessage } from './errors.js';

/** How a run ended: its final phase (see `FINAL_PHASES`). */
export const RunOutcome = {
  Completed: RunPhase.Completed,
  Failed: RunPhase.Failed,
  Stopped: RunPhase.Stopped,
  Cancelled: RunPhase.Cancelled,
  /** The precondition found the same revision as the last promoted run: nothing to do. */
  Skipped: RunPhase.Skipped,
} as const satisfies Record<string, FinalPhase>;
export type RunOutcome = (typeof RunOutcome)[keyof typeof RunOutcome];

export interface RunResult {
  outcome: RunOutcome;
  workflowId: string;
  jobId?: string;
  /** Why it ended when it did not complete: the stop reason or the failure. */
  reason?: string;
  stop?: StopInfo;
  /** Artifacts of `training.completed` (opaque objects with at least a `pathname`). */
  artifacts: unknown[];
  status: RunStatus;
}

/** Failure types the workflow ends with; the result is in the failure's details. */
export const RunFailureType = {
  InvalidInput: 'InvalidInput',
  SubmitFailed: 'SubmitFailed',
  TrainingFailed: 'TrainingFailed',
  CallbackFailed: 'CallbackFailed',
  StreamFailed: 'StreamFailed',
  JobCancelledExternally: 'JobCancelledExternally',
  /** Training completed, but promoting its adapter failed (the deployment was left as it was, or rolled back). */
  PromotionFailed: 'PromotionFailed',
} as const;

/** The innermost message of an activity failure (the user's or the backend's error, not the wrapper's). */
export function failureMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return errorMessage(current);
}
