/**
 * The codec server in this process, without Temporal: the protocol's answers (encode, decode,
 * any mount path), CORS for the allowed origins only, the optional Authorization, bad requests;
 * and how `codec-server` and `report` parse. Against a real encrypted run's history, through the
 * CLI: report-run.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { EncryptionCodec } from '../codec/encryption.js';
import {
  parseOrigin,
  payloadsToJson,
  runCodecServer,
  startCodecServer,
  type StartedCodecServer,
} from '../cli/codec-server.js';
import { UsageError } from '../cli/errors.js';
import { ExitCode } from '../cli/exit-codes.js';
import { parseCliArgs } from '../cli/program.js';

const UI = 'http://localhost:8233';
const AUTH = 'Bearer codec-test-token';

function json(payload: Payload): unknown {
  return payloadsToJson([payload]).payloads[0];
}

function fromJson(value: unknown): Payload {
  const { metadata, data } = value as { metadata: Record<string, string>; data?: string };
  return {
    metadata: Object.fromEntries(Object.entries(metadata).map(([key, text]) => [key, Buffer.from(text, 'base64')])),
    data: Buffer.from(data ?? '', 'base64'),
  };
}

describe('the codec server', () => {
  const codec = new EncryptionCodec([['unit', randomBytes(32)]]);
  let server: StartedCodecServer;
  const logged: string[] = [];
  before(async () => {
    server = await startCodecServer({
      codec,
      origins: [UI],
      authorization: AUTH,
      log: (line) => logged.push(line),
      host: '127.0.0.1',
      port: 0,
      maxBodyBytes: 64 * 1024,
    });
  });
  after(async () => server?.close());

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', Authorization: AUTH, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('encodes and decodes {payloads} in protobuf JSON, at any mount path', async () => {
    const plain = defaultPayloadConverter.toPayload({ answer: 42, text: 'héllo' });
    const encoded = await post('/encode', { payloads: [json(plain)] });
    assert.equal(encoded.status, 200);
    assert.match(encoded.headers.get('content-type') ?? '', /^application\/json/);
    const encodedBody = (await encoded.json()) as { payloads: unknown[] };
    const cipher = fromJson(encodedBody.payloads[0]);
    assert.equal(Buffer.from(cipher.metadata?.encoding ?? []).toString(), 'binary/encrypted');
    assert.equal(Buffer.from(cipher.metadata?.['encryption-key-id'] ?? []).toString(), 'unit');

    for (const path of ['/decode', '/namespaces/default/codec/decode']) {
      const decoded = await post(path, encodedBody);
      assert.equal(decoded.status, 200, path);
      const [payload] = ((await decoded.json()) as { payloads: unknown[] }).payloads;
      assert.deepEqual(defaultPayloadConverter.fromPayload(fromJson(payload)), { answer: 42, text: 'héllo' });
    }
    // A payload that is not encrypted is passed through as it is.
    const passthrough = await post('/decode', { payloads: [json(plain)] });
    assert.deepEqual(await passthrough.json(), { payloads: [json(plain)] });
  });

  it('answers the preflight of the Web UI origin with CORS headers, and its requests too', async () => {
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: {
        Origin: UI,
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-type,x-namespace',
        'Access-Control-Request-Private-Network': 'true',
      },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), UI);
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
    assert.match(preflight.headers.get('access-control-allow-methods') ?? '', /\bPOST\b/);
    const allowed = (preflight.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const header of ['authorization', 'content-type', 'x-namespace']) assert.ok(allowed.includes(header), header);
    assert.equal(preflight.headers.get('access-control-allow-private-network'), 'true');
    assert.match(preflight.headers.get('vary') ?? '', /Origin/);

    const request = await post('/decode', { payloads: [] }, { Origin: UI });
    assert.equal(request.status, 200);
    assert.equal(request.headers.get('access-control-allow-origin'), UI);
  });

  it('refuses another origin, preflight and request alike, without CORS headers', async () => {
    const preflight = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(preflight.status, 403);
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    const request = await post('/decode', { payloads: [] }, { Origin: 'http://localhost:8234' });
    assert.equal(request.status, 403);
    assert.equal(request.headers.get('access-control-allow-origin'), null);
    assert.ok(logged.some((line) => line.includes('origin http://localhost:8234')));
  });

  it('needs the exact Authorization value: 401 without it or with another', async () => {
    for (const headers of [{ Authorization: '' }, { Authorization: 'Bearer nope' }, { Authorization: `${AUTH}x` }]) {
      const response = await post('/decode', { payloads: [] }, { Origin: UI, ...headers });
      assert.equal(response.status, 401, JSON.stringify(headers));
      // The Web UI can read the refusal: the allowed origin still gets its CORS headers.
      assert.equal(response.headers.get('access-control-allow-origin'), UI);
    }
  });

  it('answers 400 to what is not the protocol, 404/405 elsewhere, 413 to a huge body', async () => {
    assert.equal((await post('/decode', 'not json')).status, 400);
    assert.equal((await post('/decode', { payload: [] })).status, 400);
    assert.equal((await post('/decode', { payloads: [1] })).status, 400);
    const otherKey = await new EncryptionCodec([['other', randomBytes(32)]]).encode([
      defaultPayloadConverter.toPayload('x'),
    ]);
    const undecodable = await post('/decode', { payloads: otherKey.map(json) });
    assert.equal(undecodable.status, 400);
    assert.match(((await undecodable.json()) as { error: string }).error, /no payload key with id "other"/);
    assert.equal((await post('/elsewhere', { payloads: [] })).status, 404);
    assert.equal((await fetch(`${server.url}/decode`)).status, 405);
    assert.equal((await post('/decode', { payloads: [], pad: 'x'.repeat(70 * 1024) })).status, 413);
  });
});

describe('codec-server and report on the command line', () => {
  const io = () => {
    const out = { stdout: '', stderr: '' };
    return {
      out,
      io: {
        stdout: (text: string) => void (out.stdout += text),
        stderr: (text: string) => void (out.stderr += text),
        stdoutIsTty: false,
        stderrIsTty: false,
      },
    };
  };

  it('parses codec-server flags, and report needs an output', () => {
    assert.deepEqual(parseCliArgs(['codec-server']).command, { kind: 'codec-server' });
    assert.deepEqual(
      parseCliArgs([
        'codec-server',
        '--port',
        '0',
        '--host',
        '::1',
        '--ui-origin',
        'https://a.example',
        '--ui-origin',
        UI,
      ]).command,
      { kind: 'codec-server', port: 0, host: '::1', uiOrigins: ['https://a.example', UI] },
    );
    assert.throws(() => parseCliArgs(['codec-server', '--port', '70000']), /must be a port number/);
    assert.deepEqual(parseCliArgs(['report', 'wf-1', '--html', 'r.html', '--svg', 'l.svg']).command, {
      kind: 'report',
      workflowId: 'wf-1',
      html: 'r.html',
      svg: 'l.svg',
      json: false,
    });
    assert.equal((parseCliArgs(['report', 'wf-1', '--json']).command as { json: boolean }).json, true);
    assert.throws(() => parseCliArgs(['report', 'wf-1']), /report needs --html <file>, --svg <file> or --json/);
  });

  it('accepts origins as browsers send them, nothing else', () => {
    assert.equal(parseOrigin('http://localhost:8233'), 'http://localhost:8233');
    assert.equal(parseOrigin('https://ui.example.com/'), 'https://ui.example.com');
    for (const bad of ['localhost:8233', 'http://ui.example.com/path', '*', 'ftp://x.example'])
      assert.throws(() => parseOrigin(bad), UsageError, bad);
  });

  it('does not start without a payload key (exit 1) or with a bad origin (exit 2)', async () => {
    const noKey = io();
    assert.equal(await runCodecServer({ kind: 'codec-server', port: 0 }, { io: noKey.io, env: {} }), ExitCode.Failure);
    assert.match(noKey.out.stderr, /ARKOR_PAYLOAD_KEY is not set/);
    const badOrigin = io();
    const env = { ARKOR_PAYLOAD_KEY: randomBytes(32).toString('base64'), ARKOR_CODEC_CORS_ORIGINS: 'localhost:8233' };
    assert.equal(await runCodecServer({ kind: 'codec-server', port: 0 }, { io: badOrigin.io, env }), ExitCode.Usage);
    assert.match(badOrigin.out.stderr, /invalid origin "localhost:8233"/);
  });
});
