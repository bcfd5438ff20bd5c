import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { EventBatcher } from '../activities/event-batcher.js';
import type { RunEvent } from '../contract/events.js';
import { logEvent } from './support/run-events.js';

const checkpoint = (step: number): RunEvent => ({
  id: `ckpt-${step}`,
  payload: { type: 'checkpoint.saved', timestamp: 't', step },
});
const ids = (events: RunEvent[]): string[] => events.map((event) => event.id ?? '?');

/**
 * A delivery function whose calls stay open until the test settles them, recording what each
 * call carried and how many ran at once.
 */
function gatedDelivery() {
  const calls: Array<{ ids: string[]; resolve: () => void; reject: (error: Error) => void }> = [];
  let active = 0;
  let maxActive = 0;
  const deliver = (events: RunEvent[]): Promise<void> => {
    active++;
    maxActive = Math.max(maxActive, active);
    return new Promise<void>((resolve, reject) => {
      calls.push({ ids: ids(events), resolve, reject });
    }).finally(() => {
      active--;
    });
  };
  return {
    deliver,
    calls,
    maxActive: () => maxActive,
    call(index: number) {
      const call = calls[index];
      assert.ok(call, `delivery #${index} was never started`);
      return call;
    },
  };
}

/** Whether `promise` has settled after the pending microtasks and one macrotask ran. */
async function isSettled(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await tick();
  return settled;
}

