import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ArkorClient } from '../arkor/client.js';
import {
  CloudApiError,
  JobGoneError,
  StreamClosedError,
  StreamGaveUpError,
  StreamIdleTimeoutError,
} from '../arkor/errors.js';
import type { JobConfig } from '../arkor/schemas.js';
import { followJobEvents, type FollowJobEventsOptions, type StreamItem } from '../arkor/stream.js';
import { startEmulator, type Emulator, type JobBehaviour } from '../emulator/index.js';
import { startCaptureServer } from './support/arkor-capture-server.js';

const CONFIG: JobConfig = {
  model: 'unsloth/gemma-4-E4B-it',
  datasetSource: { type: 'huggingface', name: 'org/ds' },
  maxSteps: 12,
  saveSteps: 4,
};
/** Long enough that the job is still running when a test is done with its scripted connections. */
const LONG_CONFIG: JobConfig = { ...CONFIG, maxSteps: 100_000 };
const TINY: FollowJobEventsOptions['policy'] = { baseDelayMs: 5, maxDelayMs: 200 };

let emulator: Emulator;
let client: ArkorClient;

before(async () => {
  emulator = await startEmulator({ stepMs: 2 });
  client = new ArkorClient({
    baseUrl: emulator.url,
    token: emulator.token,
    scope: { orgSlug: emulator.orgSlug, projectSlug: emulator.projectSlug },
  });
});
after(() => emulator.close());

async function newJob(behaviour: JobBehaviour = {}, config: JobConfig = CONFIG): Promise<string> {
  emulator.setBehaviour({ kind: 'nextJob' }, behaviour);
  return (await client.createJob({ name: 'stream-test', config })).id;
}

