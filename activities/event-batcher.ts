/**
 * Groups log events into batches, by count and by time, so that one signal (and one onLog
 * activity) carries many of them: one history event per log line would exhaust a run's history
 * after a few thousand steps. Deliveries are strictly sequential, in stream order.
 *
 * Double buffered: while one batch is being delivered, the next one fills. `addLog` only waits
 * when that next batch is full and the delivery ahead of it is still running, so reading the
 * stream and signalling the workflow overlap, and at most two batches are held at once (the one
 * in flight and the one filling).
 */
import type { RunEvent } from '../contract/events.js';

export interface BatchLimits {
  /** A batch is handed over as soon as it holds this many events. */
  maxEvents: number;
  /** A batch's first event waits at most this long before the batch is handed over (or, while a delivery is in flight, right after it). */
  maxDelayMs: number;
}

export class EventBatcher {
  private pending: RunEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The delivery in flight; it never rejects (a failure lands in `failure`). */
  private inFlight: Promise<void> | undefined;
  /** The pending batch's delay ran out while a delivery was in flight: it goes right after it. */
  private overdue = false;
  private closed = false;
  private failure: { error: unknown } | undefined;

  /**
   * @param deliver hands one batch over (a signal); called for one batch at a time, in order.
   *   Whatever it records as delivered (the stream's cursor) is therefore exact: an event still
   *   held here has not been passed to it.
   */
  constructor(
    private readonly deliver: (events: RunEvent[]) => Promise<void>,
    private readonly limits: BatchLimits,
  ) {}

  /**
   * Queues a log event. Resolves at once unless the batch is now full and the previous delivery
   * is still running; then it resolves when that delivery is done and this batch is in flight.
   * Rejects with the error of any failed delivery (this one's or an earlier one's).
   */
  async addLog(event: RunEvent): Promise<void> {
    this.throwIfFailed();
    this.pending.push(event);
    if (this.pending.length >= this.limits.maxEvents) {
      // The in-flight delivery's completion hands this full batch over (see handOver).
      if (this.inFlight) await this.inFlight;
      else void this.handOver(); // never rejects; a failure surfaces on the next call
      this.throwIfFailed();
      return;
    }
    // The timer starts with the batch's first event, so no event waits longer than maxDelayMs
    // (plus the delivery in flight, if any).
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      if (this.inFlight) this.overdue = true;
      else void this.handOver();
    }, this.limits.maxDelayMs);
  }

  /**
   * Delivers the pending log events followed by `urgent` ones, in one delivery, after the one in
   * flight; resolves once they are delivered, rejects if that or an earlier delivery failed.
   */
  async flush(urgent: RunEvent[] = []): Promise<void> {
    this.throwIfFailed();
    // The pending events go with the urgent ones, not on their own when the delivery in flight
    // completes (the stream awaits this call, so nothing re-arms the timer meanwhile).
    this.clearTimer();
    this.overdue = false;
    while (this.inFlight) await this.inFlight;
    this.throwIfFailed();
    this.pending.push(...urgent);
    const delivery = this.handOver();
    if (delivery) await delivery;
    this.throwIfFailed();
  }

  /** Throws the error of a failed delivery, if any (for callers between events, e.g. on pings). */
  check(): void {
    this.throwIfFailed();
  }

  /** Resolves once no delivery is in flight (never rejects). */
  async settled(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  /** Events queued but not yet handed to a delivery. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /**
   * Stops the timer and starts no further delivery. A delivery already in flight runs to its
   * end (its failure, if any, is recorded, never thrown).
   */
  close(): void {
    this.closed = true;
    this.clearTimer();
  }

  /**
   * Starts delivering the pending events (if any) and returns that delivery, which never
   * rejects; the caller made sure none is in flight.
   */
  private handOver(): Promise<void> | undefined {
    this.clearTimer();
    this.overdue = false;
    if (this.closed || this.pending.length === 0) return undefined;
    const events = this.pending;
    this.pending = [];
    const delivery = this.deliverSafely(events).then(() => {
      this.inFlight = undefined;
      if (this.failure) return;
      if (this.pending.length >= this.limits.maxEvents || (this.overdue && this.pending.length > 0))
        void this.handOver();
    });
    this.inFlight = delivery;
    return delivery;
  }

  private async deliverSafely(events: RunEvent[]): Promise<void> {
    try {
      await this.deliver(events);
    } catch (error) {
      // Kept for the next addLog/flush: the stream activity must fail, not read on.
      this.failure ??= { error };
    }
  }

  private clearTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
