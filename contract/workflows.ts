/**
 * The workflows by name and signature, so clients start them without importing workflow code
 * (which would pull the workflow module graph, and with it the worker's, into a service).
 * `workflows/index.ts` checks that the functions it exports match these signatures.
 */
import type { NotificationInput } from './evaluation.js';
import type { TrainingRunInput } from './input.js';
import type { RunResult } from './result.js';

/** Workflow type names: recorded in histories and schedules, so they never change. */
export const WorkflowType = {
  trainingRun: 'trainingRun',
  notificationDelivery: 'notificationDelivery',
} as const;

/** One training run: submit, follow, dispatch, stop, finish, evaluate. */
export type TrainingRunWorkflow = (input: TrainingRunInput) => Promise<RunResult>;

/** One notification, delivered by a child workflow so the run never waits on a receiver. */
export type NotificationDeliveryWorkflow = (input: NotificationInput) => Promise<void>;
