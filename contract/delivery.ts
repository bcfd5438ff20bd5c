/**
 * Acknowledged, exact delivery of job events from the wait activity to its workflow run.
 *
 * The workflow owns a position in the job's stream: the id of the last event it accepted, plus
 * how many events without an id it accepted after that one (ids are opaque, and the protocol
 * does not forbid id-less frames; a read resumed from the id replays those, so the reader skips
 * that many). A delivery names the position it follows. The workflow accepts exactly the
 * continuation of its own position: a delivery from behind is trimmed to what is new, one that
 * does not reach the workflow's position at all is refused, and the refusal carries the
 * workflow's position so the reader re-reads from there. However many attempts of the wait
 * activity deliver, and whatever cursor they resumed from, no event is accepted twice or
 * skipped; nothing rests on remembering a bounded set of ids.
 *
 * Pure: imported by the workflow (validator and handler) and by the wait activity.
 */
import { z } from 'zod';
import { runEventSchema, type RunEvent } from './events.js';

/** Where a run stands in its job's event stream. */
export interface StreamPosition {
  /** Id of the last accepted event that had one; absent before the first. */
  cursor?: string;
  /** Events accepted after `cursor` that carried no id (a read from `cursor` replays them). */
  offset: number;
}

/** The stream's beginning: nothing accepted yet. */
export const STREAM_START: StreamPosition = { offset: 0 };

/** Events read from the stream, in stream order, following `after`. */
export interface Delivery {
  after: StreamPosition;
  events: RunEvent[];
  /**
   * The reader's backlog bound (a worker setting): it stops reading while the run's undispatched
   * backlog is at or above it. Sent so that the run's status can show the pause.
   */
  maxBacklog?: number;
  /** Arkor refuses the reader (a rejected token or client version): why; `null` when that is over. */
  blocked?: string | null;
}

/** What the workflow answers to a delivery (and to the `arkor.delivery` query). */
export interface DeliveryAck {
  /** The run's position after this delivery: where the next delivery must start. */
  position: StreamPosition;
  /** Events received and not yet dispatched to their callbacks. */
  backlog: number;
}

/** Failure type of a refused delivery; its details hold the workflow's {@link DeliveryAck}. */
export const STALE_DELIVERY = 'StaleDelivery';

export function advancePosition(position: StreamPosition, event: RunEvent): StreamPosition {
  return event.id === undefined ? { ...position, offset: position.offset + 1 } : { cursor: event.id, offset: 0 };
}

export function samePosition(a: StreamPosition, b: StreamPosition): boolean {
  return a.cursor === b.cursor && a.offset === b.offset;
}

/**
 * The part of `delivery` that continues `position`: all of it when it starts there, the events
 * after `position` when it starts behind and passes through it, `undefined` when it does not
 * reach `position` (stale, or from another place in the stream).
 */
export function continuationOf(
  position: StreamPosition,
  delivery: Pick<Delivery, 'after' | 'events'>,
): RunEvent[] | undefined {
  let at = delivery.after;
  for (let index = 0; index <= delivery.events.length; index++) {
    if (samePosition(at, position)) return delivery.events.slice(index);
    const event = delivery.events[index];
    if (event) at = advancePosition(at, event);
  }
  return undefined;
}

/** The position after `events`, read from `from`. */
export function positionAfter(from: StreamPosition, events: readonly RunEvent[]): StreamPosition {
  return events.reduce(advancePosition, from);
}

const positionSchema = z.object({ cursor: z.string().min(1).optional(), offset: z.number().int().nonnegative() });

/** A {@link Delivery} as the update carries it; checked by the update's validator. */
export const deliverySchema = z.object({
  after: positionSchema,
  events: z.array(runEventSchema),
  maxBacklog: z.number().int().positive().optional(),
  blocked: z.string().max(2000).nullable().optional(),
});
