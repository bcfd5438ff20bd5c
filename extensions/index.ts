/**
 * What a worker's own code plugs in: lifecycle callbacks, scorers for smoke-test expectations,
 * and preconditions for scheduled retrains. This is the `arkor-temporal/callbacks` entry point;
 * nothing here loads Temporal's worker or client.
 */
export {
  CallbackModuleError,
  defineCallbacks,
  stopRun,
  type CallbackContext,
  type CallbackReturn,
  type CallbackSets,
  type CheckpointAdapter,
  type InferArgs,
  type InferFn,
  type LogArgs,
  type StopDirective,
  type TrainingCallbacks,
} from './callbacks.js';
export {
  BUILTIN_SCORERS,
  ScorerModuleError,
  ScorerOptionsError,
  defineScorer,
  type Scorer,
  type ScorerArgs,
  type ScorerRegistry,
} from './scorers.js';
export {
  PreconditionModuleError,
  definePrecondition,
  type Precondition,
  type PreconditionRegistry,
} from './preconditions.js';
export type { TrainingJob } from '../contract/activities.js';
