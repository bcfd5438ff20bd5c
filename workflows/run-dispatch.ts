/**
 * Dispatch: the events the run received go to their callbacks one at a time, in order, each
 * callback its own activity; log events also feed the early-stopping rules, checkpoints the
 * smoke test. A callback that exhausts its retries follows the input's `callbacks.onFailure`.
 */
import {
  type ActivityFunctionWithOptions,
  type ActivityOptions,
  isCancellation,
  log,
  proxyActivities,
} from '@temporalio/workflow';
import type { CallbackOutcome, MainActivities } from '../contract/activities.js';
import type { RunEvent } from '../contract/events.js';
import type { CallbackName, ValidTrainingRunInput } from '../contract/input.js';
import { failureMessage, RunFailureType } from '../contract/result.js';
import { applyEvent, recordCallbackError, RunPhase } from '../contract/status.js';
import type { RunSettings } from '../contract/run-settings.js';
import { callbackActivityOptions, onLogActivityOptions, onLogCallTimeoutMs } from './activity-options.js';
import type { EvaluationFlow } from './evaluation.js';
import { evaluateRules } from './rules.js';
import type { Inbox } from './run-inbox.js';
import type { RunReport } from './run-endings.js';
import type { RunState } from './run-state.js';
import type { StopControl } from './run-stop.js';

type CallbackActivity = ActivityFunctionWithOptions<(args: object) => Promise<CallbackOutcome>>;

export interface DispatchParts {
  input: ValidTrainingRunInput;
  /** The chain's settings: `maxLogsPerCallback` bounds a batch of logs. */
  settings: RunSettings;
  workflowId: string;
  state: RunState;
  inbox: Inbox;
  stop: StopControl;
  evaluation: EvaluationFlow;
  report: RunReport;
}

export class Dispatcher {
  private readonly callbacks: Record<CallbackName, CallbackActivity>;
  private dispatches = 0;

  constructor(private readonly run: DispatchParts) {
    const input = run.input;
    this.callbacks = {
      onStarted: proxyActivities<MainActivities>(callbackActivityOptions(input, 'onStarted')).onStarted,
      onLog: proxyActivities<MainActivities>(callbackActivityOptions(input, 'onLog')).onLog,
      onCheckpoint: proxyActivities<MainActivities>(callbackActivityOptions(input, 'onCheckpoint')).onCheckpoint,
      onCompleted: proxyActivities<MainActivities>(callbackActivityOptions(input, 'onCompleted')).onCompleted,
      onFailed: proxyActivities<MainActivities>(callbackActivityOptions(input, 'onFailed')).onFailed,
      // A callback added to CALLBACK_NAMES does not compile until it has its activity here.
    } satisfies Record<CallbackName, unknown> as Record<CallbackName, CallbackActivity>;
  }

  /** Dispatches this run has started (a run makes progress before it hands over). */
  get dispatchesThisRun(): number {
    return this.dispatches;
  }

  /** Dispatches the next queued event, or all consecutive queued log events as one batch. */
  async dispatchNext(): Promise<void> {
    const { input, settings, state, inbox, stop, evaluation, report } = this.run;
    const head = inbox.head();
    if (!head) return;
    this.dispatches++;
    let outcome: CallbackOutcome;
    if (head.payload.type === 'training.log') {
      const events = inbox.takeLogs(settings.maxLogsPerCallback);
      // The reading that stops the run is the last one any callback sees while the stop is
      // pending; the rest wait in the queue in case the stop turns out moot.
      const stopsAt = events.findIndex((event) => this.observeLog(event));
      const rest = stopsAt >= 0 ? events.splice(stopsAt + 1) : [];
      inbox.markTaken(events);
      state.telemetry.dispatched(events);
      if (stop.keepsEventsWhileStopping) inbox.putBack(rest);
      else {
        inbox.markTaken(rest);
        state.update((status) => ({ ...status, eventsNotDispatched: status.eventsNotDispatched + rest.length }));
      }
      outcome = await this.runCallback(
        'onLog',
        { events, callTimeoutMs: onLogCallTimeoutMs(input) },
        events,
        onLogActivityOptions(input, events.length),
      );
    } else {
      inbox.takeHead();
      inbox.markTaken([head]);
      if (head.payload.type !== 'training.completed' && head.payload.type !== 'training.failed') {
        state.telemetry.dispatched([head]);
      }
      state.update((status) => applyEvent(status, head));
      if (head.payload.type === 'training.started') {
        state.patchJob({ status: 'running', startedAt: head.payload.timestamp });
        state.setPhase(RunPhase.Running);
        await report.started();
        outcome = await this.runCallback('onStarted', { event: head }, [head]);
      } else if (head.payload.type === 'checkpoint.saved') {
        const step = head.payload.step;
        outcome = await this.runCallback('onCheckpoint', { event: head }, [head]);
        const regression = await evaluation.scoreCheckpoint(state.requireJob().id, step);
        if (regression) stop.request('rule', regression);
        await report.checkpointSaved(step);
      } else {
        // Terminal events are the wait activity's result, never delivered; a delivery that
        // carries one anyway is logged and skipped. A new event type does not compile until it
        // is handled above.
        const terminal: Extract<RunEvent['payload'], { type: 'training.completed' | 'training.failed' }> = head.payload;
        log.warn('Ignoring an unexpected delivered event', { type: terminal.type });
        return;
      }
    }
    if (outcome.stop) stop.request('directive', outcome.stop.reason);
  }

