/**
 * Groups log events into batches, by count and by time, so that one signal (and one onLog
 * activity) carries many of them: one history event per log line would exhaust a run's history
 * after a few thousand steps. Deliveries are strictly sequential, in stream order.
 */
import type { RunEvent } from '../workflows/events.js';

export interface BatchLimits {
  maxEvents: number;
  maxDelayMs: number;
}

export class EventBatcher {
  private pending: RunEvent[] = [];
  private timer: NodeJS.Timeout | undefined;
  private delivering: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly deliver: (events: RunEvent[]) => Promise<void>,
    private readonly limits: BatchLimits,
  ) {}

  /** Queues a log event; when the batch is full, resolves only once it has been delivered. */
  async addLog(event: RunEvent): Promise<void> {
    this.throwIfFailed();
    this.pending.push(event);
    if (this.pending.length >= this.limits.maxEvents) return this.flush();
    // The timer starts with the batch's first event, so no event waits longer than maxDelayMs.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      this.flush().catch((error: unknown) => {
        this.failure ??= { error };
      });
    }, this.limits.maxDelayMs);
  }

  /** Delivers the pending log events followed by `urgent` ones, in one delivery. */
  async flush(urgent: RunEvent[] = []): Promise<void> {
    this.throwIfFailed();
    clearTimeout(this.timer);
    this.timer = undefined;
    const events = [...this.pending, ...urgent];
    this.pending = [];
    if (events.length > 0) this.delivering = this.delivering.then(() => this.deliver(events));
    return this.delivering;
  }

  /** Events queued but not yet handed to a delivery. */
  get pendingCount(): number {
    return this.pending.length;
  }

  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
