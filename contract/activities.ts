/**
 * Every activity of a training run as the workflow sees it: names, inputs and outputs. The
 * workflow proxies these interfaces; `activities/index.ts` builds objects typed by them, so an
 * activity whose signature drifts from what the workflow calls does not compile.
 *
 * Activity type names are recorded in workflow histories: renaming one is a versioned change.
 */
/** The Arkor job as both sides see it; types only, so nothing of the HTTP client reaches workflow code. */
export type { JobStatus, TrainingJob } from '../arkor/index.js';
import type { JobStatus, TrainingJob } from '../arkor/index.js';
import type {
  DeploymentKeyInput,
  DeploymentState,
  NotificationInput,
  PreconditionInput,
  PreconditionResult,
  RetargetInput,
  RetargetResult,
  SmokeScore,
  SmokeTestInput,
  VerifyInput,
  VerifyResult,
} from './evaluation.js';
import type { RunEvent } from './events.js';
import type { TrainerSettings } from './input.js';

export interface CallbackCall {
  /** Name of the callback set in the worker's callbacks module. */
  set: string;
  workflowId: string;
  /** The job snapshot, patched by the events so far (as the SDK hands it). */
  job: TrainingJob;
}

export interface CallbackOutcome {
  /** Set when the callback asked to stop the run. */
  stop?: { reason: string };
  /** False when the set has no such callback (the event still counts as delivered). */
  called: boolean;
}

export interface CancelJobInput {
  jobId: string;
  reason: string;
}

export type CancelJobResult =
  /** This request cancelled the job. */
  | { outcome: 'cancelled'; status: 'cancelled' }
  /** The job had ended on its own (`status` as read). */
  | { outcome: 'already-terminal'; status: JobStatus }
  /** The job no longer exists (deleted): there is nothing to cancel and no status to read. */
  | { outcome: 'gone'; status?: undefined };

export interface FollowJobInput {
  jobId: string;
  /** The run's position when it scheduled this activity: the cursor... */
  cursor?: string;
  /** ...and the id-less events accepted after it (absent: none). */
  offset?: number;
}

/** Heartbeat details: the position the run acknowledged last. */
export interface StreamHeartbeat {
  cursor?: string;
  offset?: number;
}

export type StreamOutcome =
  /** `training.completed` or `training.failed`. */
  | { kind: 'terminal'; event: RunEvent }
  /** The stream said `end`; the job's status was read to learn how it ended. */
  | { kind: 'ended'; status: JobStatus; error: string | null };

export interface SubmitJobInput {
  trainer: TrainerSettings;
  /** The run that owns the job; its identity becomes the job-name marker. */
  workflowId: string;
  runId: string;
}

export interface SubmittedJob {
  job: TrainingJob;
  /** True when an earlier attempt had created the job and this one found it. */
  reattached: boolean;
}

export interface PreflightInput {
  trainer: TrainerSettings;
  callbackSet: string;
}

/** What `createDeploymentKey` returns. Never the plaintext. */
export interface IssuedDeploymentKey {
  keyId: string;
  prefix: string;
  /** The key's label in Arkor (the requested label with the creating run's marker, unless a person made it). */
  label: string;
  /**
   * `created`: this attempt created the key. `reattached`: an earlier attempt of this workflow
   * did (found by its marker). `existing`: a live key with the requested label that this
   * workflow did not create (an earlier run's, a person's, or one from before labels carried
   * markers), kept as is instead of issuing a second key for the label.
   */
  origin: 'created' | 'reattached' | 'existing';
  /**
   * Where this worker's key store holds the plaintext. Absent when it does not: the plaintext is
   * in the key store of the worker that created the key (or with the person who did), or was lost
   * if that worker died between creating and storing it. Either way the key stays live.
   */
  storedAt?: string;
}

export interface NotifyResult {
  delivered: true;
  /** The receiver's HTTP status. */
  status: number;
}

/** What every lifecycle callback activity receives, plus its event(s). */
export type CallbackActivities = {
  onStarted(call: CallbackCall & { event: RunEvent }): Promise<CallbackOutcome>;
  /** A batch of log events; `callTimeoutMs` bounds each call of the user's callback. */
  onLog(call: CallbackCall & { events: RunEvent[]; callTimeoutMs?: number }): Promise<CallbackOutcome>;
  onCheckpoint(call: CallbackCall & { event: RunEvent }): Promise<CallbackOutcome>;
  onCompleted(call: CallbackCall & { artifacts: unknown[]; event?: RunEvent }): Promise<CallbackOutcome>;
  onFailed(call: CallbackCall & { error: string; event?: RunEvent }): Promise<CallbackOutcome>;
};

/** Activities on the run's main task queue: everything but the stream. */
export interface MainActivities extends CallbackActivities {
  /** Checks what only the worker can check (its callback set, its secrets) before submitting. */
  preflight(input: PreflightInput): Promise<void>;
  submitJob(input: SubmitJobInput): Promise<SubmittedJob>;
  cancelJob(input: CancelJobInput): Promise<CancelJobResult>;
  smokeTest(input: SmokeTestInput): Promise<SmokeScore>;
  readDeployment(slug: string): Promise<DeploymentState | null>;
  retarget(input: RetargetInput): Promise<RetargetResult>;
  verifyDeployment(input: VerifyInput): Promise<VerifyResult>;
  createDeploymentKey(input: DeploymentKeyInput): Promise<IssuedDeploymentKey>;
  notify(input: NotificationInput): Promise<NotifyResult>;
  checkPrecondition(input: PreconditionInput): Promise<PreconditionResult>;
}

/** The wait activity, alone on the stream task queue (`streamTaskQueue`). */
export interface StreamActivities {
  followJob(input: FollowJobInput): Promise<StreamOutcome>;
}
