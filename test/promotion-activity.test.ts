/**
 * The promotion activities against the in-process emulator over real HTTP, and the file key
 * store. Activities run in a MockActivityEnvironment (an activity context, no Temporal server).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import type { LogEntry } from '@temporalio/worker';
import { KeyStorePathError, fileKeyStore } from '../activities/key-store.js';
import type { KeyStore } from '../activities/key-store.js';
import { VERIFICATION_KEY_LABEL_PREFIX, createPromotionActivities, keyMarker } from '../activities/promotion.js';
import type { PromotionActivities, PromotionDeps } from '../activities/promotion.js';
import { ArkorClient, CloudApiError, readChatText } from '../arkor/index.js';
import { startEmulator } from '../emulator/index.js';
import type { Emulator } from '../emulator/index.js';
import type { DeploymentTargetRef, VerifyInput } from '../contract/evaluation.js';
import type { GoldenPrompt } from '../contract/input.js';

const MODEL = 'unsloth/gemma-4-E4B-it';
const BASE: DeploymentTargetRef = { kind: 'base_model', baseModel: MODEL };
const finalOf = (jobId: string): DeploymentTargetRef => ({ kind: 'adapter', adapter: { kind: 'final', jobId } });
const PROMPT: GoldenPrompt = {
  name: 'capital',
  messages: [{ role: 'user', content: 'What is the capital of France?' }],
  expect: { contains: 'Paris', caseSensitive: false },
  weight: 1,
};

let emulator: Emulator;
let client: ArkorClient;
let keyDir: string;
let keyStore: KeyStore;
let activities: PromotionActivities;
let jobA: string;
let jobB: string;
const logs: LogEntry[] = [];
const env = new MockActivityEnvironment(undefined, { logger: new DefaultLogger('DEBUG', (entry) => logs.push(entry)) });
/** Every plaintext a test saw: none may appear in a result, log line or failure. */
const plaintexts = new Set<string>();

type AnyActivity = (...args: unknown[]) => Promise<unknown>;
/** The same activities, each call running in the activity context. */
function inContext<T extends object>(acts: T): T {
  const entries = Object.entries(acts as Record<string, AnyActivity>);
  return Object.fromEntries(entries.map(([name, fn]) => [name, (...args: unknown[]) => env.run(fn, ...args)])) as T;
}

function requests(route: string): number {
  return emulator.stats().requests[route] ?? 0;
}