  /**
   * Runs one callback as its activity (`options` replace the callback's own, as for a batch of
   * logs). Under the `continue` policy a callback that exhausts its retries is recorded and
   * skipped; under `fail` it cancels the job and fails the run.
   */
  async runCallback(
    name: CallbackName,
    args: object,
    events: RunEvent[],
    options?: ActivityOptions,
  ): Promise<CallbackOutcome> {
    const { input, workflowId, state, stop, report } = this.run;
    const callback = options
      ? (proxyActivities<MainActivities>(options)[name] as CallbackActivity)
      : this.callbacks[name];
    try {
      // The summary the Web UI shows for the activity: not a command attribute that replay checks.
      const outcome = await callback.executeWithOptions({ summary: callbackSummary(name, events) }, [
        { set: input.callbacks.set, workflowId, job: state.requireJob(), ...args },
      ]);
      state.update((status) => ({ ...status, callbacksRun: status.callbacksRun + 1 }));
      return outcome;
    } catch (error) {
      if (isCancellation(error)) throw error;
      const message = `${name} failed after its retries: ${failureMessage(error)}`;
      if (input.callbacks.onFailure === 'continue') {
        log.warn('Callback failed; continuing as the run policy says', { callback: name, message });
        state.update((status) =>
          recordCallbackError(status, {
            callback: name,
            eventIds: events.flatMap((event) => (event.id === undefined ? [] : [event.id])),
            message,
          }),
        );
        return { called: false };
      }
      // The run cannot go on without its callbacks: stop the GPU job, then fail the run.
      await stop.cancelJob(message);
      return report.fail({
        type: RunFailureType.CallbackFailed,
        reason: message,
        stop: state.stopInfo('callback-failure', message),
        notify: 'Run failed',
      });
    }
  }

  /**
   * Folds a log event into the status and evaluates the early-stopping rules on it; true when
   * the run is (now) stopping.
   */
  private observeLog(event: RunEvent): boolean {
    const { input, state, stop } = this.run;
    const payload = event.payload;
    if (payload.type !== 'training.log') return false;
    state.update((status) => applyEvent(status, event));
    const verdict = evaluateRules(input.earlyStopping, input.budget?.maxSteps, payload, state.patience);
    state.patience = verdict.patience;
    if (verdict.stop && verdict.cause && verdict.reason) stop.request(verdict.cause, verdict.reason);
    return stop.pending !== undefined;
  }
}

/** What the Web UI shows for a callback activity: `onLog steps 1–20 (20 events)`, `onCheckpoint step 40`. */
export function callbackSummary(name: CallbackName, events: readonly RunEvent[]): string {
  const steps = events.flatMap((event) => ('step' in event.payload ? [event.payload.step] : []));
  if (name === 'onLog' && steps.length > 0) {
    const first = steps[0];
    const last = steps.at(-1);
    const range = first === last ? `step ${first}` : `steps ${first}–${last}`;
    return `onLog ${range} (${events.length} event${events.length === 1 ? '' : 's'})`;
  }
  if (name === 'onCheckpoint' && steps[0] !== undefined) return `onCheckpoint step ${steps[0]}`;
  return name;
}
