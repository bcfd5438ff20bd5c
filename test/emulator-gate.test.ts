/**
 * Emulator: version gate, auth, scope, identity routes, route faults, the control API over HTTP
 * and the standalone command. Plain fetch over real HTTP.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import {
  EmulatorControlError,
  EmulatorOptionsError,
  InvalidControlInputError,
  UnknownJobError,
  connectEmulator,
  startEmulator,
} from '../emulator/index.js';
import type { Emulator } from '../emulator/index.js';
import { CLIENT_HEADER, api, jobConfig } from './support/emulator-http.js';

describe('emulator: version gate, auth and scope', () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ minClientVersion: '0.0.3-alpha.1', deprecatedBelowVersion: '0.1.0', stepMs: 5 });
  });
  after(() => emu.close());

  const get = (path: string, headers: Record<string, string>): Promise<Response> =>
    fetch(`${emu.url}${path}`, { headers });

  it('answers 426 with reason "missing" when X-Arkor-Client is absent, before auth', async () => {
    const res = await get('/v1/me', {});
    assert.equal(res.status, 426);
    assert.deepEqual(await res.json(), {
      error: 'sdk_version_unsupported',
      supportedRange: '>=0.0.3-alpha.1',
      upgrade: 'npm install -g arkor@latest',
      reason: 'missing',
    });
  });

  it('answers 426 with reason "malformed" for a header that is not arkor/<semver>', async () => {
    for (const value of ['arkor/1.0', 'other/1.0.0', 'arkor/v1.0.0', 'arkor/1.0.0 extra']) {
      const res = await get('/v1/me', { 'X-Arkor-Client': value, Authorization: `Bearer ${emu.token}` });
      assert.equal(res.status, 426, value);
      const body = (await res.json()) as Record<string, unknown>;
      assert.equal(body.reason, 'malformed', value);
      assert.equal(body.error, 'sdk_version_unsupported');
    }
  });

  it('answers 426 with currentVersion and supportedRange for a version below the minimum (prerelease ordering)', async () => {
    for (const version of ['0.0.2', '0.0.3-alpha.0', '0.0.3-0']) {
      const res = await get('/v1/auth/cli/config', { 'X-Arkor-Client': `arkor/${version}` });
      assert.equal(res.status, 426, version);
      assert.deepEqual(await res.json(), {
        error: 'sdk_version_unsupported',
        supportedRange: '>=0.0.3-alpha.1',
        upgrade: 'npm install -g arkor@latest',
        currentVersion: version,
      });
    }
  });

  it('gates the unauthenticated routes too, and lets a supported version through', async () => {
    assert.equal((await fetch(`${emu.url}/v1/auth/anonymous`, { method: 'POST' })).status, 426);
    const ok = await get('/v1/auth/cli/config', { 'X-Arkor-Client': CLIENT_HEADER });
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { auth0Domain: null, clientId: null, audience: null, callbackPorts: [] });
  });

  it('adds Deprecation/Warning/Sunset to responses for deprecated versions, also on errors', async () => {
    for (const auth of [`Bearer ${emu.token}`, 'Bearer wrong']) {
      const res = await get('/v1/me', { 'X-Arkor-Client': 'arkor/0.0.9', Authorization: auth });
      assert.equal(res.headers.get('deprecation'), 'true');
      assert.match(res.headers.get('warning') ?? '', /^299 - "Arkor SDK 0\.0\.9 is deprecated.*"$/);
      const sunset = res.headers.get('sunset') ?? '';
      assert.match(sunset, /GMT$/);
      assert.ok(!Number.isNaN(Date.parse(sunset)));
    }
    const current = await get('/v1/me', { 'X-Arkor-Client': 'arkor/0.1.0', Authorization: `Bearer ${emu.token}` });
    assert.equal(current.status, 200);
    assert.equal(current.headers.get('deprecation'), null);
    assert.equal(current.headers.get('warning'), null);
  });

  it('answers 401 { error: "unauthorized" } for a missing or wrong token', async () => {
    const headerSets: Array<Record<string, string>> = [
      {},
      { Authorization: 'Bearer nope' },
      { Authorization: emu.token },
    ];
    for (const headers of headerSets) {
      const res = await get(`/v1/jobs?orgSlug=${emu.orgSlug}&projectSlug=${emu.projectSlug}`, {
        'X-Arkor-Client': CLIENT_HEADER,
        ...headers,
      });
      assert.equal(res.status, 401);
      assert.deepEqual(await res.json(), { error: 'unauthorized' });
    }
  });

  it('checks the scope: 400 when missing, 403 for a foreign org or project', async () => {
    const call = api(emu);
    const missing = await call('GET', '/v1/jobs', { scope: false });
    assert.equal(missing.status, 400);
    assert.match(((await missing.json()) as { error: string }).error, /orgSlug/);
    const noProject = await call('GET', `/v1/jobs?orgSlug=${emu.orgSlug}`, { scope: false });
    assert.equal(noProject.status, 400);
    assert.match(((await noProject.json()) as { error: string }).error, /projectSlug/);
    for (const q of [`orgSlug=other-org&projectSlug=${emu.projectSlug}`, `orgSlug=${emu.orgSlug}&projectSlug=other`]) {
      const res = await call('GET', `/v1/jobs?${q}`, { scope: false });
      assert.equal(res.status, 403, q);
      assert.deepEqual(await res.json(), { error: 'forbidden: not a member of org/project' });
    }
  });

  it('serves /v1/me and the project routes (409 on a taken slug)', async () => {
    const call = api(emu);
    const me = (await (await call('GET', '/v1/me', { scope: false })).json()) as {
      user: { id: string };
      orgs: Array<{ slug: string }>;
    };
    assert.equal(typeof me.user.id, 'string');
    assert.deepEqual(
      me.orgs.map((o) => o.slug),
      [emu.orgSlug],
    );
    const list = (await (await call('GET', `/v1/projects?orgSlug=${emu.orgSlug}`, { scope: false })).json()) as {
      org: { slug: string };
      projects: Array<{ slug: string; id: string; orgId: string; name: string }>;
    };
    assert.equal(list.org.slug, emu.orgSlug);
    assert.deepEqual(
      list.projects.map((p) => p.slug),
      [emu.projectSlug],
    );
    const created = await call('POST', `/v1/projects?orgSlug=${emu.orgSlug}`, {
      scope: false,
      body: { name: 'Second', slug: 'second' },
    });
    assert.equal(created.status, 201);
    const { project } = (await created.json()) as { project: Record<string, unknown> };
    assert.deepEqual(Object.keys(project).sort(), ['id', 'name', 'orgId', 'slug']);
    const dup = await call('POST', `/v1/projects?orgSlug=${emu.orgSlug}`, {
      scope: false,
      body: { name: 'Again', slug: 'second' },
    });
    assert.equal(dup.status, 409);
    const bad = await call('POST', `/v1/projects?orgSlug=${emu.orgSlug}`, { scope: false, body: { name: 'x' } });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /slug/);
  });

  it('mints anonymous identities whose token works in their own org only (section 3.2 bootstrap)', async () => {
    const res = await fetch(`${emu.url}/v1/auth/anonymous`, {
      method: 'POST',
      headers: { 'X-Arkor-Client': CLIENT_HEADER, 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'cli' }),
    });
    assert.equal(res.status, 200);
    const anon = (await res.json()) as {
      token: string;
      anonymousId: string;
      kind: string;
      personalOrg: { slug: string; id: string; name: string };
    };
    assert.equal(anon.kind, 'cli');
    assert.match(anon.personalOrg.slug, /^anon-/);
    const call = api({ url: emu.url, token: anon.token, orgSlug: anon.personalOrg.slug, projectSlug: 'my-dir' });
    const created = await call('POST', `/v1/projects?orgSlug=${anon.personalOrg.slug}`, {
      scope: false,
      body: { name: 'my dir', slug: 'my-dir' },
    });
    assert.equal(created.status, 201);
    assert.equal(
      (
        await call('POST', `/v1/projects?orgSlug=${anon.personalOrg.slug}`, {
          scope: false,
          body: { name: 'my dir', slug: 'my-dir' },
        })
      ).status,
      409,
    );
    const job = await call('POST', '/v1/jobs', { body: { name: 'anon-run', config: jobConfig({ maxSteps: 2 }) } });
    assert.equal(job.status, 201);
    const foreign = await call('GET', `/v1/jobs?orgSlug=${emu.orgSlug}&projectSlug=${emu.projectSlug}`, {
      scope: false,
    });
    assert.equal(foreign.status, 403);
    const bad = await fetch(`${emu.url}/v1/auth/anonymous`, {
      method: 'POST',
      headers: { 'X-Arkor-Client': CLIENT_HEADER, 'Content-Type': 'application/json' },
      body: JSON.stringify({ kind: 'robot' }),
    });
    assert.equal(bad.status, 400);
  });

  it('answers 404 { error: "not found" } for unknown routes', async () => {
    const res = await api(emu)('GET', '/v1/nothing-here');
    assert.equal(res.status, 404);
    assert.deepEqual(await res.json(), { error: 'not found' });
  });
});

describe('emulator: route faults and control API', () => {
  let emu: Emulator;
  before(async () => {
    emu = await startEmulator({ stepMs: 5 });
  });
  after(() => emu.close());

  it('fails matching requests with a status and Retry-After, `times` times, then recovers', async () => {
    const call = api(emu);
    emu.addRouteFault({ method: 'GET', path: '/v1/jobs', status: 503, retryAfterSeconds: 2, times: 2 });
    for (let i = 0; i < 2; i += 1) {
      const res = await call('GET', '/v1/jobs');
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('retry-after'), '2');
      assert.equal(typeof ((await res.json()) as { error: unknown }).error, 'string');
    }
    assert.equal((await call('GET', '/v1/jobs')).status, 200);
    // The fault matches the exact path only.
    emu.addRouteFault({ method: 'GET', path: '/v1/me', status: 500, times: 1 });
    assert.equal((await call('GET', '/v1/jobs')).status, 200);
    assert.equal((await call('GET', '/v1/me')).status, 500);
  });

  it('resets the connection for status "reset" (after delayMs) and counts requests by template', async () => {
    const call = api(emu);
    const before = emu.stats().requests['POST /v1/jobs'] ?? 0;
    emu.addRouteFault({ method: 'POST', path: '/v1/jobs', status: 'reset', times: 1, delayMs: 20 });
    await assert.rejects(call('POST', '/v1/jobs', { body: { name: 'r', config: jobConfig() } }), TypeError);
    assert.equal(emu.stats().jobs.filter((j) => j.name === 'r').length, 0);
    assert.equal(emu.stats().requests['POST /v1/jobs'], before + 1);
  });

  it('clearFaults removes route faults', async () => {
    emu.addRouteFault({ method: 'GET', path: '/v1/me', status: 502 });
    assert.equal((await api(emu)('GET', '/v1/me')).status, 502);
    emu.clearFaults();
    assert.equal((await api(emu)('GET', '/v1/me')).status, 200);
  });

  it('exposes the same operations over HTTP (connectEmulator), token required, bodies validated', async () => {
    const control = connectEmulator(`${emu.url}/`, emu.token);
    await control.setBehaviour({ kind: 'nextJob' }, { failAtStep: { step: 1, error: 'boom' } });
    await control.addRouteFault({ method: 'GET', path: '/v1/me', status: 418, times: 1 });
    assert.equal((await api(emu)('GET', '/v1/me')).status, 418);
    const created = await api(emu).json<{ job: { id: string } }>('POST', '/v1/jobs', {
      name: 'ctl',
      config: jobConfig(),
    });
    const stats = await control.stats();
    const rec = stats.jobs.find((j) => j.id === created.body.job.id);
    assert.ok(rec);
    assert.equal(rec.name, 'ctl');
    assert.equal(stats.requests['GET /v1/me'] !== undefined, true);
    // The nextJob behaviour made it fail at step 1.
    const done = await api(emu)('GET', `/v1/jobs/${created.body.job.id}/events/stream`);
    const text = await done.text();
    assert.match(text, /event: training\.failed\ndata: \{[^\n]*"error":"boom"/);

    await control.addRouteFault({ method: 'GET', path: '/v1/me', status: 500 });
    await control.clearFaults();
    assert.equal((await api(emu)('GET', '/v1/me')).status, 200);

    await assert.rejects(
      control.setBehaviour({ kind: 'jobId', jobId: 'no-such-job' }, { finalQuality: 0.5 }),
      (e: unknown) => e instanceof EmulatorControlError && e.status === 404,
    );
    const bad = await fetch(`${emu.url}/_emulator/behaviours`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${emu.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ target: { kind: 'nextJob' }, behaviour: { failAtStep: { step: 'x', error: 'e' } } }),
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /behaviour\.failAtStep\.step/);
    const typo = await fetch(`${emu.url}/_emulator/route-faults`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${emu.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ method: 'GET', path: '/v1/me' }),
    });
    assert.equal(typo.status, 400);
    assert.match(((await typo.json()) as { error: string }).error, /status/);
    await assert.rejects(
      connectEmulator(emu.url, 'wrong').stats(),
      (e: unknown) => e instanceof EmulatorControlError && e.status === 401,
    );
    // No version gate on the control API.
    assert.equal(
      (await fetch(`${emu.url}/_emulator/stats`, { headers: { Authorization: `Bearer ${emu.token}` } })).status,
      200,
    );
  });
});

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const MAIN = fileURLToPath(new URL('../emulator/main.ts', import.meta.url));

describe('emulator: standalone command', () => {
  it('prints its base URL as the first line, serves, and exits 0 on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        MAIN,
        '--port',
        '0',
        '--token',
        'cli-token',
        '--org',
        'cli-org',
        '--project',
        'cli-proj',
        '--step-ms',
        '2',
        '--ping-ms',
        '1000',
        '--seed',
        '3',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], cwd: REPO_ROOT },
    );
    try {
      const lines = createInterface({ input: child.stdout });
      const [first] = (await once(lines, 'line')) as [string];
      assert.match(first, /^http:\/\/127\.0\.0\.1:\d+$/);
      const call = api({ url: first, token: 'cli-token', orgSlug: 'cli-org', projectSlug: 'cli-proj' });
      const created = await call('POST', '/v1/jobs', { body: { name: 'cli', config: jobConfig({ maxSteps: 3 }) } });
      assert.equal(created.status, 201);
      const stats = await connectEmulator(first, 'cli-token').stats();
      assert.equal(stats.jobs.length, 1);
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });

  it('rejects a bad flag with a message naming it and exit code 2', async () => {
    for (const args of [['--step-ms', 'fast'], ['--bogus']]) {
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        cwd: REPO_ROOT,
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 2, args.join(' '));
      assert.match(stderr, args[0] === '--bogus' ? /bogus/ : /--step-ms/);
    }
  });
});

describe('emulator: in-process control validation', () => {
  it('rejects invalid behaviours and faults with an error naming the field', async () => {
    const emu = await startEmulator();
    try {
      assert.throws(
        () => emu.setBehaviour({ kind: 'nextJob' }, { notVisibleForOpens: -1 }),
        (e: unknown) => e instanceof InvalidControlInputError && /notVisibleForOpens/.test(e.message),
      );
      assert.throws(
        () => emu.addRouteFault({ method: 'GET', path: 'no-slash', status: 500 }),
        (e: unknown) => e instanceof InvalidControlInputError && /path/.test(e.message),
      );
      assert.throws(() => emu.setBehaviour({ kind: 'jobId', jobId: 'missing' }, {}), UnknownJobError);
    } finally {
      await emu.close();
    }
  });

  it('rejects unusable options', async () => {
    await assert.rejects(startEmulator({ stepMs: 0 }), EmulatorOptionsError);
    await assert.rejects(startEmulator({ minClientVersion: 'one' }), /minClientVersion/);
  });
});