async function completedJob(name: string): Promise<string> {
  const job = await client.createJob({
    name,
    config: { model: MODEL, datasetSource: { type: 'huggingface', name: 'org/data' }, maxSteps: 6 },
  });
  for (;;) {
    const { job: current } = await client.getJob(job.id);
    if (current.status === 'completed') return job.id;
    assert.ok(current.status === 'queued' || current.status === 'running', current.status);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function failureOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  assert.fail('expected a failure');
}

function assertNoSecret(value: unknown): void {
  const text = JSON.stringify(value);
  for (const secret of plaintexts) assert.ok(!text.includes(secret), 'a key plaintext leaked');
}

const verifyInput = (slug: string, target: DeploymentTargetRef): VerifyInput => ({ slug, target, prompt: PROMPT });

before(async () => {
  emulator = await startEmulator({ stepMs: 1 });
  client = new ArkorClient({
    baseUrl: emulator.url,
    token: emulator.token,
    scope: { orgSlug: emulator.orgSlug, projectSlug: emulator.projectSlug },
    deploymentUrlTemplate: emulator.deploymentUrlTemplate,
  });
  keyDir = await mkdtemp(join(tmpdir(), 'arkor-keys-'));
  keyStore = fileKeyStore(join(keyDir, 'store'));
  activities = inContext(createPromotionActivities({ arkor: client, keyStore }));
  [jobA, jobB] = [await completedJob('promo-a'), await completedJob('promo-b')];
});

after(async () => {
  await emulator.close();
  await rm(keyDir, { recursive: true, force: true });
  assert.ok(plaintexts.size > 0);
  assertNoSecret(logs.map((entry) => [entry.message, entry.meta]));
});

describe('retarget', () => {
  it('fails a missing deployment without createWith, non-retryably, and creates nothing', async () => {
    assert.equal(await activities.readDeployment('no-such-bot'), null);
    const failure = await failureOf(activities.retarget({ slug: 'no-such-bot', target: finalOf(jobA) }));
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.nonRetryable, true);
    assert.equal(failure.type, 'ArkorRejected');
    assert.equal(failure.message, 'deployment no-such-bot does not exist');
    assert.equal(requests('POST /v1/endpoints'), 0);
  });

  it('creates when missing, then patches only when the target changes', async () => {
    const created = await activities.retarget({
      slug: 'retarget-bot',
      target: finalOf(jobA),
      createWith: { authMode: 'none' },
    });
    assert.equal(created.created, true);
    assert.equal(created.changed, true);
    assert.deepEqual(
      { ...created.deployment, deploymentId: 'x' },
      { deploymentId: 'x', slug: 'retarget-bot', target: finalOf(jobA), authMode: 'none', enabled: true },
    );
    assert.deepEqual(await activities.readDeployment('retarget-bot'), created.deployment);

    // A retry after a lost response (or a crash after the create) changes nothing.
    const again = await activities.retarget({
      slug: 'retarget-bot',
      target: finalOf(jobA),
      createWith: { authMode: 'none' },
    });
    assert.deepEqual(again, { deployment: created.deployment, changed: false, created: false });
    assert.equal(requests('POST /v1/endpoints'), 1);
    assert.equal(requests('PATCH /v1/endpoints/:id'), 0);

    const moved = await activities.retarget({ slug: 'retarget-bot', target: finalOf(jobB) });
    assert.deepEqual(moved, {
      deployment: { ...created.deployment, target: finalOf(jobB) },
      changed: true,
      created: false,
    });
    // Same target again (a retry after a crash after the PATCH): no second PATCH.
    const repeated = await activities.retarget({ slug: 'retarget-bot', target: finalOf(jobB) });
    assert.equal(repeated.changed, false);
    assert.equal(requests('PATCH /v1/endpoints/:id'), 1);
    assert.deepEqual((await client.getDeployment(created.deployment.deploymentId)).target, finalOf(jobB));
  });

  it('continues after a 409 when the deployment was created behind its back', async () => {
    // A fetch that lets a concurrent creator win the race between the list and the create.
    let raced = false;
    const racing = new ArkorClient({
      baseUrl: emulator.url,
      token: emulator.token,
      scope: { orgSlug: emulator.orgSlug, projectSlug: emulator.projectSlug },
      fetch: async (url, init) => {
        if (
          !raced &&
          init?.method === 'POST' &&
          (url instanceof Request ? url.url : url.toString()).includes('/v1/endpoints?')
        ) {
          raced = true;
          await client.createDeployment({ slug: 'race-bot', target: BASE, authMode: 'none' });
        }
        return fetch(url, init);
      },
    });
    const racingActivities = inContext(createPromotionActivities({ arkor: racing, keyStore }));
    const result = await racingActivities.retarget({
      slug: 'race-bot',
      target: finalOf(jobA),
      createWith: { authMode: 'none' },
    });
    assert.ok(raced);
    assert.equal(result.created, false);
    assert.equal(result.changed, true);
    assert.deepEqual(result.deployment.target, finalOf(jobA));
  });

  it('refuses a target the cloud-api rejects, non-retryably', async () => {
    const failure = await failureOf(activities.retarget({ slug: 'retarget-bot', target: finalOf('no-such-job') }));
    assert.ok(failure instanceof ApplicationFailure);
    assert.equal(failure.nonRetryable, true);
    assert.match(failure.message, /404/);
  });
});

