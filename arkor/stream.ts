import { reconnectDelayMs, resolveReconnectPolicy, type ReconnectPolicy } from './backoff.js';
import type { ArkorClient } from './client.js';
import {
  CloudApiError,
  isPermanentStreamStatus,
  JobGoneError,
  StreamClosedError,
  StreamGaveUpError,
  StreamIdleTimeoutError,
} from './errors.js';
import { decodeJobEvent, isTerminalJobEvent, type JobEvent } from './events.js';
import { parseJsonLenient } from './json.js';
import { readSseFrames, type SseFrame } from './sse.js';

/** Fields every {@link StreamItem} carries. */
interface StreamItemBase {
  /** The frame's own id (non-empty), if it had one. */
  id?: string;
  /** The follower's cursor after this frame: the last non-empty id seen so far. Persist it to resume. */
  cursor?: string;
}

/**
 * One item of {@link followJobEvents}:
 * - `event`: a known job event (progress);
 * - `unknown`: valid JSON that is not a known, well-formed event (progress; skip it);
 * - `malformed`: `data` is not JSON (not progress);
 * - `ping`: keepalive (not progress);
 * - `end`: the server says the stream is over; the last item. The job's status is unknown
 *   (e.g. cancelled): read it with `getJob`.
 */
export type StreamItem =
  | (StreamItemBase & { kind: 'event'; event: JobEvent })
  | (StreamItemBase & { kind: 'unknown'; type?: string; data: unknown })
  | (StreamItemBase & { kind: 'malformed' })
  | (StreamItemBase & { kind: 'ping' })
  | (StreamItemBase & { kind: 'end' });

/** Options of {@link followJobEvents}. */
export interface FollowJobEventsOptions {
  /** Resume point: the first open sends it as `Last-Event-ID`. Default: none (full replay). */
  cursor?: string;
  /** Aborts the open connection and any backoff sleep; the generator then throws `signal.reason`. */
  signal?: AbortSignal;
  /** Reconnect policy; missing fields take the SDK defaults (1000 ms base, 60000 ms cap, unlimited attempts). */
  policy?: Partial<ReconnectPolicy>;
  /**
   * Milliseconds without any byte (including while waiting for the response headers) after
   * which the connection is aborted and treated as a transient failure. Default 60000; `0`
   * disables it. Time the consumer spends holding an item does not count.
   */
  idleTimeoutMs?: number;
  /**
   * Consecutive 404 opens, once the stream has delivered an event (or was resumed from a
   * cursor), after which the job is taken for gone ({@link JobGoneError}). Default 3. Before
   * any event a 404 means "not visible yet" and is retried like any transient failure.
   */
  goneAfterNotFound?: number;
  /** Source of backoff jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Called before every open; `attempt` = consecutive failures so far (0 on a healthy open). */
  onConnecting?: (info: { attempt: number; lastEventId?: string }) => void;
  /**
   * Called after a transient failure, before sleeping `delayMs`; `attempt` = consecutive failures
   * including this one (1 for the first). Not called for the fixed pause after a clean close
   * that made progress (that is not a failure).
   */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
}

/** Default of {@link FollowJobEventsOptions.goneAfterNotFound}. */
export const DEFAULT_GONE_AFTER_NOT_FOUND = 3;

/** Default of {@link FollowJobEventsOptions.idleTimeoutMs}. */
export const DEFAULT_STREAM_IDLE_TIMEOUT_MS = 60_000;

/** Outcome of one connection that did not end the stream. */
type ConnectionOutcome = { kind: 'failed'; error: unknown } | { kind: 'closed'; progressed: boolean };

/**
 * Follows a job's event stream like the SDK's `wait()` loop (docs/arkor-protocol.md §6), as an async
 * generator the caller drives: the stream is read only while the caller asks for the next item,
 * so the caller's processing time is the back-pressure.
 *
 * - Returns after yielding `training.completed`, `training.failed` or `end`.
 * - Opens failing with 401/403/410/426 throw that {@link CloudApiError} at once.
 * - Every other failure (other statuses incl. 404/429/5xx, network or body errors, the idle
 *   watchdog, a clean close without progress) waits `reconnectDelayMs(attempt)` and reconnects
 *   from the cursor. Extension over the SDK: on 429/503 with `Retry-After`, the delay is raised
 *   to at least that value (capped at `maxDelayMs`).
 * - A clean close after progress waits exactly `baseDelayMs` and reconnects, without counting a
 *   failure. Any progress item resets the failure count.
 * - More than `maxAttempts` consecutive failures throw {@link StreamGaveUpError}.
 * - `goneAfterNotFound` consecutive 404s after events were seen throw {@link JobGoneError}.
 * - Aborting `signal` throws `signal.reason` promptly (also during a backoff sleep).
 * - Stopping early (`break`/`return()`) aborts the connection and releases the body; always
 *   iterate with `for await` or call `return()`, an abandoned generator keeps its socket.
 * - An exception thrown by `onConnecting`/`onRetry` ends the generator with that exception.
 *
 * Persist `item.cursor` once the item is durably handled; pass it back as `cursor` to resume.
 */
