import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_RECONNECT_POLICY, reconnectDelayMs, resolveReconnectPolicy } from '../arkor/backoff.js';

describe('reconnectDelayMs', () => {
  const policy = resolveReconnectPolicy();

  it('has the SDK defaults', () => {
    assert.deepEqual(DEFAULT_RECONNECT_POLICY, { baseDelayMs: 1000, maxDelayMs: 60000 });
    assert.deepEqual(policy, { baseDelayMs: 1000, maxDelayMs: 60000 });
    assert.deepEqual(resolveReconnectPolicy({ maxAttempts: 3, baseDelayMs: 5 }), {
      baseDelayMs: 5,
      maxDelayMs: 60000,
      maxAttempts: 3,
    });
  });

  it('doubles from base to cap at the jitter midpoint', () => {
    const schedule = [0, 1, 2, 3, 4, 5, 6, 7, 20].map((attempt) => reconnectDelayMs(attempt, policy, () => 0.5));
    assert.deepEqual(schedule, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it('applies ±25 % jitter and clamps to the cap', () => {
    assert.equal(
      reconnectDelayMs(0, policy, () => 0),
      750,
    );
    assert.equal(
      reconnectDelayMs(0, policy, () => 0.999999),
      1000 + 1000 * (0.4999995 - 0.25),
    );
    assert.equal(
      reconnectDelayMs(2, policy, () => 0.25),
      4000 * 0.875,
    );
    assert.equal(
      reconnectDelayMs(10, policy, () => 0),
      45000,
    );
    assert.equal(
      reconnectDelayMs(10, policy, () => 0.999),
      60000,
    );
    assert.equal(
      reconnectDelayMs(1, { baseDelayMs: 0, maxDelayMs: 10 }, () => 0.9),
      0,
    );
  });
});
