/**
 * The user's lifecycle callbacks, one activity each, so each is retried on its own and a crash
 * in one never loses the events behind it. Activity type names are the callback names, which is
 * what an operator sees in the Temporal UI.
 */
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { RunEvent } from '../contract/events.js';
import type { ActivityDeps } from './deps.js';
import { FailureType, invalidInput } from './failures.js';
import { reportProgress } from './heartbeat.js';
import { countCallbackFailure } from './metrics.js';
import type { CallbackContext, CallbackReturn, InferFn, TrainingCallbacks } from '../extensions/callbacks.js';
import { toLogArgs } from './to-run-event.js';
import type { CallbackCall, CallbackOutcome } from '../contract/activities.js';
import { errorMessage } from '../contract/errors.js';

export function createCallbackActivities(deps: ActivityDeps) {
  function callbacksOf(set: string): TrainingCallbacks {
    const callbacks = deps.callbackSets.get(set);
    // The preflight activity checked this before submitting; a worker deployed since with a
    // different module must not silently skip callbacks.
    if (!callbacks) throw invalidInput(`callbacks.set: the worker has no callback set "${set}"`);
    return callbacks;
  }

  function contextFor(call: CallbackCall, event: RunEvent | undefined, fallbackKey: string): CallbackContext {
    return {
      workflowId: call.workflowId,
      jobId: call.job.id,
      attempt: Context.current().info.attempt,
      idempotencyKey: `${call.job.id}:${event?.id ?? fallbackKey}`,
      ...(event?.id === undefined ? {} : { eventId: event.id }),
    };
  }

  return {
    async onStarted(call: CallbackCall & { event: RunEvent }): Promise<CallbackOutcome> {
      const callback = callbacksOf(call.set).onStarted;
      if (!callback) return { called: false };
      return invoke('onStarted', undefined, () =>
        callback({ job: call.job, context: contextFor(call, call.event, 'started') }),
      );
    },

    async onLog(call: CallbackCall & { events: RunEvent[]; callTimeoutMs?: number }): Promise<CallbackOutcome> {
      const callbacks = callbacksOf(call.set);
      const activity = Context.current();
      const logs = call.events.flatMap((event) =>
        event.payload.type === 'training.log'
          ? [{ event, args: toLogArgs(event.payload), context: contextFor(call, event, `log:${event.payload.step}`) }]
          : [],
      );
      const last = logs.at(-1);
      if (callbacks.onLogBatch && last) {
        const onLogBatch = callbacks.onLogBatch;
        return invoke('onLogBatch', call.callTimeoutMs, () =>
          onLogBatch({
            events: logs.map(({ args, context }) => ({
              ...args,
              idempotencyKey: context.idempotencyKey,
              ...(context.eventId === undefined ? {} : { eventId: context.eventId }),
            })),
            job: call.job,
            context: last.context,
          }),
        );
      }
      const onLog = callbacks.onLog;
      if (!onLog) return { called: false };
      // Arkor's semantics: one call per event, in order, each awaited before the next. A retried
      // batch resumes after the last event an earlier attempt finished.
      for (let index = logsDone(activity.info.heartbeatDetails); index < logs.length; index++) {
        const { args, context } = logs[index]!;
        const outcome = await invoke('onLog', call.callTimeoutMs, () => onLog({ ...args, job: call.job, context }));
        reportProgress(activity, { logsDone: index + 1 } satisfies OnLogProgress);
        if (outcome.stop) return outcome;
      }
      return { called: true };
    },

    async onCheckpoint(call: CallbackCall & { event: RunEvent }): Promise<CallbackOutcome> {
      const callback = callbacksOf(call.set).onCheckpoint;
      const payload = call.event.payload;
      if (!callback || payload.type !== 'checkpoint.saved') return { called: false };
      const adapter = { kind: 'checkpoint' as const, jobId: call.job.id, step: payload.step };
      // Bound like the SDK's infer: this checkpoint's adapter, streaming unless told otherwise.
      const infer: InferFn = (args) =>
        deps.arkor.chat(
          { ...args, stream: args.stream ?? true, adapter },
          { signal: Context.current().cancellationSignal },
        );
      return invoke('onCheckpoint', undefined, () =>
        callback({
          step: payload.step,
          adapter,
          job: call.job,
          infer,
          artifacts: payload.artifacts,
          context: contextFor(call, call.event, `checkpoint:${payload.step}`),
        }),
      );
    },

    async onCompleted(call: CallbackCall & { artifacts: unknown[]; event?: RunEvent }): Promise<CallbackOutcome> {
      const callback = callbacksOf(call.set).onCompleted;
      if (!callback) return { called: false };
      return invoke('onCompleted', undefined, () =>
        callback({ job: call.job, artifacts: call.artifacts, context: contextFor(call, call.event, 'completed') }),
      );
    },

    async onFailed(call: CallbackCall & { error: string; event?: RunEvent }): Promise<CallbackOutcome> {
      const callback = callbacksOf(call.set).onFailed;
      if (!callback) return { called: false };
      return invoke('onFailed', undefined, () =>
        callback({ job: call.job, error: call.error, context: contextFor(call, call.event, 'failed') }),
      );
    },
  };
}

function isStopDirective(value: unknown): value is { stop: { reason: string } } {
  if (typeof value !== 'object' || value === null || !('stop' in value)) return false;
  const stop = value.stop;
  return typeof stop === 'object' && stop !== null && typeof (stop as { reason?: unknown }).reason === 'string';
}

/** Heartbeat progress of an onLog batch: events whose callback returned. */
interface OnLogProgress {
  logsDone: number;
}

function logsDone(details: unknown): number {
  const done = (details as Partial<OnLogProgress> | undefined)?.logsDone;
  return typeof done === 'number' && Number.isInteger(done) && done > 0 ? done : 0;
}

/**
 * Runs a user callback; its errors become retryable failures that name the callback. With
 * `timeoutMs`, a call that has not settled by then fails the attempt (the call itself cannot be
 * interrupted; it is abandoned).
 */
async function invoke(
  name: string,
  timeoutMs: number | undefined,
  run: () => CallbackReturn | Promise<CallbackReturn>,
): Promise<CallbackOutcome> {
  let returned: unknown;
  try {
    returned = await withTimeout(name, timeoutMs, run);
  } catch (error) {
    countCallbackFailure(Context.current(), name);
    // A user who throws an ApplicationFailure chose its retry semantics; keep them.
    if (error instanceof ApplicationFailure) throw error;
    throw ApplicationFailure.create({
      type: FailureType.CallbackError,
      message: `${name} threw: ${errorMessage(error)}`,
      cause: error instanceof Error ? error : undefined,
    });
  }
  return isStopDirective(returned) ? { called: true, stop: { reason: returned.stop.reason } } : { called: true };
}

async function withTimeout<T>(name: string, timeoutMs: number | undefined, run: () => T | Promise<T>): Promise<T> {
  if (timeoutMs === undefined) return run();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          ApplicationFailure.create({
            type: FailureType.CallbackTimeout,
            message: `${name} did not return within ${timeoutMs} ms`,
          }),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([Promise.resolve().then(run), expired]);
  } finally {
    clearTimeout(timer);
  }
}
