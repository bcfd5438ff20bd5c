/**
 * The public surface for backend services: start and manage training runs, and the types of
 * their inputs, status and results.
 */
export {
  TrainingService,
  type StartOptions,
  type StartedRun,
  type TrainingRunHandle,
  type TrainingServiceOptions,
} from './training-service.js';
export { connectClient, loadTemporalSettings, type ConnectionOverrides, type TemporalSettings } from './connection.js';
export { defineTrainingRun } from './define-training-run.js';
export { recentPollers, workflowPollers, type PollerInfo } from './workers.js';
export {
  InvalidTrainingInputError,
  parseTrainingRunInput,
  SUPPORTED_MODELS,
  type TrainingRunInput,
} from '../contract/input.js';
export { RunOutcome, RunFailureType, type RunResult } from '../contract/result.js';
export { RunPhase, type RunStatus } from '../contract/status.js';
export { statusQuery, stopSignal } from '../contract/messages.js';
export {
  InvalidScheduleError,
  OVERLAP_POLICIES,
  OverlapPolicy,
  ScheduleAlreadyExistsError,
  ScheduleNotFoundError,
  ScheduleService,
  scheduledWorkflowIdPrefix,
  type ScheduleInfo,
  type ScheduleListEntry,
  type SchedulePolicyOptions,
  type ScheduleServiceOptions,
  type ScheduleTiming,
  type ScheduledAction,
} from './schedules.js';
export {
  buildRunsQuery,
  InvalidRunFilterError,
  listRuns,
  type ListRunsFilter,
  type ListRunsOptions,
  type RunSummary,
} from './runs.js';
export {
  DeploymentNotFoundError,
  DeploymentService,
  DeploymentVersionNotFoundError,
  InvalidDeploymentArgumentError,
  type DeploymentServiceOptions,
  type DeploymentVersionView,
  type DeploymentView,
  type VersionStatus,
} from './deployments.js';