describe('verifyDeployment', () => {
  before(async () => {
    await activities.retarget({ slug: 'open-bot', target: finalOf(jobA), createWith: { authMode: 'none' } });
  });

  it('passes when the deployment serves the target and answers through the edge', async () => {
    const edgeBefore = requests('POST /_edge/:slug/v1/chat/completions');
    assert.deepEqual(await activities.verifyDeployment(verifyInput('open-bot', finalOf(jobA))), { ok: true });
    assert.equal(requests('POST /_edge/:slug/v1/chat/completions'), edgeBefore + 1);
  });

  it('fails (without throwing) when the target differs, the deployment is missing or disabled', async () => {
    const differs = await activities.verifyDeployment(verifyInput('open-bot', finalOf(jobB)));
    assert.equal(differs.ok, false);
    assert.match(
      differs.reason ?? '',
      /^deployment open-bot serves the final adapter of job .+, expected the final adapter of job /,
    );
    const missing = await activities.verifyDeployment(verifyInput('ghost-bot', BASE));
    assert.deepEqual(missing, { ok: false, reason: 'deployment ghost-bot does not exist' });

    const created = await activities.retarget({ slug: 'off-bot', target: BASE, createWith: { authMode: 'none' } });
    await client.updateDeployment(created.deployment.deploymentId, { enabled: false });
    assert.deepEqual(await activities.verifyDeployment(verifyInput('off-bot', BASE)), {
      ok: false,
      reason: 'deployment off-bot is disabled',
    });
  });

  it('throws on a transient edge error (503) and fails on a permanent one (404)', async () => {
    const path = '/_edge/open-bot/v1/chat/completions';
    emulator.addRouteFault({ method: 'POST', path, status: 503, times: 1 });
    const transient = await failureOf(activities.verifyDeployment(verifyInput('open-bot', finalOf(jobA))));
    assert.ok(transient instanceof CloudApiError && transient.status === 503, String(transient));

    emulator.addRouteFault({ method: 'POST', path, status: 404, times: 1 });
    const permanent = await activities.verifyDeployment(verifyInput('open-bot', finalOf(jobA)));
    assert.equal(permanent.ok, false);
    assert.match(permanent.reason ?? '', /^chat through the edge of deployment open-bot failed: 404/);
    // The faults are used up: the deployment verifies again.
    assert.deepEqual(await activities.verifyDeployment(verifyInput('open-bot', finalOf(jobA))), { ok: true });
  });

  it('rolls back by retargeting to the previous target, which then verifies', async () => {
    const previous = await activities.readDeployment('open-bot');
    assert.ok(previous);
    await activities.retarget({ slug: 'open-bot', target: finalOf(jobB) });
    // Say the new adapter failed its verification: the workflow retargets to the previous one.
    const rolledBack = await activities.retarget({ slug: 'open-bot', target: previous.target });
    assert.equal(rolledBack.changed, true);
    assert.deepEqual(rolledBack.deployment, previous);
    assert.deepEqual(await activities.verifyDeployment(verifyInput('open-bot', previous.target)), { ok: true });
  });

  it('verifies a keyed deployment with a temporary key when the store has none, and revokes it', async () => {
    const { deployment } = await activities.retarget({
      slug: 'keyless-bot',
      target: finalOf(jobA),
      createWith: { authMode: 'fixed_api_key' },
    });
    assert.deepEqual(await activities.verifyDeployment(verifyInput('keyless-bot', finalOf(jobA))), { ok: true });
    const keys = await client.listDeploymentKeys(deployment.deploymentId);
    assert.equal(keys.length, 1);
    assert.ok(keys[0]?.label.startsWith(VERIFICATION_KEY_LABEL_PREFIX));
    assert.equal(keys[0]?.enabled, false);
    assert.notEqual(keys[0]?.lastUsedAt, null);
  });

  it('revokes verification keys orphaned by a crashed attempt', async () => {
    const { deployment } = await activities.retarget({
      slug: 'orphan-bot',
      target: BASE,
      createWith: { authMode: 'fixed_api_key' },
    });
    const orphan = await client.createDeploymentKey(deployment.deploymentId, {
      label: `${VERIFICATION_KEY_LABEL_PREFIX} crashed`,
    });
    plaintexts.add(orphan.plaintext);
    const eager = inContext(createPromotionActivities({ arkor: client, keyStore, verificationKeyMaxAgeMs: 0 }));
    assert.deepEqual(await eager.verifyDeployment(verifyInput('orphan-bot', BASE)), { ok: true });
    const keys = await client.listDeploymentKeys(deployment.deploymentId);
    assert.equal(keys.length, 2);
    assert.ok(keys.every((key) => !key.enabled));
  });
});

