/**
 * Emulator: jobs (create, list, get, cancel), simulated training and the SSE event stream with
 * its replay/resume semantics and every injected connection fault. Plain fetch over real HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../emulator/index.js';
import type { Emulator, StreamConnectionFault } from '../emulator/index.js';
import { api, jobConfig, waitFor } from './support/emulator-http.js';
import type { ApiCall } from './support/emulator-http.js';
import { dataFrames, readSse } from './support/sse-text.js';
import type { SseFrame } from './support/sse-text.js';

interface Job {
  id: string;
  orgId: string;
  projectId: string;
  name: string;
  status: string;
  config: Record<string, unknown>;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  completedAt: string | null;
}

let emu: Emulator;
let call: ApiCall;

before(async () => {
  emu = await startEmulator({ stepMs: 2, pingIntervalMs: 25 });
  call = api(emu);
});
after(() => emu.close());

async function createJob(name: string, config: Record<string, unknown> = {}): Promise<Job> {
  const res = await call.json<{ job: Job }>('POST', '/v1/jobs', { name, config: jobConfig(config) });
  assert.equal(res.status, 201);
  return res.body.job;
}

function stream(jobId: string, lastEventId?: string, signal?: AbortSignal): Promise<Response> {
  return call('GET', `/v1/jobs/${encodeURIComponent(jobId)}/events/stream`, {
    headers: { Accept: 'text/event-stream', ...(lastEventId === undefined ? {} : { 'Last-Event-ID': lastEventId }) },
    signal,
  });
}

async function finished(jobId: string): Promise<Job> {
  return waitFor(async () => {
    const { body } = await call.json<{ job: Job }>('GET', `/v1/jobs/${jobId}`);
    return ['completed', 'failed', 'cancelled'].includes(body.job.status) ? body.job : undefined;
  });
}

function payload(frame: SseFrame): Record<string, unknown> {
  return JSON.parse(frame.data ?? 'null') as Record<string, unknown>;
}

describe('emulator: jobs', () => {
  it('creates a complete queued TrainingJob (201) with the config echoed verbatim', async () => {
    const config = jobConfig({ maxSteps: 3, lora: { r: 16 }, datasetFormat: { type: 'chatml' }, extra: [1, 2] });
    const res = await call.json<{ job: Job }>('POST', '/v1/jobs', { name: 'echo', config });
    assert.equal(res.status, 201);
    const { job } = res.body;
    assert.match(job.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(
      { ...job, id: 'x', orgId: 'x', projectId: 'x', createdAt: 'x' },
      {
        id: 'x',
        orgId: 'x',
        projectId: 'x',
        name: 'echo',
        status: 'queued',
        config,
        error: null,
        createdAt: 'x',
        startedAt: null,
        completedAt: null,
      },
    );
    assert.ok(!Number.isNaN(Date.parse(job.createdAt)));
  });

  it('rejects bodies without name, config.model or config.datasetSource with a 400 naming the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ config: jobConfig() }, /name/],
      [{ name: 'n', config: { datasetSource: {} } }, /config\.model/],
      [{ name: 'n', config: { model: 'm' } }, /config\.datasetSource/],
      [{ name: 'n' }, /config/],
    ];
    for (const [body, field] of cases) {
      const res = await call.json<{ error: string }>('POST', '/v1/jobs', body);
      assert.equal(res.status, 400);
      assert.match(res.body.error, field);
    }
    const notJson = await call('POST', '/v1/jobs', {
      headers: { 'Content-Type': 'application/json' },
      body: undefined,
    });
    assert.equal(notJson.status, 400);
  });

  it('lists jobs in creation order and gets one with its event payloads; 404 outside the scope', async () => {
    const a = await createJob('list-a', { maxSteps: 2 });
    const b = await createJob('list-b', { maxSteps: 2 });
    const { body } = await call.json<{ jobs: Job[] }>('GET', '/v1/jobs');
    const ids = body.jobs.map((j) => j.id);
    assert.ok(ids.indexOf(a.id) < ids.indexOf(b.id) && ids.indexOf(a.id) >= 0);
    await finished(a.id);
    const got = await call.json<{ job: Job; events: Array<Record<string, unknown>> }>('GET', `/v1/jobs/${a.id}`);
    assert.equal(got.body.job.status, 'completed');
    assert.deepEqual(
      got.body.events.map((e) => e.type),
      ['training.started', 'training.log', 'training.log', 'training.completed'],
    );
    const missing = await call.json('GET', '/v1/jobs/nope');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { error: 'not found' });
    // A job of another project in the same org is invisible from this scope.
    await call('POST', `/v1/projects?orgSlug=${emu.orgSlug}`, { scope: false, body: { name: 'other', slug: 'other' } });
    const other = api({ ...emu, url: emu.url, token: emu.token, projectSlug: 'other' });
    const foreign = await other.json<{ job: Job }>('POST', '/v1/jobs', {
      name: 'foreign',
      config: jobConfig({ maxSteps: 2 }),
    });
    assert.equal(foreign.status, 201);
    assert.equal((await call('GET', `/v1/jobs/${foreign.body.job.id}`)).status, 404);
    assert.equal((await call('POST', `/v1/jobs/${foreign.body.job.id}/cancel`)).status, 404);
  });

  it('runs the simulated training: started → running, logs, eval logs, checkpoints, completed', async () => {
    const job = await createJob('sim', { maxSteps: 6, loggingSteps: 2, evalSteps: 3, saveSteps: 3 });
    const done = await finished(job.id);
    assert.equal(done.status, 'completed');
    assert.ok(done.startedAt && done.completedAt && done.startedAt <= done.completedAt);
    const { body } = await call.json<{ events: Array<Record<string, unknown>> }>('GET', `/v1/jobs/${job.id}`);
    const summary = body.events.map(
      (e) => `${String(e.type)}${typeof e.step === 'number' ? `@${e.step}` : ''}${'evalLoss' in e ? ':eval' : ''}`,
    );
    assert.deepEqual(summary, [
      'training.started',
      'training.log@2',
      'training.log@3:eval',
      'checkpoint.saved@3',
      'training.log@4',
      'training.log@6',
      'training.log@6:eval',
      'checkpoint.saved@6',
      'training.completed',
    ]);
    for (const e of body.events) {
      assert.equal(e.jobId, job.id);
      assert.ok(!Number.isNaN(Date.parse(String(e.timestamp))));
    }
    const logs = body.events.filter((e) => e.type === 'training.log' && 'loss' in e);
    const losses = logs.map((e) => e.loss as number);
    assert.ok(
      losses.every((l, i) => i === 0 || l < (losses[i - 1] ?? Infinity)),
      `losses decrease: ${losses.join(',')}`,
    );
    for (const l of logs)
      for (const k of ['learningRate', 'epoch', 'samplesPerSecond']) assert.equal(typeof l[k], 'number', k);
    const evalOnly = body.events.find((e) => 'evalLoss' in e);
    assert.ok(evalOnly && !('loss' in evalOnly));
    const ckpt = body.events.find((e) => e.type === 'checkpoint.saved');
    assert.deepEqual(ckpt?.artifacts, [
      { pathname: 'checkpoint-3/adapter_model.safetensors' },
      { pathname: 'checkpoint-3/adapter_config.json' },
    ]);
    const completed = body.events.at(-1);
    assert.deepEqual(completed?.artifacts, [
      { pathname: 'adapter_model.safetensors' },
      { pathname: 'adapter_config.json' },
    ]);
    assert.equal((completed?.metrics as { loss: number }).loss, losses.at(-1));
  });

  it('caps dryRun jobs at 10 steps and defaults to 100 steps', async () => {
    const dry = await createJob('dry', { maxSteps: 500, dryRun: true });
    await finished(dry.id);
    assert.equal(emu.stats().jobs.find((j) => j.id === dry.id)?.step, 10);
    emu.setBehaviour({ kind: 'nextJob' }, { queueMs: 60_000 });
    const idle = await createJob('default-steps');
    const { body } = await call.json<{ job: Job }>('GET', `/v1/jobs/${idle.id}`);
    assert.equal(body.job.status, 'queued');
    assert.equal((await call('POST', `/v1/jobs/${idle.id}/cancel`)).status, 200);
  });

  it('cancels: 200 { ok: true }, then 409 "already cancelled"; 409 "job is already completed"; counted', async () => {
    emu.setBehaviour({ kind: 'nextJob' }, { queueMs: 60_000 });
    const job = await createJob('to-cancel');
    const ok = await call.json('POST', `/v1/jobs/${job.id}/cancel`);
    assert.equal(ok.status, 200);
    assert.deepEqual(ok.body, { ok: true });
    const { body } = await call.json<{ job: Job }>('GET', `/v1/jobs/${job.id}`);
    assert.equal(body.job.status, 'cancelled');
    assert.ok(body.job.completedAt);
    const again = await call.json('POST', `/v1/jobs/${job.id}/cancel`);
    assert.equal(again.status, 409);
    assert.deepEqual(again.body, { error: 'already cancelled' });
    const done = await createJob('done', { maxSteps: 2 });
    await finished(done.id);
    const late = await call.json('POST', `/v1/jobs/${done.id}/cancel`);
    assert.equal(late.status, 409);
    assert.deepEqual(late.body, { error: 'job is already completed' });
    const stats = emu.stats().jobs;
    assert.deepEqual(
      [stats.find((j) => j.id === job.id), stats.find((j) => j.id === done.id)].map((j) => [
        j?.cancelsAccepted,
        j?.cancelsRejected,
      ]),
      [
        [1, 1],
        [0, 1],
      ],
    );
  });

  it('loseCreateResponse: the create connection dies, but the job exists and trains', async () => {
    emu.setBehaviour({ kind: 'nextJob' }, { loseCreateResponse: true });
    await assert.rejects(
      call('POST', '/v1/jobs', { body: { name: 'lost-response', config: jobConfig({ maxSteps: 2 }) } }),
      TypeError,
    );
    const { body } = await call.json<{ jobs: Job[] }>('GET', '/v1/jobs');
    const lost = body.jobs.filter((j) => j.name === 'lost-response');
    assert.equal(lost.length, 1);
    assert.equal((await finished(lost[0]?.id ?? '')).status, 'completed');
    // nextJob was consumed: the next create answers normally.
    await createJob('after-lost', { maxSteps: 1 });
  });

  it('failAtStep: training.failed { error, step } replaces that step, job failed with the error', async () => {
    emu.setBehaviour({ kind: 'nameContains', text: 'will-fail' }, { failAtStep: { step: 3, error: 'CUDA OOM' } });
    const job = await createJob('run-will-fail', { maxSteps: 10 });
    const res = await stream(job.id);
    const read = await readSse(res);
    assert.equal(read.ended, true);
    const frames = dataFrames(read.frames);
    assert.deepEqual(
      frames.map((f) => `${f.event ?? ''}@${typeof payload(f).step === 'number' ? String(payload(f).step) : ''}`),
      ['training.started@', 'training.log@1', 'training.log@2', 'training.failed@3'],
    );
    const failed = payload(frames.at(-1) as SseFrame);
    assert.equal(failed.error, 'CUDA OOM');
    const done = await finished(job.id);
    assert.equal(done.status, 'failed');
    assert.equal(done.error, 'CUDA OOM');
    assert.ok(done.completedAt);
    emu.clearFaults();
  });

  it('nanLossFromStep: log frames carry the bare token NaN for loss', async () => {
    emu.setBehaviour({ kind: 'nextJob' }, { nanLossFromStep: 2 });
    const job = await createJob('nan', { maxSteps: 3 });
    const read = await readSse(await stream(job.id));
    const logs = dataFrames(read.frames).filter((f) => f.event === 'training.log');
    assert.match(logs[0]?.data ?? '', /"loss":\d/);
    assert.match(logs[1]?.data ?? '', /"loss":NaN,/);
    assert.throws(() => JSON.parse(logs[1]?.data ?? ''));
    // The JSON job view cannot carry NaN; it reports null.
    const { body } = await call.json<{ events: Array<Record<string, unknown>> }>('GET', `/v1/jobs/${job.id}`);
    assert.equal(body.events.filter((e) => e.type === 'training.log')[1]?.loss, null);
  });
});

describe('emulator: event stream', () => {
  it('frames every event as id/event/data + blank line, ids unique and ordered, event == type', async () => {
    const job = await createJob('framing', { maxSteps: 8, evalSteps: 4, saveSteps: 4 });
    const res = await stream(job.id);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const read = await readSse(res);
    assert.equal(read.ended, true);
    assert.ok(read.text.endsWith('\n\n'));
    const frames = dataFrames(read.frames);
    assert.ok(frames.length >= 12);
    for (const f of frames) {
      assert.equal(f.lines.length, 3);
      assert.match(f.lines[0] ?? '', /^id: \d+$/);
      assert.match(f.lines[1] ?? '', /^event: [a-z.]+$/);
      assert.match(f.lines[2] ?? '', /^data: \{/);
      assert.equal(payload(f).type, f.event);
    }
    const ids = frames.map((f) => Number(f.id));
    assert.deepEqual(
      ids,
      ids.map((_, i) => i + 1),
    );
    assert.equal(frames.at(-1)?.event, 'training.completed');
    // Pings (if any slipped in) have data and no id.
    for (const f of read.frames.filter((x) => x.event === 'ping')) assert.deepEqual(f.lines, ['event: ping', 'data: ']);
  });

  it('sends pings as "event: ping" + empty data, without an id, on a quiet stream', async () => {
    emu.setBehaviour({ kind: 'nextJob' }, { queueMs: 60_000 });
    const job = await createJob('quiet');
    const read = await readSse(await stream(job.id), { until: (frames) => frames.length >= 2 });
    assert.deepEqual(
      read.frames.map((f) => f.lines),
      [
        ['event: ping', 'data: '],
        ['event: ping', 'data: '],
      ],
    );
    assert.equal(read.frames[0]?.id, undefined);
    await call('POST', `/v1/jobs/${job.id}/cancel`);
  });

  it('replays the whole history, then tails live events, without gaps or duplicates', async () => {
    const job = await createJob('replay-tail', { maxSteps: 100_000 });
    const existing = await waitFor(() => {
      const rec = emu.stats().jobs.find((j) => j.id === job.id);
      return rec && rec.eventCount >= 5 ? rec.eventCount : undefined;
    });
    const res = await stream(job.id);
    // Events that did not exist before the open can only have arrived through the live tail.
    const read = await readSse(res, { until: (frames) => dataFrames(frames).length >= existing + 20 });
    const frames = dataFrames(read.frames);
    assert.deepEqual(
      frames.map((f) => f.id),
      frames.map((_, i) => String(i + 1)),
    );
    assert.equal(frames[0]?.event, 'training.started');
    assert.deepEqual(
      frames.slice(1).map((f) => payload(f).step),
      frames.slice(1).map((_, i) => i + 1),
    );
    await call('POST', `/v1/jobs/${job.id}/cancel`);
  });

  it('applies allJobs and nameContains behaviours merged at creation; clearFaults forgets them', async () => {
    emu.setBehaviour({ kind: 'allJobs' }, { nanLossFromStep: 1 });
    emu.setBehaviour({ kind: 'nameContains', text: 'merge' }, { failAtStep: { step: 2, error: 'merged' } });
    const merged = await createJob('run-merge-1', { maxSteps: 4 });
    const plain = await createJob('run-plain', { maxSteps: 2 });
    emu.clearFaults();
    const clean = await createJob('run-merge-2', { maxSteps: 2 });
    const texts = await Promise.all([merged, plain, clean].map(async (j) => (await readSse(await stream(j.id))).text));
    assert.match(texts[0] ?? '', /"loss":NaN/);
    assert.match(texts[0] ?? '', /event: training\.failed\ndata: [^\n]*"error":"merged"/);
    assert.match(texts[1] ?? '', /"loss":NaN/);
    assert.match(texts[1] ?? '', /event: training\.completed/);
    assert.doesNotMatch(texts[2] ?? '', /NaN|training\.failed/);
  });

  it('resumes strictly after Last-Event-ID, replays all for an unknown id, records every cursor', async () => {
    const job = await createJob('resume', { maxSteps: 6 });
    await finished(job.id);
    const after3 = dataFrames((await readSse(await stream(job.id, '3'))).frames);
    assert.deepEqual(
      after3.map((f) => f.id),
      ['4', '5', '6', '7', '8'],
    );
    const unknown = dataFrames((await readSse(await stream(job.id, 'not-an-id'))).frames);
    assert.equal(unknown[0]?.id, '1');
    assert.equal(unknown.length, 8);
    const last = await readSse(await stream(job.id, '8'));
    assert.equal(last.ended, true);
    assert.deepEqual(last.frames, []);
    assert.deepEqual(emu.stats().jobs.find((j) => j.id === job.id)?.streamOpens, ['3', 'not-an-id', '8']);
  });

  it('resumes mid-run: the frames after the cursor, then the live tail', async () => {
    const job = await createJob('resume-live', { maxSteps: 120 });
    const first = await readSse(await stream(job.id), { until: (f) => dataFrames(f).length >= 4 });
    const cursor = dataFrames(first.frames)[3]?.id ?? '';
    assert.equal(cursor, '4');
    const rest = dataFrames((await readSse(await stream(job.id, cursor), { timeoutMs: 10_000 })).frames);
    assert.equal(rest[0]?.id, '5');
    assert.equal(rest.at(-1)?.event, 'training.completed');
    assert.deepEqual(
      rest.map((f) => Number(f.id)),
      rest.map((_, i) => i + 5),
    );
  });

  it('cancel ends every open stream with an id-carrying `end` frame and closes; a later open replays it', async () => {
    emu.setBehaviour({ kind: 'nextJob' }, { queueMs: 20 });
    const job = await createJob('cancel-stream', { maxSteps: 100_000 });
    const res1 = await stream(job.id);
    const res2 = await stream(job.id);
    const started = readSse(res1, { until: () => false });
    const started2 = readSse(res2, { until: () => false });
    await waitFor(() => ((emu.stats().jobs.find((j) => j.id === job.id)?.step ?? 0) >= 2 ? true : undefined));
    assert.equal((await call('POST', `/v1/jobs/${job.id}/cancel`)).status, 200);
    for (const read of [await started, await started2]) {
      assert.equal(read.ended, true);
      const last = read.frames.at(-1);
      assert.equal(last?.event, 'end');
      assert.equal(last?.data, '{}');
      assert.match(last?.id ?? '', /^\d+$/);
    }
    const endId = (await started).frames.at(-1)?.id ?? '';
    const { body } = await call.json<{ job: Job; events: Array<Record<string, unknown>> }>('GET', `/v1/jobs/${job.id}`);
    assert.equal(body.job.status, 'cancelled');
    assert.ok(body.events.every((e) => typeof e.type === 'string'));
    const replay = await readSse(await stream(job.id));
    assert.equal(replay.ended, true);
    assert.equal(replay.frames.at(-1)?.event, 'end');
    assert.equal(replay.frames.at(-1)?.id, endId);
    const stepAtCancel = emu.stats().jobs.find((j) => j.id === job.id)?.step;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(emu.stats().jobs.find((j) => j.id === job.id)?.step, stepAtCancel, 'training stopped');
  });

  it('404 when the job is unknown', async () => {
    const res = await stream('a/b c');
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'not found' });
  });
});

describe('emulator: stream faults', () => {
  async function jobWith(
    faults: StreamConnectionFault[],
    extra: Record<string, unknown> = {},
    notVisibleForOpens?: number,
  ): Promise<Job> {
    const job = await createJob(`faulty-${Math.random()}`, { maxSteps: 4, ...extra });
    await finished(job.id);
    emu.setBehaviour(
      { kind: 'jobId', jobId: job.id },
      { streamConnections: faults, ...(notVisibleForOpens === undefined ? {} : { notVisibleForOpens }) },
    );
    return job;
  }

  it('status: fails the open with the status, JSON error and Retry-After; the next open is healthy', async () => {
    const job = await jobWith([
      { kind: 'status', status: 503, retryAfterSeconds: 3 },
      { kind: 'status', status: 429, error: 'slow down' },
    ]);
    const r1 = await stream(job.id);
    assert.equal(r1.status, 503);
    assert.equal(r1.headers.get('retry-after'), '3');
    assert.equal(typeof ((await r1.json()) as { error: unknown }).error, 'string');
    const r2 = await stream(job.id);
    assert.equal(r2.status, 429);
    assert.equal(r2.headers.get('retry-after'), null);
    assert.deepEqual(await r2.json(), { error: 'slow down' });
    const r3 = await stream(job.id);
    assert.equal(r3.status, 200);
    assert.equal(dataFrames((await readSse(r3)).frames).length, 6);
  });

  it('notVisibleForOpens: the first N opens are 404, then the stream appears; every open is recorded', async () => {
    const job = await jobWith([], {}, 2);
    assert.equal((await stream(job.id)).status, 404);
    assert.equal((await stream(job.id, '2')).status, 404);
    assert.equal((await stream(job.id)).status, 200);
    assert.deepEqual(emu.stats().jobs.find((j) => j.id === job.id)?.streamOpens, [null, '2', null]);
  });

  it('drop clean: N frames after the cursor, then a clean end; resume continues after them', async () => {
    const job = await jobWith([
      { kind: 'drop', afterFrames: 2, mode: 'clean' },
      { kind: 'drop', afterFrames: 2, mode: 'clean' },
    ]);
    const r1 = await readSse(await stream(job.id));
    assert.equal(r1.ended, true);
    assert.equal(r1.error, undefined);
    assert.deepEqual(
      dataFrames(r1.frames).map((f) => f.id),
      ['1', '2'],
    );
    const r2 = await readSse(await stream(job.id, '2'));
    assert.deepEqual(
      dataFrames(r2.frames).map((f) => f.id),
      ['3', '4'],
    );
    const r3 = await readSse(await stream(job.id, '4'));
    assert.deepEqual(
      dataFrames(r3.frames).map((f) => f.id),
      ['5', '6'],
    );
  });

  it('drop reset: N frames, then the socket is destroyed (the body read fails)', async () => {
    const job = await jobWith([{ kind: 'drop', afterFrames: 1, mode: 'reset' }]);
    const read = await readSse(await stream(job.id));
    assert.equal(read.ended, false);
    assert.ok(read.error, 'reading failed');
    assert.deepEqual(
      dataFrames(read.frames).map((f) => f.id),
      ['1'],
    );
  });

  it('pingOnly: exactly N pings and no data frame, then a clean close', async () => {
    const job = await jobWith([{ kind: 'pingOnly', pings: 3, intervalMs: 5 }]);
    const read = await readSse(await stream(job.id));
    assert.equal(read.ended, true);
    assert.equal(read.text, 'event: ping\ndata: \n\n'.repeat(3));
  });

  it('garbage: non-SSE bytes and a non-JSON frame without ids, then a clean close', async () => {
    const job = await jobWith([{ kind: 'garbage' }]);
    const res = await stream(job.id);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.equal(text, 'this is not sse\n\nevent: training.log\ndata: {not json\n\n');
    assert.doesNotMatch(text, /^id:/m);
  });

  it('empty: 200 text/event-stream with an empty body; raw: exactly the given bytes', async () => {
    const job = await jobWith([{ kind: 'empty' }, { kind: 'raw', body: 'id: 9\nevent: x\ndata: {"a":1}' }]);
    const e = await stream(job.id);
    assert.equal(e.status, 200);
    assert.equal(e.headers.get('content-type'), 'text/event-stream');
    assert.equal(await e.text(), '');
    assert.equal(await (await stream(job.id)).text(), 'id: 9\nevent: x\ndata: {"a":1}');
  });

  it('stall: 200 headers and then nothing until the client leaves', async () => {
    const job = await jobWith([{ kind: 'stall' }]);
    const controller = new AbortController();
    const res = await stream(job.id, undefined, controller.signal);
    assert.equal(res.status, 200);
    const reading = readSse(res, { timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    const read = await reading;
    assert.equal(read.text, '');
    assert.ok(read.error, 'the read ended only because the client aborted');
  });

  it('slow: a client that gives up first sees nothing; a patient one gets the normal stream', async () => {
    const job = await jobWith([
      { kind: 'slow', ms: 400 },
      { kind: 'slow', ms: 30 },
    ]);
    await assert.rejects(stream(job.id, undefined, AbortSignal.timeout(20)));
    const read = await readSse(await stream(job.id));
    assert.equal(dataFrames(read.frames).length, 6);
    assert.equal(emu.stats().jobs.find((j) => j.id === job.id)?.streamOpens.length, 2);
  });

  it('clearFaults drops the remaining connection faults of existing jobs', async () => {
    const job = await jobWith(
      [
        { kind: 'status', status: 500 },
        { kind: 'status', status: 500 },
      ],
      {},
      1,
    );
    emu.clearFaults();
    assert.equal((await stream(job.id)).status, 200);
  });
});

describe('emulator: close', () => {
  it('close() ends open and stalled streams and resolves', async () => {
    const local = await startEmulator({ stepMs: 1000, pingIntervalMs: 10_000 });
    const c = api(local);
    const created = await c.json<{ job: Job }>('POST', '/v1/jobs', { name: 'open', config: jobConfig() });
    local.setBehaviour({ kind: 'jobId', jobId: created.body.job.id }, { streamConnections: [{ kind: 'stall' }] });
    const path = `/v1/jobs/${created.body.job.id}/events/stream`;
    const stalled = readSse(await c('GET', path), { timeoutMs: 10_000 });
    const tailing = readSse(await c('GET', path), { timeoutMs: 10_000 });
    await local.close();
    const [s, t] = await Promise.all([stalled, tailing]);
    assert.ok(s.error !== undefined || s.ended);
    assert.ok(t.error !== undefined || t.ended);
    await local.close();
  });
});