async function collect(iterable: AsyncIterable<StreamItem>): Promise<StreamItem[]> {
  const items: StreamItem[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}

function opensOf(jobId: string): Array<string | null> {
  return emulator.stats().jobs.find((job) => job.id === jobId)?.streamOpens ?? [];
}

function eventCountOf(jobId: string): number {
  return emulator.stats().jobs.find((job) => job.id === jobId)?.eventCount ?? -1;
}

/** Ids "1".."n", the emulator's per-job sequence. */
function sequence(n: number): string[] {
  return Array.from({ length: n }, (_, i) => String(i + 1));
}

describe('followJobEvents', () => {
  it('follows a healthy run to training.completed, every event once and in order', async () => {
    const jobId = await newJob({ nanLossFromStep: 10 });
    const items = await collect(followJobEvents(client, jobId, { policy: TINY }));
    assert.ok(items.every((item) => item.kind === 'event'));
    assert.deepEqual(
      items.map((item) => item.id),
      sequence(eventCountOf(jobId)),
    );
    assert.deepEqual(
      items.map((item) => item.cursor),
      items.map((item) => item.id),
    );
    const events = items.flatMap((item) => (item.kind === 'event' ? [item.event] : []));
    assert.equal(events[0]?.type, 'training.started');
    assert.equal(events.at(-1)?.type, 'training.completed');
    assert.deepEqual(
      events.filter((e) => e.type === 'checkpoint.saved').map((e) => e.type === 'checkpoint.saved' && e.step),
      [4, 8, 12],
    );
    const logs = events.flatMap((e) => (e.type === 'training.log' ? [e] : []));
    assert.ok(logs.some((e) => e.step === 9 && typeof e.loss === 'number' && Number.isFinite(e.loss)));
    assert.ok(logs.some((e) => e.step === 10 && Number.isNaN(e.loss)));
    assert.deepEqual(opensOf(jobId), [null]);
  });

  it('resumes after clean and reset drops without gap or duplicate', async () => {
    const jobId = await newJob({
      streamConnections: [
        { kind: 'drop', afterFrames: 3, mode: 'clean' },
        { kind: 'drop', afterFrames: 2, mode: 'reset' },
        { kind: 'drop', afterFrames: 4, mode: 'clean' },
        { kind: 'drop', afterFrames: 1, mode: 'reset' },
      ],
    });
    const connecting: Array<string | null> = [];
    const items = await collect(
      followJobEvents(client, jobId, {
        policy: TINY,
        onConnecting: ({ lastEventId }) => connecting.push(lastEventId ?? null),
      }),
    );
    assert.deepEqual(
      items.map((item) => item.id),
      sequence(eventCountOf(jobId)),
    );
    const last = items.at(-1);
    assert.ok(last?.kind === 'event' && last.event.type === 'training.completed');
    // A reset may lose frames still in the server's buffers, so later cursors vary; what must
    // hold is that the server saw exactly the cursors the follower sent.
    const opens = opensOf(jobId);
    assert.equal(opens.length, 5);
    assert.deepEqual(opens.slice(0, 2), [null, '3']);
    assert.deepEqual(opens, connecting);
  });

  it('starts from the given cursor', async () => {
    const jobId = await newJob();
    // Wait until event 5 exists (an unknown cursor makes the emulator replay everything).
    while (eventCountOf(jobId) < 6) await new Promise((resolve) => setTimeout(resolve, 5));
    const items = await collect(followJobEvents(client, jobId, { cursor: '5', policy: TINY }));
    assert.equal(items[0]?.id, '6');
    assert.deepEqual(
      items.map((item) => item.id),
      sequence(eventCountOf(jobId)).slice(5),
    );
    assert.deepEqual(opensOf(jobId), ['5']);
  });

  it('backs off exponentially and resets the counter on progress', async () => {
    const jobId = await newJob({
      streamConnections: [
        { kind: 'status', status: 500 },
        { kind: 'status', status: 502 },
        { kind: 'status', status: 500 },
        { kind: 'drop', afterFrames: 2, mode: 'clean' },
        { kind: 'status', status: 500 },
        { kind: 'status', status: 500 },
      ],
    });
    const retries: Array<{ attempt: number; delayMs: number; status?: number }> = [];
    const connecting: Array<{ attempt: number; lastEventId?: string }> = [];
    const items = await collect(
      followJobEvents(client, jobId, {
        policy: { baseDelayMs: 4, maxDelayMs: 100 },
        random: () => 0.5,
        onConnecting: (info) => connecting.push(info),
        onRetry: ({ attempt, delayMs, error }) =>
          retries.push({ attempt, delayMs, ...(error instanceof CloudApiError ? { status: error.status } : {}) }),
      }),
    );
    assert.deepEqual(
      items.map((item) => item.id),
      sequence(eventCountOf(jobId)),
    );
    assert.deepEqual(retries, [
      { attempt: 1, delayMs: 4, status: 500 },
      { attempt: 2, delayMs: 8, status: 502 },
      { attempt: 3, delayMs: 16, status: 500 },
      { attempt: 1, delayMs: 4, status: 500 },
      { attempt: 2, delayMs: 8, status: 500 },
    ]);
    assert.deepEqual(connecting, [
      { attempt: 0 },
      { attempt: 1 },
      { attempt: 2 },
      { attempt: 3 },
      { attempt: 0, lastEventId: '2' },
      { attempt: 1, lastEventId: '2' },
      { attempt: 2, lastEventId: '2' },
    ]);
  });

  it('gives up after maxAttempts with the last error as cause', async () => {
    const jobId = await newJob(
      {
        streamConnections: [
          { kind: 'status', status: 500 },
          { kind: 'status', status: 503 },
          { kind: 'status', status: 504, error: 'last' },
        ],
      },
      LONG_CONFIG,
    );
    let retries = 0;
    await assert.rejects(
      collect(followJobEvents(client, jobId, { policy: { ...TINY, maxAttempts: 2 }, onRetry: () => (retries += 1) })),
      (error) => {
        assert.ok(error instanceof StreamGaveUpError);
        assert.equal(error.message, 'Trainer SSE stream failed 3 consecutive times; giving up.');
        assert.ok(error.cause instanceof CloudApiError && error.cause.status === 504 && error.cause.message === 'last');
        return true;
      },
    );
    assert.equal(retries, 2);
    assert.equal(opensOf(jobId).length, 3);
    await client.cancelJob(jobId);
  });

  for (const status of [401, 403, 410, 426]) {
    it(`throws ${status} at once without retrying`, async () => {
      const jobId = await newJob({ streamConnections: [{ kind: 'status', status }] }, LONG_CONFIG);
      let retries = 0;
      await assert.rejects(
        collect(followJobEvents(client, jobId, { policy: TINY, onRetry: () => (retries += 1) })),
        (error) => error instanceof CloudApiError && error.status === status,
      );
      assert.equal(retries, 0);
      assert.equal(opensOf(jobId).length, 1);
      await client.cancelJob(jobId);
    });
  }

  it('retries 404, 400 and 429, honouring Retry-After on 429/503 up to maxDelayMs', async () => {
    const jobId = await newJob({
      notVisibleForOpens: 1,
      streamConnections: [
        { kind: 'status', status: 400 },
        { kind: 'status', status: 429, retryAfterSeconds: 1 },
        { kind: 'status', status: 503, retryAfterSeconds: 1 },
        { kind: 'status', status: 500, retryAfterSeconds: 1 },
      ],
    });
    const retries: Array<{ status: number | undefined; delayMs: number }> = [];
    const items = await collect(
      followJobEvents(client, jobId, {
        policy: { baseDelayMs: 2, maxDelayMs: 40 },
        random: () => 0.5,
        onRetry: ({ delayMs, error }) =>
          retries.push({ status: error instanceof CloudApiError ? error.status : undefined, delayMs }),
      }),
    );
    assert.deepEqual(retries, [
      { status: 404, delayMs: 2 },
      { status: 400, delayMs: 4 },
      { status: 429, delayMs: 40 },
      { status: 503, delayMs: 40 },
      { status: 500, delayMs: 32 },
    ]);
    assert.deepEqual(
      items.map((item) => item.id),
      sequence(eventCountOf(jobId)),
    );
  });

  it('takes a job whose stream 404s after its events were seen for gone, after three 404s in a row', async () => {
    const notFound = { kind: 'status', status: 404 } as const;
    const jobId = await newJob(
      {
        streamConnections: [
          { kind: 'drop', afterFrames: 2, mode: 'clean' },
          // One 404, then progress again: the count starts over.
          notFound,
          { kind: 'drop', afterFrames: 1, mode: 'reset' },
          notFound,
          notFound,
          notFound,
        ],
      },
      LONG_CONFIG,
    );
    const items: StreamItem[] = [];
    await assert.rejects(
      (async () => {
        for await (const item of followJobEvents(client, jobId, { policy: TINY })) items.push(item);
      })(),
      (error) => {
        assert.ok(error instanceof JobGoneError, String(error));
        assert.equal(error.notFoundOpens, 3);
        assert.ok(error.cause instanceof CloudApiError && error.cause.status === 404);
        return true;
      },
    );
    assert.deepEqual(
      items.map((item) => item.id),
      sequence(3),
    );
    assert.equal(opensOf(jobId).length, 6);
    await client.cancelJob(jobId);
  });

  it('waits at least Retry-After when the cap allows it', async () => {
    const jobId = await newJob({ streamConnections: [{ kind: 'status', status: 429, retryAfterSeconds: 1 }] });
    const delays: number[] = [];
    await collect(
      followJobEvents(client, jobId, {
        policy: { baseDelayMs: 5, maxDelayMs: 5000 },
        onRetry: ({ delayMs }) => delays.push(delayMs),
      }),
    );
    assert.deepEqual(delays, [1000]);
  });

  it('applies the frame rules: pings, malformed, unknown, empty ids, trailing frames, end', async () => {
    const jobId = await newJob(
      {
        streamConnections: [
          // No progress at all: a comment, a ping, a frame without data, a malformed frame with an empty id.
          {
            kind: 'raw',
            body: ': hello\n\nevent: ping\ndata:\n\nid: x0\nevent: training.started\n\nid:\ndata: {not json\n\n',
          },
          // Progress via unknown payloads, then a clean close.
          {
            kind: 'raw',
            body: 'id: u1\nevent: status\ndata: {"status":"running"}\n\ndata: {"type":"training.paused"}\n\nid: x1\n\n',
          },
          // A known event, then an unterminated trailing frame that must be dropped.
          {
            kind: 'raw',
            body: 'id: e1\nevent: training.log\ndata: {"type":"training.log","jobId":"j","timestamp":"t","step":3,"loss":NaN}\n\nid: e2\ndata: {"type":"training.started","jobId":"j","timestamp":"t"}\n',
          },
          {
            kind: 'raw',
            body: 'event: ping\ndata: \n\nevent: end\ndata: {}\n\nid: e9\ndata: {"type":"training.started","jobId":"j","timestamp":"t"}\n\n',
          },
        ],
      },
      LONG_CONFIG,
    );
    const retries: unknown[] = [];
    const items = await collect(
      followJobEvents(client, jobId, { policy: TINY, onRetry: ({ error }) => retries.push(error) }),
    );
    const log = items[4];
    assert.ok(log?.kind === 'event' && log.event.type === 'training.log');
    assert.ok(Number.isNaN(log.event.loss));
    assert.equal(log.event.evalLoss, null);
    assert.deepEqual(
      items.map((item) => (item.kind === 'event' ? { ...item, event: item.event.type } : item)),
      [
        { kind: 'ping' },
        { kind: 'malformed' },
        { kind: 'unknown', id: 'u1', cursor: 'u1', data: { status: 'running' } },
        { kind: 'unknown', cursor: 'u1', type: 'training.paused', data: { type: 'training.paused' } },
        { kind: 'event', id: 'e1', cursor: 'e1', event: 'training.log' },
        { kind: 'ping', cursor: 'e1' },
        { kind: 'end', cursor: 'e1' },
      ],
    );
    assert.equal(retries.length, 1);
    assert.ok(retries[0] instanceof StreamClosedError);
    assert.deepEqual(opensOf(jobId), [null, null, 'u1', 'e1']);
    await client.cancelJob(jobId);
  });

  it('treats empty, garbage and ping-only connections as failures', async () => {
    const jobId = await newJob({
      streamConnections: [{ kind: 'empty' }, { kind: 'garbage' }, { kind: 'pingOnly', pings: 2, intervalMs: 1 }],
    });
    const retries: Array<{ attempt: number; error: unknown }> = [];
    const items = await collect(
      followJobEvents(client, jobId, { policy: TINY, onRetry: (info) => retries.push(info) }),
    );
    assert.deepEqual(
      retries.map((r) => [r.attempt, r.error instanceof StreamClosedError]),
      [
        [1, true],
        [2, true],
        [3, true],
      ],
    );
    assert.deepEqual(
      items.filter((i) => i.kind !== 'event').map((i) => i.kind),
      ['malformed', 'ping', 'ping'],
    );
    assert.deepEqual(
      items.filter((i) => i.kind === 'event').map((i) => i.id),
      sequence(eventCountOf(jobId)),
    );
  });

  it('reconnects when the idle watchdog fires, before and after the headers', async () => {
    const jobId = await newJob({ streamConnections: [{ kind: 'stall' }, { kind: 'slow', ms: 30_000 }] });
    const retries: unknown[] = [];
    const items = await collect(
      followJobEvents(client, jobId, { policy: TINY, idleTimeoutMs: 150, onRetry: ({ error }) => retries.push(error) }),
    );
    assert.equal(retries.length, 2);
    assert.ok(retries.every((error) => error instanceof StreamIdleTimeoutError && error.idleTimeoutMs === 150));
    assert.deepEqual(
      items.map((item) => item.id),
      sequence(eventCountOf(jobId)),
    );
  });

  it('does not count the consumer holding an item as idleness', async () => {
    const jobId = await newJob();
    const retries: unknown[] = [];
    let first = true;
    for await (const item of followJobEvents(client, jobId, {
      policy: TINY,
      idleTimeoutMs: 100,
      onRetry: ({ error }) => retries.push(error),
    })) {
      if (first) {
        first = false;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
      if (item.kind === 'event' && item.event.type === 'training.completed') break;
    }
    assert.deepEqual(retries, []);
  });

  it('returns after training.failed and after end (cancel)', async () => {
    const failedJob = await newJob({ failAtStep: { step: 5, error: 'CUDA OOM' } });
    const failedItems = await collect(followJobEvents(client, failedJob, { policy: TINY }));
    const last = failedItems.at(-1);
    assert.ok(last?.kind === 'event' && last.event.type === 'training.failed');
    assert.equal(last.event.error, 'CUDA OOM');

    const cancelled = await newJob({}, LONG_CONFIG);
    const items: StreamItem[] = [];
    for await (const item of followJobEvents(client, cancelled, { policy: TINY })) {
      items.push(item);
      if (items.length === 3) await client.cancelJob(cancelled);
    }
    assert.equal(items.at(-1)?.kind, 'end');
    assert.equal((await client.getJob(cancelled)).job.status, 'cancelled');
  });

  it('throws the abort reason during a backoff sleep and during an open connection', { timeout: 10_000 }, async () => {
    const jobId = await newJob(
      { streamConnections: [{ kind: 'status', status: 500 }, { kind: 'stall' }] },
      LONG_CONFIG,
    );
    const sleeping = new AbortController();
    const reason = new Error('stop sleeping');
    await assert.rejects(
      collect(
        followJobEvents(client, jobId, {
          signal: sleeping.signal,
          policy: { baseDelayMs: 60_000 },
          onRetry: () => setImmediate(() => sleeping.abort(reason)),
        }),
      ),
      (error) => error === reason,
    );
    const reading = new AbortController();
    const readReason = new Error('stop reading');
    await assert.rejects(
      collect(
        followJobEvents(client, jobId, {
          signal: reading.signal,
          idleTimeoutMs: 0,
          policy: TINY,
          onConnecting: () => setTimeout(() => reading.abort(readReason), 50),
        }),
      ),
      (error) => error === readReason,
    );
    const already = new AbortController();
    already.abort(new Error('before start'));
    await assert.rejects(collect(followJobEvents(client, jobId, { signal: already.signal })), /before start/);
    await client.cancelJob(jobId);
  });
});

describe('followJobEvents connection release', () => {
  it('releases the connection when the consumer stops early', { timeout: 10_000 }, async (t) => {
    const server = await startCaptureServer();
    t.after(() => server.close());
    const timers: NodeJS.Timeout[] = [];
    t.after(() => timers.forEach(clearInterval));
    server.handle((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' });
      let n = 0;
      timers.push(
        setInterval(() => {
          n += 1;
          res.write(`id: ${n}\ndata: {"type":"training.log","jobId":"j","timestamp":"t","step":${n}}\n\n`);
        }, 5),
      );
    });
    const local = new ArkorClient({ baseUrl: server.url, token: 't', scope: { orgSlug: 'o', projectSlug: 'p' } });
    const closed = server.nextClose();
    const stream = followJobEvents(local, 'j', { policy: TINY });
    const first = await stream.next();
    assert.equal(first.done, false);
    assert.equal(first.value?.kind === 'event' ? first.value.event.type : undefined, 'training.log');
    await stream.return(undefined);
    await closed;
    assert.equal(server.closedResponses, 1);
  });
});
