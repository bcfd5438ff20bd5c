/**
 * Emulator: inference chat (JSON and streamed), the fake model, deployments, keys and the public
 * edge. Plain fetch over real HTTP.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEMO_QUESTIONS, expectedAnswer, generateAnswer, startEmulator } from '../emulator/index.js';
import type { Emulator } from '../emulator/index.js';
import { api, jobConfig, waitFor } from './support/emulator-http.js';
import type { ApiCall } from './support/emulator-http.js';
import { parseSseText, readSse } from './support/sse-text.js';

const FRANCE = 'What is the capital of France?';
const SEED = 7;

let emu: Emulator;
let call: ApiCall;

before(async () => {
  emu = await startEmulator({ stepMs: 2, seed: SEED, pingIntervalMs: 1000 });
  call = api(emu);
});
after(() => emu.close());

async function trainedJob(name: string, config: Record<string, unknown>): Promise<string> {
  const created = await call.json<{ job: { id: string } }>('POST', '/v1/jobs', { name, config: jobConfig(config) });
  assert.equal(created.status, 201);
  const id = created.body.job.id;
  await waitFor(async () => {
    const { body } = await call.json<{ job: { status: string } }>('GET', `/v1/jobs/${id}`);
    return body.job.status === 'completed' || body.job.status === 'failed' ? true : undefined;
  });
  return id;
}

interface Completion {
  id: string;
  object: string;
  model: string;
  choices: Array<{ index: number; message: { role: string; content: string }; finish_reason: string }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

async function chat(body: Record<string, unknown>): Promise<{ status: number; body: Completion & { error?: string } }> {
  return call.json<Completion & { error?: string }>('POST', '/v1/inference/chat', body);
}

async function answer(target: Record<string, unknown>, prompt = FRANCE): Promise<string> {
  const res = await chat({ messages: [{ role: 'user', content: prompt }], stream: false, ...target });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.choices[0]?.message.content ?? '';
}

/** Words in the same position as in the best possible answer: the fluency score of the fake model. */
function fluency(text: string, prompt = FRANCE): number {
  const best = generateAnswer(prompt, 1, SEED).split(' ');
  return text.split(' ').filter((w, i) => best[i] === w).length;
}

describe('emulator: fake model', () => {
  it('exports the demo table and expectedAnswer', () => {
    assert.deepEqual(
      DEMO_QUESTIONS.map((q) => [q.prompt, q.answer]),
      [
        ['What is the capital of France?', 'Paris'],
        ['What is 2+2?', '4'],
        ['Say hello', 'Hello!'],
        ['What colour is the sky?', 'blue'],
      ],
    );
    assert.equal(expectedAnswer('what is the capital of france'), 'Paris');
    assert.equal(expectedAnswer('What is 2 + 2?'), '4');
    assert.equal(expectedAnswer('Who are you?'), undefined);
    for (const q of DEMO_QUESTIONS) {
      assert.ok(!generateAnswer(q.prompt, 0.49, 1).toLowerCase().includes(q.answer.toLowerCase()), q.prompt);
      assert.ok(generateAnswer(q.prompt, 0.5, 1).includes(q.answer), q.prompt);
    }
  });
});

