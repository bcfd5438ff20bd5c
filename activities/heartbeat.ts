/**
 * Keeps a short activity visibly alive while it works. Submits, cancels, callbacks, smoke tests,
 * promotion steps and notifications do not report progress of their own, so without a heartbeat
 * the server notices a dead worker only when the attempt's start-to-close timeout (minutes)
 * expires; with one, after the run's `heartbeatTimeout`.
 */
import type { Context } from '@temporalio/activity';

/** Local heartbeat calls are cheap: the worker throttles what it actually sends to the server. */
const MAX_BEAT_INTERVAL_MS = 1_000;

/** The progress each running activity reported last; liveness beats repeat it. */
const progress = new WeakMap<Context, unknown>();

/**
 * Records how far an activity got, as heartbeat details that a retried attempt reads back
 * (`info.heartbeatDetails`). Kept apart from the liveness beats below, which would otherwise
 * overwrite the details with nothing.
 */
export function reportProgress(context: Context, details: unknown): void {
  progress.set(context, details);
  context.heartbeat(details);
}

/**
 * Heartbeats `context` while `work` runs, when the activity was scheduled with a heartbeat
 * timeout (older runs were not, and then nothing changes).
 */
export async function keepAlive<T>(context: Context, work: () => Promise<T>): Promise<T> {
  const timeoutMs = context.info.heartbeatTimeoutMs;
  if (!timeoutMs) return work();
  const beat = setInterval(
    () => context.heartbeat(progress.get(context)),
    Math.min(MAX_BEAT_INTERVAL_MS, Math.max(50, timeoutMs / 3)),
  );
  try {
    return await work();
  } finally {
    clearInterval(beat);
  }
}
