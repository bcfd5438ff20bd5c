/**
 * How a run ends and what it tells people: the endings (completed, stopped, failed), each the
 * same sequence wherever the run ends that way, and the text of every notification.
 */
import { ApplicationFailure } from '@temporalio/workflow';
import type { NotificationEvent, ValidTrainingRunInput } from '../contract/input.js';
import { type RunResult, RunOutcome } from '../contract/result.js';
import { RunPhase, type RunStatus, type StopInfo } from '../contract/status.js';
import { sendNotification } from './notifications.js';
import type { RunState } from './run-state.js';

export interface StoppedEnding {
  stop: StopInfo;
  /** The `stopped` notification's title (the run's name is appended) and its line. */
  title: string;
  line: string;
  artifacts?: unknown[];
  /** Runs once the stop is in the status, before the phase changes (a stop early discards the queue). */
  settle?: () => void;
}

export interface FailedEnding {
  /** The failure type the workflow fails with: a `RunFailureType`, or the failed activity's own. */
  type: string;
  /** Why: the status's `error`, the result's reason and the notification's line. */
  reason: string;
  /** The failure's message, when it is not the reason. */
  message?: string;
  /** Default failed; a job cancelled outside the run ends cancelled. */
  outcome?: typeof RunOutcome.Failed | typeof RunOutcome.Cancelled;
  /** A stop to record with the error (a callback failure stops the run). */
  stop?: StopInfo;
  /** The `failed` notification's title (the run's name is appended); none is sent without one. */
  notify?: string;
  /** Runs once the status says failed, before the notification: the `onFailed` callback. */
  then?: () => Promise<unknown>;
  artifacts?: unknown[];
}

export class RunReport {
  constructor(
    private readonly input: ValidTrainingRunInput,
    private readonly workflowId: string,
    private readonly state: RunState,
  ) {}

  /**
   * Ends the run failed: the phase, the error in the status, `then`, the notification, and the
   * workflow failure carrying the run's result.
   */
  async fail(ending: FailedEnding): Promise<never> {
    await this.recordFailure(ending);
    throw ApplicationFailure.create({
      type: ending.type,
      message: ending.message ?? ending.reason,
      nonRetryable: true,
      details: [this.state.result(ending.outcome ?? RunOutcome.Failed, ending.reason, ending.artifacts)],
    });
  }

  /** The failure sequence without the final throw. */
  async recordFailure(ending: Omit<FailedEnding, 'type' | 'message'>): Promise<void> {
    this.state.setPhase(ending.outcome ?? RunPhase.Failed);
    this.state.update({ ...(ending.stop ? { stop: ending.stop } : {}), error: ending.reason });
    if (ending.then) await ending.then();
    if (ending.notify !== undefined) await this.notify('failed', '', `${ending.notify}: ${this.name}`, [ending.reason]);
  }

  /** Ends the run stopped: the stop in the status, the phase, the notification and the result. */
  async stopped(ending: StoppedEnding): Promise<RunResult> {
    this.state.update({ stop: ending.stop });
    ending.settle?.();
    this.state.setPhase(RunPhase.Stopped);
    await this.notify('stopped', '', `${ending.title}: ${this.name}`, [ending.line]);
    return this.state.result(RunOutcome.Stopped, ending.stop.reason, ending.artifacts);
  }

  /** Ends the run completed: the phase, the notification with scores, gate and promotion, and the result. */
  async completed(artifacts: unknown[]): Promise<RunResult> {
    this.state.setPhase(RunPhase.Completed);
    await this.notify('completed', '', `Training completed: ${this.name}`, completionLines(this.state.status));
    return this.state.result(RunOutcome.Completed, undefined, artifacts);
  }

  /** The workflow was cancelled (the job already cancelled): the run ends `cancelled`. */
  async cancelled(): Promise<void> {
    this.state.setPhase(RunPhase.Cancelled);
    this.state.update({ stop: this.state.stopInfo('cancel', 'workflow cancelled') });
    await this.notify('stopped', '', `Training cancelled: ${this.name}`, ['the workflow was cancelled']);
  }

  started(): Promise<void> {
    return this.notify('started', '', `Training started: ${this.name}`, []);
  }

  checkpointSaved(step: number): Promise<void> {
    const { checkpoints, baseScore } = this.state.status;
    const score = checkpoints.find((checkpoint) => checkpoint.step === step)?.score;
    return this.notify('checkpoint', String(step), `Checkpoint ${step} saved: ${this.name}`, [
      score === undefined
        ? 'not scored'
        : `score ${score.toFixed(3)}${baseScore === undefined ? '' : ` (base model ${baseScore.toFixed(3)})`}`,
    ]);
  }

  private get name(): string {
    return this.input.trainer.name;
  }

  /** `key` tells repeated events apart (a checkpoint's step); it is part of each notification's workflow id. */
  private notify(event: NotificationEvent, key: string, title: string, lines: string[]): Promise<void> {
    const status = this.state.status;
    return sendNotification(this.input, event, key, {
      title,
      lines,
      data: {
        workflowId: this.workflowId,
        jobId: this.state.job?.id,
        phase: status.phase,
        step: status.step,
        status: statusSummary(status),
      },
    });
  }
}

/**
 * What a notification carries of the status: the headline figures, not the curve, the cursor or
 * the callback errors' event ids (a notification child's input would otherwise grow with them).
 */
function statusSummary(status: RunStatus): Partial<RunStatus> {
  const {
    phase,
    name,
    model,
    step,
    maxSteps,
    latestLoss,
    bestLoss,
    bestEvalLoss,
    bestCheckpoint,
    baseScore,
    gate,
    approval,
    promotion,
    stop,
    error,
    runNumber,
  } = status;
  return {
    phase,
    name,
    model,
    step,
    ...(maxSteps === undefined ? {} : { maxSteps }),
    latestLoss,
    bestLoss,
    bestEvalLoss,
    ...(bestCheckpoint ? { bestCheckpoint } : {}),
    ...(baseScore === undefined ? {} : { baseScore }),
    ...(status.finalScore ? { finalScore: status.finalScore } : {}),
    ...(gate ? { gate } : {}),
    ...(approval ? { approval } : {}),
    ...(promotion ? { promotion } : {}),
    ...(stop ? { stop } : {}),
    ...(error === undefined ? {} : { error }),
    runNumber,
  };
}

/** The lines of the `completed` notification: scores, gate and promotion. */
function completionLines(status: RunStatus): string[] {
  const lines = [
    `best loss ${status.bestLoss ? `${status.bestLoss.value.toFixed(4)} at step ${status.bestLoss.step}` : 'n/a'}`,
  ];
  if (status.finalScore) lines.push(`final score ${status.finalScore.score.toFixed(3)}`);
  if (status.gate) lines.push(`gate ${status.gate.passed ? 'passed' : 'failed'}: ${status.gate.reason}`);
  const promotion = status.promotion;
  if (promotion) {
    lines.push(
      promotion.skipped
        ? `not promoted to ${promotion.deployment}: ${promotion.skipped}`
        : promotion.verified
          ? `promoted to ${promotion.deployment}`
          : `promotion to ${promotion.deployment} failed${promotion.rolledBack ? ' and was rolled back' : ''}: ${promotion.error ?? 'unknown'}`,
    );
  }
  return lines;
}
