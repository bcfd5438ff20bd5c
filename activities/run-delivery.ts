/**
 * The wait activity's side of acknowledged delivery (see `contract/delivery.ts`): hands event
 * batches to the workflow run as `arkor.deliver` updates, each naming the position it follows,
 * keeps the position the run acknowledged, and holds back while the run's backlog is full.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import { type Delivery, type DeliveryAck, STALE_DELIVERY, type StreamPosition } from '../contract/delivery.js';
import type { RunEvent } from '../contract/events.js';
import { deliveryQuery, deliverUpdate } from '../contract/messages.js';

/**
 * The reader must read on from {@link position}, the run's own: its delivery did not continue
 * the run's position (it resumed from a stale cursor), or it paused so long on the backlog that
 * the events it holds and its connection are better dropped and read again.
 */
export class ReadAgainFrom extends Error {
  override readonly name = 'ReadAgainFrom';
  constructor(
    readonly position: StreamPosition,
    reason: string,
  ) {
    super(reason);
  }
}

export interface RunDeliveryOptions {
  /** Stop reading while the run's undispatched backlog is at or above this many events. */
  maxBacklog: number;
  /** A pause longer than this drops the held events and the connection (see {@link ReadAgainFrom}). */
  readAgainAfterPauseMs: number;
  /** Aborts a pause (the activity's cancellation). */
  signal: AbortSignal;
  /** Called whenever the acknowledged position moves, and while paused (a liveness beat). */
  onProgress: (position: StreamPosition) => void;
  /** Called when a pause on the backlog starts (`true`) and ends (`false`). */
  onPause?: (paused: boolean, backlog: number) => void;
}

/** Poll interval while paused: quick at first (the backlog often drains within a callback), then 1 s. */
const PAUSE_POLL_MS = { first: 100, factor: 1.5, max: 1_000 } as const;

export class RunDelivery {
  private acknowledged: StreamPosition;
  private blockedBy: string | undefined;

  constructor(
    private readonly run: WorkflowHandle,
    from: StreamPosition,
    private readonly options: RunDeliveryOptions,
  ) {
    this.acknowledged = from;
  }

  /** Where the run stands, as far as this reader knows: every event up to here was accepted. */
  get position(): StreamPosition {
    return this.acknowledged;
  }

  /** Why the run is blocked, as this reader told it; undefined when it is not. */
  get blocked(): string | undefined {
    return this.blockedBy;
  }

  /** Tells the run that Arkor refuses this reader (`reason`), or that it no longer does (`null`). */
  async setBlocked(reason: string | null): Promise<void> {
    await this.send([], { blocked: reason });
    this.blockedBy = reason ?? undefined;
  }

  /**
   * Delivers `events`, read right after {@link position}, and returns once the run accepted them
   * and its backlog is below the bound. Throws {@link ReadAgainFrom} when the reader must re-read.
   */
  async deliver(events: RunEvent[]): Promise<void> {
    const ack = await this.send(events);
    if (ack.backlog >= this.options.maxBacklog) await this.waitForRoom(ack.backlog, this.options.readAgainAfterPauseMs);
  }

  /** Resolves once the run's backlog is below the bound (at once when it is). */
  async waitForRoom(backlog?: number, giveUpAfterMs = Number.POSITIVE_INFINITY): Promise<void> {
    let current = backlog ?? (await this.run.query(deliveryQuery)).backlog;
    if (current < this.options.maxBacklog) return;
    const since = Date.now();
    this.options.onPause?.(true, current);
    for (
      let delay: number = PAUSE_POLL_MS.first;
      current >= this.options.maxBacklog;
      delay = Math.min(delay * PAUSE_POLL_MS.factor, PAUSE_POLL_MS.max)
    ) {
      if (Date.now() - since >= giveUpAfterMs) {
        throw new ReadAgainFrom(
          this.acknowledged,
          `paused on a backlog of ${current} events for ${Date.now() - since} ms`,
        );
      }
      await sleep(delay, undefined, { signal: this.options.signal });
      this.options.onProgress(this.acknowledged);
      current = (await this.run.query(deliveryQuery)).backlog;
    }
    this.options.onPause?.(false, current);
  }

  private async send(events: RunEvent[], extra: Pick<Delivery, 'blocked'> = {}): Promise<DeliveryAck> {
    let ack: DeliveryAck;
    try {
      ack = await this.run.executeUpdate(deliverUpdate, {
        args: [{ after: this.acknowledged, events, maxBacklog: this.options.maxBacklog, ...extra }],
      });
    } catch (error) {
      const refused = staleRefusal(error);
      if (!refused) throw error;
      this.acknowledged = refused.position;
      this.options.onProgress(this.acknowledged);
      throw new ReadAgainFrom(refused.position, 'the run is elsewhere in the stream');
    }
    this.acknowledged = ack.position;
    this.options.onProgress(this.acknowledged);
    return ack;
  }
}

/** The run's answer inside a refusal of a delivery that did not continue its position. */
function staleRefusal(error: unknown): DeliveryAck | undefined {
  if (!(error instanceof WorkflowUpdateFailedError)) return undefined;
  const cause = error.cause;
  if (!(cause instanceof ApplicationFailure) || cause.type !== STALE_DELIVERY) return undefined;
  return cause.details?.[0] as DeliveryAck | undefined;
}
