/**
 * The notify activity against a real HTTP receiver, and the channel configuration. Activities run
 * in a MockActivityEnvironment (an activity context, no Temporal server).
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { LogEntry } from '@temporalio/worker';
import { NotificationConfigError, loadNotificationChannels } from '../activities/notification-channels.js';
import type { NotificationChannel } from '../activities/notification-channels.js';
import { NotifyFailureType, createNotifyActivities } from '../activities/notify.js';
import type { NotifyResult } from '../contract/activities.js';
import type { NotificationInput } from '../contract/evaluation.js';
import { startWebhookReceiver } from '../testing/webhook-receiver.js';
import type { WebhookReceiver } from '../testing/webhook-receiver.js';

const SECRET_PATH = '/services/T000/B000/s3cr3t-token';

const input = (channel: string, extra: Partial<NotificationInput> = {}): NotificationInput => ({
  channel,
  event: 'completed',
  idempotencyKey: 'run-1:completed',
  title: 'Run support-bot completed',
  lines: ['final loss 0.12', 'score 0.9 <gate 0.8> & promoted'],
  data: { jobId: 'job-1', loss: 0.12 },
  ...extra,
});

/** Runs `notify` in an activity context and returns the failure it threw. */
async function failureOf(run: () => Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await run();
  } catch (error) {
    assert.ok(error instanceof ApplicationFailure, `expected an ApplicationFailure, got ${String(error)}`);
    return error;
  }
  assert.fail('expected notify to throw');
}

describe('notify activity', () => {
  let receiver: WebhookReceiver;
  let channels: Map<string, NotificationChannel>;
  let activities: ReturnType<typeof createNotifyActivities>;
  const logs: LogEntry[] = [];
  const env = new MockActivityEnvironment(undefined, {
    logger: new DefaultLogger('DEBUG', (entry) => logs.push(entry)),
  });
  const run = (value: NotificationInput, acts = activities): Promise<NotifyResult> =>
    env.run((i: NotificationInput) => acts.notify(i), value);

  before(async () => {
    receiver = await startWebhookReceiver();
    channels = new Map([
      ['team-alerts', { kind: 'slack', url: `${receiver.url}/slack${SECRET_PATH}` }],
      ['ops-hook', { kind: 'webhook', url: `${receiver.url}/hook${SECRET_PATH}` }],
    ]);
    activities = createNotifyActivities({ channels, timeoutMs: 2000 });
  });
  after(async () => {
    await receiver.close();
    // Nothing logged while these tests ran may carry a channel URL.
    assert.ok(logs.length > 0);
    assert.ok(!JSON.stringify(logs.map((entry) => [entry.message, entry.meta])).includes(SECRET_PATH));
  });
  beforeEach(() => {
    receiver.requests.length = 0;
  });

  it('posts a Slack incoming-webhook body: bold title, then the lines, mrkdwn-escaped', async () => {
    assert.deepEqual(await run(input('team-alerts')), { delivered: true, status: 200 });
    assert.equal(receiver.requests.length, 1);
    const [request] = receiver.requests;
    assert.equal(request?.method, 'POST');
    assert.equal(request?.path, `/slack${SECRET_PATH}`);
    assert.equal(request?.headers['content-type'], 'application/json');
    assert.deepEqual(request?.body, {
      text: '*Run support-bot completed*\nfinal loss 0.12\nscore 0.9 &lt;gate 0.8&gt; &amp; promoted',
    });
  });

  it('posts the JSON webhook body with an Idempotency-Key header', async () => {
    receiver.respondWith(202);
    assert.deepEqual(await run(input('ops-hook')), { delivered: true, status: 202 });
    const [request] = receiver.requests;
    assert.equal(request?.path, `/hook${SECRET_PATH}`);
    assert.equal(request?.headers['idempotency-key'], 'run-1:completed');
    assert.deepEqual(request?.body, {
      event: 'completed',
      title: 'Run support-bot completed',
      lines: ['final loss 0.12', 'score 0.9 <gate 0.8> & promoted'],
      data: { jobId: 'job-1', loss: 0.12 },
      idempotencyKey: 'run-1:completed',
    });
  });

  it('fails an unknown channel without retrying, naming the channel; `_` and `-` spell the same channel', async () => {
    const failure = await failureOf(() => run(input('nope')));
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.type, NotifyFailureType.UnknownChannel);
    assert.match(failure.message, /channel nope /);
    assert.equal(receiver.requests.length, 0);
    assert.equal((await run(input('team_alerts'))).delivered, true);
  });

  it('retries a 500 (and 429, 408), not a 400; messages never contain the URL', async () => {
    for (const status of [500, 503, 429, 408]) {
      receiver.respondWith(status, { body: `error for ${receiver.url}/hook${SECRET_PATH}` });
      const failure = await failureOf(() => run(input('ops-hook')));
      assert.equal(failure.nonRetryable, false, String(status));
      assert.equal(failure.type, NotifyFailureType.Unavailable);
      assert.match(failure.message, new RegExp(`^channel ops-hook answered ${status}`));
      assert.ok(!failure.message.includes(SECRET_PATH), failure.message);
    }
    receiver.respondWith(400, { body: `{"error":"bad payload for ${SECRET_PATH}"}` });
    const rejected = await failureOf(() => run(input('team-alerts')));
    assert.equal(rejected.nonRetryable, true);
    assert.equal(rejected.type, NotifyFailureType.Rejected);
    assert.match(rejected.message, /^channel team-alerts answered 400/);
    assert.ok(!rejected.message.includes(SECRET_PATH), rejected.message);
    // After the faults the receiver answers 200 again and the same notification goes through.
    assert.deepEqual(await run(input('ops-hook')), { delivered: true, status: 200 });
  });

  it('takes the next retry delay from a 429 Retry-After', async () => {
    receiver.respondWith(429, { headers: { 'Retry-After': '7' } });
    const failure = await failureOf(() => run(input('ops-hook')));
    assert.equal(failure.nonRetryable, false);
    assert.equal(failure.nextRetryDelay, 7000);
  });

  it('throws a retryable failure when the receiver is down or too slow, without the URL', async () => {
    await receiver.down();
    try {
      const failure = await failureOf(() => run(input('ops-hook')));
      assert.equal(failure.nonRetryable, false);
      assert.match(failure.message, /^channel ops-hook: network error/);
      assert.ok(!failure.message.includes(receiver.url) && !failure.message.includes(SECRET_PATH), failure.message);
    } finally {
      await receiver.up();
    }
    const slow = createNotifyActivities({ channels, timeoutMs: 50 });
    receiver.respondWith(200, { delayMs: 1000 });
    const timedOut = await failureOf(() => run(input('team-alerts'), slow));
    assert.equal(timedOut.nonRetryable, false);
    assert.equal(timedOut.message, 'channel team-alerts: timed out after 50 ms');
    assert.deepEqual(await run(input('team-alerts')), { delivered: true, status: 200 });
  });
});

