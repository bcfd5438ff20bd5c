/**
 * Wait: follows the job's event stream for the whole run and hands the events to the workflow
 * run that scheduled it. The terminal event is the activity's result.
 *
 * Delivery is acknowledged and exact (see `contract/delivery.ts` and `run-delivery.ts`): each
 * batch names the position it follows and the run accepts only the continuation of its own, so
 * an attempt may resume from any earlier position (the last heartbeat's, the input's) and reads
 * on from where the run actually stands. Delivery is back-pressured: the activity stops reading
 * while the run's undispatched backlog is at the worker's bound.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { CloudApiError, followJobEvents, isPermanentStreamStatus, JobGoneError } from '../arkor/index.js';
import type { StreamPosition } from '../contract/delivery.js';
import type { ActivityDeps } from './deps.js';
import { EventBatcher } from './event-batcher.js';
import { FailureType, rethrowArkorError } from './failures.js';
import { type StreamMetrics, streamMetrics } from './metrics.js';
import { ReadAgainFrom, RunDelivery } from './run-delivery.js';
import { toRunEvent } from './to-run-event.js';
import type { FollowJobInput, StreamHeartbeat, StreamOutcome } from '../contract/activities.js';
import { errorMessage } from '../contract/errors.js';

/** How many `end` frames on a job that still reads as active are tolerated before giving up. */
const MAX_SPURIOUS_ENDS = 5;

/**
 * Refusals that a redeploy fixes (docs/arkor-protocol.md §11 D6) (a rotated token, a client version the server no longer takes):
 * the run is blocked, visibly, and retried slowly, instead of failing with its GPU job running.
 */
const BLOCKING_STATUSES: ReadonlySet<number> = new Set([401, 403, 426]);
const BLOCKED_RETRY_MAX_MS = 10 * 60_000;

/** The reading stopped to look at the job itself: its stream has failed for a while (§11 D5). */
class CheckTheJob extends Error {
  override readonly name = 'CheckTheJob';
}

/** When the stream last made progress, and when the job last read as alive. */
interface StreamWatch {
  /** Start of the current run of consecutive stream failures. */
  failingSince?: number;
  /** Last event, or last read of the job as queued or running. */
  aliveAt: number;
}

