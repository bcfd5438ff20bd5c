/**
 * Wait: follows the job's event stream for the whole run and hands the events to the workflow
 * run that scheduled it, as signals. The terminal event is the activity's result.
 *
 * Durability comes from the cursor: the id of the last event the workflow has received. It is
 * sent in every heartbeat, and a retried attempt (after a crash, a deploy, a lost connection)
 * asks the workflow for it first, so the stream resumes exactly where the workflow stands; the
 * heartbeat copy is the fallback when the workflow cannot answer. Anything delivered twice in
 * the window between a signal and a crash is dropped by the workflow's deduplication.
 */
import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { CloudApiError, followJobEvents, isPermanentStreamStatus, JobGoneError } from '../arkor/index.js';
import type { JobStatus } from '../arkor/index.js';
import type { RunEvent } from '../workflows/events.js';
import { cursorQuery, eventsSignal } from '../workflows/messages.js';
import type { ActivityDeps } from './deps.js';
import { EventBatcher } from './event-batcher.js';
import { FailureType, rethrowArkorError } from './failures.js';
import { toRunEvent } from './wire.js';

export interface FollowJobInput {
  jobId: string;
  /** Where the previous run (before continue-as-new) stopped; absent on a first run. */
  cursor?: string;
}

/** Heartbeat details: the cursor the workflow has durably received. */
export interface StreamHeartbeat {
  cursor?: string;
}

export type StreamOutcome =
  /** `training.completed` or `training.failed`. */
  | { kind: 'terminal'; event: RunEvent }
  /** The stream said `end`; the job's status was read to learn how it ended. */
  | { kind: 'ended'; status: JobStatus; error: string | null };

/**
 * How long a resumed attempt waits for the workflow to answer its cursor query. A live worker
 * answers in milliseconds; after a kill the query may sit in the dead worker's sticky queue
 * until the server gives up on it, and the heartbeat's cursor (behind by at most a heartbeat
 * throttle interval; the workflow drops the repeats) is then the faster way on.
 */
const CURSOR_QUERY_DEADLINE_MS = 2_000;

/** How many `end` frames on a job that still reads as active are tolerated before giving up. */
const MAX_SPURIOUS_ENDS = 5;

