/**
 * What a run knows about itself and hands to its continuation: the status (what the `status`
 * query answers), the job, the early-stopping rules' patience and when the run started.
 *
 * The status changes in one way only, `update` (a patch, or a function of the current status);
 * `setPhase` and `jobSubmitted` are updates that also keep the run's search attributes in step.
 */
import { upsertSearchAttributes } from '@temporalio/workflow';
import type { TrainingJob } from '../contract/activities.js';
import type { ResumeState, ValidTrainingRunInput } from '../contract/input.js';
import type { RunOutcome, RunResult } from '../contract/result.js';
import { ArkorJobId, ArkorPhase } from '../contract/search-attributes.js';
import {
  initialRunStatus,
  isFinalPhase,
  RunPhase,
  type RunStatus,
  type StopCause,
  type StopInfo,
} from '../contract/status.js';
import { initialPatience, type PatienceState } from './rules.js';
import { RunTelemetry } from './run-telemetry.js';

/** The run's state that a continued run takes over (`ResumeState.summary`). */
export type ResumeSummary = {
  status: RunStatus;
  patience: PatienceState;
  job: TrainingJob;
};

/** A change of the status: the fields to replace, or the next status computed from the current one. */
export type StatusChange = Partial<RunStatus> | ((status: RunStatus) => RunStatus);

export class RunState {
  /** When the first run of the chain started (the wall-time budget counts from here). */
  readonly startedAtMs: number;
  /** What the patience rule remembers between log events. */
  patience: PatienceState;
  private current: RunStatus;
  private submittedJob: TrainingJob | undefined;
  /** The Web UI's current details and the run's metrics, refreshed after the status changes. */
  readonly telemetry: RunTelemetry;

  constructor(
    private readonly workflowId: string,
    input: ValidTrainingRunInput,
    resume: ResumeState | undefined,
  ) {
    this.telemetry = new RunTelemetry(input.trainer.model, () => this.current);
    this.telemetry.changed();
    const summary = resume?.summary as ResumeSummary | undefined;
    this.startedAtMs = resume?.startedAtMs ?? Date.now();
    this.submittedJob = summary?.job;
    this.patience = summary?.patience ?? initialPatience;
    this.current = summary
      ? { ...summary.status, runNumber: resume?.runNumber ?? 1 }
      : initialRunStatus({
          workflowId,
          name: input.trainer.name,
          model: input.trainer.model,
          maxSteps: input.budget?.maxSteps ?? input.trainer.maxSteps,
          startedAt: new Date(this.startedAtMs).toISOString(),
          scoresCheckpoints: Boolean(input.smokeTest),
          ...(input.labels ? { labels: input.labels } : {}),
        });
    if (resume?.cursor !== undefined) this.update({ cursor: resume.cursor });
  }

  get status(): RunStatus {
    return this.current;
  }

  /** The job, once submitted (or taken over from the previous run). */
  get job(): TrainingJob | undefined {
    return this.submittedJob;
  }

  /** Every change of the status goes through here; the status object is replaced, never mutated. */
  update(change: StatusChange): void {
    this.current = typeof change === 'function' ? change(this.current) : { ...this.current, ...change };
    this.telemetry.changed();
  }

  /** Moves the run to `phase` (a final phase stamps `finishedAt`), and the `ArkorPhase` search attribute with it. */
  setPhase(phase: RunPhase): void {
    this.update({ phase, ...(isFinalPhase(phase) ? { finishedAt: new Date().toISOString() } : {}) });
    upsertSearchAttributes([{ key: ArkorPhase, value: phase }]);
  }

  /** The job exists: its id in the status and the `ArkorJobId` search attribute, and the run is queued. */
  jobSubmitted(job: TrainingJob): void {
    this.submittedJob = job;
    this.update({ jobId: job.id });
    upsertSearchAttributes([{ key: ArkorJobId, value: job.id }]);
    this.setPhase(RunPhase.Queued);
  }

  patchJob(patch: Partial<TrainingJob>): void {
    // Like the SDK, a status change replaces the snapshot rather than mutating it.
    if (this.submittedJob) this.submittedJob = { ...this.submittedJob, ...patch };
  }

  requireJob(): TrainingJob {
    if (!this.submittedJob) throw new Error('No job has been submitted');
    return this.submittedJob;
  }

  stopInfo(cause: StopCause, reason: string): StopInfo {
    return { cause, reason, atStep: this.current.step };
  }

  result(outcome: RunOutcome, reason?: string, artifacts: unknown[] = []): RunResult {
    return {
      outcome,
      workflowId: this.workflowId,
      ...(this.submittedJob ? { jobId: this.submittedJob.id } : {}),
      ...(reason === undefined ? {} : { reason }),
      ...(this.current.stop ? { stop: this.current.stop } : {}),
      artifacts,
      status: this.current,
    };
  }

  /** What a continued run takes over. */
  summary(): ResumeSummary {
    return { status: this.current, patience: this.patience, job: this.requireJob() };
  }
}
