/**
 * The events a run has received and not yet dispatched, and where it stands in the job's stream.
 * Deliveries are accepted exactly as the continuation of that position (see `contract/delivery.ts`);
 * what they add is queued here for the main loop, which takes it off in order.
 */
import { ApplicationFailure, log } from '@temporalio/workflow';
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
import { runEventSchema, type RunEvent } from '../contract/events.js';
import type { ResumeState } from '../contract/input.js';
import { RunFailureType } from '../contract/result.js';
import { RecentIds } from './recent-ids.js';
import type { RunState } from './run-state.js';
import type { StopControl } from './run-stop.js';

/** What a continued run takes over of the stream: its position and the events still to dispatch. */
export type StreamHandover = Pick<
  ResumeState,
  'cursor' | 'cursorOffset' | 'dispatched' | 'recentEventIds' | 'pendingEvents'
>;

export class Inbox {
  private readonly recentIds: RecentIds;
  private readonly queue: RunEvent[];
  /** Where the run stands in the job's stream: every event up to here was received once. */
  private position: StreamPosition;
  /** The position after the last event taken off the queue: where a continued run resumes. */
  private dispatchedPosition: StreamPosition;
  /** The wait activity's backlog bound, as its last delivery said. */
  private maxBacklog: number | undefined;
  private deliveries = 0;

  constructor(
    private readonly state: RunState,
    private readonly stop: StopControl,
    resume: ResumeState | undefined,
    /**
     * Ids remembered to drop events a server sends again after it already sent them (a server
     * that ignores Last-Event-ID); a run setting. Our own redelivery never relies on it: see `delivery.ts`.
     */
    recentIdCapacity: number,
  ) {
    this.recentIds = new RecentIds(recentIdCapacity, resume?.recentEventIds ?? []);
    this.queue = [...(resume?.pendingEvents ?? [])];
    this.position =
      resume?.cursor === undefined ? STREAM_START : { cursor: resume.cursor, offset: resume.cursorOffset ?? 0 };
    // A handover always has it (the earliest versions' are migrated to the cursor's: `contract/resume.ts`).
    this.dispatchedPosition = resume?.dispatched ?? { ...this.position, offset: 0 };
  }

  /** Deliveries (and legacy event signals) this run has received. */
  get deliveriesThisRun(): number {
    return this.deliveries;
  }

  /** Events received and not yet dispatched. */
  get size(): number {
    return this.queue.length;
  }

  /** Where the wait activity reads from: the run's position. */
  readFrom(): { cursor?: string; offset?: number } {
    return {
      ...(this.position.cursor === undefined ? {} : { cursor: this.position.cursor }),
      ...(this.position.offset === 0 ? {} : { offset: this.position.offset }),
    };
  }

  /**
   * Refuses a malformed delivery, and one that does not continue the run's position; the
   * refusal's details are the run's position and backlog, where the wait activity reads on.
   */
  validate(delivery: unknown): void {
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
  deliver(delivery: Delivery): DeliveryAck {
    this.deliveries++;
    if (delivery.maxBacklog !== undefined) this.maxBacklog = delivery.maxBacklog;
    if (delivery.blocked !== undefined) this.setBlocked(delivery.blocked);
    this.receive(continuationOf(this.position, delivery) ?? []);
    return this.ack();
  }

  /** The unacknowledged signal of earlier wait activities: malformed batches are dropped. */
  receiveLegacy(batch: unknown): void {
    this.deliveries++;
    const parsed = runEventSchema.array().safeParse((batch as { events?: unknown } | null)?.events);
    if (!parsed.success) {
      log.warn('Dropping a malformed events signal', { error: parsed.error.message });
      return;
    }
    this.receive(parsed.data);
  }

  ack(): DeliveryAck {
    return { position: this.position, backlog: this.queue.length };
  }

  /** The next event to dispatch. */
  head(): RunEvent | undefined {
    return this.queue[0];
  }

  /** Takes the next event off the queue. */
  takeHead(): void {
    this.queue.shift();
  }

  /** Takes the consecutive log events at the head of the queue, at most `max`. */
  takeLogs(max: number): RunEvent[] {
    let count = 0;
    while (count < this.queue.length && count < max && this.queue[count]?.payload.type === 'training.log') {
      count++;
    }
    return this.queue.splice(0, count);
  }

  /** Puts events taken off the queue back at its head, in order. */
  putBack(events: RunEvent[]): void {
    this.queue.unshift(...events);
  }

  /** The events were taken off the queue for good: a continued run resumes after them. */
  markTaken(events: RunEvent[]): void {
    this.dispatchedPosition = positionAfter(this.dispatchedPosition, events);
    this.refreshBacklog();
  }

  /** The run stops: the events still queued reach no callback. */
  discardAll(): void {
    const discarded = this.queue.splice(0).length;
    this.state.update((status) => ({ ...status, eventsNotDispatched: status.eventsNotDispatched + discarded }));
    this.refreshBacklog();
  }

  /**
   * What a continued run takes over. Events received but not yet dispatched travel with it, up to
   * `maxEvents`; any beyond are forgotten (their ids too) and the next run reads them from the
   * stream again. However far the callbacks lag behind the stream, the handover stays small, and
   * the next run always has work to start with.
   */
  handover(maxEvents: number): StreamHandover {
    const pendingEvents = this.queue.slice(0, maxEvents);
    for (const event of this.queue.slice(maxEvents)) if (event.id !== undefined) this.recentIds.delete(event.id);
    const { cursor, offset } = positionAfter(this.dispatchedPosition, pendingEvents);
    return {
      ...(cursor === undefined ? {} : { cursor }),
      ...(offset === 0 ? {} : { cursorOffset: offset }),
      dispatched: this.dispatchedPosition,
      recentEventIds: this.recentIds.toArray(),
      pendingEvents,
    };
  }

  private receive(events: RunEvent[]): void {
    const accepted: RunEvent[] = [];
    for (const event of events) {
      // A server that sends an id again after it already sent it; our own redelivery is trimmed
      // by position before this (and earlier wait activities rely on it).
      if (event.id !== undefined && !this.recentIds.add(event.id)) continue;
      accepted.push(event);
      this.position = advancePosition(this.position, event);
      if (this.stop.dropsArrivals())
        this.state.update((status) => ({ ...status, eventsNotDispatched: status.eventsNotDispatched + 1 }));
      else this.queue.push(event);
    }
    this.state.update({ cursor: this.position.cursor });
    this.refreshBacklog();
    this.state.telemetry.received(accepted);
  }

  /** Arkor refuses the stream (401, 403, 426), or serves it again (`null`). */
  private setBlocked(reason: string | null): void {
    if (reason !== null) log.warn('The run is blocked: Arkor refuses its stream', { reason });
    this.state.update(({ blocked, ...rest }) =>
      reason === null ? rest : { ...rest, blocked: { reason, since: blocked?.since ?? new Date().toISOString() } },
    );
  }

  /** The backlog in the status, and since when the wait activity pauses on it. */
  private refreshBacklog(): void {
    const events = this.queue.length;
    const limit = this.maxBacklog;
    const paused = limit !== undefined && events >= limit;
    const pausedSince = paused ? (this.state.status.backlog?.pausedSince ?? new Date().toISOString()) : undefined;
    this.state.update({
      backlog: {
        events,
        ...(limit === undefined ? {} : { limit }),
        ...(pausedSince === undefined ? {} : { pausedSince }),
      },
    });
  }
}
