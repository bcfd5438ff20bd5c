/**
 * The training run: submit the Arkor job, follow its event stream in one long-running activity,
 * and run every lifecycle callback as its own activity, in order, exactly once per event; then
 * evaluate, promote and report. See README "How a run works".
 *
 * This file is the lifecycle — prepare, follow (dispatch, stop), finish, evaluate — and each of
 * its parts is a file of its own: the run's state and status (`run-state.ts`), its messages
 * (`run-handlers.ts`), the events received (`run-inbox.ts`), the wait activity (`run-stream.ts`),
 * dispatch to callbacks (`run-dispatch.ts`), stopping (`run-stop.ts`), and how a run ends and
 * what it tells people (`run-endings.ts`).
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { MainActivities, StreamOutcome, TrainingJob } from '../contract/activities.js';
import {
  InvalidTrainingInputError,
  isContinuedRunInput,
  parseTrainingRunWorkflowInput,
  promotionScope,
  type TrainingRunWorkflowInput,
  type ValidTrainingRunInput,
  type ValidTrainingRunWorkflowInput,
} from '../contract/input.js';
import { RESUME_VERSION, type ResumeV2 } from '../contract/resume.js';
import type { RunSettings } from '../contract/run-settings.js';
import { failureMessage, type RunResult, RunFailureType, RunOutcome } from '../contract/result.js';
import { ArkorModel, ArkorRevision } from '../contract/search-attributes.js';
import { RunPhase } from '../contract/status.js';
import { preconditionActivityOptions, submitActivityOptions } from './activity-options.js';
import { EvaluationFlow } from './evaluation.js';
import { Dispatcher } from './run-dispatch.js';
import { installHandlers } from './run-handlers.js';
import { Inbox } from './run-inbox.js';
import { RunReport } from './run-endings.js';
import { firstRunSettings } from './run-settings.js';
import { RunState } from './run-state.js';
import { StopControl } from './run-stop.js';
import { type RunningStream, streamStarter } from './run-stream.js';
import { continueAsNewOnCurrentVersion } from './versioning.js';

/** The activities that prepare a run. */
function preparationActivities(input: ValidTrainingRunInput) {
  const { preflight, submitJob } = proxyActivities<MainActivities>(submitActivityOptions(input));
  const { checkPrecondition } = proxyActivities<MainActivities>(preconditionActivityOptions(input));
  return { preflight, submitJob, checkPrecondition };
}

/**
 * Durable Arkor training run. See README "How a run works". Its argument is a user's input, or,
 * from a run that continued as new, that input with the state it hands over (`resume`).
 */
export async function trainingRun(rawInput: TrainingRunWorkflowInput): Promise<RunResult> {
  const continued = isContinuedRunInput(rawInput);
  // A first run fixes the chain's settings (before any command); a continued run reads its handover's.
  const startSettings = continued ? undefined : firstRunSettings();
  let input: ValidTrainingRunWorkflowInput;
  try {
    input = parseTrainingRunWorkflowInput(rawInput, startSettings);
  } catch (error) {
    if (error instanceof InvalidTrainingInputError) {
      // Not the user's input but ours, written by an earlier run of the chain: failing the run
      // would abandon its job. The workflow task fails instead (retried, visible in the Web UI)
      // until a worker that reads it is deployed.
      if (continued) throw new Error(`This worker cannot read the continued run's input: ${error.message}`);
      throw ApplicationFailure.create({
        type: RunFailureType.InvalidInput,
        message: error.message,
        nonRetryable: true,
      });
    }
    throw error;
  }
  const settings = input.resume?.settings ?? startSettings;
  if (!settings) throw new Error('A first run has its settings');
  return new TrainingRun(input, settings).execute();
}

class TrainingRun {
  private readonly info = workflowInfo();
  private readonly preparation: ReturnType<typeof preparationActivities>;
  private readonly state: RunState;
  private readonly report: RunReport;
  private readonly stop: StopControl;
  private readonly inbox: Inbox;
  private readonly startStream: ReturnType<typeof streamStarter>;
  private readonly evaluation: EvaluationFlow;
  private readonly dispatcher: Dispatcher;

