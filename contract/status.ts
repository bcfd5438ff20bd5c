/**
 * The live state of a run, as the `status` query returns it and as a continued run inherits it.
 * Pure and bounded: however long the run, the snapshot stays small (a downsampled loss curve,
 * the last checkpoints), so it fits in a query answer and in a continue-as-new input.
 */
import type { DeploymentTargetRef, SmokeScore } from './evaluation.js';
import type { RunEvent } from './events.js';
import { isFiniteMetric } from './events.js';

export const RunPhase = {
  Submitting: 'submitting',
  Queued: 'queued',
  Running: 'running',
  Stopping: 'stopping',
  Evaluating: 'evaluating',
  AwaitingApproval: 'awaiting-approval',
  Promoting: 'promoting',
  Completed: 'completed',
  Failed: 'failed',
  Stopped: 'stopped',
  Cancelled: 'cancelled',
  /** The precondition found nothing new to train on; no job was submitted. */
  Skipped: 'skipped',
} as const;
export type RunPhase = (typeof RunPhase)[keyof typeof RunPhase];

/** The phases a run ends in; a run's outcome is one of them (see `RunOutcome`). */
export const FINAL_PHASES = [
  RunPhase.Completed,
  RunPhase.Failed,
  RunPhase.Stopped,
  RunPhase.Cancelled,
  RunPhase.Skipped,
] as const;
export type FinalPhase = (typeof FINAL_PHASES)[number];

export function isFinalPhase(phase: RunPhase): phase is FinalPhase {
  return (FINAL_PHASES as readonly RunPhase[]).includes(phase);
}

/** Who or what ended a run early. */
export type StopCause = 'rule' | 'budget' | 'directive' | 'signal' | 'callback-failure' | 'cancel';

export interface StopInfo {
  cause: StopCause;
  reason: string;
  /** The step the run had reached when the stop was decided. */
  atStep: number;
}

export interface CheckpointInfo {
  step: number;
  savedAt: string;
  artifactCount: number;
  /** Smoke-test score (0 to 1), when the run has smoke-test prompts. */
  score?: number;
}

export interface GateDecision {
  passed: boolean;
  reason: string;
  score?: number;
  /** Score of what the deployment served before, on the same prompts. */
  deployedScore?: number;
}

export interface ApprovalInfo {
  state: 'waiting' | 'approved' | 'rejected' | 'timed-out';
  by?: string;
  reason?: string;
  at?: string;
}

export interface PromotionInfo {
  deployment: string;
  /** Not promoted, and why (gate failed, not approved, ...). */
  skipped?: string;
  before?: DeploymentTargetRef | null;
  after?: DeploymentTargetRef;
  created?: boolean;
  /** False when the deployment already served the target (a retried promotion). */
  changed?: boolean;
  verified?: boolean;
  rolledBack?: boolean;
  /** Why verification failed. */
  error?: string;
  /** Id of the deployment key created; its plaintext is in the worker's key store only. */
  keyId?: string;
}

export interface CallbackErrorInfo {
  callback: string;
  eventIds: string[];
  message: string;
}

export interface RunStatus {
  phase: RunPhase;
  workflowId: string;
  name: string;
  model: string;
  jobId?: string;
  /** Latest step seen in a log or checkpoint event. */
  step: number;
  maxSteps?: number;
  latestLoss: number | null;
  latestEvalLoss: number | null;
  bestLoss: { value: number; step: number } | null;
  bestEvalLoss: { value: number; step: number } | null;
  /** `[step, loss]` pairs, downsampled to at most `LOSS_CURVE_POINTS` points. */
  lossCurve: Array<[number, number]>;
  checkpoints: CheckpointInfo[];
  /** True when the run scores its checkpoints (it has smoke-test prompts). */
  scoresCheckpoints?: boolean;
  /** The base model's smoke-test score, computed once per run. */
  baseScore?: number;
  bestCheckpoint?: { step: number; score: number };
  /** The final adapter's smoke test, with answer samples. */
  finalScore?: SmokeScore;
  gate?: GateDecision;
  approval?: ApprovalInfo;
  promotion?: PromotionInfo;
  /** The precondition's answer: the revision trained on, and why the run was skipped if it was. */
  precondition?: { revision: string; detail?: string; skippedBecause?: string };
  eventsReceived: number;
  callbacksRun: number;
  callbackErrors: CallbackErrorInfo[];
  /** Events received after the run decided to stop; they reach no callback. */
  eventsNotDispatched: number;
  /**
   * Events received and not yet dispatched, the wait activity's bound on them (`limit`, a worker
   * setting), and since when the activity has paused reading because the backlog reached it.
   */
  backlog?: { events: number; limit?: number; pausedSince?: string };
  /**
   * Arkor refuses to serve the run's stream (401, 403, 426: a rotated token, a client too old):
   * why, and since when. The stream retries slowly; a redeploy that fixes it resumes the run.
   */
  blocked?: { reason: string; since: string };
  stop?: StopInfo;
  error?: string;
  /** Id of the last event the workflow has durably received: where a resumed stream starts. */
  cursor?: string;
  startedAt: string;
  trainingStartedAt?: string;
  finishedAt?: string;
  /** 1 for the first run, incremented at each continue-as-new. */
  runNumber: number;
  labels?: Record<string, string>;
}

