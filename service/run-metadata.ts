/**
 * What the Temporal Web UI shows of a run before it has done anything: its static summary (one
 * line: name and model) and static details (Markdown: model, dataset, steps, what happens after
 * training, labels), set when the run is started (`TrainingService.start`, a schedule's action).
 * They are stored with the run, like its input: they name things (a dataset by its name or its
 * URL without query string, a token by its variable), never a secret.
 */
import type { ValidTrainingRunInput } from '../contract/input.js';

export interface RunStaticMetadata {
  staticSummary: string;
  staticDetails: string;
}

export function runStaticMetadata(input: ValidTrainingRunInput): RunStaticMetadata {
  const { trainer } = input;
  const lines = [
    `**${trainer.name}** · training run`,
    '',
    `- model: \`${trainer.model}\``,
    `- dataset: ${datasetText(trainer.dataset)}`,
    `- ${trainingText(input)}`,
  ];
  const after = afterTraining(input);
  if (after) lines.push(`- after training: ${after}`);
  if (input.labels && Object.keys(input.labels).length > 0) {
    lines.push(
      `- labels: ${Object.entries(input.labels)
        .map(([key, value]) => `${key}=${value}`)
        .join(', ')}`,
    );
  }
  return { staticSummary: `${trainer.name} · ${trainer.model}`, staticDetails: lines.join('\n') };
}

function datasetText(dataset: ValidTrainingRunInput['trainer']['dataset']): string {
  if (dataset.type === 'huggingface') {
    const parts = [dataset.subset && `subset ${dataset.subset}`, dataset.split && `split ${dataset.split}`];
    const extra = parts.filter(Boolean).join(', ');
    return `Hugging Face \`${dataset.name}\`${extra ? ` (${extra})` : ''}`;
  }
  const token = dataset.tokenEnv ? ` (token from \`${dataset.tokenEnv}\`)` : '';
  return `blob \`${urlWithoutSecrets(dataset.url)}\`${token}`;
}

/** A URL without credentials, query or fragment (a presigned signature lives there). */
function urlWithoutSecrets(text: string): string {
  try {
    const url = new URL(text);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return '(unreadable URL)';
  }
}

function trainingText(input: ValidTrainingRunInput): string {
  const { trainer } = input;
  const steps = input.budget?.maxSteps ?? trainer.maxSteps;
  const parts = [
    steps === undefined
      ? trainer.numTrainEpochs === undefined
        ? undefined
        : `${trainer.numTrainEpochs} epochs`
      : `${steps} steps`,
    trainer.lora && `LoRA r${trainer.lora.r} α${trainer.lora.alpha}`,
    trainer.learningRate === undefined ? undefined : `lr ${trainer.learningRate}`,
    trainer.batchSize === undefined ? undefined : `batch ${trainer.batchSize}`,
    input.budget?.maxWallTime === undefined ? undefined : `at most ${String(input.budget.maxWallTime)}`,
    trainer.dryRun ? 'dry run' : undefined,
  ];
  return `training: ${parts.filter(Boolean).join(' · ') || 'the trainer defaults'}`;
}

function afterTraining(input: ValidTrainingRunInput): string | undefined {
  const parts = [
    input.smokeTest && `smoke test (${input.smokeTest.prompts.length} prompts)`,
    input.gate &&
      `gate ≥ ${input.gate.minScore}${input.gate.mustBeatDeployed ? ', must beat the deployed adapter' : ''}`,
    input.approval && `approval within ${String(input.approval.timeout)}`,
    input.promotion &&
      `promote to \`${input.promotion.deployment}\` (${input.promotion.target === 'best-checkpoint' ? 'best checkpoint' : 'final adapter'})`,
  ];
  return parts.filter(Boolean).join(' → ') || undefined;
}
