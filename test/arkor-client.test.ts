import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { readChatText } from '../arkor/chat.js';
import { ArkorClient, type DeprecationNotice } from '../arkor/client.js';
import { ArkorResponseError, CloudApiError } from '../arkor/errors.js';
import type { JobConfig } from '../arkor/schemas.js';
import { startEmulator, type Emulator } from '../emulator/index.js';
import { startCaptureServer, type CaptureServer } from './support/arkor-capture-server.js';

const JOB = {
  id: 'j1',
  orgId: 'o',
  projectId: 'p',
  name: 'run',
  status: 'queued',
  config: { model: 'm' },
  error: null,
  createdAt: '2026-01-01T00:00:00Z',
  startedAt: null,
  completedAt: null,
};
const CONFIG: JobConfig = {
  model: 'unsloth/gemma-4-E4B-it',
  datasetSource: { type: 'huggingface', name: 'org/ds' },
  maxSteps: 5,
};

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
}

describe('ArkorClient wire format (capture server)', () => {
  let server: CaptureServer;
  let client: ArkorClient;
  const notices: DeprecationNotice[] = [];

  before(async () => {
    server = await startCaptureServer();
    client = new ArkorClient({
      baseUrl: `${server.url}/`,
      token: 'tok-secret',
      scope: { orgSlug: 'my org', projectSlug: 'p/1' },
      onDeprecation: (notice) => {
        notices.push(notice);
        throw new Error('handler bug');
      },
    });
  });
  after(() => server.close());

  it('sends auth, client header, JSON content type and the encoded scope', async () => {
    server.handle((_req, res) => json(res, 201, { job: { ...JOB, extra: true } }));
    const job = await client.createJob({ name: 'run', config: CONFIG });
    assert.equal(job.id, 'j1');
    const req = server.requests.at(-1);
    assert.ok(req);
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/v1/jobs?orgSlug=my%20org&projectSlug=p%2F1');
    assert.equal(req.headers.authorization, 'Bearer tok-secret');
    assert.equal(req.headers['x-arkor-client'], 'arkor/0.0.3-alpha.1');
    assert.equal(req.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(req.body), { name: 'run', config: CONFIG });
  });

  it('percent-encodes path ids and sends no content type without a body', async () => {
    server.handle((_req, res) => json(res, 200, { job: JOB, events: [{ type: 'training.started' }] }));
    const result = await client.getJob('a/b c');
    assert.deepEqual(result.events, [{ type: 'training.started' }]);
    const req = server.requests.at(-1);
    assert.equal(req?.url, '/v1/jobs/a%2Fb%20c?orgSlug=my%20org&projectSlug=p%2F1');
    assert.equal(req?.headers['content-type'], undefined);
    server.handle((_req, res) => json(res, 200, { job: JOB }));
    assert.deepEqual((await client.getJob('x')).events, []);
  });

  it('scopes project routes by org only and /v1/me by nothing', async () => {
    server.handle((_req, res) =>
      json(res, 200, { org: { slug: 'my org' }, projects: [{ id: 'p', slug: 's', name: 'n', orgId: 'o' }] }),
    );
    assert.equal((await client.listProjects()).length, 1);
    assert.equal(server.requests.at(-1)?.url, '/v1/projects?orgSlug=my%20org');
    server.handle((_req, res) => json(res, 200, { user: { id: 'u' }, orgs: [] }));
    assert.equal((await client.me()).user.id, 'u');
    assert.equal(server.requests.at(-1)?.url, '/v1/me');
  });

  it('opens the stream with Accept and a non-empty Last-Event-ID only', async () => {
    server.handle((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/event-stream' }).end('data: {}\n\n');
    });
    for (const lastEventId of [undefined, '', '42']) {
      const response = await client.openJobEvents('j 1', lastEventId === undefined ? {} : { lastEventId });
      assert.equal(await response.text(), 'data: {}\n\n');
      const req = server.requests.at(-1);
      assert.equal(req?.url, '/v1/jobs/j%201/events/stream?orgSlug=my%20org&projectSlug=p%2F1');
      assert.equal(req?.headers.accept, 'text/event-stream');
      assert.equal(req?.headers['last-event-id'], lastEventId === '42' ? '42' : undefined);
    }
  });

  it('throws CloudApiError with Retry-After and a redacted message', async () => {
    server.handle((_req, res) => json(res, 429, { error: 'slow down, tok-secret' }, { 'Retry-After': '7' }));
    await assert.rejects(client.openJobEvents('j'), (error) => {
      assert.ok(error instanceof CloudApiError);
      assert.equal(error.status, 429);
      assert.equal(error.retryAfterMs, 7000);
      assert.equal(error.message, 'slow down, [redacted]');
      return true;
    });
    server.handle((_req, res) => res.writeHead(409).end('{"error":"already cancelled"}'));
    await assert.rejects(
      client.cancelJob('j'),
      (error) => error instanceof CloudApiError && error.status === 409 && error.message === 'already cancelled',
    );
    server.handle((_req, res) => res.writeHead(426).end());
    await assert.rejects(
      client.listJobs(),
      (error) => error instanceof CloudApiError && error.status === 426 && /no longer supported/.test(error.message),
    );
  });

  it('resolves cancel and deletes on any 2xx', async () => {
    server.handle((_req, res) => json(res, 200, { ok: true }));
    await client.cancelJob('j');
    assert.equal(server.requests.at(-1)?.url, '/v1/jobs/j/cancel?orgSlug=my%20org&projectSlug=p%2F1');
    server.handle((_req, res) => res.writeHead(204).end());
    await client.deleteDeployment('d/1');
    await client.revokeDeploymentKey('d', 'k 1');
    assert.equal(server.requests.at(-1)?.url, '/v1/endpoints/d/keys/k%201?orgSlug=my%20org&projectSlug=p%2F1');
    assert.equal(server.requests.at(-1)?.method, 'DELETE');
  });

  it('rejects 2xx bodies that break the protocol with ArkorResponseError', async () => {
    server.handle((_req, res) => res.writeHead(200).end('<html>'));
    await assert.rejects(
      client.listJobs(),
      (error) => error instanceof ArkorResponseError && /not JSON/.test(error.message),
    );
    server.handle((_req, res) => json(res, 200, { jobs: [{ ...JOB, status: 'paused' }] }));
    await assert.rejects(
      client.listJobs(),
      (error) => error instanceof ArkorResponseError && !(error instanceof CloudApiError),
    );
  });

  it('records deprecation notices and survives a throwing handler', async () => {
    notices.length = 0;
    server.handle((_req, res) =>
      json(
        res,
        200,
        { jobs: [] },
        {
          Deprecation: 'true',
          Warning: '299 - "Arkor SDK 0.0.3-alpha.1 is deprecated"',
          Sunset: 'Wed, 01 Jul 2026 00:00:00 GMT',
        },
      ),
    );
    assert.deepEqual(await client.listJobs(), []);
    server.handle((_req, res) => json(res, 404, { error: 'not found' }, { Deprecation: 'true', Warning: 'free text' }));
    await assert.rejects(client.getDeployment('d'), (error) => error instanceof CloudApiError && error.status === 404);
    server.handle((_req, res) => json(res, 200, { jobs: [] }, { Deprecation: 'yes' }));
    await client.listJobs();
    assert.deepEqual(notices, [
      {
        sdkVersion: '0.0.3-alpha.1',
        message: 'Arkor SDK 0.0.3-alpha.1 is deprecated',
        sunset: 'Wed, 01 Jul 2026 00:00:00 GMT',
      },
      { sdkVersion: '0.0.3-alpha.1', message: 'free text', sunset: null },
    ]);
    assert.deepEqual(client.deprecation, notices[1]);
  });

  it('applies the request timeout and the caller signal, but no timeout to the stream open', async () => {
    server.handle(() => {
      // Never answers; the client must give up on its own.
    });
    const timed = new ArkorClient({
      baseUrl: server.url,
      token: 't',
      scope: { orgSlug: 'o', projectSlug: 'p' },
      requestTimeoutMs: 30,
    });
    await assert.rejects(
      timed.listJobs(),
      (error) =>
        error instanceof DOMException && error.name === 'TimeoutError' && /timed out after 30 ms/.test(error.message),
    );
    const controller = new AbortController();
    const pending = client.listJobs({ signal: controller.signal });
    controller.abort(new Error('caller gave up'));
    await assert.rejects(pending, /caller gave up/);

    const opened = server.nextClose();
    const stream = new AbortController();
    const open = timed.openJobEvents('j', { signal: stream.signal });
    // Longer than the 30 ms request timeout; the open must still be pending, then abortable.
    const raced = await Promise.race([
      open.then(
        () => 'answered',
        () => 'rejected',
      ),
      new Promise((resolve) => setTimeout(resolve, 120, 'pending')),
    ]);
    assert.equal(raced, 'pending');
    stream.abort(new Error('stop'));
    await assert.rejects(open, /stop/);
    await opened;
  });

  it('calls the edge with the deployment key, never the cloud-api token', async () => {
    const edgeClient = new ArkorClient({
      baseUrl: server.url,
      token: 'tok-secret',
      scope: { orgSlug: 'o', projectSlug: 'p' },
      deploymentUrlTemplate: `${server.url}/edge/{slug}/v1/`,
    });
    server.handle((_req, res) => json(res, 200, { choices: [{ message: { role: 'assistant', content: 'hi' } }] }));
    assert.equal(
      await readChatText(
        await edgeClient.edgeChat('my bot', 'ark_live_x', { messages: [{ role: 'user', content: 'q' }] }),
      ),
      'hi',
    );
    const req = server.requests.at(-1);
    assert.equal(req?.url, '/edge/my%20bot/v1/chat/completions');
    assert.equal(req?.headers.authorization, 'Bearer ark_live_x');
    await edgeClient.edgeChat('bot', undefined, { messages: [] });
    assert.equal(server.requests.at(-1)?.headers.authorization, undefined);
    server.handle((_req, res) =>
      json(res, 401, { error: { message: 'invalid key ark_live_x', type: 'authentication_error' } }),
    );
    await assert.rejects(
      edgeClient.edgeChat('bot', 'ark_live_x', { messages: [] }),
      (error) => error instanceof CloudApiError && error.status === 401 && error.message === 'invalid key [redacted]',
    );
  });
});