  constructor(
    private readonly input: ValidTrainingRunWorkflowInput,
    private readonly settings: RunSettings,
  ) {
    const { workflowId } = this.info;
    this.preparation = preparationActivities(input);
    this.state = new RunState(workflowId, input, input.resume);
    this.report = new RunReport(input, workflowId, this.state);
    // The version gates are read here, before any handler runs or any command is issued.
    this.stop = new StopControl(input, this.state, this.report);
    this.inbox = new Inbox(this.state, this.stop, input.resume, settings.recentIdCapacity);
    this.startStream = streamStarter(input, this.info.taskQueue);
    this.evaluation = new EvaluationFlow(input, {
      status: () => this.state.status,
      update: (change) => this.state.update(change),
      setPhase: (phase) => this.state.setPhase(phase),
      stopRequested: () => this.stop.afterTraining(),
    });
    const { state, inbox, stop, evaluation, report } = this;
    this.dispatcher = new Dispatcher({ input, settings, workflowId, state, inbox, stop, evaluation, report });
    // Last: messages that arrived before the run started are handled as their handler is installed.
    installHandlers({ state, inbox, stop, evaluation });
  }

  /**
   * The lifecycle: prepare (a continued run has its job already), then follow the job to its
   * end. Cancelling the workflow ends like a stop: the job is cancelled first.
   */
  async execute(): Promise<RunResult> {
    upsertSearchAttributes([{ key: ArkorModel, value: this.input.trainer.model }]);
    try {
      if (!this.state.job) {
        const skipped = await this.prepare();
        if (skipped) return skipped;
      }
      this.stop.armWallTimeBudget();
      return await this.follow();
    } catch (error) {
      if (isCancellation(error)) {
        await CancellationScope.nonCancellable(async () => {
          await this.stop.cancelJob('workflow cancelled');
          await this.report.cancelled();
        });
      }
      throw error;
    }
  }

  /**
   * Everything before training: the precondition (which may skip the run), the worker's
   * preflight checks, and the submit. Returns the result of a run that ends here.
   */
  private async prepare(): Promise<RunResult | undefined> {
    this.state.setPhase(RunPhase.Submitting);
    let job: TrainingJob;
    try {
      if (this.input.precondition) {
        const skipped = await this.checkPrecondition(this.input.precondition.check);
        if (skipped) return skipped;
      }
      await this.preparation.preflight.executeWithOptions({ summary: `preflight ${this.input.trainer.name}` }, [
        { trainer: this.input.trainer, callbackSet: this.input.callbacks.set },
      ]);
      // A stop before the job exists ends the run here: no GPU job to start and then cancel.
      const stop = this.stop.beforeSubmit();
      if (stop) {
        return this.report.stopped({
          stop,
          title: 'Training stopped before it started',
          line: `${stop.reason} (${stop.cause})`,
        });
      }
      // Not cancellable: a cancel that abandoned a create in flight could leave an untracked
      // job. Once the job exists, a pending cancellation is honoured by cancelling it.
      ({ job } = await CancellationScope.nonCancellable(() =>
        this.preparation.submitJob.executeWithOptions(
          { summary: `submit ${this.input.trainer.name} (${this.input.trainer.model})` },
          [{ trainer: this.input.trainer, workflowId: this.info.workflowId, runId: this.info.runId }],
        ),
      ));
    } catch (error) {
      if (isCancellation(error)) throw error;
      // Surface the activity's own failure (which names the field or the status), not the
      // generic "activity task failed" wrapper.
      const cause =
        error instanceof ActivityFailure && error.cause instanceof ApplicationFailure ? error.cause : undefined;
      return this.report.fail({
        type: cause?.type ?? RunFailureType.SubmitFailed,
        reason: `Preparing the run failed: ${failureMessage(error)}`,
      });
    }
    this.state.jobSubmitted(job);
    return undefined;
  }

