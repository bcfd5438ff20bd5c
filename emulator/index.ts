/** Public entry point of the local Arkor cloud-api emulator. */
export type { Emulator } from './start.js';
export { EmulatorOptionsError, InvalidControlInputError, startEmulator } from './start.js';
export type { EmulatorControl } from './control.js';
export {
  EmulatorControlError,
  behaviourTargetSchema,
  connectEmulator,
  jobBehaviourSchema,
  routeFaultSchema,
  streamConnectionFaultSchema,
} from './control.js';
export type { DemoQuestion } from './model.js';
export {
  BASE_MODEL_QUALITY,
  CORRECT_ANSWER_QUALITY,
  DEFAULT_FINAL_QUALITY,
  DEMO_QUESTIONS,
  expectedAnswer,
  findDemoQuestion,
  generateAnswer,
  qualityAt,
} from './model.js';
export { DEFAULT_OPTIONS } from './context.js';
export { UnknownJobError } from './jobs.js';
export { DEFAULT_MAX_STEPS, DRY_RUN_MAX_STEPS } from './training.js';
export type * from './types.js';
