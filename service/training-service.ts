/**
 * The typed API a backend service uses to run trainings: start (idempotent by workflow id),
 * inspect, stop, cancel and await. The CLI is built on it.
 */
import { randomUUID } from 'node:crypto';
import {
  type Client,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { parseTrainingRunInput, type TrainingRunInput } from '../contract/input.js';
import {
  approvalUpdate,
  statusQuery,
  stopUpdate,
  type ApprovalDecision,
  type StopAnswer,
} from '../contract/messages.js';
import type { ApprovalInfo } from '../contract/status.js';
import { RunOutcome, type RunResult } from '../contract/result.js';
import { ArkorModel, ArkorPhase } from '../contract/search-attributes.js';
import { RunPhase, type RunStatus } from '../contract/status.js';
import { DEFAULT_TASK_QUEUE } from '../contract/task-queues.js';
import { type TrainingRunWorkflow, WorkflowType } from '../contract/workflows.js';
import { runStaticMetadata } from './run-metadata.js';

export type TrainingRunHandle = WorkflowHandle<TrainingRunWorkflow>;

export interface StartOptions {
  /** Default: `train-<name>-<random>`. Reuse an id to make the start idempotent. */
  workflowId?: string;
}

export interface StartedRun {
  workflowId: string;
  handle: TrainingRunHandle;
  /** Run id of the first run of the chain this start created; absent when it attached. */
  firstExecutionRunId?: string;
  /** True when a run with this workflow id already existed and no new run was started. */
  attached: boolean;
}

export interface TrainingServiceOptions {
  /** Default `arkor-training` (the worker's TEMPORAL_TASK_QUEUE must match). */
  taskQueue?: string;
}

export class TrainingService {
  private readonly taskQueue: string;

  constructor(
    private readonly client: Client,
    options: TrainingServiceOptions = {},
  ) {
    this.taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  }

  /**
   * Validates the input (throwing `InvalidTrainingInputError` that names each bad field, before
   * anything is started) and starts the run. A workflow id that was used before — running or
   * finished — attaches to that run instead of starting a second GPU job.
   */
  async start(input: TrainingRunInput, options: StartOptions = {}): Promise<StartedRun> {
    const valid = parseTrainingRunInput(input);
    const workflowId = options.workflowId ?? `train-${slugify(valid.trainer.name)}-${randomUUID().slice(0, 8)}`;
    try {
      const handle = await this.client.workflow.start<TrainingRunWorkflow>(WorkflowType.trainingRun, {
        workflowId,
        taskQueue: this.taskQueue,
        args: [input],
        workflowIdReusePolicy: 'REJECT_DUPLICATE',
        workflowIdConflictPolicy: 'FAIL',
        // What the Web UI shows of the run from the start: name, model, dataset (run-metadata.ts).
        ...runStaticMetadata(valid),
        typedSearchAttributes: [
          { key: ArkorModel, value: valid.trainer.model },
          { key: ArkorPhase, value: RunPhase.Submitting },
        ],
      });
      return { workflowId, handle, firstExecutionRunId: handle.firstExecutionRunId, attached: false };
    } catch (error) {
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        return { workflowId, handle: this.handle(workflowId), attached: true };
      }
      throw error;
    }
  }

  handle(workflowId: string): TrainingRunHandle {
    return this.client.workflow.getHandle<TrainingRunWorkflow>(workflowId);
  }

  /**
   * The run's status (no backend call). A closed run's comes from its result, with no worker
   * needed (`recordedStatus`). An open run's is the workflow's live state, through a query a
   * worker of the run's task queue answers: with none polling it, the call fails only at
   * `timeoutMs` (default: the server's own query timeout, about 30 s).
   */
  async status(workflowId: string, options: { timeoutMs?: number } = {}): Promise<RunStatus> {
    const recorded = await this.recordedStatus(workflowId);
    if (recorded) return recorded;
    const query = () => this.handle(workflowId).query(statusQuery);
    if (options.timeoutMs === undefined) return query();
    return this.client.withDeadline(Date.now() + options.timeoutMs, query);
  }

  /**
   * The final status a closed run recorded in its result (every ending the workflow returns:
   * completed, stopped, failed), read from the server alone. Undefined while the run is open, and
   * for a run that ended without a result (cancelled, terminated, timed out): only a query can
   * tell those. Without it, a finished run's status would need a worker of the version it ran on,
   * which after a deploy may be gone for good (README "Deploys").
   */
  async recordedStatus(workflowId: string): Promise<RunStatus | undefined> {
    // The latest run of the chain, and only it: following a continue-as-new would wait for the
    // next run to end.
    const handle = this.client.workflow.getHandle<TrainingRunWorkflow>(workflowId, undefined, { followRuns: false });
    const { status } = await handle.describe();
    if (status.name !== 'COMPLETED' && status.name !== 'FAILED') return undefined;
    try {
      return (await handle.result()).status;
    } catch (error) {
      if (error instanceof WorkflowFailedError) return runResultOfFailure(error)?.status;
      throw error;
    }
  }

  /**
   * Stops the run early: the backend job is cancelled and the run ends `stopped` (during
   * evaluation or approval: not promoted). Answers what the stop did (`moot` once training is
   * over). A closed run rejects it.
   */
  stop(workflowId: string, reason: string): Promise<StopAnswer> {
    return this.handle(workflowId).executeUpdate(stopUpdate, { args: [{ reason }] });
  }

  /**
   * Approves or rejects the promotion of a run that waits for approval. Rejected (with the
   * reason) when the run is not waiting or was already decided; nothing is recorded then.
   */
  decide(workflowId: string, decision: ApprovalDecision): Promise<ApprovalInfo> {
    return this.handle(workflowId).executeUpdate(approvalUpdate, { args: [decision] });
  }

  /** Cancels the workflow; the backend job is cancelled before the run ends `cancelled`. */
  async cancel(workflowId: string): Promise<void> {
    await this.handle(workflowId).cancel();
  }

  /**
   * Waits for the run to end and returns how it ended, whatever the ending: completed,
   * stopped, failed (training, callback or stream failure) or cancelled.
   */
  async outcome(workflowId: string): Promise<RunResult> {
    const handle = this.handle(workflowId);
    try {
      return await handle.result();
    } catch (error) {
      const failed = runResultOfFailure(error);
      if (failed) return failed;
      if (error instanceof WorkflowFailedError && error.cause instanceof CancelledFailure) {
        const status = await handle.query(statusQuery).catch(() => undefined);
        if (status) {
          return {
            outcome: RunOutcome.Cancelled,
            workflowId,
            ...(status.jobId ? { jobId: status.jobId } : {}),
            reason: 'workflow cancelled',
            ...(status.stop ? { stop: status.stop } : {}),
            artifacts: [],
            status,
          };
        }
      }
      throw error;
    }
  }
}

/** The result a failed run carries in its failure's details (every failure the workflow itself raises). */
function runResultOfFailure(error: unknown): RunResult | undefined {
  if (!(error instanceof WorkflowFailedError)) return undefined;
  const details: unknown = error.cause instanceof ApplicationFailure ? error.cause.details?.[0] : undefined;
  return isRunResult(details) ? details : undefined;
}

function isRunResult(value: unknown): value is RunResult {
  return typeof value === 'object' && value !== null && 'outcome' in value && 'status' in value;
}

function slugify(name: string): string {
  return (
    name
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 40) || 'run'
  );
}