describe('EventBatcher pipelining', () => {
  it('keeps stream order across many batches, one delivery at a time', async () => {
    const delivered: string[] = [];
    let active = 0;
    let maxActive = 0;
    const batcher = new EventBatcher(
      async (events) => {
        active++;
        maxActive = Math.max(maxActive, active);
        await new Promise((resolve) => setTimeout(resolve, 1));
        delivered.push(...ids(events));
        active--;
      },
      { maxEvents: 7, maxDelayMs: 60_000 },
    );
    for (let step = 1; step <= 100; step++) await batcher.addLog(logEvent(step));
    await batcher.flush([checkpoint(100)]);
    assert.deepEqual(delivered, [...Array.from({ length: 100 }, (_, i) => String(i + 1)), 'ckpt-100']);
    assert.equal(maxActive, 1);
    assert.equal(batcher.pendingCount, 0);
    batcher.close();
  });

  it('reads on while one batch is in flight and blocks when a second full batch waits', async () => {
    const gate = gatedDelivery();
    const batcher = new EventBatcher(gate.deliver, { maxEvents: 2, maxDelayMs: 60_000 });
    await batcher.addLog(logEvent(1));
    // The full batch is handed over and addLog returns without waiting for its delivery.
    assert.equal(await isSettled(batcher.addLog(logEvent(2))), true);
    assert.deepEqual(
      gate.calls.map((c) => c.ids),
      [['1', '2']],
    );
    await batcher.addLog(logEvent(3));
    // The second batch is full while the first is in flight: two batches held, the reader waits.
    const blocked = batcher.addLog(logEvent(4));
    assert.equal(await isSettled(blocked), false);
    assert.equal(batcher.pendingCount, 2);
    assert.equal(gate.calls.length, 1);

    gate.call(0).resolve();
    await blocked;
    assert.deepEqual(
      gate.calls.map((c) => c.ids),
      [
        ['1', '2'],
        ['3', '4'],
      ],
    );
    assert.equal(batcher.pendingCount, 0);
    assert.equal(gate.maxActive(), 1);

    gate.call(1).resolve();
    await batcher.flush();
    assert.equal(gate.calls.length, 2);
    batcher.close();
  });

  it('flushes urgent events behind the pending logs, after the delivery in flight', async () => {
    const gate = gatedDelivery();
    const batcher = new EventBatcher(gate.deliver, { maxEvents: 2, maxDelayMs: 60_000 });
    for (const step of [1, 2, 3]) await batcher.addLog(logEvent(step));
    const flushed = batcher.flush([checkpoint(3)]);
    assert.equal(await isSettled(flushed), false);
    assert.deepEqual(
      gate.calls.map((c) => c.ids),
      [['1', '2']],
    );

    gate.call(0).resolve();
    await tick();
    // Pending log 3 and the checkpoint go together, in one delivery, in stream order.
    assert.deepEqual(
      gate.calls.map((c) => c.ids),
      [
        ['1', '2'],
        ['3', 'ckpt-3'],
      ],
    );
    // flush resolves only once its own events are delivered.
    assert.equal(await isSettled(flushed), false);
    gate.call(1).resolve();
    await flushed;
    batcher.close();
  });

  it('never reports events held in the batcher as delivered', async () => {
    const gate = gatedDelivery();
    let cursor: string | undefined;
    const cursors: Array<string | undefined> = [];
    // As the stream activity does: the cursor moves after the delivery returned.
    const batcher = new EventBatcher(
      async (events) => {
        await gate.deliver(events);
        cursor = events.at(-1)?.id ?? cursor;
      },
      { maxEvents: 2, maxDelayMs: 60_000 },
    );
    for (const step of [1, 2, 3]) {
      await batcher.addLog(logEvent(step));
      cursors.push(cursor);
    }
    // Events 1-3 were read, none is delivered yet.
    assert.deepEqual(cursors, [undefined, undefined, undefined]);
    gate.call(0).resolve();
    await tick();
    assert.equal(cursor, '2');
    const blocked = batcher.addLog(logEvent(4));
    await tick();
    gate.call(1).resolve();
    await blocked;
    await tick();
    assert.equal(cursor, '4');
    batcher.close();
  });

  it('delivers a batch whose delay ran out during a delivery right after that delivery', async () => {
    const gate = gatedDelivery();
    const batcher = new EventBatcher(gate.deliver, { maxEvents: 2, maxDelayMs: 10 });
    await batcher.addLog(logEvent(1));
    await batcher.addLog(logEvent(2));
    await batcher.addLog(logEvent(3));
    await new Promise((resolve) => setTimeout(resolve, 40));
    // Still one delivery at a time: log 3 waits for the first batch.
    assert.deepEqual(
      gate.calls.map((c) => c.ids),
      [['1', '2']],
    );
    gate.call(0).resolve();
    await tick();
    assert.deepEqual(
      gate.calls.map((c) => c.ids),
      [['1', '2'], ['3']],
    );
    gate.call(1).resolve();
    await batcher.settled();
    batcher.close();
  });

  it('sends an overdue batch together with the urgent events of a flush', async () => {
    const gate = gatedDelivery();
    const batcher = new EventBatcher(gate.deliver, { maxEvents: 2, maxDelayMs: 10 });
    for (const step of [1, 2, 3]) await batcher.addLog(logEvent(step));
    await new Promise((resolve) => setTimeout(resolve, 40));
    const flushed = batcher.flush([checkpoint(3)]);
    gate.call(0).resolve();
    await tick();
    assert.deepEqual(
      gate.calls.map((c) => c.ids),
      [
        ['1', '2'],
        ['3', 'ckpt-3'],
      ],
    );
    gate.call(1).resolve();
    await flushed;
    batcher.close();
  });

  it('surfaces a failed background delivery to the next addLog, flush and check', async () => {
    const gate = gatedDelivery();
    const batcher = new EventBatcher(gate.deliver, { maxEvents: 2, maxDelayMs: 60_000 });
    await batcher.addLog(logEvent(1));
    await batcher.addLog(logEvent(2));
    await batcher.addLog(logEvent(3));
    gate.call(0).reject(new Error('signal failed'));
    await batcher.settled();
    assert.throws(() => batcher.check(), /signal failed/);
    await assert.rejects(batcher.addLog(logEvent(4)), /signal failed/);
    await assert.rejects(batcher.flush([checkpoint(4)]), /signal failed/);
    // Nothing after the failed batch was delivered.
    assert.equal(gate.calls.length, 1);
    batcher.close();
  });

  it('rejects the reader that waits on a delivery which then fails', async () => {
    const gate = gatedDelivery();
    const batcher = new EventBatcher(gate.deliver, { maxEvents: 2, maxDelayMs: 60_000 });
    for (const step of [1, 2, 3]) await batcher.addLog(logEvent(step));
    const blocked = batcher.addLog(logEvent(4));
    gate.call(0).reject(new Error('workflow gone'));
    await assert.rejects(blocked, /workflow gone/);
    assert.equal(gate.calls.length, 1);
    assert.equal(batcher.pendingCount, 2);
    batcher.close();
  });

  it('records a failure after close without throwing, and starts nothing new', async () => {
    const gate = gatedDelivery();
    const batcher = new EventBatcher(gate.deliver, { maxEvents: 2, maxDelayMs: 5 });
    for (const step of [1, 2, 3]) await batcher.addLog(logEvent(step));
    batcher.close();
    gate.call(0).reject(new Error('late failure'));
    await batcher.settled();
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(gate.calls.length, 1);
  });
});
