import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { resolveArkorConnection, projectSlugFromDirectory } from '../arkor/credentials.js';
import { ArkorConfigError, CloudApiError } from '../arkor/errors.js';

const roots: string[] = [];
after(async () => {
  await Promise.all(roots.map((root) => rm(root, { recursive: true, force: true })));
});

async function setup(
  options: { credentials?: unknown; state?: unknown; projectDir?: string } = {},
): Promise<{ home: string; cwd: string }> {
  const root = await mkdtemp(join(tmpdir(), 'arkor-cred-'));
  roots.push(root);
  const home = join(root, 'home');
  const cwd = join(root, options.projectDir ?? 'My Project!');
  await mkdir(join(home, '.arkor'), { recursive: true });
  await mkdir(cwd, { recursive: true });
  if (options.credentials !== undefined) {
    await writeFile(
      join(home, '.arkor', 'credentials.json'),
      typeof options.credentials === 'string' ? options.credentials : JSON.stringify(options.credentials),
    );
  }
  if (options.state !== undefined) {
    await mkdir(join(cwd, '.arkor'), { recursive: true });
    await writeFile(join(cwd, '.arkor', 'state.json'), JSON.stringify(options.state));
  }
  return { home, cwd };
}

async function readState(cwd: string): Promise<Record<string, string>> {
  return JSON.parse(await readFile(join(cwd, '.arkor', 'state.json'), 'utf8')) as Record<string, string>;
}

const anon = {
  mode: 'anon',
  token: 'anon-secret',
  anonymousId: 'a',
  arkorCloudApiUrl: 'https://staging.arkor.ai//',
  orgSlug: 'anon-org',
};
const oauth = {
  mode: 'oauth',
  accessToken: 'oauth-secret',
  refreshToken: 'r',
  expiresAt: Math.floor(Date.now() / 1000) + 3600,
  auth0Domain: 'd',
  audience: 'a',
  clientId: 'c',
};
const state = { orgSlug: 'anon-org', projectSlug: 'proj', projectId: 'p1' };

/** A fetch stub that records requests and answers from a queue. */
function stubFetch(answers: Array<{ status: number; body: unknown }>): {
  fetch: typeof fetch;
  calls: Array<{ method: string; url: string; body?: unknown; auth: string | null }>;
} {
  const calls: Array<{ method: string; url: string; body?: unknown; auth: string | null }> = [];
  const fetchStub: typeof fetch = (input, init) => {
    const headers = new Headers(init?.headers);
    calls.push({
      method: init?.method ?? 'GET',
      url: input instanceof Request ? input.url : input.toString(),
      auth: headers.get('authorization'),
      ...(typeof init?.body === 'string' ? { body: JSON.parse(init.body) as unknown } : {}),
    });
    const answer = answers.shift();
    if (answer === undefined) return Promise.reject(new Error('unexpected request'));
    return Promise.resolve(
      new Response(JSON.stringify(answer.body), {
        status: answer.status,
        headers: { 'content-type': 'application/json' },
      }),
    );
  };
  return { fetch: fetchStub, calls };
}

function assertConfigError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof ArkorConfigError, String(error));
    assert.match(error.message, pattern);
    assert.doesNotMatch(error.message, /secret/);
    return true;
  };
}

