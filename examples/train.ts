/**
 * The demo run of examples/train.json as a TypeScript config, checked by the compiler and completed
 * by the editor: `npm run client -- start --config examples/train.ts --watch` (or `npm run dev --
 * examples/train.ts`).
 */
import { defineTrainingRun } from '../service/define-training-run.js';

export default defineTrainingRun({
  // What you would pass to the Arkor SDK's createTrainer(...), as it is.
  trainer: {
    name: 'support-bot-demo',
    model: 'unsloth/gemma-4-E4B-it',
    dataset: { type: 'huggingface', name: 'arkor/demo', split: 'train' },
    lora: { r: 16, alpha: 32 },
    maxSteps: 60,
    learningRate: 0.0002,
    batchSize: 4,
    loggingSteps: 1,
    evalSteps: 10,
    saveSteps: 20,
  },
  callbacks: { set: 'default', onFailure: 'fail' },
  earlyStopping: { nonFiniteLoss: true, lossCeiling: { value: 10, afterStep: 5 } },
  budget: { maxWallTime: '30m' },
  smokeTest: {
    prompts: [
      {
        name: 'capital',
        messages: [{ role: 'user', content: 'What is the capital of France?' }],
        expect: { contains: 'Paris' },
      },
      { name: 'arithmetic', messages: [{ role: 'user', content: 'What is 2+2?' }], expect: { regex: '\\b4\\b' } },
      { name: 'greeting', messages: [{ role: 'user', content: 'Say hello' }], expect: { contains: 'hello' } },
      { name: 'sky', messages: [{ role: 'user', content: 'What colour is the sky?' }], expect: { contains: 'blue' } },
    ],
    regressionTolerance: 0.5,
  },
  gate: { minScore: 0.75 },
  promotion: { deployment: 'support-bot-demo', create: true, authMode: 'none' },
  labels: { team: 'support', purpose: 'demo' },
});
