/** `keepAlive`: short activities heartbeat while they work, so a dead worker is noticed quickly. */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { keepAlive } from '../activities/heartbeat.js';

describe('keepAlive', () => {
  it('heartbeats while the work runs and stops when it ends', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 150 });
    let beats = 0;
    env.on('heartbeat', () => beats++);
    const result = await env.run(() =>
      keepAlive(Context.current(), async () => {
        await sleep(400);
        return 'done';
      }),
    );
    assert.equal(result, 'done');
    // One beat per 50 ms (a third of the timeout): several over 400 ms, however slow the machine.
    assert.ok(beats >= 2, `expected heartbeats while working, got ${beats}`);
    const after = beats;
    await sleep(200);
    assert.equal(beats, after, 'no heartbeat after the work ended');
  });

  it('passes failures through and stops beating', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 150 });
    let beats = 0;
    env.on('heartbeat', () => beats++);
    await assert.rejects(
      env.run(() =>
        keepAlive(Context.current(), async () => {
          await sleep(120);
          throw new Error('backend said no');
        }),
      ),
      /backend said no/,
    );
    const after = beats;
    await sleep(200);
    assert.equal(beats, after);
  });

  it('does nothing for an activity scheduled without a heartbeat timeout', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: undefined });
    let beats = 0;
    env.on('heartbeat', () => beats++);
    await env.run(() => keepAlive(Context.current(), () => sleep(200)));
    assert.equal(beats, 0);
  });
});
