/**
 * `defineTrainingRun`: a run config written in TypeScript, for `--config train.ts`.
 */
import type { TrainingRunInput } from '../contract/input.js';

/**
 * Declares a training run's config with its types, so an editor completes and checks every field.
 * It returns its argument unchanged: the CLI validates the config (and names any bad field) when
 * it loads the module, as it does for a JSON config.
 *
 * `trainer` takes the settings you would pass to the Arkor SDK's `createTrainer` (`name`, `model`,
 * `dataset`, `lora`, `maxSteps`, `learningRate`, ...): paste them in as they are. Everything else
 * (`callbacks`, `earlyStopping`, `budget`, `smokeTest`, `gate`, `approval`, `promotion`,
 * `notifications`, `precondition`, `labels`, ...) is what arkor-temporal adds around the job.
 * Secrets never go here: name the worker's environment variable instead (`dataset.tokenEnv`).
 *
 * @example
 * ```ts
 * // train.ts; start it with `npx arkor-temporal start --config train.ts --watch`
 * import { defineTrainingRun } from 'arkor-temporal/service/define-training-run.js';
 *
 * export default defineTrainingRun({
 *   trainer: {
 *     name: 'support-bot',
 *     model: 'unsloth/gemma-4-E4B-it',
 *     dataset: { type: 'huggingface', name: 'arkor/demo', split: 'train' },
 *     maxSteps: 60,
 *   },
 *   earlyStopping: { lossCeiling: { value: 10, afterStep: 5 } },
 *   budget: { maxWallTime: '30m' },
 * });
 * ```
 *
 * @param input - the run config: `trainer` (required) and the optional sections described in the
 *   README's "A run's input".
 * @returns `input`, unchanged.
 */
export function defineTrainingRun(input: TrainingRunInput): TrainingRunInput {
  return input;
}