describe('ArkorClient against the emulator', () => {
  let emulator: Emulator;
  let client: ArkorClient;

  before(async () => {
    emulator = await startEmulator({ stepMs: 2 });
    client = new ArkorClient({
      baseUrl: emulator.url,
      token: emulator.token,
      scope: { orgSlug: emulator.orgSlug, projectSlug: emulator.projectSlug },
      deploymentUrlTemplate: emulator.deploymentUrlTemplate,
    });
  });
  after(() => emulator.close());

  it('creates, reads, lists and cancels jobs; a second cancel is a 409', async () => {
    const job = await client.createJob({ name: 'client-test', config: { ...CONFIG, maxSteps: 10_000 } });
    assert.equal(job.status, 'queued');
    assert.equal(job.config.model, CONFIG.model);
    assert.equal((await client.getJob(job.id)).job.id, job.id);
    assert.ok((await client.listJobs()).some((listed) => listed.id === job.id));
    await client.cancelJob(job.id);
    await assert.rejects(client.cancelJob(job.id), (error) => error instanceof CloudApiError && error.status === 409);
    assert.equal((await client.getJob(job.id)).job.status, 'cancelled');
    await assert.rejects(
      client.getJob('no-such-job'),
      (error) => error instanceof CloudApiError && error.status === 404,
    );
    const record = emulator.stats().jobs.find((r) => r.id === job.id);
    assert.equal(record?.cancelsAccepted, 1);
    assert.equal(record?.cancelsRejected, 1);
  });

  it('reads chat answers in JSON and streaming mode', async () => {
    const base = {
      baseModel: 'unsloth/gemma-4-E4B-it',
      messages: [{ role: 'user' as const, content: 'What is the capital of France?' }],
    };
    const jsonResponse = await client.chat({ ...base, stream: false });
    assert.match(jsonResponse.headers.get('content-type') ?? '', /application\/json/);
    const jsonText = await readChatText(jsonResponse);
    const streamResponse = await client.chat({ ...base, stream: true });
    assert.match(streamResponse.headers.get('content-type') ?? '', /text\/event-stream/);
    const streamText = await readChatText(streamResponse);
    assert.ok(jsonText.length > 0);
    assert.equal(streamText, jsonText);
    await assert.rejects(
      client.chat({ messages: [{ role: 'user', content: 'x' }] }),
      (error) => error instanceof CloudApiError && error.status === 400,
    );
  });

  it('manages deployments and keys, and the edge enforces them', async () => {
    const deployment = await client.createDeployment({
      slug: 'client-bot',
      target: { kind: 'base_model', baseModel: 'unsloth/gemma-4-E4B-it' },
      authMode: 'fixed_api_key',
    });
    assert.equal(deployment.slug, 'client-bot');
    await assert.rejects(
      client.createDeployment({ slug: 'client-bot', target: deployment.target, authMode: 'none' }),
      (error) => error instanceof CloudApiError && error.status === 409,
    );
    assert.deepEqual(
      (await client.listDeployments()).map((d) => d.id),
      [deployment.id],
    );
    assert.equal((await client.getDeployment(deployment.id)).authMode, 'fixed_api_key');

    const key = await client.createDeploymentKey(deployment.id, { label: 'ci' });
    assert.ok(key.plaintext.startsWith(key.prefix));
    const keys = await client.listDeploymentKeys(deployment.id);
    assert.deepEqual(
      keys.map((k) => [k.id, k.enabled, 'plaintext' in k]),
      [[key.id, true, false]],
    );

    const body = { model: 'ignored', messages: [{ role: 'user' as const, content: 'What is the capital of France?' }] };
    assert.ok((await readChatText(await client.edgeChat('client-bot', key.plaintext, body))).length > 0);
    assert.ok(
      (await readChatText(await client.edgeChat('client-bot', key.plaintext, { ...body, stream: true }))).length > 0,
    );
    await assert.rejects(
      client.edgeChat('client-bot', undefined, body),
      (error) => error instanceof CloudApiError && error.status === 401,
    );

    await client.revokeDeploymentKey(deployment.id, key.id);
    assert.equal((await client.listDeploymentKeys(deployment.id))[0]?.enabled, false);
    await assert.rejects(
      client.edgeChat('client-bot', key.plaintext, body),
      (error) => error instanceof CloudApiError && error.status === 401,
    );

    const open = await client.updateDeployment(deployment.id, { authMode: 'none' });
    assert.equal(open.authMode, 'none');
    assert.ok((await readChatText(await client.edgeChat('client-bot', undefined, body))).length > 0);

    await client.deleteDeployment(deployment.id);
    await assert.rejects(
      client.getDeployment(deployment.id),
      (error) => error instanceof CloudApiError && error.status === 404,
    );
    await assert.rejects(
      client.edgeChat('client-bot', undefined, body),
      (error) => error instanceof CloudApiError && error.status === 404,
    );
  });

  it('reads the identity and projects', async () => {
    const me = await client.me();
    assert.ok(me.orgs.some((org) => org.slug === emulator.orgSlug));
    assert.ok((await client.listProjects()).some((project) => project.slug === emulator.projectSlug));
  });
});

