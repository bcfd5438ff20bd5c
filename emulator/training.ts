/**
 * Pure parts of simulated training: reading the step plan from a job config, the deterministic
 * loss curve, the payloads of one step, and the Python-style JSON serialisation that writes a
 * non-finite loss as the bare token `NaN`.
 */
import type { JobBehaviour } from './types.js';

/** Steps of a job when the config does not say (`maxSteps` absent). */
export const DEFAULT_MAX_STEPS = 100;
/** Step cap of `dryRun: true` jobs (the backend caps a smoke run at about 10 steps). */
export const DRY_RUN_MAX_STEPS = 10;
/** Learning rate reported when the config has none. */
export const DEFAULT_LEARNING_RATE = 2e-4;

/** What the simulation reads from a job config. */
export interface TrainingPlan {
  maxSteps: number;
  /** `training.log` every this many steps (default 1). */
  loggingSteps: number;
  /** Eval-only `training.log` every this many steps; undefined = never. */
  evalSteps: number | undefined;
  /** `checkpoint.saved` every this many steps; undefined = never. */
  saveSteps: number | undefined;
  learningRate: number;
  numTrainEpochs: number;
}

function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}

/** Reads the plan from a (loosely validated) job config; unusable values fall back to defaults. */
export function planFromConfig(config: Record<string, unknown>): TrainingPlan {
  let maxSteps = positiveInt(config.maxSteps) ?? DEFAULT_MAX_STEPS;
  if (config.dryRun === true) maxSteps = Math.min(maxSteps, DRY_RUN_MAX_STEPS);
  const lr = config.learningRate;
  const epochs = config.numTrainEpochs;
  return {
    maxSteps,
    loggingSteps: positiveInt(config.loggingSteps) ?? 1,
    evalSteps: positiveInt(config.evalSteps),
    saveSteps: positiveInt(config.saveSteps),
    learningRate: typeof lr === 'number' && Number.isFinite(lr) && lr > 0 ? lr : DEFAULT_LEARNING_RATE,
    numTrainEpochs: typeof epochs === 'number' && Number.isFinite(epochs) && epochs > 0 ? epochs : 1,
  };
}

/** A deterministic hash of integers to [0, 1) (mulberry32 finaliser over a mixed state). */
export function hash01(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    h = Math.imul(h ^ (part | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) / 4294967296;
}

/** A stable 32-bit hash of a string (FNV-1a), used to salt noise per job name or prompt. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Training loss at `step`: 0.3 + 2.2·exp(-3·step/maxSteps) plus ±0.02 of seeded noise. */
export function lossAt(step: number, maxSteps: number, seed: number, salt: number): number {
  const noise = (hash01(seed, salt, step, 1) - 0.5) * 0.04;
  return round4(0.3 + 2.2 * Math.exp((-3 * step) / maxSteps) + noise);
}

/** Eval loss at `step`: a little above the training loss. */
export function evalLossAt(step: number, maxSteps: number, seed: number, salt: number): number {
  return round4(lossAt(step, maxSteps, seed, salt) + 0.05 + hash01(seed, salt, step, 2) * 0.03);
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/** Artifacts of the checkpoint saved at `step`. */
export function checkpointArtifacts(step: number): Array<{ pathname: string }> {
  return [
    { pathname: `checkpoint-${step}/adapter_model.safetensors` },
    { pathname: `checkpoint-${step}/adapter_config.json` },
  ];
}

/** Artifacts of a completed job. */
export const FINAL_ARTIFACTS = [
  { pathname: 'adapter_model.safetensors' },
  { pathname: 'adapter_config.json' },
] as const;

/** One event a step produces: its SSE `event` name (= payload `type`) and extra payload fields. */
export interface StepEvent {
  type: 'training.log' | 'checkpoint.saved' | 'training.completed' | 'training.failed';
  fields: Record<string, unknown>;
}

/**
 * The events of `step`, in emission order. A `failAtStep` at this step replaces everything else;
 * otherwise: log (every `loggingSteps`), eval-only log (every `evalSteps`), checkpoint (every
 * `saveSteps`), and `training.completed` at `maxSteps`.
 */
export function eventsForStep(
  plan: TrainingPlan,
  step: number,
  behaviour: JobBehaviour,
  noise: { seed: number; salt: number },
): StepEvent[] {
  const { maxSteps } = plan;
  if (behaviour.failAtStep && behaviour.failAtStep.step === step) {
    return [{ type: 'training.failed', fields: { error: behaviour.failAtStep.error, step } }];
  }
  const nan = behaviour.nanLossFromStep !== undefined && step >= behaviour.nanLossFromStep;
  const loss = nan ? Number.NaN : lossAt(step, maxSteps, noise.seed, noise.salt);
  const out: StepEvent[] = [];
  if (step % plan.loggingSteps === 0) {
    out.push({
      type: 'training.log',
      fields: {
        step,
        loss,
        learningRate: plan.learningRate * (1 - (step - 1) / maxSteps),
        epoch: round4((step / maxSteps) * plan.numTrainEpochs),
        samplesPerSecond: round4(6 + hash01(noise.seed, noise.salt, step, 3)),
      },
    });
  }
  if (plan.evalSteps !== undefined && step % plan.evalSteps === 0) {
    out.push({ type: 'training.log', fields: { step, evalLoss: evalLossAt(step, maxSteps, noise.seed, noise.salt) } });
  }
  if (plan.saveSteps !== undefined && step % plan.saveSteps === 0) {
    out.push({ type: 'checkpoint.saved', fields: { step, artifacts: checkpointArtifacts(step) } });
  }
  if (step === maxSteps) {
    out.push({
      type: 'training.completed',
      fields: { metrics: { loss, steps: maxSteps }, artifacts: FINAL_ARTIFACTS.map((a) => ({ ...a })) },
    });
  }
  return out;
}

const NAN_SENTINEL = '__arkor_emulator_non_finite__';

/**
 * Serialises an event payload like a Python backend's `json.dumps`: non-finite numbers are
 * written as the bare tokens `NaN`, `Infinity`, `-Infinity` (which is not valid JSON).
 */
export function pythonJson(payload: unknown): string {
  const text = JSON.stringify(payload, (_key, value: unknown) =>
    typeof value === 'number' && !Number.isFinite(value) ? `${NAN_SENTINEL}${String(value)}` : value,
  );
  return text.replace(new RegExp(`"${NAN_SENTINEL}(NaN|Infinity|-Infinity)"`, 'g'), '$1');
}