describe('notification channel configuration', () => {
  it('reads ARKOR_NOTIFY_<NAME>=<kind>:<url> into named channels', () => {
    const channels = loadNotificationChannels({
      ARKOR_NOTIFY_TEAM_ALERTS: 'slack:https://hooks.slack.com/services/T/B/x',
      ARKOR_NOTIFY_OPS: ' webhook:http://127.0.0.1:8080/hook?token=abc ',
      ARKOR_NOTIFY_EMPTY: '',
      ARKOR_TOKEN: 'not a channel',
      PATH: '/usr/bin',
    });
    assert.deepEqual([...channels.entries()].sort(), [
      ['ops', { kind: 'webhook', url: 'http://127.0.0.1:8080/hook?token=abc' }],
      ['team-alerts', { kind: 'slack', url: 'https://hooks.slack.com/services/T/B/x' }],
    ]);
    assert.equal(loadNotificationChannels({}).size, 0);
  });

  it('rejects bad variables, naming each variable and never printing its value', () => {
    const secret = 'hooks.example.com/s3cr3t';
    const bad: Record<string, string> = {
      ARKOR_NOTIFY_A: `email:https://${secret}`,
      ARKOR_NOTIFY_B: `slack:ftp://${secret}`,
      ARKOR_NOTIFY_C: `https://${secret}`,
      ARKOR_NOTIFY_D: `webhook:${secret}`,
      ARKOR_NOTIFY_lower: `slack:https://${secret}`,
    };
    for (const [variable, value] of Object.entries(bad)) {
      assert.throws(
        () => loadNotificationChannels({ [variable]: value }),
        (error: unknown) => {
          assert.ok(error instanceof NotificationConfigError);
          assert.ok(error.message.includes(variable), error.message);
          assert.ok(!error.message.includes(secret), error.message);
          return true;
        },
        variable,
      );
    }
    assert.throws(
      () => loadNotificationChannels(bad),
      (error: unknown) => {
        assert.ok(error instanceof Error);
        for (const variable of Object.keys(bad)) assert.ok(error.message.includes(variable), variable);
        return true;
      },
    );
  });
});