  private async checkPrecondition(check: string): Promise<RunResult | undefined> {
    const { revision, detail, samePromotedBy } = await this.preparation.checkPrecondition.executeWithOptions(
      { summary: `precondition ${check}` },
      [
        {
          check,
          scope: promotionScope(this.input),
          trainer: { name: this.input.trainer.name, model: this.input.trainer.model },
          ...(this.input.labels ? { labels: this.input.labels } : {}),
        },
      ],
    );
    upsertSearchAttributes([{ key: ArkorRevision, value: revision }]);
    this.state.update({ precondition: { revision, ...(detail === undefined ? {} : { detail }) } });
    if (samePromotedBy === undefined) return undefined;
    const reason = `revision ${revision} is what the last promoted run (${samePromotedBy}) trained on`;
    this.state.update((status) => ({
      ...status,
      precondition: { ...status.precondition, revision, skippedBecause: reason },
    }));
    this.state.setPhase(RunPhase.Skipped);
    return this.state.result(RunOutcome.Skipped, reason);
  }

  /**
   * Training: follows the job's stream and dispatches what it delivers, stops the run when a stop
   * is pending, and finishes when training ends — or hands the run to a new one.
   */
  private async follow(): Promise<RunResult> {
    const jobId = this.state.requireJob().id;
    const openStream = (): RunningStream =>
      this.startStream({ jobId, ...this.inbox.readFrom() }, () => this.stop.trainingEnded());
    let stream = openStream();
    const signalsBeforeContinue = this.input.continueAsNew?.afterSignals ?? this.settings.signalsBeforeContinueAsNew;
    const continueAsNewDue = () =>
      workflowInfo().continueAsNewSuggested || this.inbox.deliveriesThisRun >= signalsBeforeContinue;

    for (;;) {
      await condition(() => this.inbox.size > 0 || stream.settled() || !!this.stop.pending || continueAsNewDue());
      if (this.stop.keepsEventsWhileStopping && this.stop.pending && stream.outcome()) this.stop.withdraw();
      // A stop that arrives once training has ended is moot: finish normally instead.
      if (this.stop.pending && !stream.outcome()) {
        const stopped = await this.stop.stopEarly(this.stop.pending, stream, this.inbox);
        if (stopped) return stopped;
        // The job ended on its own while the stop was on its way; read the rest of its events.
        if (!stream.outcome()) stream = openStream();
        continue;
      }
      // Checked before dispatching: a stream that outpaces the callbacks keeps the queue full,
      // and the history must not grow with it. At least one dispatch per run, so that a run
      // always makes progress before handing over.
      const continueNow =
        !stream.settled() && continueAsNewDue() && (this.dispatcher.dispatchesThisRun > 0 || this.inbox.size === 0);
      if (this.inbox.size > 0 && !continueNow) {
        await this.dispatcher.dispatchNext();
        continue;
      }
      if (!continueNow) {
        const outcome = stream.outcome();
        if (outcome) return this.finish(outcome);
        if (stream.settled()) return this.streamFailure(stream.error());
        continue;
      }
      // Stop the stream first, so that no delivery is still on its way when this run ends.
      await stream.stop();
      await condition(allHandlersFinished);
      // A stop (or the end of training) that arrived meanwhile is handled here, not handed over:
      // a continued run would not know about it.
      if (stream.outcome() || this.stop.pending) continue;
      return this.continueAsNew();
    }
  }