export function createStreamActivities(deps: ActivityDeps) {
  return {
    async followJob(input: FollowJobInput): Promise<StreamOutcome> {
      const context = Context.current();
      const execution = context.info.workflowExecution;
      if (!execution) throw ApplicationFailure.nonRetryable('followJob must be scheduled by a workflow');
      const run = context.client.workflow.getHandle(execution.workflowId, execution.runId);

      // Any earlier position is safe: the run trims or refuses what it already has. The last
      // heartbeat's is usually the closest.
      const from = heartbeatPosition(context.info.heartbeatDetails) ?? {
        ...(input.cursor === undefined ? {} : { cursor: input.cursor }),
        offset: input.offset ?? 0,
      };
      const heartbeat = (position: StreamPosition): void =>
        context.heartbeat({
          ...(position.cursor === undefined ? {} : { cursor: position.cursor }),
          offset: position.offset,
        } satisfies StreamHeartbeat);
      const delivery = new RunDelivery(run, from, {
        maxBacklog: deps.stream.maxBacklog,
        readAgainAfterPauseMs: deps.stream.readAgainAfterPauseMs,
        signal: context.cancellationSignal,
        onProgress: heartbeat,
        onPause: (paused, backlog) => {
          const message = paused ? 'Pausing the stream: the run has a full backlog' : 'Resuming the stream';
          log.info(message, { backlog, maxBacklog: deps.stream.maxBacklog });
        },
      });
      // Quiet streams (a job queued for a GPU) must still prove this worker is alive.
      const heartbeatEveryMs = Math.min((context.info.heartbeatTimeoutMs ?? 30_000) / 3, 10_000);
      const ticker = setInterval(() => heartbeat(delivery.position), heartbeatEveryMs);
      heartbeat(from);

      const watch: StreamWatch = { aliveAt: Date.now() };
      const metrics = streamMetrics(context);
      let blockedRetries = 0;
      try {
        for (let spuriousEnds = 0; ;) {
          let outcome: StreamOutcome;
          try {
            outcome = await followFrom(deps, input.jobId, delivery, watch, metrics, context.cancellationSignal);
          } catch (error) {
            if (error instanceof ReadAgainFrom) {
              log.info('Reading the stream again from the run’s position', {
                reason: error.message,
                cursor: error.position.cursor,
              });
              await delivery.waitForRoom();
              continue;
            }
            if (error instanceof CheckTheJob) {
              const ended = await checkJob(deps, input.jobId, watch);
              if (ended) return ended;
              continue;
            }
            if (error instanceof CloudApiError && BLOCKING_STATUSES.has(error.status)) {
              // A new episode (the stream was served since the last refusal) starts the backoff over.
              if (!delivery.blocked) blockedRetries = 0;
              const delayMs = Math.min(deps.stream.blockedRetryMs * 2 ** blockedRetries++, BLOCKED_RETRY_MAX_MS);
              log.warn(
                'The run is blocked: Arkor refuses this worker; retrying later (a redeploy with a new token or client fixes it)',
                {
                  status: error.status,
                  delayMs,
                },
              );
              await delivery.setBlocked(`Arkor answered ${error.status}: ${error.message}`);
              await sleep(delayMs, undefined, { signal: context.cancellationSignal });
              continue;
            }
            throw error;
          }
          if (outcome.kind === 'terminal') return outcome;
          // `end` normally means the job is over; the protocol does not say what the server sends
          // on a cancel (docs/arkor-protocol.md §11 D1, D2), so the job's own status decides. An active job means the server closed
          // the stream early: follow it again.
          if (outcome.status !== 'queued' && outcome.status !== 'running') return outcome;
          if (spuriousEnds >= MAX_SPURIOUS_ENDS) {
            throw ApplicationFailure.retryable(
              `The stream ended ${spuriousEnds + 1} times while the job is ${outcome.status}`,
            );
          }
          spuriousEnds++;
          log.warn('Stream ended while the job is still active; following it again', { status: outcome.status });
        }
      } catch (error) {
        if (error instanceof CloudApiError && isPermanentStreamStatus(error.status)) {
          // 410: the stream is gone for good (docs/arkor-protocol.md §11 D7).
          throw ApplicationFailure.create({
            type: FailureType.ArkorRejected,
            message: `Following job ${input.jobId}: Arkor answered ${error.status}: ${error.message}`,
            nonRetryable: true,
            details: [{ status: error.status }],
          });
        }
        // A deleted job: no retry brings it back, and an unbounded retry policy would loop forever.
        if (error instanceof JobGoneError) {
          throw ApplicationFailure.create({
            type: FailureType.ArkorRejected,
            message: error.message,
            nonRetryable: true,
            details: [{ status: 404 }],
          });
        }
        throw error;
      } finally {
        clearInterval(ticker);
      }
    },
  };
}

/**
 * Reads the stream from the run's position until the terminal event or `end`, delivering events
 * in batches. Throws {@link ReadAgainFrom} when the run wants the stream read from elsewhere.
 */
async function followFrom(
  deps: ActivityDeps,
  jobId: string,
  delivery: RunDelivery,
  watch: StreamWatch,
  metrics: StreamMetrics,
  signal: AbortSignal,
): Promise<StreamOutcome> {
  // The position moves only once the run acknowledged a batch: events still held here (the
  // batcher reads ahead while a delivery is in flight) are read again by a later attempt.
  const batcher = new EventBatcher((events) => delivery.deliver(events), {
    maxEvents: deps.stream.logBatchMaxEvents,
    maxDelayMs: deps.stream.logBatchMaxDelayMs,
  });
  try {
    return await followOnce(deps, jobId, delivery, batcher, watch, metrics, signal);
  } catch (error) {
    const permanent =
      (error instanceof CloudApiError && isPermanentStreamStatus(error.status)) || error instanceof JobGoneError;
    // No attempt will read these events again: hand over what was read before failing.
    if (permanent) await batcher.flush().catch(() => undefined);
    throw error;
  } finally {
    batcher.close();
    // A delivery still in flight must land (or fail) before this reading ends, so that two
    // readings never deliver at once and nothing heartbeats after the result.
    await batcher.settled();
  }
}