/** What a run's first status is made of. */
export interface RunStart {
  workflowId: string;
  name: string;
  model: string;
  /** The budget's step limit, else the trainer's. */
  maxSteps?: number;
  startedAt: string;
  /** The run has smoke-test prompts. */
  scoresCheckpoints: boolean;
  labels?: Record<string, string>;
}

/**
 * The status a run starts from, before its job is submitted: the workflow's first, and the start
 * of the run report's fold of a history (cli/report/model.ts), which must agree with it.
 */
export function initialRunStatus(start: RunStart): RunStatus {
  return {
    phase: RunPhase.Submitting,
    workflowId: start.workflowId,
    name: start.name,
    model: start.model,
    step: 0,
    ...(start.maxSteps === undefined ? {} : { maxSteps: start.maxSteps }),
    latestLoss: null,
    latestEvalLoss: null,
    bestLoss: null,
    bestEvalLoss: null,
    lossCurve: [],
    checkpoints: [],
    eventsReceived: 0,
    callbacksRun: 0,
    callbackErrors: [],
    eventsNotDispatched: 0,
    startedAt: start.startedAt,
    runNumber: 1,
    ...(start.scoresCheckpoints ? { scoresCheckpoints: true } : {}),
    ...(start.labels ? { labels: start.labels } : {}),
  };
}

export const LOSS_CURVE_POINTS = 200;
const MAX_CHECKPOINTS = 100;
const MAX_CALLBACK_ERRORS = 20;

/** Appends a point, halving the curve's resolution when it is full so it spans the whole run. */
export function appendLossPoint(curve: Array<[number, number]>, point: [number, number]): Array<[number, number]> {
  const next = [...curve, point];
  if (next.length <= LOSS_CURVE_POINTS) return next;
  // Keep every other point but always the newest, so the curve's end stays exact.
  return next.filter((_, index) => index % 2 === 0 || index === next.length - 1);
}

function keepBest(
  best: { value: number; step: number } | null,
  value: number | null,
  step: number,
): { value: number; step: number } | null {
  if (value === null || !Number.isFinite(value)) return best;
  return best === null || value < best.value ? { value, step } : best;
}

/** Folds one received event into the status (pure; returns a new object). */
export function applyEvent(status: RunStatus, event: RunEvent): RunStatus {
  const payload = event.payload;
  const next: RunStatus = { ...status, eventsReceived: status.eventsReceived + 1 };
  switch (payload.type) {
    case 'training.started':
      next.phase = status.phase === RunPhase.Queued ? RunPhase.Running : status.phase;
      next.trainingStartedAt = payload.timestamp;
      return next;
    case 'training.log': {
      next.step = Math.max(status.step, payload.step);
      if (payload.loss !== null) {
        next.latestLoss = isFiniteMetric(payload.loss) ? payload.loss : Number.NaN;
        if (isFiniteMetric(payload.loss)) {
          next.bestLoss = keepBest(status.bestLoss, payload.loss, payload.step);
          next.lossCurve = appendLossPoint(status.lossCurve, [payload.step, payload.loss]);
        }
      }
      if (payload.evalLoss !== null) {
        next.latestEvalLoss = isFiniteMetric(payload.evalLoss) ? payload.evalLoss : Number.NaN;
        next.bestEvalLoss = keepBest(status.bestEvalLoss, next.latestEvalLoss, payload.step);
      }
      return next;
    }
    case 'checkpoint.saved':
      next.step = Math.max(status.step, payload.step);
      next.checkpoints = [
        ...status.checkpoints,
        { step: payload.step, savedAt: payload.timestamp, artifactCount: payload.artifacts?.length ?? 0 },
      ].slice(-MAX_CHECKPOINTS);
      return next;
    case 'training.completed':
    case 'training.failed':
      return next;
  }
}

/** Records a checkpoint's smoke-test score and keeps the best checkpoint. */
export function recordCheckpointScore(status: RunStatus, step: number, score: number): RunStatus {
  const checkpoints = status.checkpoints.map((checkpoint) =>
    checkpoint.step === step ? { ...checkpoint, score } : checkpoint,
  );
  const best = status.bestCheckpoint;
  return {
    ...status,
    checkpoints,
    bestCheckpoint: best === undefined || score > best.score ? { step, score } : best,
  };
}

/** Records a callback that exhausted its retries under the `continue` policy. */
export function recordCallbackError(status: RunStatus, error: CallbackErrorInfo): RunStatus {
  return { ...status, callbackErrors: [...status.callbackErrors, error].slice(-MAX_CALLBACK_ERRORS) };
}