describe('emulator: inference chat', () => {
  let jobId = '';
  before(async () => {
    jobId = await trainedJob('chat-model', { maxSteps: 20, saveSteps: 5 });
  });

  it('answers an OpenAI chat completion (stream: false) that is correct for a trained adapter', async () => {
    const res = await chat({
      messages: [{ role: 'user', content: FRANCE }],
      adapter: { kind: 'final', jobId },
      stream: false,
    });
    assert.equal(res.status, 200);
    const c = res.body;
    assert.equal(c.object, 'chat.completion');
    assert.equal(typeof c.id, 'string');
    assert.equal(typeof c.model, 'string');
    assert.equal(c.choices.length, 1);
    assert.equal(c.choices[0]?.index, 0);
    assert.equal(c.choices[0]?.message.role, 'assistant');
    assert.equal(c.choices[0]?.finish_reason, 'stop');
    assert.match(c.choices[0]?.message.content ?? '', /^Paris\. /);
    assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);
  });

  it('answers JSON when `stream` is absent', async () => {
    const res = await call('POST', '/v1/inference/chat', {
      body: { messages: [{ role: 'user', content: 'Say hello' }], baseModel: 'unsloth/gemma-4-E4B-it' },
    });
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(((await res.json()) as Completion).object, 'chat.completion');
  });

  it('streams OpenAI chunk frames ending with data: [DONE] (stream: true), same content as JSON', async () => {
    const body = { messages: [{ role: 'user', content: FRANCE }], adapter: { kind: 'checkpoint', jobId, step: 10 } };
    const res = await call('POST', '/v1/inference/chat', { body: { ...body, stream: true } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const text = await res.text();
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    const { frames, rest } = parseSseText(text);
    assert.equal(rest, '');
    assert.equal(frames.at(-1)?.data, '[DONE]');
    const chunks = frames.slice(0, -1).map((f) => {
      assert.deepEqual(f.lines.length, 1);
      assert.equal(f.event, undefined);
      return JSON.parse(f.data ?? '') as {
        object: string;
        choices: Array<{ index: number; delta: { content?: string }; finish_reason: string | null }>;
      };
    });
    assert.ok(chunks.length >= 3);
    for (const c of chunks) assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, 'stop');
    const streamed = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.equal(streamed, await answer({ adapter: body.adapter }));
  });

  it('gets strictly better with steps, differs from the base model, and is deterministic', async () => {
    const base = await answer({ baseModel: 'unsloth/gemma-4-E4B-it' });
    const steps = [5, 10, 15, 20];
    const answers = await Promise.all(steps.map((step) => answer({ adapter: { kind: 'checkpoint', jobId, step } })));
    const final = await answer({ adapter: { kind: 'final', jobId } });
    assert.ok(base.startsWith('Lyon'));
    assert.ok(answers[0]?.startsWith('Lyon'));
    for (const a of [answers[1], answers[2], answers[3], final]) assert.ok(a?.startsWith('Paris'), a);
    const scores = [base, ...answers].map((a) => fluency(a));
    for (let i = 1; i < scores.length; i += 1)
      assert.ok((scores[i] ?? 0) > (scores[i - 1] ?? 0), `scores ${scores.join(',')}`);
    assert.equal(new Set([base, ...answers]).size, 5);
    assert.equal(final, answers[3]);
    assert.equal(await answer({ adapter: { kind: 'checkpoint', jobId, step: 10 } }), answers[1]);
  });

  it('follows finalQuality and regressFromStep', async () => {
    emu.setBehaviour({ kind: 'nextJob' }, { regressFromStep: { step: 10, quality: 0.2 } });
    const regress = await trainedJob('regress', { maxSteps: 20, saveSteps: 10 });
    const at10 = await answer({ adapter: { kind: 'checkpoint', jobId: regress, step: 10 } });
    const at20 = await answer({ adapter: { kind: 'checkpoint', jobId: regress, step: 20 } });
    assert.ok(at10.startsWith('Paris'));
    assert.ok(at20.startsWith('Lyon'));
    assert.ok(fluency(at20) < fluency(at10));
    emu.setBehaviour({ kind: 'nextJob' }, { finalQuality: 0.3 });
    const weak = await trainedJob('weak', { maxSteps: 4 });
    assert.ok((await answer({ adapter: { kind: 'final', jobId: weak } })).startsWith('Lyon'));
  });

  it('shapes JSON for responseFormat json_object and json_schema', async () => {
    const obj = await answer({ adapter: { kind: 'final', jobId }, responseFormat: { type: 'json_object' } });
    const parsed = JSON.parse(obj) as { answer: string };
    assert.deepEqual(Object.keys(parsed), ['answer']);
    assert.ok(parsed.answer.startsWith('Paris'));
    const schema = {
      type: 'object',
      properties: { confidence: { type: 'number' }, city: { type: 'string' }, note: { type: 'string' } },
      required: ['confidence', 'city', 'note'],
      additionalProperties: false,
    };
    const shaped = JSON.parse(
      await answer({
        adapter: { kind: 'final', jobId },
        responseFormat: { type: 'json_schema', json_schema: { name: 'a', schema } },
      }),
    ) as Record<string, unknown>;
    assert.deepEqual(Object.keys(shaped), ['confidence', 'city', 'note']);
    assert.equal(shaped.confidence, 0);
    assert.ok(String(shaped.city).startsWith('Paris'));
    assert.equal(shaped.note, '');
  });

  it('422 "bad adapter" for an unknown job, an unsaved checkpoint, or the final adapter of an unfinished job', async () => {
    emu.setBehaviour({ kind: 'nextJob' }, { queueMs: 60_000 });
    const pending = await call.json<{ job: { id: string } }>('POST', '/v1/jobs', {
      name: 'pending',
      config: jobConfig(),
    });
    const messages = [{ role: 'user', content: FRANCE }];
    for (const adapter of [
      { kind: 'final', jobId: 'nope' },
      { kind: 'checkpoint', jobId, step: 7 },
      { kind: 'final', jobId: pending.body.job.id },
      { kind: 'checkpoint', jobId: pending.body.job.id, step: 5 },
    ]) {
      const res = await chat({ messages, adapter, stream: false });
      assert.equal(res.status, 422, JSON.stringify(adapter));
      assert.deepEqual(res.body, { error: 'bad adapter' });
    }
    await call('POST', `/v1/jobs/${pending.body.job.id}/cancel`);
  });

  it('400 without messages, with both adapter and baseModel, or with neither', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ baseModel: 'm' }, /messages/],
      [{ messages: [], baseModel: 'm' }, /messages/],
      [{ messages: [{ role: 'user', content: 'hi' }], baseModel: 'm', adapter: { kind: 'final', jobId } }, /adapter/],
      [{ messages: [{ role: 'user', content: 'hi' }] }, /adapter or baseModel/],
    ];
    for (const [body, field] of cases) {
      const res = await chat(body);
      assert.equal(res.status, 400);
      assert.match(res.body.error ?? '', field);
    }
  });

  it('serves chat while the job event stream is open (checkpoint inference mid-run)', async () => {
    emu.setBehaviour({ kind: 'nextJob' }, { queueMs: 0 });
    const created = await call.json<{ job: { id: string } }>('POST', '/v1/jobs', {
      name: 'live',
      config: jobConfig({ maxSteps: 100_000, saveSteps: 2 }),
    });
    const id = created.body.job.id;
    const res = await call('GET', `/v1/jobs/${id}/events/stream`);
    const read = await readSse(res, { until: (frames) => frames.some((f) => f.event === 'checkpoint.saved') });
    assert.ok(read.frames.some((f) => f.event === 'checkpoint.saved'));
    const open = await call('GET', `/v1/jobs/${id}/events/stream`);
    const content = await answer({ adapter: { kind: 'checkpoint', jobId: id, step: 2 } });
    assert.ok(content.length > 0);
    await call('POST', `/v1/jobs/${id}/cancel`);
    const rest = await readSse(open);
    assert.equal(rest.frames.at(-1)?.event, 'end');
  });
});

