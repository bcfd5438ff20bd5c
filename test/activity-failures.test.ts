import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { CloudApiError } from '../arkor/index.js';
import { FailureType, MAX_RETRY_AFTER_MS, rethrowArkorError } from '../activities/failures.js';

function thrown(error: unknown): unknown {
  try {
    rethrowArkorError(error, 'Submitting the training job');
  } catch (e) {
    return e;
  }
  return assert.fail('rethrowArkorError returned');
}

describe('rethrowArkorError', () => {
  it('turns a permanent status into a non-retryable ArkorRejected naming what was rejected', () => {
    for (const status of [400, 401, 403, 404, 409, 422, 426]) {
      const failure = thrown(new CloudApiError(status, 'bad dataset'));
      assert.ok(failure instanceof ApplicationFailure);
      assert.equal(failure.type, FailureType.ArkorRejected);
      assert.equal(failure.nonRetryable, true);
      assert.equal(failure.message, `Submitting the training job: Arkor answered ${status}: bad dataset`);
    }
  });

  it('retries a 429 or 503 with Retry-After no sooner than the server asked', () => {
    for (const status of [429, 503]) {
      const failure = thrown(new CloudApiError(status, 'rate limited', { retryAfterMs: 7_000 }));
      assert.ok(failure instanceof ApplicationFailure);
      assert.equal(failure.type, FailureType.ArkorThrottled);
      assert.equal(failure.nonRetryable, false);
      assert.equal(failure.nextRetryDelay, 7_000);
      assert.match(failure.message, new RegExp(`Arkor answered ${status}: rate limited; retrying after 7000 ms`));
    }
  });

  it('caps an excessive Retry-After', () => {
    const failure = thrown(new CloudApiError(429, 'slow down', { retryAfterMs: 24 * 3_600_000 }));
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.nextRetryDelay, MAX_RETRY_AFTER_MS);
  });

  it('leaves other transient errors to the retry policy unchanged', () => {
    const plain429 = new CloudApiError(429, 'rate limited');
    assert.equal(thrown(plain429), plain429);
    const zeroRetryAfter = new CloudApiError(503, 'down', { retryAfterMs: 0 });
    assert.equal(thrown(zeroRetryAfter), zeroRetryAfter);
    const network = new TypeError('fetch failed');
    assert.equal(thrown(network), network);
  });
});