describe('createDeploymentKey', () => {
  let deploymentId: string;
  before(async () => {
    deploymentId = (
      await activities.retarget({ slug: 'keyed-bot', target: finalOf(jobA), createWith: { authMode: 'fixed_api_key' } })
    ).deployment.deploymentId;
  });

  it('stores the plaintext in a 0600 file, returns only id, prefix, label and path, and the key works', async () => {
    const result = await activities.createDeploymentKey({ deploymentId, slug: 'keyed-bot', label: 'production' });
    assert.deepEqual(Object.keys(result).sort(), ['keyId', 'label', 'origin', 'prefix', 'storedAt']);
    assert.equal(result.origin, 'created');
    // The label names the run that created the key (MockActivityEnvironment's workflow id is "test").
    assert.equal(result.label, `production ${keyMarker('test')}`);
    assert.equal(
      (await client.listDeploymentKeys(deploymentId)).find((key) => key.id === result.keyId)?.label,
      result.label,
    );
    assert.ok(result.storedAt);
    assert.equal(result.storedAt, join(keyDir, 'store', 'keyed-bot', `${result.keyId}.key`));
    assert.equal((await stat(result.storedAt)).mode & 0o777, 0o600);
    assert.equal((await stat(join(keyDir, 'store', 'keyed-bot'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(keyDir, 'store'))).mode & 0o777, 0o700);
    const plaintext = (await readFile(result.storedAt, 'utf8')).trim();
    plaintexts.add(plaintext);
    assert.ok(plaintext.startsWith(result.prefix));
    assertNoSecret(result);
    assert.equal(await keyStore.keyFor('keyed-bot'), plaintext);
    assert.ok(
      (await readChatText(await client.edgeChat('keyed-bot', plaintext, { messages: PROMPT.messages, stream: false })))
        .length > 0,
    );
    // Only the key file and the pointer: no temporary file left behind.
    assert.deepEqual((await readdir(join(keyDir, 'store', 'keyed-bot'))).sort(), [`${result.keyId}.key`, 'latest']);
    // The stored key is what verification uses: no temporary key is created.
    const keysBefore = requests('POST /v1/endpoints/:id/keys');
    assert.deepEqual(await activities.verifyDeployment(verifyInput('keyed-bot', finalOf(jobA))), { ok: true });
    assert.equal(requests('POST /v1/endpoints/:id/keys'), keysBefore);
  });

  it('is idempotent by label', async () => {
    const creates = requests('POST /v1/endpoints/:id/keys');
    const first = await activities.createDeploymentKey({ deploymentId, slug: 'keyed-bot', label: 'production' });
    const second = await activities.createDeploymentKey({ deploymentId, slug: 'keyed-bot', label: 'production' });
    assert.deepEqual(second, first);
    assert.equal(first.origin, 'reattached');
    assert.equal(requests('POST /v1/endpoints/:id/keys'), creates);
    const live = (await client.listDeploymentKeys(deploymentId)).filter((key) => key.enabled);
    assert.deepEqual(
      live.map((key) => key.id),
      [first.keyId],
    );
  });

  it('keeps a live key whose plaintext this store lost, and says it has none', async () => {
    const old = await activities.createDeploymentKey({ deploymentId, slug: 'keyed-bot', label: 'production' });
    assert.ok(old.storedAt);
    const plaintext = (await readFile(old.storedAt, 'utf8')).trim();
    await rm(old.storedAt);
    const revokes = requests('DELETE /v1/endpoints/:id/keys/:keyId');
    const again = await activities.createDeploymentKey({ deploymentId, slug: 'keyed-bot', label: 'production' });
    assert.deepEqual(again, { keyId: old.keyId, prefix: old.prefix, label: old.label, origin: 'reattached' });
    assert.equal(requests('DELETE /v1/endpoints/:id/keys/:keyId'), revokes);
    assert.equal((await client.listDeploymentKeys(deploymentId)).find((key) => key.id === old.keyId)?.enabled, true);
    assert.ok(
      logs.some(
        (entry) =>
          entry.level === 'WARN' &&
          /its plaintext is in the key store of the worker that created it/.test(entry.message),
      ),
    );
    // Put back for the next test.
    await keyStore.put('keyed-bot', old.keyId, plaintext);
  });

  it('revokes a key it just created when the store cannot keep its plaintext, so the retry issues a usable one', async () => {
    const broken: KeyStore = { ...keyStore, put: () => Promise.reject(new Error('disk full')) };
    const failing = inContext(createPromotionActivities({ arkor: client, keyStore: broken }));
    const before = new Set((await client.listDeploymentKeys(deploymentId)).map((key) => key.id));
    await assert.rejects(
      failing.createDeploymentKey({ deploymentId, slug: 'keyed-bot', label: 'staging' }),
      /disk full/,
    );
    const added = (await client.listDeploymentKeys(deploymentId)).filter((key) => !before.has(key.id));
    assert.equal(added.length, 1);
    assert.equal(added[0]?.enabled, false);
    const retried = await activities.createDeploymentKey({ deploymentId, slug: 'keyed-bot', label: 'staging' });
    assert.equal(retried.origin, 'created');
    assert.ok(retried.storedAt);
    plaintexts.add((await readFile(retried.storedAt, 'utf8')).trim());
  });

  it('verifies with a temporary key when the stored key was revoked elsewhere', async () => {
    const stored = await keyStore.get('keyed-bot');
    assert.ok(stored);
    // Revoked by hand, with every other key of the deployment.
    for (const key of await client.listDeploymentKeys(deploymentId))
      await client.revokeDeploymentKey(deploymentId, key.id);
    assert.deepEqual(await activities.verifyDeployment(verifyInput('keyed-bot', finalOf(jobA))), { ok: true });
    const keys = await client.listDeploymentKeys(deploymentId);
    assert.ok(keys.every((key) => !key.enabled));
    assert.ok(keys.some((key) => key.label.startsWith(VERIFICATION_KEY_LABEL_PREFIX)));
  });
});

describe("deployment keys do not depend on one worker's disk", () => {
  const slug = 'fleet-bot';
  let deploymentId: string;
  before(async () => {
    deploymentId = (
      await activities.retarget({ slug, target: finalOf(jobA), createWith: { authMode: 'fixed_api_key' } })
    ).deployment.deploymentId;
  });

  /** The promotion activities of another worker, with its own empty key store, in an attempt of `workflowId`. */
  async function worker(
    workflowId: string,
    deps: Partial<PromotionDeps> = {},
  ): Promise<{ acts: PromotionActivities; store: KeyStore }> {
    const store = fileKeyStore(await mkdtemp(join(keyDir, 'worker-')));
    const attempt = new MockActivityEnvironment(
      { workflowExecution: { workflowId, runId: `${workflowId}-run` } },
      { logger: new DefaultLogger('DEBUG', (entry) => logs.push(entry)) },
    );
    const acts = createPromotionActivities({ arkor: client, keyStore: store, ...deps });
    const entries = Object.entries(acts as Record<string, AnyActivity>);
    return {
      acts: Object.fromEntries(
        entries.map(([name, fn]) => [name, (...args: unknown[]) => attempt.run(fn, ...args)]),
      ) as PromotionActivities,
      store,
    };
  }

  async function answersWith(plaintext: string): Promise<boolean> {
    try {
      return (
        (await readChatText(await client.edgeChat(slug, plaintext, { messages: PROMPT.messages, stream: false })))
          .length > 0
      );
    } catch (error) {
      if (error instanceof CloudApiError && error.status === 401) return false;
      throw error;
    }
  }

  const liveKeyIds = async () =>
    (await client.listDeploymentKeys(deploymentId))
      .filter((key) => key.enabled)
      .map((key) => key.id)
      .sort();

  it('a retry on another worker, with an empty key store, takes the key its run created: no revoke, no second key', async () => {
    const first = await (
      await worker('run-retried')
    ).acts.createDeploymentKey({ deploymentId, slug, label: 'retried' });
    assert.ok(first.storedAt);
    const plaintext = (await readFile(first.storedAt, 'utf8')).trim();
    plaintexts.add(plaintext);
    const liveBefore = await liveKeyIds();
    const [creates, revokes] = [
      requests('POST /v1/endpoints/:id/keys'),
      requests('DELETE /v1/endpoints/:id/keys/:keyId'),
    ];

    // The first attempt's completion was lost; the retry runs on a worker that never saw the key.
    const retried = await (
      await worker('run-retried')
    ).acts.createDeploymentKey({ deploymentId, slug, label: 'retried' });
    assert.deepEqual(retried, { keyId: first.keyId, prefix: first.prefix, label: first.label, origin: 'reattached' });
    assert.equal(requests('DELETE /v1/endpoints/:id/keys/:keyId'), revokes, 'no key revoked');
    assert.equal(requests('POST /v1/endpoints/:id/keys'), creates, 'no second key');
    assert.deepEqual(await liveKeyIds(), liveBefore);
    assert.ok(await answersWith(plaintext), 'the key the first attempt stored still works');
    assertNoSecret(retried);
  });

  it('the next scheduled run, on a fresh key store, leaves the live key its clients use alone', async () => {
    const first = await (await worker('nightly-1')).acts.createDeploymentKey({ deploymentId, slug, label: 'nightly' });
    assert.ok(first.storedAt);
    const plaintext = (await readFile(first.storedAt, 'utf8')).trim();
    plaintexts.add(plaintext);
    assert.ok(await answersWith(plaintext));
    const [creates, revokes] = [
      requests('POST /v1/endpoints/:id/keys'),
      requests('DELETE /v1/endpoints/:id/keys/:keyId'),
    ];

    // The next run of the schedule: another workflow, on a container that starts with no keys.
    const next = await (await worker('nightly-2')).acts.createDeploymentKey({ deploymentId, slug, label: 'nightly' });
    assert.equal(requests('DELETE /v1/endpoints/:id/keys/:keyId'), revokes, 'no key revoked');
    assert.ok(await answersWith(plaintext), 'clients of the deployment still get answers');
    // One key per label: the run takes the live one rather than issuing another.
    assert.deepEqual(next, { keyId: first.keyId, prefix: first.prefix, label: first.label, origin: 'existing' });
    assert.equal(requests('POST /v1/endpoints/:id/keys'), creates);
    assertNoSecret(next);
  });

  it('fits the marker into the 80 characters Arkor allows, and finds a long-labelled key again', async () => {
    const long = `${'l'.repeat(79)}z`;
    const first = await (await worker('run-long')).acts.createDeploymentKey({ deploymentId, slug, label: long });
    assert.equal(first.label.length, 80);
    assert.ok(first.storedAt);
    plaintexts.add((await readFile(first.storedAt, 'utf8')).trim());
    const next = await (await worker('run-long-next')).acts.createDeploymentKey({ deploymentId, slug, label: long });
    assert.deepEqual(next, { keyId: first.keyId, prefix: first.prefix, label: first.label, origin: 'existing' });
  });

  it('revokes the key of a create whose answer was lost (the server made it after the client gave up), and the retry issues one', async () => {
    // The first key create fails at the client at once, while the request still reaches the
    // server a little later: the key exists, its plaintext went nowhere.
    let lose = true;
    const losing = new ArkorClient({
      baseUrl: emulator.url,
      token: emulator.token,
      scope: { orgSlug: emulator.orgSlug, projectSlug: emulator.projectSlug },
      fetch: async (url, init) => {
        if (lose && init?.method === 'POST' && String(url instanceof Request ? url.url : url).includes('/keys?')) {
          lose = false;
          setTimeout(() => void fetch(url, init).then((response) => response.body?.cancel()), 300);
          throw new TypeError('fetch failed (the answer was lost)');
        }
        return fetch(url, init);
      },
    });
    const { acts } = await worker('run-lost', { arkor: losing, lostCreateProbeDelaysMs: [0, 500, 1_000] });
    const input = { deploymentId, slug, label: 'lost' };
    await assert.rejects(acts.createDeploymentKey(input), /the answer was lost/);
    const lost = (await client.listDeploymentKeys(deploymentId)).filter((key) => key.label.startsWith('lost '));
    assert.equal(lost.length, 1, 'the server made the key after the client gave up');
    assert.equal(lost[0]?.enabled, false, 'and it was revoked: nobody has its plaintext');

    const retried = await acts.createDeploymentKey(input);
    assert.equal(retried.origin, 'created');
    assert.ok(retried.storedAt);
    plaintexts.add((await readFile(retried.storedAt, 'utf8')).trim());
    const live = (await client.listDeploymentKeys(deploymentId)).filter(
      (key) => key.enabled && key.label.startsWith('lost '),
    );
    assert.deepEqual(
      live.map((key) => key.id),
      [retried.keyId],
    );
  });

  it('never revokes a key a person created with the same label', async () => {
    const manual = await client.createDeploymentKey(deploymentId, { label: 'partner' });
    plaintexts.add(manual.plaintext);
    const revokes = requests('DELETE /v1/endpoints/:id/keys/:keyId');
    const taken = await (
      await worker('run-partner')
    ).acts.createDeploymentKey({ deploymentId, slug, label: 'partner' });
    assert.equal(requests('DELETE /v1/endpoints/:id/keys/:keyId'), revokes, 'no key revoked');
    assert.ok(await answersWith(manual.plaintext));
    assert.deepEqual(taken, { keyId: manual.id, prefix: manual.prefix, label: 'partner', origin: 'existing' });
  });
});

describe('file key store', () => {
  it('keeps the newest key per slug and refuses names that would escape its directory', async () => {
    const store = fileKeyStore(join(keyDir, 'unit'));
    assert.equal(await store.keyFor('bot'), undefined);
    assert.equal(await store.get('bot', 'k1'), undefined);
    const path = await store.put('bot', 'k1', 'secret-one');
    await store.put('bot', 'k2', 'secret-two');
    assert.equal(await store.keyFor('bot'), 'secret-two');
    assert.deepEqual(await store.get('bot', 'k1'), { keyId: 'k1', plaintext: 'secret-one', path });
    assert.equal((await store.get('bot'))?.keyId, 'k2');
    await store.put('bot', 'k1', 'secret-one');
    assert.equal(await store.keyFor('bot'), 'secret-one');
    await assert.rejects(store.put('..', 'k', 'x'), KeyStorePathError);
    await assert.rejects(store.put('bot', '../../etc/passwd', 'x'), KeyStorePathError);
    await assert.rejects(store.get('bot', 'a/b'), KeyStorePathError);
  });
});
