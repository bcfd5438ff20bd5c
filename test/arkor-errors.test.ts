import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CloudApiError,
  StreamGaveUpError,
  cloudApiErrorFromBody,
  isPermanentStreamStatus,
  isRetryableStatus,
  parseRetryAfterMs,
} from '../arkor/errors.js';

describe('CloudApiError from bodies (protocol 10.1)', () => {
  it('uses the error field, else the raw text, else cloud-api <status>', () => {
    const conflict = cloudApiErrorFromBody(409, '{"error":"already cancelled","extra":1}', undefined);
    assert.ok(conflict instanceof CloudApiError);
    assert.equal(conflict.message, 'already cancelled');
    assert.equal(conflict.status, 409);
    assert.deepEqual(conflict.body, { error: 'already cancelled', extra: 1 });
    assert.equal(cloudApiErrorFromBody(401, 'unauthorized', undefined).message, 'unauthorized');
    assert.equal(cloudApiErrorFromBody(401, 'unauthorized', undefined).body, 'unauthorized');
    const empty = cloudApiErrorFromBody(500, '', undefined);
    assert.equal(empty.message, 'cloud-api 500');
    assert.equal(empty.body, undefined);
    assert.equal(cloudApiErrorFromBody(500, '{"error":""}', undefined).message, '{"error":""}');
    assert.equal(
      cloudApiErrorFromBody(401, '{"error":{"message":"bad key","type":"auth"}}', undefined).message,
      'bad key',
    );
    assert.equal(cloudApiErrorFromBody(502, 'x'.repeat(2000), undefined).message.length, 500);
  });

  it('redacts the message and parses Retry-After', () => {
    const error = cloudApiErrorFromBody(429, '{"error":"slow down tok123"}', new Headers({ 'retry-after': '3' }), (m) =>
      m.replace('tok123', '[redacted]'),
    );
    assert.equal(error.message, 'slow down [redacted]');
    assert.equal(error.retryAfterMs, 3000);
  });

  it('turns every 426 into an upgrade hint', () => {
    const rich = cloudApiErrorFromBody(
      426,
      JSON.stringify({
        error: 'sdk_version_unsupported',
        currentVersion: '1.3.5',
        supportedRange: '^1.4.0',
        upgrade: 'npm install -g arkor@latest',
      }),
      undefined,
    );
    assert.equal(rich.status, 426);
    assert.match(
      rich.message,
      /Arkor SDK 1\.3\.5 is no longer supported .*supported: \^1\.4\.0.*npm install -g arkor@latest/,
    );
    assert.match(rich.message, /arkor\/0\.0\.3-alpha\.1/);
    assert.match(
      cloudApiErrorFromBody(426, '{"error":"sdk_version_unsupported","reason":"missing"}', undefined).message,
      /X-Arkor-Client header was missing/,
    );
    assert.match(
      cloudApiErrorFromBody(426, '{"error":"sdk_version_unsupported","reason":"malformed"}', undefined).message,
      /X-Arkor-Client header was malformed/,
    );
    for (const text of ['', '<html>upgrade</html>']) {
      const fallback = cloudApiErrorFromBody(426, text, undefined);
      assert.match(
        fallback.message,
        /^Arkor SDK is no longer supported by the cloud-api \(426 Upgrade Required\); upgrade with `npm install -g arkor@latest`/,
      );
    }
  });
});

describe('parseRetryAfterMs', () => {
  it('reads delta-seconds and HTTP-dates', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfterMs(null), undefined);
    assert.equal(parseRetryAfterMs(''), undefined);
    assert.equal(parseRetryAfterMs('nonsense'), undefined);
    assert.equal(parseRetryAfterMs('0'), 0);
    assert.equal(parseRetryAfterMs(' 12 '), 12000);
    assert.equal(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
    assert.equal(parseRetryAfterMs('Wed, 31 Dec 2025 23:59:00 GMT', now), 0);
  });
});

describe('status classification', () => {
  it('stream: 401, 403, 410, 426 are permanent; everything else is not', () => {
    assert.deepEqual(
      [400, 401, 403, 404, 408, 409, 410, 422, 426, 429, 500, 503].filter(isPermanentStreamStatus),
      [401, 403, 410, 426],
    );
  });

  it('other routes: 408, 425, 429, 5xx retryable; other 4xx permanent', () => {
    assert.deepEqual(
      [400, 401, 403, 404, 408, 409, 410, 422, 425, 426, 429, 500, 502, 503, 599].filter(isRetryableStatus),
      [408, 425, 429, 500, 502, 503, 599],
    );
  });

  it('StreamGaveUpError carries the SDK message and the cause', () => {
    const cause = new Error('boom');
    const error = new StreamGaveUpError(4, cause);
    assert.equal(error.message, 'Trainer SSE stream failed 4 consecutive times; giving up.');
    assert.equal(error.cause, cause);
    assert.equal(error.name, 'StreamGaveUpError');
  });
});
