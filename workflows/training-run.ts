/**
 * The training run: submit the Arkor job, follow its event stream in one long-running activity,
 * and run every lifecycle callback as its own activity, in order, exactly once per event.
 */
import {
  type ActivityOptions,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  continueAsNew,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type {
  CallbackOutcome,
  CancelJobResult,
  MainActivities,
  StreamActivities,
  StreamOutcome,
} from '../contract/activities.js';
import type { TrainingJob } from '../contract/activities.js';
import {
  callbackActivityOptions,
  cancelActivityOptions,
  MAX_LOGS_PER_CALLBACK,
  onLogActivityOptions,
  onLogCallTimeoutMs,
  preconditionActivityOptions,
  streamActivityOptions,
  submitActivityOptions,
} from './activity-options.js';
import {
  advancePosition,
  continuationOf,
  type Delivery,
  type DeliveryAck,
  deliverySchema,
  positionAfter,
  STALE_DELIVERY,
  STREAM_START,
  type StreamPosition,
} from '../contract/delivery.js';
import { durationToMs } from '../contract/duration.js';
import { runEventSchema, type RunEvent } from '../contract/events.js';
import {
  type CallbackName,
  InvalidTrainingInputError,
  type NotificationEvent,
  parseTrainingRunInput,
  promotionScope,
  type TrainingRunInput,
  type ValidTrainingRunInput,
} from '../contract/input.js';
import {
  approvalDecisionSchema,
  approvalUpdate,
  cursorQuery,
  deliverUpdate,
  deliveryQuery,
  eventsSignal,
  statusQuery,
  StopEffect,
  type StopAnswer,
  stopRequestSchema,
  stopSignal,
  stopUpdate,
} from '../contract/messages.js';
import { EvaluationFlow } from './evaluation.js';
import { sendNotification } from './notifications.js';
import { RecentIds } from './recent-ids.js';
import { failureMessage, type RunResult, RunFailureType, RunOutcome } from '../contract/result.js';
import { evaluateRules, initialPatience, type PatienceState } from './rules.js';
import { ArkorJobId, ArkorModel, ArkorPhase, ArkorRevision } from '../contract/search-attributes.js';
import {
  applyEvent,
  isFinalPhase,
  recordCallbackError,
  RunPhase,
  type RunStatus,
  type StopCause,
  type StopInfo,
} from '../contract/status.js';
import { streamTaskQueue } from '../contract/task-queues.js';

/** The backend-facing activities of a run. */
function backendActivities(input: ValidTrainingRunInput) {
  const { preflight, submitJob } = proxyActivities<MainActivities>(submitActivityOptions(input));
  const { checkPrecondition } = proxyActivities<MainActivities>(preconditionActivityOptions(input));
  const { cancelJob } = proxyActivities<MainActivities>(cancelActivityOptions(input));
  return { preflight, submitJob, checkPrecondition, cancelJob };
}

/**
 * Ids remembered to drop events a server sends again after it already sent them (a server that
 * ignores Last-Event-ID). Our own redelivery never relies on it: see `delivery.ts`.
 */
const RECENT_ID_CAPACITY = 5000;
const DEFAULT_SIGNALS_BEFORE_CONTINUE_AS_NEW = 500;
/** Undispatched events a continued run takes along; more are read from the stream again. */
const MAX_EVENTS_CARRIED = 500;

/** The wait activity of this run, as the main loop sees it. */
interface RunningStream {
  settled(): boolean;
  outcome(): StreamOutcome | undefined;
  error(): unknown;
  /** Cancels the activity and waits until it acknowledged (no signal of it is still on its way). */
  stop(): Promise<void>;
}

interface ResumeSummary {
  status: RunStatus;
  patience: PatienceState;
  job: TrainingJob;
}

/** Durable Arkor training run. See README "How a run works". */
export async function trainingRun(rawInput: TrainingRunInput): Promise<RunResult> {
  let input: ValidTrainingRunInput;
  try {
    input = parseTrainingRunInput(rawInput);
  } catch (error) {
    if (error instanceof InvalidTrainingInputError) {
      throw ApplicationFailure.create({
        type: RunFailureType.InvalidInput,
        message: error.message,
        nonRetryable: true,
      });
    }
    throw error;
  }
  return new TrainingRun(input).execute();
}

class TrainingRun {
  private readonly info = workflowInfo();
  private status: RunStatus;
  private patience: PatienceState;
  private job: TrainingJob | undefined;
  private readonly recentIds: RecentIds;
  private readonly queue: RunEvent[];
  /** Where the run stands in the job's stream: every event up to here was received once. */
  private position: StreamPosition;
  /** The position after the last event taken off the queue: where a continued run resumes. */
  private dispatchedPosition: StreamPosition;
  /** The wait activity's backlog bound, as its last delivery said. */
  private maxBacklog: number | undefined;
  /**
   * Runs started on this version keep the events that arrive while a stop is pending (a stop
   * that turns out moot dispatches them). Runs started earlier keep their recorded behaviour.
   */
  private readonly keepsEventsWhileStopping = patched('keep-events-while-stopping');
  /**
   * Runs started on this version honour a stop in every phase: before submit (no job is
   * created), and during evaluation or approval (the promotion is skipped).
   */
  private readonly stopsInEveryPhase = patched('stop-in-every-phase');
  /** The stream returned the job's end, or a cancel found the job already over. */
  private trainingOver = false;
  private deliveriesThisRun = 0;
  private dispatchesThisRun = 0;
  private stopRequest: StopInfo | undefined;
  private readonly startedAtMs: number;
  private readonly callbacks: Record<CallbackName, (args: object) => Promise<CallbackOutcome>>;
  private readonly followJob: StreamActivities['followJob'];
  private readonly evaluation: EvaluationFlow;
  private readonly backend: ReturnType<typeof backendActivities>;

  constructor(private readonly input: ValidTrainingRunInput) {
    this.backend = backendActivities(input);
    const resume = input.resume;
    const summary = resume?.summary as ResumeSummary | undefined;
    this.startedAtMs = resume?.startedAtMs ?? Date.now();
    this.job = summary?.job;
    this.patience = summary?.patience ?? initialPatience;
    this.recentIds = new RecentIds(RECENT_ID_CAPACITY, resume?.recentEventIds ?? []);
    this.queue = [...(resume?.pendingEvents ?? [])];
    this.status = summary
      ? { ...summary.status, runNumber: resume?.runNumber ?? 1 }
      : {
          phase: RunPhase.Submitting,
          workflowId: this.info.workflowId,
          name: input.trainer.name,
          model: input.trainer.model,
          step: 0,
          maxSteps: input.budget?.maxSteps ?? input.trainer.maxSteps,
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
          startedAt: new Date(this.startedAtMs).toISOString(),
          runNumber: 1,
          ...(input.smokeTest ? { scoresCheckpoints: true } : {}),
          ...(input.labels ? { labels: input.labels } : {}),
        };
    this.position =
      resume?.cursor === undefined ? STREAM_START : { cursor: resume.cursor, offset: resume.cursorOffset ?? 0 };
    // Runs of earlier versions carried no position of the events they handed over.
    this.dispatchedPosition = resume?.dispatched ?? { ...this.position, offset: 0 };
    if (resume?.cursor !== undefined) this.status.cursor = resume.cursor;

    this.callbacks = {
      onStarted: proxyActivities<MainActivities>(callbackActivityOptions(input, 'onStarted')).onStarted,
      onLog: proxyActivities<MainActivities>(callbackActivityOptions(input, 'onLog')).onLog,
      onCheckpoint: proxyActivities<MainActivities>(callbackActivityOptions(input, 'onCheckpoint')).onCheckpoint,
      onCompleted: proxyActivities<MainActivities>(callbackActivityOptions(input, 'onCompleted')).onCompleted,
      onFailed: proxyActivities<MainActivities>(callbackActivityOptions(input, 'onFailed')).onFailed,
      // A callback added to CALLBACK_NAMES does not compile until it has its activity here.
    } satisfies Record<CallbackName, unknown> as Record<CallbackName, (args: object) => Promise<CallbackOutcome>>;

    this.followJob = proxyActivities<StreamActivities>(
      streamActivityOptions(input, streamTaskQueue(this.info.taskQueue)),
    ).followJob;

    this.evaluation = new EvaluationFlow(input, {
      status: () => this.status,
      update: (change) => void (this.status = change(this.status)),
      setPhase: (phase) => this.setPhase(phase),
      stopRequested: () => (this.stopsInEveryPhase ? this.stopRequest : undefined),
    });

    setHandler(statusQuery, () => this.status);
    setHandler(approvalUpdate, (decision) => this.evaluation.decideApproval(decision), {
      validator: (decision) => {
        const parsed = approvalDecisionSchema.safeParse(decision);
        if (!parsed.success) throw new Error(`Malformed approval: ${parsed.error.message}`);
        this.evaluation.validateApproval();
      },
    });
    setHandler(deliverUpdate, (delivery) => this.deliver(delivery), {
      validator: (delivery) => this.validateDelivery(delivery),
    });
    setHandler(deliveryQuery, () => this.ack());
    setHandler(cursorQuery, () => this.status.cursor);
    setHandler(eventsSignal, (batch) => this.receiveLegacy(batch));
    // A malformed signal must never fail a workflow task (it would stay in history and fail every
    // retry): it is logged and dropped.
    setHandler(stopSignal, (request) => {
      const parsed = stopRequestSchema.safeParse(request);
      if (parsed.success) this.requestStop('signal', parsed.data.reason);
      else log.warn('Dropping a malformed stop signal: it needs { reason: string }', { error: parsed.error.message });
    });
    setHandler(stopUpdate, ({ reason }) => this.answerStop(reason), {
      validator: (request) => {
        const parsed = stopRequestSchema.safeParse(request);
        if (!parsed.success) throw new Error(`Malformed stop: it needs { reason: string }: ${parsed.error.message}`);
      },
    });
  }

  async execute(): Promise<RunResult> {
    upsertSearchAttributes([{ key: ArkorModel, value: this.input.trainer.model }]);
    try {
      if (!this.job) {
        const skipped = await this.prepare();
        if (skipped) return skipped;
      }
      this.armWallTimeBudget();
      return await this.follow();
    } catch (error) {
      if (isCancellation(error)) {
        await CancellationScope.nonCancellable(async () => {
          await this.cancelBackendJob('workflow cancelled');
          this.setPhase(RunPhase.Cancelled);
          this.status = { ...this.status, stop: this.stopInfo('cancel', 'workflow cancelled') };
          await this.notify('stopped', '', `Training cancelled: ${this.input.trainer.name}`, [
            'the workflow was cancelled',
          ]);
        });
      }
      throw error;
    }
  }

  /**
   * Refuses a malformed delivery, and one that does not continue the run's position; the
   * refusal's details are the run's position and backlog, where the wait activity reads on.
   */
  private validateDelivery(delivery: unknown): void {
    const parsed = deliverySchema.safeParse(delivery);
    if (!parsed.success) {
      throw ApplicationFailure.create({
        type: RunFailureType.InvalidInput,
        message: `Malformed delivery: ${parsed.error.message}`,
        nonRetryable: true,
      });
    }
    if (continuationOf(this.position, parsed.data) === undefined) {
      throw ApplicationFailure.create({
        type: STALE_DELIVERY,
        message: 'The delivery does not continue the run’s position in the stream',
        nonRetryable: true,
        details: [this.ack()],
      });
    }
  }

  /** Enqueues what the delivery adds past the run's position; handlers never run activities. */
  private deliver(delivery: Delivery): DeliveryAck {
    this.deliveriesThisRun++;
    if (delivery.maxBacklog !== undefined) this.maxBacklog = delivery.maxBacklog;
    if (delivery.blocked !== undefined) this.setBlocked(delivery.blocked);
    this.receive(continuationOf(this.position, delivery) ?? []);
    return this.ack();
  }

  /** The unacknowledged signal of earlier wait activities: malformed batches are dropped. */
  private receiveLegacy(batch: unknown): void {
    this.deliveriesThisRun++;
    const parsed = runEventSchema.array().safeParse((batch as { events?: unknown } | null)?.events);
    if (!parsed.success) {
      log.warn('Dropping a malformed events signal', { error: parsed.error.message });
      return;
    }
    this.receive(parsed.data);
  }

  private receive(events: RunEvent[]): void {
    for (const event of events) {
      // A server that sends an id again after it already sent it; our own redelivery is trimmed
      // by position before this (and earlier wait activities rely on it).
      if (event.id !== undefined && !this.recentIds.add(event.id)) continue;
      this.position = advancePosition(this.position, event);
      if (this.stopRequest && !this.keepsEventsWhileStopping) this.status.eventsNotDispatched++;
      else this.queue.push(event);
    }
    this.status.cursor = this.position.cursor;
    this.refreshBacklog();
  }

  private setBlocked(reason: string | null): void {
    const { blocked: _wasBlocked, ...rest } = this.status;
    if (reason === null) {
      this.status = rest;
      return;
    }
    log.warn('The run is blocked: Arkor refuses its stream', { reason });
    this.status = { ...rest, blocked: { reason, since: this.status.blocked?.since ?? new Date().toISOString() } };
  }

  private ack(): DeliveryAck {
    return { position: this.position, backlog: this.queue.length };
  }

  /** The backlog in the status, and since when the wait activity pauses on it. */
  private refreshBacklog(): void {
    const events = this.queue.length;
    const limit = this.maxBacklog;
    const paused = limit !== undefined && events >= limit;
    const pausedSince = paused ? (this.status.backlog?.pausedSince ?? new Date().toISOString()) : undefined;
    this.status = {
      ...this.status,
      backlog: {
        events,
        ...(limit === undefined ? {} : { limit }),
        ...(pausedSince === undefined ? {} : { pausedSince }),
      },
    };
  }

  /** A person's stop, answered with what it does. */
  private answerStop(reason: string): StopAnswer {
    const phase = this.status.phase;
    const before = this.stopRequest;
    this.requestStop('signal', reason);
    if (before) return { effect: StopEffect.AlreadyStopping, phase };
    if (!this.stopRequest) return { effect: StopEffect.Moot, phase };
    const evaluating = phase === RunPhase.Evaluating || phase === RunPhase.AwaitingApproval;
    return { effect: evaluating ? StopEffect.SkipsPromotion : StopEffect.Stopping, phase };
  }

  private requestStop(cause: StopCause, reason: string): void {
    // Once training is over a stop is moot (the rules would otherwise ask again on every event
    // still to dispatch), except a person's stop during evaluation or approval: it skips the
    // promotion. A promotion under way finishes (or rolls back): never half.
    const evaluating = this.status.phase === RunPhase.Evaluating || this.status.phase === RunPhase.AwaitingApproval;
    if (
      this.keepsEventsWhileStopping &&
      this.trainingOver &&
      !(this.stopsInEveryPhase && cause === 'signal' && evaluating)
    )
      return;
    this.stopRequest ??= this.stopInfo(cause, reason);
  }

  /**
   * Everything before training: the precondition (which may skip the run), the worker's
   * preflight checks, and the submit. Returns the result of a skipped run.
   */
  private async prepare(): Promise<RunResult | undefined> {
    this.setPhase(RunPhase.Submitting);
    let job: TrainingJob;
    try {
      if (this.input.precondition) {
        const skipped = await this.checkPrecondition(this.input.precondition.check);
        if (skipped) return skipped;
      }
      await this.backend.preflight({ trainer: this.input.trainer, callbackSet: this.input.callbacks.set });
      // A stop before the job exists ends the run here: no GPU job to start and then cancel.
      if (this.stopRequest && this.stopsInEveryPhase) return this.stoppedBeforeSubmit(this.stopRequest);
      // Not cancellable: a cancel that abandoned a create in flight could leave an untracked
      // job. Once the job exists, a pending cancellation is honoured by cancelling it.
      ({ job } = await CancellationScope.nonCancellable(() =>
        this.backend.submitJob({
          trainer: this.input.trainer,
          workflowId: this.info.workflowId,
          runId: this.info.runId,
        }),
      ));
    } catch (error) {
      if (isCancellation(error)) throw error;
      // Surface the activity's own failure (which names the field or the status), not the
      // generic "activity task failed" wrapper.
      const cause =
        error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause : undefined;
      const message = `Preparing the run failed: ${failureMessage(error)}`;
      this.setPhase(RunPhase.Failed);
      this.status = { ...this.status, error: message };
      throw ApplicationFailure.create({
        type: cause?.type ?? RunFailureType.SubmitFailed,
        message,
        nonRetryable: true,
        details: [this.result(RunOutcome.Failed, message)],
      });
    }
    this.job = job;
    this.status = { ...this.status, jobId: job.id };
    upsertSearchAttributes([{ key: ArkorJobId, value: job.id }]);
    this.setPhase(RunPhase.Queued);
    return undefined;
  }

  private async stoppedBeforeSubmit(request: StopInfo): Promise<RunResult> {
    this.status = { ...this.status, stop: request };
    this.setPhase(RunPhase.Stopped);
    await this.notify('stopped', '', `Training stopped before it started: ${this.input.trainer.name}`, [
      `${request.reason} (${request.cause})`,
    ]);
    return this.result(RunOutcome.Stopped, request.reason);
  }

  private async checkPrecondition(check: string): Promise<RunResult | undefined> {
    const { revision, detail, samePromotedBy } = await this.backend.checkPrecondition({
      check,
      scope: promotionScope(this.input),
      trainer: { name: this.input.trainer.name, model: this.input.trainer.model },
      ...(this.input.labels ? { labels: this.input.labels } : {}),
    });
    upsertSearchAttributes([{ key: ArkorRevision, value: revision }]);
    this.status = { ...this.status, precondition: { revision, ...(detail === undefined ? {} : { detail }) } };
    if (samePromotedBy === undefined) return undefined;
    const reason = `revision ${revision} is what the last promoted run (${samePromotedBy}) trained on`;
    this.status = { ...this.status, precondition: { ...this.status.precondition, revision, skippedBecause: reason } };
    this.setPhase(RunPhase.Skipped);
    return this.result(RunOutcome.Skipped, reason);
  }

  private armWallTimeBudget(): void {
    const budget = this.input.budget?.maxWallTime;
    if (budget === undefined) return;
    const remaining = Math.max(1, durationToMs(budget) - (Date.now() - this.startedAtMs));
    void CancellationScope.cancellable(() => sleep(remaining)).then(
      () => this.requestStop('budget', `wall-time budget of ${budget} reached`),
      () => undefined,
    );
  }

  private async follow(): Promise<RunResult> {
    const jobId = this.requireJob().id;
    let stream = this.startStream(jobId);
    const signalsBeforeContinue = this.input.continueAsNew?.afterSignals ?? DEFAULT_SIGNALS_BEFORE_CONTINUE_AS_NEW;
    const continueAsNewDue = () =>
      workflowInfo().continueAsNewSuggested || this.deliveriesThisRun >= signalsBeforeContinue;

    for (;;) {
      await condition(() => this.queue.length > 0 || stream.settled() || !!this.stopRequest || continueAsNewDue());
      if (this.keepsEventsWhileStopping && this.stopRequest && stream.outcome()) {
        log.info('Stop requested as training ended; finishing normally', { reason: this.stopRequest.reason });
        this.stopRequest = undefined;
      }
      // A stop that arrives once training has ended is moot: finish normally instead.
      if (this.stopRequest && !stream.outcome()) {
        const stopped = await this.stopEarly(this.stopRequest, stream);
        if (stopped) return stopped;
        // The job ended on its own while the stop was on its way; read the rest of its events.
        if (!stream.outcome()) stream = this.startStream(jobId);
        continue;
      }
      // Checked before dispatching: a stream that outpaces the callbacks keeps the queue full,
      // and the history must not grow with it. At least one dispatch per run, so that a run
      // always makes progress before handing over.
      const continueNow =
        !stream.settled() && continueAsNewDue() && (this.dispatchesThisRun > 0 || this.queue.length === 0);
      if (this.queue.length > 0 && !continueNow) {
        await this.dispatchNext();
        continue;
      }
      if (!continueNow) {
        const outcome = stream.outcome();
        if (outcome) return this.finish(outcome);
        if (stream.settled()) throw await this.streamFailure(stream.error());
        continue;
      }
      // Stop the stream first, so that no signal is still on its way when this run ends.
      await stream.stop();
      await condition(allHandlersFinished);
      // A stop (or the end of training) that arrived meanwhile is handled here, not handed over:
      // a continued run would not know about it.
      if (stream.outcome() || this.stopRequest) continue;
      return this.continueAsNew();
    }
  }

  /** Starts the wait activity from the cursor: the stream of this run's events. */
  private startStream(jobId: string): RunningStream {
    const scope = new CancellationScope();
    let settled: { outcome?: StreamOutcome; error?: unknown } | undefined;
    const done = scope
      .run(() =>
        this.followJob({
          jobId,
          ...(this.position.cursor === undefined ? {} : { cursor: this.position.cursor }),
          ...(this.position.offset === 0 ? {} : { offset: this.position.offset }),
        }),
      )
      .then(
        (outcome) => {
          settled = { outcome };
          this.trainingOver = true;
        },
        (error: unknown) => void (settled = { error }),
      );
    return {
      settled: () => settled !== undefined,
      outcome: () => settled?.outcome,
      error: () => settled?.error,
      stop: async () => {
        scope.cancel();
        await done;
      },
    };
  }

  /** Dispatches the next queued event, or all consecutive queued log events as one batch. */
  private async dispatchNext(): Promise<void> {
    const head = this.queue[0];
    if (!head) return;
    this.dispatchesThisRun++;
    const taken = (events: RunEvent[]): void => {
      this.dispatchedPosition = positionAfter(this.dispatchedPosition, events);
      this.refreshBacklog();
    };
    let outcome: CallbackOutcome;
    if (head.payload.type === 'training.log') {
      let count = 0;
      while (
        count < this.queue.length &&
        count < MAX_LOGS_PER_CALLBACK &&
        this.queue[count]?.payload.type === 'training.log'
      ) {
        count++;
      }
      const events = this.queue.splice(0, count);
      // The reading that stops the run is the last one any callback sees while the stop is
      // pending; the rest wait in the queue in case the stop turns out moot.
      const stopsAt = events.findIndex((event) => this.observeLog(event));
      const rest = stopsAt >= 0 ? events.splice(stopsAt + 1) : [];
      taken(events);
      if (this.keepsEventsWhileStopping) this.queue.unshift(...rest);
      else {
        taken(rest);
        this.status.eventsNotDispatched += rest.length;
      }
      outcome = await this.runCallback(
        'onLog',
        { events, callTimeoutMs: onLogCallTimeoutMs(this.input) },
        events,
        onLogActivityOptions(this.input, events.length),
      );
    } else {
      this.queue.shift();
      taken([head]);
      this.status = applyEvent(this.status, head);
      if (head.payload.type === 'training.started') {
        this.patchJob({ status: 'running', startedAt: head.payload.timestamp });
        this.setPhase(RunPhase.Running);
        await this.notify('started', '', `Training started: ${this.input.trainer.name}`, []);
        outcome = await this.runCallback('onStarted', { event: head }, [head]);
      } else if (head.payload.type === 'checkpoint.saved') {
        const step = head.payload.step;
        outcome = await this.runCallback('onCheckpoint', { event: head }, [head]);
        const regression = await this.evaluation.scoreCheckpoint(this.requireJob().id, step);
        if (regression) this.requestStop('rule', regression);
        const score = this.status.checkpoints.find((checkpoint) => checkpoint.step === step)?.score;
        await this.notify('checkpoint', String(step), `Checkpoint ${step} saved: ${this.input.trainer.name}`, [
          score === undefined
            ? 'not scored'
            : `score ${score.toFixed(3)}${this.status.baseScore === undefined ? '' : ` (base model ${this.status.baseScore.toFixed(3)})`}`,
        ]);
      } else {
        // Terminal events are the wait activity's result, never delivered; a delivery that
        // carries one anyway is logged and skipped. A new event type does not compile until it
        // is handled above.
        const terminal: Extract<RunEvent['payload'], { type: 'training.completed' | 'training.failed' }> = head.payload;
        log.warn('Ignoring an unexpected delivered event', { type: terminal.type });
        return;
      }
    }
    if (outcome.stop) this.requestStop('directive', outcome.stop.reason);
  }

  /**
   * Folds a log event into the status and evaluates the early-stopping rules on it; true when
   * the run is (now) stopping.
   */
  private observeLog(event: RunEvent): boolean {
    const payload = event.payload;
    if (payload.type !== 'training.log') return false;
    this.status = applyEvent(this.status, event);
    const verdict = evaluateRules(this.input.earlyStopping, this.input.budget?.maxSteps, payload, this.patience);
    this.patience = verdict.patience;
    if (verdict.stop && verdict.cause && verdict.reason) this.requestStop(verdict.cause, verdict.reason);
    return this.stopRequest !== undefined;
  }

  private async runCallback(
    name: CallbackName,
    args: object,
    events: RunEvent[],
    options?: ActivityOptions,
  ): Promise<CallbackOutcome> {
    const callback = options
      ? (proxyActivities<MainActivities>(options)[name] as (args: object) => Promise<CallbackOutcome>)
      : this.callbacks[name];
    try {
      const outcome = await callback({
        set: this.input.callbacks.set,
        workflowId: this.info.workflowId,
        job: this.requireJob(),
        ...args,
      });
      this.status = { ...this.status, callbacksRun: this.status.callbacksRun + 1 };
      return outcome;
    } catch (error) {
      if (isCancellation(error)) throw error;
      const message = `${name} failed after its retries: ${failureMessage(error)}`;
      if (this.input.callbacks.onFailure === 'continue') {
        log.warn('Callback failed; continuing as the run policy says', { callback: name, message });
        this.status = recordCallbackError(this.status, {
          callback: name,
          eventIds: events.flatMap((event) => (event.id === undefined ? [] : [event.id])),
          message,
        });
        return { called: false };
      }
      // The run cannot go on without its callbacks: stop the GPU job, then fail the run.
      await this.cancelBackendJob(message);
      this.setPhase(RunPhase.Failed);
      this.status = { ...this.status, stop: this.stopInfo('callback-failure', message), error: message };
      await this.notify('failed', '', `Run failed: ${this.input.trainer.name}`, [message]);
      throw ApplicationFailure.create({
        type: RunFailureType.CallbackFailed,
        message,
        nonRetryable: true,
        details: [this.result(RunOutcome.Failed, message)],
      });
    }
  }

  /**
   * Stops the run: cancels the stream and the backend job. Returns undefined when the stop was
   * moot — the job had already ended on its own — and the run must finish normally instead.
   */
  private async stopEarly(request: StopInfo, stream: RunningStream): Promise<RunResult | undefined> {
    const phaseBefore = this.status.phase;
    this.setPhase(RunPhase.Stopping);
    const stopping = stream.stop();
    const cancel = await this.cancelBackendJob(request.reason);
    await stopping;
    if (cancel?.outcome === 'already-terminal' && (cancel.status === 'completed' || cancel.status === 'failed')) {
      log.info('Stop requested after the job had ended; finishing normally', { reason: request.reason });
      this.stopRequest = undefined;
      this.trainingOver = true;
      this.setPhase(phaseBefore);
      return undefined;
    }
    this.status = { ...this.status, stop: request };
    this.status.eventsNotDispatched += this.queue.splice(0).length;
    this.refreshBacklog();
    this.setPhase(RunPhase.Stopped);
    await this.notify('stopped', '', `Training stopped early: ${this.input.trainer.name}`, [
      `${request.reason} (${request.cause}, step ${request.atStep})`,
    ]);
    return this.result(RunOutcome.Stopped, request.reason);
  }

  private async finish(outcome: StreamOutcome): Promise<RunResult> {
    const terminal = outcome.kind === 'terminal' ? outcome.event : undefined;
    const status =
      outcome.kind === 'ended'
        ? outcome.status
        : outcome.event.payload.type === 'training.completed'
          ? 'completed'
          : 'failed';
    const timestamp = terminal?.payload.timestamp ?? new Date().toISOString();
    if (status === 'completed') {
      const artifacts = terminal?.payload.type === 'training.completed' ? terminal.payload.artifacts : [];
      this.patchJob({ status: 'completed', completedAt: timestamp });
      await this.runCallback(
        'onCompleted',
        { artifacts, ...(terminal ? { event: terminal } : {}) },
        terminal ? [terminal] : [],
      );
      await this.finishEvaluation(artifacts);
      const stopped = this.stopsInEveryPhase ? this.stopRequest : undefined;
      if (stopped) {
        // A person stopped the run during evaluation or approval: trained, deliberately not promoted.
        this.status = { ...this.status, stop: stopped };
        this.setPhase(RunPhase.Stopped);
        await this.notify('stopped', '', `Promotion stopped: ${this.input.trainer.name}`, [stopped.reason]);
        return this.result(RunOutcome.Stopped, stopped.reason, artifacts);
      }
      this.setPhase(RunPhase.Completed);
      await this.notify(
        'completed',
        '',
        `Training completed: ${this.input.trainer.name}`,
        completionLines(this.status),
      );
      return this.result(RunOutcome.Completed, undefined, artifacts);
    }
    if (status === 'failed') {
      const error =
        terminal?.payload.type === 'training.failed'
          ? terminal.payload.error
          : ((outcome.kind === 'ended' ? outcome.error : null) ?? 'training failed');
      this.patchJob({ status: 'failed', completedAt: timestamp, error });
      this.setPhase(RunPhase.Failed);
      this.status = { ...this.status, error };
      await this.runCallback(
        'onFailed',
        { error, ...(terminal ? { event: terminal } : {}) },
        terminal ? [terminal] : [],
      );
      await this.notify('failed', '', `Training failed: ${this.input.trainer.name}`, [error]);
      throw ApplicationFailure.create({
        type: RunFailureType.TrainingFailed,
        message: `Training failed: ${error}`,
        nonRetryable: true,
        details: [this.result(RunOutcome.Failed, error)],
      });
    }
    // Cancelled by someone else (the Arkor UI, another tool): neither onCompleted nor onFailed.
    const reason = `the backend job was ${status} outside this run`;
    this.setPhase(RunPhase.Cancelled);
    this.status = { ...this.status, error: reason };
    throw ApplicationFailure.create({
      type: RunFailureType.JobCancelledExternally,
      message: reason,
      nonRetryable: true,
      details: [this.result(RunOutcome.Cancelled, reason)],
    });
  }

  private async streamFailure(error: unknown): Promise<ApplicationFailure> {
    const message = `Following the job's events failed: ${failureMessage(error)}`;
    if (!isCancellation(error) && patched('stream-failure-cancels-job')) {
      // The run gives up on the job, so the job must not train on unwatched (a deleted one has
      // nothing left to cancel); and the training failed as far as the user's callbacks can tell.
      if (failureStatus(error) !== 404) await this.cancelBackendJob(message);
      this.setPhase(RunPhase.Failed);
      this.status = { ...this.status, error: message };
      await this.runCallback('onFailed', { error: message }, []);
      await this.notify('failed', '', `Run failed: ${this.input.trainer.name}`, [message]);
    }
    this.setPhase(RunPhase.Failed);
    this.status = { ...this.status, error: message };
    return ApplicationFailure.create({
      type: RunFailureType.StreamFailed,
      message,
      nonRetryable: true,
      details: [this.result(RunOutcome.Failed, message)],
    });
  }

  private async cancelBackendJob(reason: string): Promise<CancelJobResult | undefined> {
    if (!this.job) return undefined;
    const jobId = this.job.id;
    try {
      const result = await CancellationScope.nonCancellable(() => this.backend.cancelJob({ jobId, reason }));
      // A job that is gone (deleted in Arkor) has no status left to record.
      if (result.status !== undefined) this.patchJob({ status: result.status });
      return result;
    } catch (error) {
      if (isCancellation(error)) throw error;
      // A permanent refusal (the activity retries everything else): no retry can cancel the job,
      // so the run ends saying so instead of retrying forever.
      const message = `Cancelling job ${jobId} failed: ${failureMessage(error)}`;
      log.error(message);
      this.status = { ...this.status, error: message };
      return undefined;
    }
  }

  /**
   * Hands the run to a new one. Events received but not yet dispatched travel with it, up to a
   * bound; any beyond are forgotten (their ids too) and the next run reads them from the stream
   * again. However far the callbacks lag behind the stream, the handover stays small, and the
   * next run always has work to start with.
   */
  private async continueAsNew(): Promise<never> {
    const pendingEvents = this.queue.slice(0, MAX_EVENTS_CARRIED);
    for (const event of this.queue.slice(MAX_EVENTS_CARRIED))
      if (event.id !== undefined) this.recentIds.delete(event.id);
    const { cursor, offset } = positionAfter(this.dispatchedPosition, pendingEvents);
    const resume = {
      jobId: this.requireJob().id,
      ...(cursor === undefined ? {} : { cursor }),
      ...(offset === 0 ? {} : { cursorOffset: offset }),
      dispatched: this.dispatchedPosition,
      recentEventIds: this.recentIds.toArray(),
      pendingEvents,
      startedAtMs: this.startedAtMs,
      runNumber: this.status.runNumber + 1,
      summary: { status: this.status, patience: this.patience, job: this.requireJob() } satisfies ResumeSummary,
    };
    log.info('Continuing as new', { runNumber: resume.runNumber, cursor, carried: pendingEvents.length });
    return continueAsNew<typeof trainingRun>({ ...this.input, resume });
  }

  private notify(event: NotificationEvent, key: string, title: string, lines: string[]): Promise<void> {
    return sendNotification(this.input, event, key, {
      title,
      lines,
      data: {
        workflowId: this.info.workflowId,
        jobId: this.job?.id,
        phase: this.status.phase,
        step: this.status.step,
        status: statusSummary(this.status),
      },
    });
  }

  private setPhase(phase: RunStatus['phase']): void {
    this.status = {
      ...this.status,
      phase,
      ...(isFinalPhase(phase) ? { finishedAt: new Date().toISOString() } : {}),
    };
    upsertSearchAttributes([{ key: ArkorPhase, value: phase }]);
  }

  private patchJob(patch: Partial<TrainingJob>): void {
    // Like the SDK, a status change replaces the snapshot rather than mutating it.
    if (this.job) this.job = { ...this.job, ...patch };
  }

  private requireJob(): TrainingJob {
    if (!this.job) throw new Error('No job has been submitted');
    return this.job;
  }

  /**
   * Smoke test, gate, approval and promotion after training completed. A promotion step that
   * fails for good (a rejected re-target, retries exhausted) fails the run with its result: the
   * adapter trained fine, but what the run was for did not happen, and a Schedule must see that.
   */
  private async finishEvaluation(artifacts: unknown[]): Promise<void> {
    try {
      await this.evaluation.finish(this.requireJob().id);
    } catch (error) {
      if (isCancellation(error)) throw error;
      const reason = `Promotion failed: ${failureMessage(error)}`;
      this.setPhase(RunPhase.Failed);
      this.status = { ...this.status, error: reason };
      await this.notify('failed', '', `Promotion failed: ${this.input.trainer.name}`, [reason]);
      throw ApplicationFailure.create({
        type: RunFailureType.PromotionFailed,
        message: reason,
        nonRetryable: true,
        details: [this.result(RunOutcome.Failed, reason, artifacts)],
      });
    }
  }

  private stopInfo(cause: StopCause, reason: string): StopInfo {
    return { cause, reason, atStep: this.status.step };
  }

  private result(outcome: RunOutcome, reason?: string, artifacts: unknown[] = []): RunResult {
    return {
      outcome,
      workflowId: this.info.workflowId,
      ...(this.job ? { jobId: this.job.id } : {}),
      ...(reason === undefined ? {} : { reason }),
      ...(this.status.stop ? { stop: this.status.stop } : {}),
      artifacts,
      status: this.status,
    };
  }
}

/** The Arkor status an activity failure carries in its details (see `rethrowArkorError`). */
function failureStatus(error: unknown): number | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  const status = (cause.details?.[0] as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
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