describe('version gate', () => {
  it('turns the emulator 426 into an upgrade hint', async (t) => {
    const strict = await startEmulator({ minClientVersion: '99.0.0' });
    t.after(() => strict.close());
    const client = new ArkorClient({
      baseUrl: strict.url,
      token: strict.token,
      scope: { orgSlug: strict.orgSlug, projectSlug: strict.projectSlug },
    });
    await assert.rejects(client.me(), (error) => {
      assert.ok(error instanceof CloudApiError);
      assert.equal(error.status, 426);
      assert.match(
        error.message,
        /Arkor SDK 0\.0\.3-alpha\.1 is no longer supported by the cloud-api \(supported: .*99\.0\.0.*\)/,
      );
      return true;
    });
  });

  it('reports deprecation headers of an old but accepted client', async (t) => {
    const emulator = await startEmulator({ deprecatedBelowVersion: '1.0.0' });
    t.after(() => emulator.close());
    const notices: DeprecationNotice[] = [];
    const client = new ArkorClient({
      baseUrl: emulator.url,
      token: emulator.token,
      scope: { orgSlug: emulator.orgSlug, projectSlug: emulator.projectSlug },
      onDeprecation: (n) => notices.push(n),
    });
    await client.me();
    assert.equal(notices.length, 1);
    assert.match(notices[0]?.message ?? '', /^Arkor SDK 0\.0\.3-alpha\.1 is deprecated/);
  });
});