interface Deployment {
  id: string;
  slug: string;
  orgId: string;
  projectId: string;
  target: Record<string, unknown>;
  authMode: string;
  urlFormat: string;
  enabled: boolean;
  customDomain: null;
  runRetentionMode?: string;
  runRetentionDays?: number;
  createdAt: string;
  updatedAt: string;
}

describe('emulator: deployments, keys and the edge', () => {
  let jobId = '';
  let job2 = '';
  before(async () => {
    [jobId, job2] = await Promise.all([
      trainedJob('deploy-a', { maxSteps: 4, saveSteps: 2 }),
      trainedJob('deploy-b', { maxSteps: 4 }),
    ]);
  });

  const finalTarget = (id: string): Record<string, unknown> => ({
    kind: 'adapter',
    adapter: { kind: 'final', jobId: id },
  });
  const create = (body: Record<string, unknown>) =>
    call.json<{ deployment: Deployment; error?: string }>('POST', '/v1/endpoints', body);

  it('validates slugs: grammar, length, reserved labels (400) and taken slugs (409)', async () => {
    for (const slug of [
      'a',
      '-ab',
      'ab-',
      'Ab',
      'a_b',
      'x'.repeat(51),
      'www',
      'api',
      'admin',
      'app',
      'status',
      'docs',
    ]) {
      const res = await create({ slug, target: finalTarget(jobId), authMode: 'none' });
      assert.equal(res.status, 400, slug);
      assert.match(res.body.error ?? '', /slug/);
    }
    assert.equal((await create({ slug: 'x'.repeat(50), target: finalTarget(jobId), authMode: 'none' })).status, 201);
    assert.equal((await create({ slug: 'ok-1', target: finalTarget(jobId), authMode: 'none' })).status, 201);
    const dup = await create({
      slug: 'ok-1',
      target: { kind: 'base_model', baseModel: 'unsloth/gemma-4-E4B-it' },
      authMode: 'none',
    });
    assert.equal(dup.status, 409);
    assert.deepEqual(dup.body, { error: 'Deployment slug is already taken' });
  });

  it('creates a full Deployment object with retention defaults and rules', async () => {
    const res = await create({ slug: 'support-bot', target: finalTarget(jobId), authMode: 'fixed_api_key' });
    assert.equal(res.status, 201);
    const d = res.body.deployment;
    assert.deepEqual(
      { ...d, id: '', orgId: '', projectId: '', createdAt: '', updatedAt: '' },
      {
        id: '',
        slug: 'support-bot',
        orgId: '',
        projectId: '',
        target: finalTarget(jobId),
        authMode: 'fixed_api_key',
        urlFormat: 'openai_compat',
        enabled: true,
        customDomain: null,
        runRetentionMode: 'days',
        runRetentionDays: 7,
        createdAt: '',
        updatedAt: '',
      },
    );
    const unlimited = await create({
      slug: 'keep-all',
      target: finalTarget(jobId),
      authMode: 'none',
      runRetentionMode: 'unlimited',
    });
    assert.equal(unlimited.status, 201);
    assert.equal(unlimited.body.deployment.runRetentionMode, 'unlimited');
    assert.equal('runRetentionDays' in unlimited.body.deployment, false);
    const bad: Array<Record<string, unknown>> = [
      { runRetentionMode: 'days' },
      { runRetentionMode: 'disabled', runRetentionDays: 3 },
      { runRetentionMode: 'days', runRetentionDays: 0 },
      { runRetentionMode: 'forever' },
    ];
    for (const retention of bad) {
      const r = await create({ slug: 'retention-x', target: finalTarget(jobId), authMode: 'none', ...retention });
      assert.equal(r.status, 400, JSON.stringify(retention));
      assert.match(r.body.error ?? '', /runRetention/);
    }
    const ckpt = await create({
      slug: 'ckpt',
      target: { kind: 'adapter', adapter: { kind: 'checkpoint', jobId, step: 2 } },
      authMode: 'none',
    });
    assert.equal(ckpt.status, 201);
  });

  it('validates targets: unknown job 404, unfinished final or unsaved checkpoint 422, bad shapes 400', async () => {
    assert.equal((await create({ slug: 't-1', target: finalTarget('nope'), authMode: 'none' })).status, 404);
    assert.equal(
      (
        await create({
          slug: 't-2',
          target: { kind: 'adapter', adapter: { kind: 'checkpoint', jobId, step: 3 } },
          authMode: 'none',
        })
      ).status,
      422,
    );
    emu.setBehaviour({ kind: 'nextJob' }, { queueMs: 60_000 });
    const pending = await call.json<{ job: { id: string } }>('POST', '/v1/jobs', {
      name: 'pending-deploy',
      config: jobConfig(),
    });
    assert.equal(
      (await create({ slug: 't-3', target: finalTarget(pending.body.job.id), authMode: 'none' })).status,
      422,
    );
    await call('POST', `/v1/jobs/${pending.body.job.id}/cancel`);
    const shape = await create({ slug: 't-4', target: { kind: 'model' }, authMode: 'none' });
    assert.equal(shape.status, 400);
    assert.match(shape.body.error ?? '', /target/);
    const mode = await create({ slug: 't-5', target: finalTarget(jobId), authMode: 'open' });
    assert.equal(mode.status, 400);
    assert.match(mode.body.error ?? '', /authMode/);
  });

  it('lists, gets, patches (slug immutable) and deletes (204, cascade, slug freed)', async () => {
    const { body } = await create({ slug: 'life', target: finalTarget(jobId), authMode: 'none' });
    const id = body.deployment.id;
    const list = await call.json<{ deployments: Deployment[] }>('GET', '/v1/endpoints');
    assert.ok(list.body.deployments.some((d) => d.id === id));
    assert.equal(
      (await call.json<{ deployment: Deployment }>('GET', `/v1/endpoints/${id}`)).body.deployment.slug,
      'life',
    );
    const patched = await call.json<{ deployment: Deployment }>('PATCH', `/v1/endpoints/${id}`, {
      target: finalTarget(job2),
      enabled: false,
    });
    assert.equal(patched.status, 200);
    assert.deepEqual(patched.body.deployment.target, finalTarget(job2));
    assert.equal(patched.body.deployment.enabled, false);
    assert.equal(patched.body.deployment.authMode, 'none');
    assert.equal(patched.body.deployment.runRetentionDays, 7);
    const retention = await call.json<{ deployment: Deployment }>('PATCH', `/v1/endpoints/${id}`, {
      runRetentionMode: 'disabled',
    });
    assert.equal(retention.body.deployment.runRetentionMode, 'disabled');
    assert.equal('runRetentionDays' in retention.body.deployment, false);
    assert.equal((await call.json('PATCH', `/v1/endpoints/${id}`, { slug: 'renamed' })).status, 400);
    await call.json('POST', `/v1/endpoints/${id}/keys`, { label: 'k' });
    const del = await call('DELETE', `/v1/endpoints/${id}`);
    assert.equal(del.status, 204);
    assert.equal(await del.text(), '');
    assert.equal((await call('GET', `/v1/endpoints/${id}`)).status, 404);
    assert.equal((await call('GET', `/v1/endpoints/${id}/keys`)).status, 404);
    assert.equal((await call('DELETE', `/v1/endpoints/${id}`)).status, 404);
    assert.equal((await create({ slug: 'life', target: finalTarget(jobId), authMode: 'none' })).status, 201);
  });

  it('keys: plaintext only at creation, prefix = first 17 chars, label rules, revoke 204 keeps the row', async () => {
    const { body } = await create({ slug: 'keyed', target: finalTarget(jobId), authMode: 'fixed_api_key' });
    const id = body.deployment.id;
    const created = await call.json<{
      key: { id: string; label: string; plaintext: string; prefix: string; createdAt: string };
    }>('POST', `/v1/endpoints/${id}/keys`, { label: '  ci  ' });
    assert.equal(created.status, 201);
    const key = created.body.key;
    assert.deepEqual(Object.keys(key).sort(), ['createdAt', 'id', 'label', 'plaintext', 'prefix']);
    assert.match(key.plaintext, /^ark_live_[0-9a-f]{48}$/);
    assert.equal(key.prefix, key.plaintext.slice(0, 17));
    assert.equal(key.label, 'ci');
    for (const label of ['', '   ', 'x'.repeat(81)]) {
      assert.equal((await call.json('POST', `/v1/endpoints/${id}/keys`, { label })).status, 400, JSON.stringify(label));
    }
    const listed = await call.json<{ keys: Array<Record<string, unknown>> }>('GET', `/v1/endpoints/${id}/keys`);
    assert.deepEqual(listed.body.keys, [
      { id: key.id, label: 'ci', prefix: key.prefix, enabled: true, createdAt: key.createdAt, lastUsedAt: null },
    ]);
    assert.ok(!JSON.stringify(listed.body).includes(key.plaintext));
    const revoke = await call('DELETE', `/v1/endpoints/${id}/keys/${key.id}`);
    assert.equal(revoke.status, 204);
    const after = await call.json<{ keys: Array<{ enabled: boolean }> }>('GET', `/v1/endpoints/${id}/keys`);
    assert.deepEqual(
      after.body.keys.map((k) => k.enabled),
      [false],
    );
    assert.equal((await call('DELETE', `/v1/endpoints/${id}/keys/nope`)).status, 404);
  });

  it('edge: key auth (Bearer or x-api-key), OpenAI JSON and stream, 404 when unknown/disabled/deleted, no version gate', async () => {
    const { body } = await create({ slug: 'edge-bot', target: finalTarget(jobId), authMode: 'fixed_api_key' });
    const id = body.deployment.id;
    const key = (
      await call.json<{ key: { plaintext: string; id: string } }>('POST', `/v1/endpoints/${id}/keys`, { label: 'edge' })
    ).body.key;
    const edge = (
      headers: Record<string, string>,
      extra: Record<string, unknown> = {},
      slug = 'edge-bot',
    ): Promise<Response> =>
      fetch(`${emu.edgeUrl(slug)}/chat/completions`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'ignored', messages: [{ role: 'user', content: FRANCE }], ...extra }),
      });
    assert.equal(emu.edgeUrl('edge-bot'), `${emu.url}/_edge/edge-bot/v1`);
    const refused: Array<Record<string, string>> = [
      {},
      { Authorization: 'Bearer ark_live_wrong' },
      { Authorization: `Bearer ${emu.token}` },
    ];
    for (const headers of refused) {
      const res = await edge(headers);
      assert.equal(res.status, 401);
      assert.equal(typeof ((await res.json()) as { error: { message: string } }).error.message, 'string');
    }
    const ok = await edge({ Authorization: `Bearer ${key.plaintext}` });
    assert.equal(ok.status, 200);
    const completion = (await ok.json()) as Completion;
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices[0]?.message.content, await answer({ adapter: { kind: 'final', jobId } }));
    assert.equal((await edge({ 'x-api-key': key.plaintext })).status, 200);
    const streamed = await edge({ 'x-api-key': key.plaintext }, { stream: true });
    assert.equal(streamed.headers.get('content-type'), 'text/event-stream');
    assert.ok((await streamed.text()).endsWith('data: [DONE]\n\n'));
    const used = await call.json<{ keys: Array<{ lastUsedAt: string | null }> }>('GET', `/v1/endpoints/${id}/keys`);
    assert.notEqual(used.body.keys[0]?.lastUsedAt, null);
    // Re-targeting (blue/green) changes the answers behind the same URL and key.
    await call.json('PATCH', `/v1/endpoints/${id}`, {
      target: { kind: 'base_model', baseModel: 'unsloth/gemma-4-E4B-it' },
    });
    const base = (await (await edge({ 'x-api-key': key.plaintext })).json()) as Completion;
    assert.ok(base.choices[0]?.message.content.startsWith('Lyon'));
    // authMode none opens the edge; switching back requires the (still valid) key again.
    await call.json('PATCH', `/v1/endpoints/${id}`, { authMode: 'none' });
    assert.equal((await edge({})).status, 200);
    await call.json('PATCH', `/v1/endpoints/${id}`, { authMode: 'fixed_api_key' });
    assert.equal((await edge({})).status, 401);
    assert.equal((await edge({ 'x-api-key': key.plaintext })).status, 200);
    await call('DELETE', `/v1/endpoints/${id}/keys/${key.id}`);
    assert.equal((await edge({ 'x-api-key': key.plaintext })).status, 401);
    await call.json('PATCH', `/v1/endpoints/${id}`, { enabled: false, authMode: 'none' });
    assert.equal((await edge({})).status, 404);
    assert.equal((await edge({}, {}, 'no-such-slug')).status, 404);
    await call.json('PATCH', `/v1/endpoints/${id}`, { enabled: true });
    assert.equal((await edge({})).status, 200);
    const badBody = await fetch(`${emu.edgeUrl('edge-bot')}/chat/completions`, {
      method: 'POST',
      body: '{}',
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(badBody.status, 400);
    await call('DELETE', `/v1/endpoints/${id}`);
    assert.equal((await edge({})).status, 404);
  });
});