/** Follows the stream until its terminal event or `end`, delivering events through the batcher. */
async function followOnce(
  deps: ActivityDeps,
  jobId: string,
  delivery: RunDelivery,
  batcher: EventBatcher,
  watch: StreamWatch,
  metrics: StreamMetrics,
  signal: AbortSignal,
): Promise<StreamOutcome> {
  const from = delivery.position;
  // Events without an id that the run already has: a read from the cursor replays them.
  let toSkip = from.offset;
  const items = followJobEvents(deps.arkor, jobId, {
    ...(from.cursor === undefined ? {} : { cursor: from.cursor }),
    signal,
    idleTimeoutMs: deps.stream.idleTimeoutMs,
    ...(deps.stream.reconnect ? { policy: deps.stream.reconnect } : {}),
    onRetry: ({ attempt, delayMs, error }) => {
      const now = Date.now();
      if (attempt === 1) watch.failingSince = now;
      // A stream failing for a while (a job deleted before its first event answers 404 forever)
      // is a question for the job itself.
      if (now - (watch.failingSince ?? now) >= deps.stream.checkJobAfterMs) throw new CheckTheJob();
      metrics.reconnected();
      log.warn('Event stream interrupted; reconnecting', {
        attempt,
        delayMs,
        error: errorMessage(error),
      });
    },
  });
  for await (const item of items) {
    // The stream answers: whatever blocked the run (a refused token) is over.
    if (delivery.blocked) await delivery.setBlocked(null);
    if (item.kind !== 'event') {
      if (item.kind === 'end') {
        await batcher.flush();
        // `end` is terminal, as in the SDK's wait(); the job's own status says how it ended.
        // A 404 may be a replica that does not see the job yet: retried (a deleted job is then
        // caught by the next attempt's stream). Other refusals are final.
        const { job } = await deps.arkor.getJob(jobId).catch((error: unknown) => {
          if (error instanceof CloudApiError && error.status === 404) throw error;
          return rethrowArkorError(error, `Reading job ${jobId} after its stream ended`);
        });
        return { kind: 'ended', status: job.status, error: job.error ?? null };
      }
      // Pings, unknown and malformed frames carry nothing for the workflow (the activity's
      // ticker proves it alive). A delivery that failed in the background must not wait for the
      // next event to fail the reading.
      batcher.check();
      continue;
    }
    if (toSkip > 0 && item.id === undefined) {
      toSkip--;
      continue;
    }
    toSkip = 0;
    watch.aliveAt = Date.now();
    metrics.eventRead(item.event.type);
    const event = toRunEvent(item.id, item.event);
    switch (item.event.type) {
      case 'training.log':
        await batcher.addLog(event);
        break;
      case 'training.started':
      case 'checkpoint.saved':
        await batcher.flush([event]);
        break;
      case 'training.completed':
      case 'training.failed':
        // Everything before the terminal event reaches the workflow before the result does.
        await batcher.flush();
        return { kind: 'terminal', event };
      default: {
        // A new event type does not compile until it is handled here.
        const unhandled: never = item.event;
        throw new Error(`Unhandled event ${JSON.stringify(unhandled)}`);
      }
    }
  }
  throw ApplicationFailure.retryable('The event stream ended without a terminal event');
}

/**
 * Reads the job whose stream has failed for `checkJobAfterMs`: gone (404) fails the run; ended
 * returns how (its stream could not say so); alive lets the reading go on. A job that cannot be
 * read at all for `progressBudgetMs` since it was last seen alive makes the stream give up.
 */
async function checkJob(deps: ActivityDeps, jobId: string, watch: StreamWatch): Promise<StreamOutcome | undefined> {
  watch.failingSince = undefined;
  try {
    const { job } = await deps.arkor.getJob(jobId);
    if (job.status === 'queued' || job.status === 'running') {
      watch.aliveAt = Date.now();
      return undefined;
    }
    log.warn('The job ended while its stream could not be read', { status: job.status });
    return { kind: 'ended', status: job.status, error: job.error ?? null };
  } catch (error) {
    if (error instanceof CloudApiError && error.status === 404) {
      throw ApplicationFailure.create({
        type: FailureType.ArkorRejected,
        message: `Job ${jobId} no longer exists: its stream and the job answer 404`,
        nonRetryable: true,
        details: [{ status: 404 }],
      });
    }
    const silentMs = Date.now() - watch.aliveAt;
    if (silentMs < deps.stream.progressBudgetMs) return undefined;
    throw ApplicationFailure.create({
      type: FailureType.StreamGaveUp,
      message: `Following job ${jobId}: no event and no sign of the job for ${Math.round(silentMs / 1000)} s: ${errorMessage(error)}`,
      nonRetryable: true,
    });
  }
}

/** The position of the last heartbeat of an earlier attempt, if it recorded one. */
function heartbeatPosition(details: unknown): StreamPosition | undefined {
  if (typeof details !== 'object' || details === null) return undefined;
  const { cursor, offset } = details as StreamHeartbeat;
  // Attempts of earlier versions heartbeated only a cursor (possibly none yet).
  if (cursor === undefined && offset === undefined) return undefined;
  return { ...(typeof cursor === 'string' ? { cursor } : {}), offset: typeof offset === 'number' ? offset : 0 };
}