  /** Training ended: `onCompleted` then evaluation and promotion, or `onFailed`. */
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
      this.state.patchJob({ status: 'completed', completedAt: timestamp });
      await this.dispatcher.runCallback(
        'onCompleted',
        { artifacts, ...(terminal ? { event: terminal } : {}) },
        terminal ? [terminal] : [],
      );
      await this.evaluate(artifacts);
      // A person stopped the run during evaluation or approval: trained, deliberately not promoted.
      const stop = this.stop.afterTraining();
      if (stop) return this.report.stopped({ stop, title: 'Promotion stopped', line: stop.reason, artifacts });
      return this.report.completed(artifacts);
    }
    if (status === 'failed') {
      const error =
        terminal?.payload.type === 'training.failed'
          ? terminal.payload.error
          : ((outcome.kind === 'ended' ? outcome.error : null) ?? 'training failed');
      this.state.patchJob({ status: 'failed', completedAt: timestamp, error });
      return this.report.fail({
        type: RunFailureType.TrainingFailed,
        reason: error,
        message: `Training failed: ${error}`,
        then: () =>
          this.dispatcher.runCallback(
            'onFailed',
            { error, ...(terminal ? { event: terminal } : {}) },
            terminal ? [terminal] : [],
          ),
        notify: 'Training failed',
      });
    }
    // Cancelled by someone else (the Arkor UI, another tool): neither onCompleted nor onFailed.
    return this.report.fail({
      type: RunFailureType.JobCancelledExternally,
      reason: `the backend job was ${status} outside this run`,
      outcome: RunOutcome.Cancelled,
    });
  }

  /**
   * Smoke test, gate, approval and promotion after training completed. A promotion step that
   * fails for good (a rejected re-target, retries exhausted) fails the run with its result: the
   * adapter trained fine, but what the run was for did not happen, and a Schedule must see that.
   */
  private async evaluate(artifacts: unknown[]): Promise<void> {
    try {
      await this.evaluation.finish(this.state.requireJob().id);
    } catch (error) {
      if (isCancellation(error)) throw error;
      await this.report.fail({
        type: RunFailureType.PromotionFailed,
        reason: `Promotion failed: ${failureMessage(error)}`,
        notify: 'Promotion failed',
        artifacts,
      });
    }
  }

  /** The wait activity failed for good: the run gives up on its job. */
  private async streamFailure(error: unknown): Promise<never> {
    const reason = `Following the job's events failed: ${failureMessage(error)}`;
    if (!isCancellation(error) && patched('stream-failure-cancels-job')) {
      // The run gives up on the job, so the job must not train on unwatched (a deleted one has
      // nothing left to cancel); and the training failed as far as the user's callbacks can tell.
      if (failureStatus(error) !== 404) await this.stop.cancelJob(reason);
      await this.report.recordFailure({
        reason,
        then: () => this.dispatcher.runCallback('onFailed', { error: reason }, []),
        notify: 'Run failed',
      });
    }
    // Runs of earlier versions fail here at once; the others record the failure a second time.
    return this.report.fail({ type: RunFailureType.StreamFailed, reason });
  }

  /**
   * Hands the run to a new one, with its position in the stream, the events not yet dispatched
   * and the chain's settings (the handover's newest version, `contract/resume.ts`).
   */
  private async continueAsNew(): Promise<never> {
    const resume: ResumeV2 = {
      version: RESUME_VERSION,
      settings: this.settings,
      jobId: this.state.requireJob().id,
      ...this.inbox.handover(this.settings.maxEventsCarried),
      startedAtMs: this.state.startedAtMs,
      runNumber: this.state.status.runNumber + 1,
      summary: this.state.summary(),
    };
    log.info('Continuing as new', {
      runNumber: resume.runNumber,
      cursor: resume.cursor,
      carried: resume.pendingEvents.length,
    });
    // Onto the deployment's current version (workflows/versioning.ts): the run is pinned until here.
    return continueAsNewOnCurrentVersion<typeof trainingRun>({ ...this.input, resume });
  }
}

/** The Arkor status an activity failure carries in its details (see `rethrowArkorError`). */
function failureStatus(error: unknown): number | undefined {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (!(cause instanceof ApplicationFailure)) return undefined;
  const status = (cause.details?.[0] as { status?: unknown } | undefined)?.status;
  return typeof status === 'number' ? status : undefined;
}