describe('resolveArkorConnection', () => {
  it('uses the env overrides for a service', async () => {
    const { home, cwd } = await setup({ credentials: anon, state });
    const connection = await resolveArkorConnection({
      env: {
        ARKOR_TOKEN: 'svc',
        ARKOR_ORG_SLUG: 'org',
        ARKOR_PROJECT_SLUG: 'prj',
        ARKOR_CLOUD_API_URL: 'http://127.0.0.1:9/',
        ARKOR_DEPLOYMENT_URL_TEMPLATE: 'http://127.0.0.1:9/edge/{slug}/v1',
      },
      homeDir: home,
      cwd,
    });
    assert.deepEqual(connection, {
      baseUrl: 'http://127.0.0.1:9',
      token: 'svc',
      scope: { orgSlug: 'org', projectSlug: 'prj' },
      deploymentUrlTemplate: 'http://127.0.0.1:9/edge/{slug}/v1',
    });
  });

  it('reads anon credentials and a matching state.json; base URL from the credentials', async () => {
    const { home, cwd } = await setup({ credentials: anon, state });
    assert.deepEqual(await resolveArkorConnection({ env: {}, homeDir: home, cwd }), {
      baseUrl: 'https://staging.arkor.ai',
      token: 'anon-secret',
      scope: { orgSlug: 'anon-org', projectSlug: 'proj' },
    });
    // ARKOR_CLOUD_API_URL wins even when empty.
    assert.equal((await resolveArkorConnection({ env: { ARKOR_CLOUD_API_URL: '' }, homeDir: home, cwd })).baseUrl, '');
  });

  it('reads OAuth credentials; production default URL; rejects an expired token', async () => {
    const { home, cwd } = await setup({ credentials: oauth, state: { ...state, orgSlug: 'other' } });
    const connection = await resolveArkorConnection({ env: {}, homeDir: home, cwd });
    assert.deepEqual(connection, {
      baseUrl: 'https://api.arkor.ai',
      token: 'oauth-secret',
      scope: { orgSlug: 'other', projectSlug: 'proj' },
    });
    const expired = await setup({ credentials: { ...oauth, expiresAt: 1000 }, state });
    await assert.rejects(
      resolveArkorConnection({ env: {}, homeDir: expired.home, cwd: expired.cwd }),
      assertConfigError(/expired at 1970-01-01T00:16:40\.000Z\. Log in again/),
    );
  });

  it('explains what to set when there are no credentials', async () => {
    const { home, cwd } = await setup({});
    await assert.rejects(
      resolveArkorConnection({ env: {}, homeDir: home, cwd }),
      assertConfigError(/ARKOR_TOKEN.*credentials\.json/),
    );
    const corrupt = await setup({ credentials: '{not json' });
    await assert.rejects(
      resolveArkorConnection({ env: {}, homeDir: corrupt.home, cwd: corrupt.cwd }),
      assertConfigError(/missing or not JSON/),
    );
    await assert.rejects(
      resolveArkorConnection({ env: { ARKOR_TOKEN: ' ' }, homeDir: home, cwd }),
      assertConfigError(/ARKOR_TOKEN is set but empty/),
    );
  });

  it('requires both scope variables or neither', async () => {
    const { home, cwd } = await setup({ credentials: anon, state });
    await assert.rejects(
      resolveArkorConnection({ env: { ARKOR_ORG_SLUG: 'o' }, homeDir: home, cwd }),
      assertConfigError(/ARKOR_PROJECT_SLUG is not/),
    );
    await assert.rejects(
      resolveArkorConnection({ env: { ARKOR_PROJECT_SLUG: 'p' }, homeDir: home, cwd }),
      assertConfigError(/ARKOR_ORG_SLUG is not/),
    );
  });

  it('never overwrites a state.json of another org (anon)', async () => {
    const { home, cwd } = await setup({ credentials: anon, state: { ...state, orgSlug: 'someone-else' } });
    await assert.rejects(
      resolveArkorConnection({ env: {}, homeDir: home, cwd }),
      assertConfigError(/belongs to org "someone-else".*"anon-org"/),
    );
    assert.equal((await readState(cwd)).orgSlug, 'someone-else');
  });

  it('asks for a scope with a service token or OAuth and no state', async () => {
    const { home, cwd } = await setup({ credentials: oauth });
    await assert.rejects(
      resolveArkorConnection({ env: {}, homeDir: home, cwd }),
      assertConfigError(/ARKOR_ORG_SLUG and ARKOR_PROJECT_SLUG, or create .*state\.json/),
    );
    await assert.rejects(
      resolveArkorConnection({ env: { ARKOR_TOKEN: 't' }, homeDir: home, cwd }),
      assertConfigError(/ARKOR_ORG_SLUG/),
    );
  });

  it('treats a state.json without three strings as absent', async () => {
    const { home, cwd } = await setup({ credentials: oauth, state: { orgSlug: 'o', projectSlug: 'p' } });
    await assert.rejects(resolveArkorConnection({ env: {}, homeDir: home, cwd }), ArkorConfigError);
  });

  it('bootstraps a project for anon credentials and writes state.json', async () => {
    const { home, cwd } = await setup({ credentials: anon });
    const stub = stubFetch([
      { status: 201, body: { project: { id: 'p9', slug: 'my-project', name: 'My Project!', orgId: 'o' } } },
    ]);
    const connection = await resolveArkorConnection({
      env: { ARKOR_CLOUD_API_URL: 'http://api.test' },
      homeDir: home,
      cwd,
      fetch: stub.fetch,
    });
    assert.deepEqual(connection.scope, { orgSlug: 'anon-org', projectSlug: 'my-project' });
    assert.equal(connection.fetch, stub.fetch);
    assert.deepEqual(stub.calls, [
      {
        method: 'POST',
        url: 'http://api.test/v1/projects?orgSlug=anon-org',
        auth: 'Bearer anon-secret',
        body: { name: 'My Project!', slug: 'my-project' },
      },
    ]);
    assert.equal(
      await readFile(join(cwd, '.arkor', 'state.json'), 'utf8'),
      '{\n  "orgSlug": "anon-org",\n  "projectSlug": "my-project",\n  "projectId": "p9"\n}\n',
    );
  });

  it('on 409 picks the existing project, else rethrows the 409', async () => {
    const { home, cwd } = await setup({ credentials: anon });
    const stub = stubFetch([
      { status: 409, body: { error: 'slug taken' } },
      {
        status: 200,
        body: {
          org: { slug: 'anon-org' },
          projects: [
            { id: 'x', slug: 'other', name: 'o', orgId: 'o' },
            { id: 'p7', slug: 'my-project', name: 'n', orgId: 'o' },
          ],
        },
      },
    ]);
    const connection = await resolveArkorConnection({ env: {}, homeDir: home, cwd, fetch: stub.fetch });
    assert.equal(connection.scope.projectSlug, 'my-project');
    assert.deepEqual(
      stub.calls.map((call) => `${call.method} ${call.url}`),
      [
        'POST https://staging.arkor.ai/v1/projects?orgSlug=anon-org',
        'GET https://staging.arkor.ai/v1/projects?orgSlug=anon-org',
      ],
    );
    assert.equal((await readState(cwd)).projectId, 'p7');

    const again = await setup({ credentials: anon });
    const missing = stubFetch([
      { status: 409, body: { error: 'slug taken' } },
      { status: 200, body: { org: {}, projects: [] } },
    ]);
    await assert.rejects(
      resolveArkorConnection({ env: {}, homeDir: again.home, cwd: again.cwd, fetch: missing.fetch }),
      (error) => error instanceof CloudApiError && error.status === 409,
    );
  });

  it('rejects a deployment URL template without {slug}', async () => {
    await assert.rejects(
      resolveArkorConnection({
        env: {
          ARKOR_TOKEN: 't',
          ARKOR_ORG_SLUG: 'o',
          ARKOR_PROJECT_SLUG: 'p',
          ARKOR_DEPLOYMENT_URL_TEMPLATE: 'https://x/v1',
        },
      }),
      assertConfigError(/\{slug\}/),
    );
  });
});

