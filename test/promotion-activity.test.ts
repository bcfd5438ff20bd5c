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
import { VERIFICATION_KEY_LABEL_PREFIX, createPromotionActivities } from '../activities/promotion.js';
import type { PromotionActivities } from '../activities/promotion.js';
import { ArkorClient, CloudApiError, readChatText } from '../arkor/index.js';
import { startEmulator } from '../emulator/index.js';
import type { Emulator } from '../emulator/index.js';
import type { DeploymentTargetRef, VerifyInput } from '../workflows/evaluation.js';
import type { GoldenPrompt } from '../workflows/input.js';

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
  const job = await client.createJob({ name, config: { model: MODEL, datasetSource: { type: 'huggingface', name: 'org/data' }, maxSteps: 6 } });
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
    deploymentUrlTemplate: `${emulator.url}/_edge/{slug}/v1`,
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
    const created = await activities.retarget({ slug: 'retarget-bot', target: finalOf(jobA), createWith: { authMode: 'none' } });
    assert.equal(created.created, true);
    assert.equal(created.changed, true);
    assert.deepEqual({ ...created.deployment, deploymentId: 'x' }, { deploymentId: 'x', slug: 'retarget-bot', target: finalOf(jobA), authMode: 'none', enabled: true });
    assert.deepEqual(await activities.readDeployment('retarget-bot'), created.deployment);

    // A retry after a lost response (or a crash after the create) changes nothing.
    const again = await activities.retarget({ slug: 'retarget-bot', target: finalOf(jobA), createWith: { authMode: 'none' } });
    assert.deepEqual(again, { deployment: created.deployment, changed: false, created: false });
    assert.equal(requests('POST /v1/endpoints'), 1);
    assert.equal(requests('PATCH /v1/endpoints/:id'), 0);

    const moved = await activities.retarget({ slug: 'retarget-bot', target: finalOf(jobB) });
    assert.deepEqual(moved, { deployment: { ...created.deployment, target: finalOf(jobB) }, changed: true, created: false });
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
        if (!raced && init?.method === 'POST' && (url instanceof Request ? url.url : url.toString()).includes('/v1/endpoints?')) {
          raced = true;
          await client.createDeployment({ slug: 'race-bot', target: BASE, authMode: 'none' });
        }
        return fetch(url, init);
      },
    });
    const racingActivities = inContext(createPromotionActivities({ arkor: racing, keyStore }));
    const result = await racingActivities.retarget({ slug: 'race-bot', target: finalOf(jobA), createWith: { authMode: 'none' } });
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
    assert.match(differs.reason ?? '', /^deployment open-bot serves the final adapter of job .+, expected the final adapter of job /);
    const missing = await activities.verifyDeployment(verifyInput('ghost-bot', BASE));
    assert.deepEqual(missing, { ok: false, reason: 'deployment ghost-bot does not exist' });

    const created = await activities.retarget({ slug: 'off-bot', target: BASE, createWith: { authMode: 'none' } });
    await client.updateDeployment(created.deployment.deploymentId, { enabled: false });
    assert.deepEqual(await activities.verifyDeployment(verifyInput('off-bot', BASE)), { ok: false, reason: 'deployment off-bot is disabled' });
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
    const { deployment } = await activities.retarget({ slug: 'keyless-bot', target: finalOf(jobA), createWith: { authMode: 'fixed_api_key' } });
    assert.deepEqual(await activities.verifyDeployment(verifyInput('keyless-bot', finalOf(jobA))), { ok: true });
    const keys = await client.listDeploymentKeys(deployment.deploymentId);
    assert.equal(keys.length, 1);
    assert.ok(keys[0]?.label.startsWith(VERIFICATION_KEY_LABEL_PREFIX));
    assert.equal(keys[0]?.enabled, false);
    assert.notEqual(keys[0]?.lastUsedAt, null);
  });

  it('revokes verification keys orphaned by a crashed attempt', async () => {
    const { deployment } = await activities.retarget({ slug: 'orphan-bot', target: BASE, createWith: { authMode: 'fixed_api_key' } });
    const orphan = await client.createDeploymentKey(deployment.deploymentId, { label: `${VERIFICATION_KEY_LABEL_PREFIX} crashed` });
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
    deploymentId = (await activities.retarget({ slug: 'keyed-bot', target: finalOf(jobA), createWith: { authMode: 'fixed_api_key' } })).deployment.deploymentId;
  });

  it('stores the plaintext in a 0600 file, returns only id, prefix and path, and the key works', async () => {
    const result = await activities.createDeploymentKey({ deploymentId, slug: 'keyed-bot', label: 'production' });
    assert.deepEqual(Object.keys(result).sort(), ['keyId', 'prefix', 'storedAt']);
    assert.equal(result.storedAt, join(keyDir, 'store', 'keyed-bot', `${result.keyId}.key`));
    assert.equal((await stat(result.storedAt)).mode & 0o777, 0o600);
    assert.equal((await stat(join(keyDir, 'store', 'keyed-bot'))).mode & 0o777, 0o700);
    assert.equal((await stat(join(keyDir, 'store'))).mode & 0o777, 0o700);
    const plaintext = (await readFile(result.storedAt, 'utf8')).trim();
    plaintexts.add(plaintext);
    assert.ok(plaintext.startsWith(result.prefix));
    assertNoSecret(result);
    assert.equal(await keyStore.keyFor('keyed-bot'), plaintext);
    assert.ok((await readChatText(await client.edgeChat('keyed-bot', plaintext, { messages: PROMPT.messages, stream: false }))).length > 0);
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
    assert.equal(requests('POST /v1/endpoints/:id/keys'), creates);
    const live = (await client.listDeploymentKeys(deploymentId)).filter((key) => key.enabled);
    assert.deepEqual(live.map((key) => key.id), [first.keyId]);
  });

  it('revokes and replaces a key whose plaintext the store lost (crash between create and store)', async () => {
    const old = await activities.createDeploymentKey({ deploymentId, slug: 'keyed-bot', label: 'production' });
    await rm(old.storedAt);
    const replaced = await activities.createDeploymentKey({ deploymentId, slug: 'keyed-bot', label: 'production' });
    assert.notEqual(replaced.keyId, old.keyId);
    const plaintext = (await readFile(replaced.storedAt, 'utf8')).trim();
    plaintexts.add(plaintext);
    assertNoSecret(replaced);
    const keys = await client.listDeploymentKeys(deploymentId);
    assert.equal(keys.find((key) => key.id === old.keyId)?.enabled, false);
    assert.equal(keys.find((key) => key.id === replaced.keyId)?.enabled, true);
    assert.equal(await keyStore.keyFor('keyed-bot'), plaintext);
  });

  it('verifies with a temporary key when the stored key was revoked elsewhere', async () => {
    const stored = await keyStore.get('keyed-bot');
    assert.ok(stored);
    await client.revokeDeploymentKey(deploymentId, stored.keyId);
    assert.deepEqual(await activities.verifyDeployment(verifyInput('keyed-bot', finalOf(jobA))), { ok: true });
    const keys = await client.listDeploymentKeys(deploymentId);
    assert.ok(keys.every((key) => !key.enabled));
    assert.ok(keys.some((key) => key.label.startsWith(VERIFICATION_KEY_LABEL_PREFIX)));
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
