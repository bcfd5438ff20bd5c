/**
 * Stopping a run: the pending stop request (a rule, a budget, a callback's directive, a person),
 * when a stop is moot, the wall-time budget, and the one way a stop ends — the stream and the
 * backend job are cancelled, unless the job turns out to have ended on its own.
 */
import {
  type ActivityInterfaceFor,
  CancellationScope,
  isCancellation,
  log,
  patched,
  proxyActivities,
  sleep,
} from '@temporalio/workflow';
import type { CancelJobResult, MainActivities } from '../contract/activities.js';
import { durationToMs } from '../contract/duration.js';
import type { ValidTrainingRunInput } from '../contract/input.js';
import { StopEffect, type StopAnswer } from '../contract/messages.js';
import { failureMessage, type RunResult } from '../contract/result.js';
import { RunPhase, type StopCause, type StopInfo } from '../contract/status.js';
import { cancelActivityOptions } from './activity-options.js';
import type { Inbox } from './run-inbox.js';
import type { RunReport } from './run-endings.js';
import type { RunState } from './run-state.js';
import type { RunningStream } from './run-stream.js';

export class StopControl {
  /**
   * Runs started on this version keep the events that arrive while a stop is pending (a stop
   * that turns out moot dispatches them). Runs started earlier keep their recorded behaviour.
   *
   * This gate and the next are read when the run is constructed, in this order, before any
   * handler runs or any command is issued: recorded histories have their markers there.
   */
  readonly keepsEventsWhileStopping = patched('keep-events-while-stopping');
  /**
   * Runs started on this version honour a stop in every phase: before submit (no job is
   * created), and during evaluation or approval (the promotion is skipped).
   */
  readonly stopsInEveryPhase = patched('stop-in-every-phase');
  private requested: StopInfo | undefined;
  /** The stream returned the job's end, or a cancel found the job already over. */
  private trainingOver = false;
  private readonly cancelJobActivity: ActivityInterfaceFor<MainActivities>['cancelJob'];

  constructor(
    private readonly input: ValidTrainingRunInput,
    private readonly state: RunState,
    private readonly report: RunReport,
  ) {
    this.cancelJobActivity = proxyActivities<MainActivities>(cancelActivityOptions(input)).cancelJob;
  }

  /** The stop the run is to act on, if any. */
  get pending(): StopInfo | undefined {
    return this.requested;
  }

  /** A stop that ends the run before its job is submitted (runs started before the gate submit anyway). */
  beforeSubmit(): StopInfo | undefined {
    return this.requested && this.stopsInEveryPhase ? this.requested : undefined;
  }

  /** A stop that evaluation and approval honour: it skips the promotion. */
  afterTraining(): StopInfo | undefined {
    return this.stopsInEveryPhase ? this.requested : undefined;
  }

  /** Runs of earlier versions drop the events that arrive while a stop is pending. */
  dropsArrivals(): boolean {
    return this.requested !== undefined && !this.keepsEventsWhileStopping;
  }

  /** The stream returned the job's end. */
  trainingEnded(): void {
    this.trainingOver = true;
  }

  /** The stop arrived as training ended: moot, the run finishes normally. */
  withdraw(): void {
    log.info('Stop requested as training ended; finishing normally', { reason: this.requested?.reason });
    this.requested = undefined;
  }

  request(cause: StopCause, reason: string): void {
    // Once training is over a stop is moot (the rules would otherwise ask again on every event
    // still to dispatch), except a person's stop during evaluation or approval: it skips the
    // promotion. A promotion under way finishes (or rolls back): never half.
    const phase = this.state.status.phase;
    const evaluating = phase === RunPhase.Evaluating || phase === RunPhase.AwaitingApproval;
    if (
      this.keepsEventsWhileStopping &&
      this.trainingOver &&
      !(this.stopsInEveryPhase && cause === 'signal' && evaluating)
    )
      return;
    this.requested ??= this.state.stopInfo(cause, reason);
  }

  /** A person's stop, answered with what it does. */
  answer(reason: string): StopAnswer {
    const phase = this.state.status.phase;
    const before = this.requested;
    this.request('signal', reason);
    if (before) return { effect: StopEffect.AlreadyStopping, phase };
    if (!this.requested) return { effect: StopEffect.Moot, phase };
    const evaluating = phase === RunPhase.Evaluating || phase === RunPhase.AwaitingApproval;
    return { effect: evaluating ? StopEffect.SkipsPromotion : StopEffect.Stopping, phase };
  }

  /** A timer that requests the stop when the wall-time budget (counted from the first run) runs out. */
  armWallTimeBudget(): void {
    const budget = this.input.budget?.maxWallTime;
    if (budget === undefined) return;
    const remaining = Math.max(1, durationToMs(budget) - (Date.now() - this.state.startedAtMs));
    void CancellationScope.cancellable(() => sleep(remaining)).then(
      () => this.request('budget', `wall-time budget of ${budget} reached`),
      () => undefined,
    );
  }

  /**
   * Stops the run: cancels the stream and the backend job. Returns undefined when the stop was
   * moot — the job had already ended on its own — and the run must finish normally instead.
   */
  async stopEarly(request: StopInfo, stream: RunningStream, inbox: Inbox): Promise<RunResult | undefined> {
    const phaseBefore = this.state.status.phase;
    this.state.setPhase(RunPhase.Stopping);
    const stopping = stream.stop();
    const cancel = await this.cancelJob(request.reason);
    await stopping;
    if (cancel?.outcome === 'already-terminal' && (cancel.status === 'completed' || cancel.status === 'failed')) {
      log.info('Stop requested after the job had ended; finishing normally', { reason: request.reason });
      this.requested = undefined;
      this.trainingOver = true;
      this.state.setPhase(phaseBefore);
      return undefined;
    }
    return this.report.stopped({
      stop: request,
      title: 'Training stopped early',
      line: `${request.reason} (${request.cause}, step ${request.atStep})`,
      settle: () => inbox.discardAll(),
    });
  }

  /**
   * Cancels the backend job (if there is one) and waits until the backend confirms it, says the
   * job already ended, or that it no longer exists. A permanent refusal ends up in the status's
   * `error`; the run goes on ending.
   */
  async cancelJob(reason: string): Promise<CancelJobResult | undefined> {
    const job = this.state.job;
    if (!job) return undefined;
    const jobId = job.id;
    try {
      const result = await CancellationScope.nonCancellable(() =>
        this.cancelJobActivity.executeWithOptions({ summary: `cancel job ${jobId}` }, [{ jobId, reason }]),
      );
      // A job that is gone (deleted in Arkor) has no status left to record.
      if (result.status !== undefined) this.state.patchJob({ status: result.status });
      return result;
    } catch (error) {
      if (isCancellation(error)) throw error;
      // A permanent refusal (the activity retries everything else): no retry can cancel the job,
      // so the run ends saying so instead of retrying forever.
      const message = `Cancelling job ${jobId} failed: ${failureMessage(error)}`;
      log.error(message);
      this.state.update({ error: message });
      return undefined;
    }
  }
}
