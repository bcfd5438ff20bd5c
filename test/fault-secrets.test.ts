/**
 * Secrets stay secret, whatever happens to a run: the Arkor token, the webhook URL (its path and
 * its query token), the dataset blob token and deployment key plaintexts appear in no workflow
 * history (children included), no failure message, no line the worker process prints, and no
 * output of the CLI.
 *
 * The worker is a child process configured as in production (environment variables only), so its
 * real log output is what is searched: as text, then as JSON lines at the debug level. Runs: a promotion that creates a key, a webhook that
 * answers 500 (echoing the URL back), a job that fails on the backend, and creates the backend
 * refuses with 403 and 422. Every search has a positive control showing the secret was really
 * used, so that a search of the wrong text cannot pass.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type WorkflowExecutionDescription } from '@temporalio/client';
import type { RunResult } from '../contract/result.js';
import type { TrainingRunInput } from '../contract/input.js';
import { historyText } from './support/history-text.js';
import {
  eventually,
  runClient,
  startHarness,
  trainingInput,
  type ChildWorker,
  type ClientRun,
  type Harness,
} from './support/harness.js';
import { startWebhookReceiver, type WebhookReceiver } from '../testing/webhook-receiver.js';

const unique = (label: string): string => `${label}-${randomBytes(6).toString('hex')}`;
const ARKOR_TOKEN = unique('arkor-secret-token');
const DATASET_TOKEN = unique('blob-secret');
const HOOK_PATH_SECRET = unique('hookpathsecret');
const HOOK_QUERY_SECRET = unique('hookquerysecret');
const DATASET_URL = 'https://data.example/train.jsonl';

/** Every failure message of an error, its causes included. */
function failureMessages(error: unknown): string[] {
  const messages: string[] = [];
  for (let current: unknown = error; current instanceof Error; current = current.cause) messages.push(current.message);
  return messages;
}

/**
 * Every string and decoded byte array inside `value` (JSON.stringify would print protobuf bytes
 * as base64, hiding a secret from the search).
 */
function decodedText(value: unknown, seen = new Set<object>()): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('latin1');
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (typeof value !== 'object' || value === null) return '';
  if (seen.has(value)) return '';
  seen.add(value);
  return Object.entries(value)
    .map(([key, child]) => `${key}\n${decodedText(child, seen)}`)
    .join('\n');
}

/**
 * The worker and the CLI log as text (the default), then as JSON lines at the debug level
 * (ARKOR_LOG_FORMAT=json, ARKOR_LOG_LEVEL=debug: the most they ever write).
 */
const LOG_VARIANTS = {
  text: {},
  json: { ARKOR_LOG_FORMAT: 'json', ARKOR_LOG_LEVEL: 'debug' },
} as const;

for (const logs of ['text', 'json'] as const) {
  describe(`secrets stay out of histories, failures, logs and CLI output (${logs} logs)`, () => secretsStayOut(logs));
}

