/** A training run input the emulator accepts, for tests that care about a few of its fields. */
import type { TrainingRunInput } from '../contract/input.js';

/**
 * A valid input for the emulator; override what the test is about. Defaults: trainer `test-run`
 * on `unsloth/gemma-4-E4B-it` with the `arkor/demo` Hugging Face dataset, 30 steps, a log every
 * step, an evaluation and a checkpoint every 10 steps; everything else the input's defaults
 * (callback set `default`, no smoke test, gate, promotion or notifications).
 */
export function trainingInput(
  overrides: Omit<Partial<TrainingRunInput>, 'trainer'> & { trainer?: Partial<TrainingRunInput['trainer']> } = {},
): TrainingRunInput {
  const { trainer, ...rest } = overrides;
  return {
    ...rest,
    trainer: {
      name: 'test-run',
      model: 'unsloth/gemma-4-E4B-it',
      dataset: { type: 'huggingface', name: 'arkor/demo' },
      maxSteps: 30,
      loggingSteps: 1,
      evalSteps: 10,
      saveSteps: 10,
      ...trainer,
    },
  };
}