describe('projectSlugFromDirectory', () => {
  it('follows the SDK rules', () => {
    assert.equal(projectSlugFromDirectory('/a/My Project!'), 'my-project');
    assert.equal(projectSlugFromDirectory('/a/__'), 'project');
    assert.equal(projectSlugFromDirectory('/a/Ünïcode_Name'), 'n-code-name');
    assert.equal(projectSlugFromDirectory(`/a/${'x'.repeat(50)}`), 'x'.repeat(40));
  });
});

describe('resolveArkorConnection against the emulator', () => {
  it('bootstraps a project over HTTP, then reuses state.json', async (t) => {
    const { startEmulator } = await import('../emulator/index.js');
    const emulator = await startEmulator();
    t.after(() => emulator.close());
    const { home, cwd } = await setup({
      credentials: {
        mode: 'anon',
        token: emulator.token,
        anonymousId: 'a',
        arkorCloudApiUrl: `${emulator.url}/`,
        orgSlug: emulator.orgSlug,
      },
      projectDir: 'Fine Tune_Demo',
    });
    const connection = await resolveArkorConnection({ env: {}, homeDir: home, cwd });
    assert.deepEqual(connection, {
      baseUrl: emulator.url,
      token: emulator.token,
      scope: { orgSlug: emulator.orgSlug, projectSlug: 'fine-tune-demo' },
    });
    const state = await readState(cwd);
    assert.equal(state.projectSlug, 'fine-tune-demo');
    // Second resolution: state.json is used, no new project request.
    const before = emulator.stats().requests['POST /v1/projects'] ?? 0;
    assert.deepEqual(await resolveArkorConnection({ env: {}, homeDir: home, cwd }), connection);
    assert.equal(emulator.stats().requests['POST /v1/projects'] ?? 0, before);
    // A second directory with the same name hits 409 and picks the existing project.
    const other = await setup({
      credentials: {
        mode: 'anon',
        token: emulator.token,
        anonymousId: 'a',
        arkorCloudApiUrl: emulator.url,
        orgSlug: emulator.orgSlug,
      },
      projectDir: 'Fine Tune_Demo',
    });
    const again = await resolveArkorConnection({ env: {}, homeDir: other.home, cwd: other.cwd });
    assert.equal(again.scope.projectSlug, 'fine-tune-demo');
    assert.equal((await readState(other.cwd)).projectId, state.projectId);
  });
});