export function createStreamActivities(deps: ActivityDeps) {
  return {
    async followJob(input: FollowJobInput): Promise<StreamOutcome> {
      const context = Context.current();
      const execution = context.info.workflowExecution;
      if (!execution) throw ApplicationFailure.nonRetryable('followJob must be scheduled by a workflow');
      const workflow = context.client.workflow.getHandle(execution.workflowId, execution.runId);

      let cursor = await resumeCursor(context.client, workflow, context.info.heartbeatDetails, input.cursor);
      const heartbeat = (): void => context.heartbeat({ cursor } satisfies StreamHeartbeat);
      // Quiet streams (a job queued for a GPU) must still prove this worker is alive.
      const heartbeatEveryMs = Math.min((context.info.heartbeatTimeoutMs ?? 30_000) / 3, 10_000);
      const ticker = setInterval(heartbeat, heartbeatEveryMs);
      heartbeat();

      // The cursor moves only once a batch's signal returned: events still held by the batcher
      // (it reads ahead while a signal is in flight) are not delivered, and a resumed attempt
      // must read them again.
      const batcher = new EventBatcher(
        async (events) => {
          await workflow.signal(eventsSignal, { events });
          cursor = events.findLast((event) => event.id !== undefined)?.id ?? cursor;
          heartbeat();
        },
        { maxEvents: deps.stream.logBatchMaxEvents, maxDelayMs: deps.stream.logBatchMaxDelayMs },
      );

      try {
        for (let spuriousEnds = 0; ; spuriousEnds++) {
          const outcome = await followOnce(deps, input.jobId, cursor, batcher, heartbeat, context.cancellationSignal);
          if (outcome.kind === 'terminal') return outcome;
          // `end` normally means the job is over; the protocol does not say what the server sends
          // on a cancel, so the job's own status decides. An active job means the server closed
          // the stream early: follow it again.
          if (outcome.status !== 'queued' && outcome.status !== 'running') return outcome;
          if (spuriousEnds >= MAX_SPURIOUS_ENDS) {
            throw ApplicationFailure.retryable(`The stream ended ${spuriousEnds + 1} times while the job is ${outcome.status}`);
          }
          log.warn('Stream ended while the job is still active; following it again', { status: outcome.status });
        }
      } catch (error) {
        const permanent = (error instanceof CloudApiError && isPermanentStreamStatus(error.status)) || error instanceof JobGoneError;
        // No attempt will read these events again: hand over what was read before failing.
        if (permanent) await batcher.flush().catch(() => undefined);
        if (error instanceof CloudApiError && isPermanentStreamStatus(error.status)) {
          throw ApplicationFailure.create({
            type: FailureType.ArkorRejected,
            message: `Following job ${input.jobId}: Arkor answered ${error.status}: ${error.message}`,
            nonRetryable: true,
            details: [{ status: error.status }],
          });
        }
        // A deleted job: no retry brings it back, and an unbounded retry policy would loop forever.
        if (error instanceof JobGoneError) {
          throw ApplicationFailure.create({ type: FailureType.ArkorRejected, message: error.message, nonRetryable: true, details: [{ status: 404 }] });
        }
        throw error;
      } finally {
        clearInterval(ticker);
        batcher.close();
        // A signal still in flight must land (or fail) before this attempt ends, so that two
        // attempts never signal at once and nothing heartbeats after the result.
        await batcher.settled();
      }
    },
  };
}

/** Follows the stream until its terminal event or `end`, delivering events through the batcher. */
async function followOnce(
  deps: ActivityDeps,
  jobId: string,
  from: string | undefined,
  batcher: EventBatcher,
  heartbeat: () => void,
  signal: AbortSignal,
): Promise<StreamOutcome> {
  const items = followJobEvents(deps.arkor, jobId, {
    ...(from === undefined ? {} : { cursor: from }),
    signal,
    idleTimeoutMs: deps.stream.idleTimeoutMs,
    ...(deps.stream.reconnect ? { policy: deps.stream.reconnect } : {}),
    onRetry: ({ attempt, delayMs, error }) => {
      log.warn('Event stream interrupted; reconnecting', {
        attempt,
        delayMs,
        error: error instanceof Error ? error.message : String(error),
      });
    },
  });
  for await (const item of items) {
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
      // Pings, unknown and malformed frames carry nothing for the workflow, but they do
      // prove the connection (and this worker) alive. A delivery that failed in the background
      // must not wait for the next event to fail the attempt.
      batcher.check();
      heartbeat();
      continue;
    }
    const event = toRunEvent(item.id, item.event);
    switch (item.event.type) {
      case 'training.log':
        await batcher.addLog(event);
        heartbeat();
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
    }
  }
  throw ApplicationFailure.retryable('The event stream ended without a terminal event');
}

/**
 * The cursor to resume from: the workflow's own (exact), else the last heartbeat's, else the
 * input's (a continued run's starting point).
 */
async function resumeCursor(
  client: Client,
  workflow: WorkflowHandle,
  heartbeatDetails: unknown,
  inputCursor: string | undefined,
): Promise<string | undefined> {
  try {
    return (await client.withDeadline(Date.now() + CURSOR_QUERY_DEADLINE_MS, () => workflow.query(cursorQuery))) ?? inputCursor;
  } catch (error) {
    log.warn('Could not ask the workflow for its cursor; using the last heartbeat', {
      error: error instanceof Error ? error.message : String(error),
    });
    const details = heartbeatDetails as StreamHeartbeat | undefined;
    return details?.cursor ?? inputCursor;
  }
}