function secretsStayOut(logs: keyof typeof LOG_VARIANTS): void {
  let h: Harness;
  let receiver: WebhookReceiver;
  let worker: ChildWorker;
  let hookUrl: string;
  /** Filled in as the runs go: every text that must not contain a secret, by where it came from. */
  const searched = new Map<string, string>();
  const results: RunResult[] = [];
  let keyPlaintext = '';
  const configDir = mkdtempSync(join(tmpdir(), 'arkor-secrets-'));

  /** The secrets, with the name each is reported under. */
  const secrets = (): Array<[string, string]> => [
    ['Arkor token', ARKOR_TOKEN],
    ['dataset token', DATASET_TOKEN],
    ['webhook URL', hookUrl],
    ['webhook path secret', HOOK_PATH_SECRET],
    ['webhook query token', HOOK_QUERY_SECRET],
    ['deployment key plaintext', keyPlaintext],
  ];

  function assertNoSecret(where: string, text: string): void {
    for (const [name, secret] of secrets()) {
      assert.ok(secret.length >= 10, `${name} is not set`);
      assert.ok(
        !text.includes(secret),
        `${name} found in ${where}:\n${text.slice(Math.max(0, text.indexOf(secret) - 300), text.indexOf(secret) + 300)}`,
      );
    }
  }

  function blobRun(name: string, extra: Omit<Partial<TrainingRunInput>, 'trainer'> = {}): TrainingRunInput {
    return trainingInput({
      trainer: {
        name,
        maxSteps: 20,
        loggingSteps: 5,
        evalSteps: 10,
        saveSteps: 10,
        dataset: { type: 'blob', url: DATASET_URL, tokenEnv: 'TEST_DATASET_TOKEN' },
      },
      ...extra,
    });
  }

  async function cli(label: string, args: string[]): Promise<ClientRun> {
    const run = await runClient(h, args, LOG_VARIANTS[logs]);
    searched.set(`CLI ${label} stdout`, run.stdout);
    searched.set(`CLI ${label} stderr`, run.stderr);
    return run;
  }

  before(async () => {
    receiver = await startWebhookReceiver();
    hookUrl = `${receiver.url}/hooks/T000/${HOOK_PATH_SECRET}?token=${HOOK_QUERY_SECRET}`;
    h = await startHarness({ token: ARKOR_TOKEN });
    worker = await h.spawnWorker({
      ARKOR_NOTIFY_TEAM: `webhook:${hookUrl}`,
      TEST_DATASET_TOKEN: DATASET_TOKEN,
      ...LOG_VARIANTS[logs],
    });
  });
  after(async () => {
    await h?.close();
    await receiver?.close();
  });

  it('a promoted run with a new deployment key and notifications', async () => {
    const { workflowId } = await h.service.start(
      blobRun('secret-promoted', {
        promotion: { deployment: 'secret-bot', create: true, createKey: { label: 'production' } },
        notifications: { channels: ['team'], events: ['started', 'completed'] },
      }),
      { workflowId: 'secret-promoted' },
    );
    const result = await h.service.outcome(workflowId);
    results.push(result);
    assert.equal(result.outcome, 'completed', result.reason);
    assert.equal(result.status.promotion?.verified, true);
    // Controls: the key was created and stored, the job got the dataset token, the hook was called
    // at its secret URL.
    const keyFiles = readdirSync(join(h.keyStoreDir, 'secret-bot')).filter((file) => file.endsWith('.key'));
    assert.equal(keyFiles.length, 1);
    keyPlaintext = readFileSync(join(h.keyStoreDir, 'secret-bot', keyFiles[0]!), 'utf8').trim();
    assert.match(keyPlaintext, /^ark_live_/);
    const { job } = await h.arkor.getJob(result.jobId!);
    assert.equal((job.config.datasetSource as { token?: string }).token, DATASET_TOKEN);
    assert.equal(h.emulator.token, ARKOR_TOKEN);
    const requests = await receiver.waitForRequests(2, 20_000);
    assert.ok(
      requests.every((request) => request.path === `/hooks/T000/${HOOK_PATH_SECRET}?token=${HOOK_QUERY_SECRET}`),
    );
    searched.set('promoted run result', JSON.stringify(result));
  });

  it('a webhook that answers 500 and echoes its URL: the failure is retried and redacted', async () => {
    const before = receiver.requests.length;
    // A receiver that echoes the request line in its error body (many frameworks do).
    receiver.respondWith(500, {
      body: `{"error":"no handler for POST /hooks/T000/${HOOK_PATH_SECRET}?token=${HOOK_QUERY_SECRET} at ${hookUrl}"}`,
    });
    const { workflowId } = await h.service.start(
      blobRun('secret-hook-500', { notifications: { channels: ['team'], events: ['completed'] } }),
      {
        workflowId: 'secret-hook-500',
      },
    );
    const result = await h.service.outcome(workflowId);
    results.push(result);
    assert.equal(result.outcome, 'completed');
    // The failed attempt, as the server shows it while the delivery waits for its retry.
    const child = h.temporal.client.workflow.getHandle(`${workflowId}/notify/completed/team`);
    const failure = await eventually(
      async () => (await child.describe()).raw.pendingActivities?.[0]?.lastFailure?.message ?? undefined,
      20_000,
      'the failed delivery attempt',
    );
    assert.match(failure, /^channel team answered 500: /);
    searched.set('pending notify lastFailure', failure);
    await receiver.waitForRequests(before + 2, 30_000);
    assert.equal(receiver.requests[before]?.status, 500);
    assert.equal(receiver.requests[before + 1]?.status, 200);
    // Control: the worker logged the failed attempt (so its log is where a leak would show).
    await eventually(
      () => (worker.output().includes('answered 500') ? true : undefined),
      10_000,
      'the failure in the worker log',
    );
  });

  it('a job that fails on the backend (started and followed through the CLI)', async () => {
    h.emulator.setBehaviour(
      { kind: 'nameContains', text: 'secret-backend-fails' },
      { failAtStep: { step: 7, error: 'CUDA out of memory' } },
    );
    const config = join(configDir, 'fails.json');
    writeFileSync(
      config,
      JSON.stringify(blobRun('secret-backend-fails', { notifications: { channels: ['team'], events: ['failed'] } })),
    );
    const run = await cli('start --wait --json (failed run)', [
      'start',
      '--config',
      config,
      '--workflow-id',
      'secret-backend-fails',
      '--wait',
      '--json',
    ]);
    assert.equal(run.code, 1, run.stderr);
    const result = JSON.parse(run.stdout) as RunResult;
    results.push(result);
    assert.equal(result.outcome, 'failed');
    assert.equal(result.reason, 'CUDA out of memory');
    // Control: the failed job's config (as the backend keeps it) holds the token.
    const { job } = await h.arkor.getJob(result.jobId!);
    assert.equal((job.config.datasetSource as { token?: string }).token, DATASET_TOKEN);
  });

  for (const status of [403, 422]) {
    it(`a create the backend refuses with ${status}`, async () => {
      const jobsBefore = h.emulator.stats().jobs.length;
      h.emulator.addRouteFault({ method: 'POST', path: '/v1/jobs', status, times: 1 });
      const workflowId = `secret-rejected-${status}`;
      await h.service.start(blobRun(workflowId), { workflowId });
      const result = await h.service.outcome(workflowId);
      results.push(result);
      assert.equal(result.outcome, 'failed');
      assert.match(result.reason ?? '', new RegExp(`Arkor answered ${status}`));
      assert.equal(h.emulator.stats().jobs.length, jobsBefore);
      // The workflow failure as a client sees it.
      const error: unknown = await h.service
        .handle(workflowId)
        .result()
        .catch((e: unknown) => e);
      assert.ok(error instanceof WorkflowFailedError);
      searched.set(`${workflowId} workflow failure`, failureMessages(error).join('\n'));
    });
  }

  it('no history, failure message or result holds a secret', async () => {
    assert.equal(results.length, 5);
    searched.set('run results', JSON.stringify(results));
    const described: WorkflowExecutionDescription[] = [];
    for await (const info of h.temporal.client.workflow.list()) {
      const handle = h.temporal.client.workflow.getHandle(info.workflowId, info.runId);
      const history = await historyText(handle);
      searched.set(`history of ${info.workflowId}`, history);
      const description = await handle.describe();
      described.push(description);
      // The whole description: pending activities' last failures, memo, search attributes (bytes decoded).
      searched.set(`description of ${info.workflowId}`, decodedText(description.raw));
      if (description.status.name === 'FAILED') {
        const error: unknown = await handle.result().catch((e: unknown) => e);
        searched.set(`failure of ${info.workflowId}`, failureMessages(error).join('\n'));
      }
    }
    const ids = described.map((d) => d.workflowId);
    // Control: the runs and their notification children were all searched.
    for (const id of [
      'secret-promoted',
      'secret-promoted/notify/completed/team',
      'secret-hook-500/notify/completed/team',
      'secret-backend-fails/notify/failed/team',
      'secret-rejected-403',
    ]) {
      assert.ok(ids.includes(id), `${id} not listed: ${ids.join(', ')}`);
    }
    // Control: payloads are decoded (the dataset URL is only in the input payload)...
    const promotedHistory = searched.get('history of secret-promoted') ?? '';
    assert.ok(promotedHistory.includes(DATASET_URL));
    assert.ok(promotedHistory.includes('TEST_DATASET_TOKEN'));
    // ...and the failure messages are there to search.
    assert.match(searched.get('failure of secret-rejected-422') ?? '', /Arkor answered 422/);
    assert.match(
      searched.get('description of secret-promoted') ?? '',
      /unsloth\/gemma-4-E4B-it/,
      'search attributes decoded',
    );
    for (const [where, text] of searched) assertNoSecret(where, text);
  });

  it('no CLI output holds a secret', async () => {
    // Each CLI run is a process start: the human and JSON forms over the runs that ended differently.
    for (const [id, json] of [
      ['secret-promoted', false],
      ['secret-promoted', true],
      ['secret-backend-fails', true],
      ['secret-rejected-403', false],
    ] as const) {
      const status = await cli(`status ${id}${json ? ' --json' : ''}`, ['status', id, ...(json ? ['--json'] : [])]);
      assert.equal(status.code, 0, status.stderr);
    }
    // Control: the CLI shows the run (and its dataset, promotion) in full.
    assert.match(searched.get('CLI status secret-promoted --json stdout') ?? '', /secret-bot/);
    const watch = await cli('watch', ['watch', 'secret-promoted']);
    assert.equal(watch.code, 0, watch.stderr);
    const watchFailed = await cli('watch failed', ['watch', 'secret-rejected-422']);
    assert.equal(watchFailed.code, 1);
    assert.match(watchFailed.stdout + watchFailed.stderr, /Arkor answered 422/);
    const list = await cli('list', ['list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /secret-promoted/);
    const config = join(configDir, 'scheduled.json');
    writeFileSync(config, JSON.stringify(blobRun('secret-scheduled')));
    const create = await cli('schedule create', [
      'schedule',
      'create',
      'secret-schedule',
      '--config',
      config,
      '--every',
      '1d',
    ]);
    assert.equal(create.code, 0, create.stderr);
    const describeSchedule = await cli('schedule describe', ['schedule', 'describe', 'secret-schedule', '--json']);
    assert.equal(describeSchedule.code, 0, describeSchedule.stderr);
    assert.match(describeSchedule.stdout, /TEST_DATASET_TOKEN|secret-scheduled/);
    const schedules = await cli('schedule list', ['schedule', 'list']);
    assert.equal(schedules.code, 0, schedules.stderr);
    for (const [where, text] of searched) if (where.startsWith('CLI ')) assertNoSecret(where, text);
  });

  it('the worker process printed no secret', () => {
    const output = worker.output();
    // Controls: it logged at info level (deliveries, the key it stored) and the failures.
    assert.match(output, /Notification delivered/);
    assert.match(output, /Deployment key created and stored/);
    assert.match(output, /answered 500/);
    if (logs === 'json') {
      // Controls: every line is a JSON record, down to the debug level (the SDK's worker options).
      const records = output
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as { level?: string; msg?: string; jobId?: string });
      assert.ok(records.some((record) => record.level === 'debug' && record.msg === 'Creating worker'));
      assert.ok(records.some((record) => record.msg === 'Deployment key created and stored' && record.jobId));
    }
    assertNoSecret('the worker output', output);
  });
}