export async function* followJobEvents(
  client: ArkorClient,
  jobId: string,
  options: FollowJobEventsOptions = {},
): AsyncGenerator<StreamItem, void, undefined> {
  const policy = resolveReconnectPolicy(options.policy);
  const idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_STREAM_IDLE_TIMEOUT_MS;
  const random = options.random ?? Math.random;
  const { signal } = options;
  let cursor = options.cursor !== undefined && options.cursor !== '' ? options.cursor : undefined;
  const goneAfterNotFound = options.goneAfterNotFound ?? DEFAULT_GONE_AFTER_NOT_FOUND;
  let attempt = 0;
  let notFoundInARow = 0;

  for (;;) {
    signal?.throwIfAborted();
    options.onConnecting?.({ attempt, ...(cursor !== undefined ? { lastEventId: cursor } : {}) });

    const connection = new AbortController();
    const forwardAbort = (): void => connection.abort(signal?.reason);
    signal?.addEventListener('abort', forwardAbort, { once: true });
    const watchdog = new IdleWatchdog(idleTimeoutMs, (error) => connection.abort(error));
    let frames: AsyncGenerator<SseFrame, void, undefined> | undefined;
    let outcome: ConnectionOutcome = { kind: 'closed', progressed: false };
    try {
      watchdog.arm();
      let response: Response | undefined;
      try {
        response = await client.openJobEvents(jobId, {
          ...(cursor !== undefined ? { lastEventId: cursor } : {}),
          signal: connection.signal,
        });
      } catch (error) {
        outcome = { kind: 'failed', error: watchdog.error ?? error };
      }
      if (response !== undefined) {
        watchdog.arm();
        let progressed = false;
        if (response.body !== null) {
          frames = readSseFrames(response.body, { onBytes: () => watchdog.arm() });
          for (;;) {
            let next: IteratorResult<SseFrame, void>;
            try {
              next = await frames.next();
            } catch (error) {
              outcome = { kind: 'failed', error: watchdog.error ?? error };
              break;
            }
            if (next.done) {
              outcome = { kind: 'closed', progressed };
              break;
            }
            const frame = next.value;
            if (frame.id !== undefined) cursor = frame.id;
            const item = classifyFrame(frame, cursor);
            if (isProgress(item)) {
              progressed = true;
              attempt = 0;
            }
            // The consumer's time with the item is not idleness of the connection.
            watchdog.pause();
            yield item;
            signal?.throwIfAborted();
            if (item.kind === 'end' || (item.kind === 'event' && isTerminalJobEvent(item.event))) return;
            watchdog.arm();
          }
        }
      }
    } finally {
      watchdog.pause();
      signal?.removeEventListener('abort', forwardAbort);
      connection.abort(new Error('job event stream connection released'));
      // Cancels the body reader if the frames were not read to the end.
      await frames?.return(undefined);
    }

    if (outcome.kind === 'closed' && outcome.progressed) {
      notFoundInARow = 0;
      await abortableSleep(policy.baseDelayMs, signal);
      continue;
    }
    const error = outcome.kind === 'failed' ? outcome.error : new StreamClosedError();
    if (signal?.aborted) throw signal.reason;
    if (error instanceof CloudApiError && isPermanentStreamStatus(error.status)) throw error;
    // A job whose events were seen was visible: a 404 now is a deletion, not a slow replica. A
    // few are tolerated all the same, since visibility is not promised to be monotonic.
    notFoundInARow = error instanceof CloudApiError && error.status === 404 ? notFoundInARow + 1 : 0;
    if (cursor !== undefined && notFoundInARow >= goneAfterNotFound)
      throw new JobGoneError(jobId, notFoundInARow, error);
    if (policy.maxAttempts !== undefined && attempt >= policy.maxAttempts)
      throw new StreamGaveUpError(attempt + 1, error);
    const delayMs = backoffFor(error, attempt, policy, random);
    options.onRetry?.({ attempt: attempt + 1, delayMs, error });
    await abortableSleep(delayMs, signal);
    attempt += 1;
  }
}

function backoffFor(error: unknown, attempt: number, policy: ReconnectPolicy, random: () => number): number {
  const delay = reconnectDelayMs(attempt, policy, random);
  if (
    error instanceof CloudApiError &&
    (error.status === 429 || error.status === 503) &&
    error.retryAfterMs !== undefined
  ) {
    return Math.max(delay, Math.min(error.retryAfterMs, policy.maxDelayMs));
  }
  return delay;
}

function isProgress(item: StreamItem): boolean {
  return item.kind === 'event' || item.kind === 'unknown';
}

/** Classifies a frame by its SSE event name (`ping`, `end`) and then by its JSON `type`. */
function classifyFrame(frame: SseFrame, cursor: string | undefined): StreamItem {
  const base: StreamItemBase = {};
  if (frame.id !== undefined) base.id = frame.id;
  if (cursor !== undefined) base.cursor = cursor;
  if (frame.event === 'ping') return { ...base, kind: 'ping' };
  if (frame.event === 'end') return { ...base, kind: 'end' };
  const parsed = parseJsonLenient(frame.data);
  if (!parsed.ok) return { ...base, kind: 'malformed' };
  const decoded = decodeJobEvent(parsed.value);
  if (decoded.ok) return { ...base, kind: 'event', event: decoded.event };
  return {
    ...base,
    kind: 'unknown',
    ...(decoded.type !== undefined ? { type: decoded.type } : {}),
    data: parsed.value,
  };
}

/** Resolves after `ms`, or rejects with `signal.reason` as soon as `signal` aborts. */
function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Fires `onIdle` once when not re-armed within `timeoutMs`; `timeoutMs <= 0` disables it. */
class IdleWatchdog {
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Set when the watchdog fired: the failure to report instead of the resulting abort error. */
  error: StreamIdleTimeoutError | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly onIdle: (error: StreamIdleTimeoutError) => void,
  ) {}

  arm(): void {
    this.pause();
    if (this.timeoutMs <= 0 || this.error !== undefined) return;
    this.timer = setTimeout(() => {
      this.error = new StreamIdleTimeoutError(this.timeoutMs);
      this.onIdle(this.error);
    }, this.timeoutMs);
  }

  pause(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
