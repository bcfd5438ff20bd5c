/**
 * A bounded set of the most recent event ids, for deduplication. Ids are opaque strings, so
 * order cannot be compared; a redelivered event is recognised only by having been seen. The
 * bound must exceed any redelivery window: a resumed stream starts at the workflow's own cursor,
 * so a redelivery is at most the events of signals that raced a crash.
 */
export class RecentIds {
  private readonly ids = new Set<string>();

  constructor(
    private readonly capacity: number,
    initial: Iterable<string> = [],
  ) {
    for (const id of initial) this.add(id);
  }

  /** Adds the id; returns false when it was already present. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    // A Set iterates in insertion order, so its first element is the oldest.
    if (this.ids.size > this.capacity) {
      const oldest = this.ids.values().next().value;
      if (oldest !== undefined) this.ids.delete(oldest);
    }
    return true;
  }

  delete(id: string): void {
    this.ids.delete(id);
  }

  toArray(): string[] {
    return [...this.ids];
  }
}
