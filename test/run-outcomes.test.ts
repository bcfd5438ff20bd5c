import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ArkorClient } from '../arkor/index.js';
import { InvalidTrainingInputError } from '../contract/input.js';
import { TrainingService } from '../service/index.js';
import { historyText } from './support/history-text.js';
import { armWhenCreated } from './support/faults.js';
import { eventually, expectedEventKeys, startHarness, trainingInput, type Harness } from './support/harness.js';

const SECRET_TOKEN = 'arkor-secret-token-3f9a1c';
const DATASET_SECRET = 'blob-secret-7d2e4b';

describe('how runs end', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ token: SECRET_TOKEN });
    await h.startWorker({
      env: { ...process.env, TEST_DATASET_TOKEN: DATASET_SECRET },
      stream: { blockedRetryMs: 1_000, checkJobAfterMs: 1_000 },
    });
  });
  after(async () => h?.close());

  it('a backend-reported failure calls onFailed only and fails the run with the result', async () => {
    h.emulator.setBehaviour(
      { kind: 'nameContains', text: 'fails-at-7' },
      { failAtStep: { step: 7, error: 'CUDA OOM' } },
    );
    const { workflowId } = await h.service.start(trainingInput({ trainer: { name: 'fails-at-7', maxSteps: 20 } }));
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'failed');
    assert.equal(result.reason, 'CUDA OOM');
    assert.equal(result.status.phase, 'failed');
    const callbacks = h.recordsOf(result.jobId!).map((r) => r.callback);
    assert.deepEqual([...new Set(callbacks)], ['onStarted', 'onLog', 'onFailed']);
    assert.equal(callbacks.filter((c) => c === 'onFailed').length, 1);
    const failed = h.recordsOf(result.jobId!).find((r) => r.callback === 'onFailed');
    assert.equal(failed?.error, 'CUDA OOM');
    assert.equal(failed?.status, 'failed');
    // The workflow itself failed (so Schedules and alerts see a failure), carrying the result.
    const error = await h.service
      .handle(workflowId)
      .result()
      .catch((e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError);
    assert.ok(error.cause instanceof ApplicationFailure);
    assert.equal(error.cause.type, 'TrainingFailed');
  });

  it('a 401 on the stream blocks the run visibly; it resumes once Arkor serves it again', async () => {
    const unauthorised = { kind: 'status', status: 401 } as const;
    h.emulator.setBehaviour(
      { kind: 'nameContains', text: 'unauthorised-stream' },
      { streamConnections: [unauthorised, unauthorised] },
    );
    const { workflowId } = await h.service.start(trainingInput({ trainer: { name: 'unauthorised-stream' } }));
    const blocked = await eventually(
      async () => (await h.service.status(workflowId)).blocked,
      30_000,
      'the run to show blocked',
    );
    assert.match(blocked.reason, /Arkor answered 401/);
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
    assert.equal(result.status.blocked, undefined, 'no longer blocked');
    const job = h.emulator.stats().jobs.find((j) => j.id === result.jobId);
    assert.equal(job?.streamOpens.length, 3, 'two refused opens, then a healthy one');
    assert.deepEqual(
      h.recordsOf(result.jobId!).map((r) => r.key),
      expectedEventKeys(result.jobId!, { maxSteps: 30, evalSteps: 10, saveSteps: 10 }),
    );
  });

  it('a blocked run can still be stopped, which cancels the job', async () => {
    const unauthorised = { kind: 'status', status: 403 } as const;
    h.emulator.setBehaviour(
      { kind: 'nameContains', text: 'forbidden-stream' },
      { streamConnections: Array.from({ length: 20 }, () => unauthorised) },
    );
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name: 'forbidden-stream', maxSteps: 2000 } }),
    );
    await eventually(async () => (await h.service.status(workflowId)).blocked, 30_000, 'the run to show blocked');
    await h.service.stop(workflowId, 'blocked for too long');
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'stopped', result.reason);
    const job = h.emulator.stats().jobs.find((j) => j.id === result.jobId);
    assert.equal(job?.status, 'cancelled');
  });

  it('a job deleted before its first event fails the run within the check interval, calling onFailed', async () => {
    h.emulator.setBehaviour({ kind: 'nameContains', text: 'deleted-early' }, { notVisibleForOpens: 10_000 });
    const { workflowId } = await h.service.start(trainingInput({ trainer: { name: 'deleted-early' } }));
    const jobId = await armWhenCreated(h, 'deleted-early', (id) => [
      { method: 'GET', path: `/v1/jobs/${id}`, status: 404 },
    ]);
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason ?? '', /no longer exists/);
    const callbacks = h.recordsOf(jobId).map((r) => r.callback);
    assert.deepEqual(callbacks, ['onFailed']);
    // A gone job has nothing to cancel.
    assert.equal(h.emulator.stats().jobs.find((j) => j.id === jobId)?.cancelsAccepted, 0);
  });

  it('a permanent stream failure (410) cancels the job and calls onFailed', async () => {
    h.emulator.setBehaviour(
      { kind: 'nameContains', text: 'gone-stream' },
      { streamConnections: [{ kind: 'status', status: 410 }] },
    );
    const { workflowId } = await h.service.start(trainingInput({ trainer: { name: 'gone-stream', maxSteps: 2000 } }));
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason ?? '', /410/);
    const job = h.emulator.stats().jobs.find((j) => j.id === result.jobId);
    assert.equal(job?.status, 'cancelled', 'the run gave up on the job, so the job was cancelled');
    assert.deepEqual(
      h.recordsOf(result.jobId!).map((r) => r.callback),
      ['onFailed'],
    );
  });

  it('a worker with a wrong token fails the run before any job exists', async () => {
    const taskQueue = `${h.taskQueue}-wrong-token`;
    const worker = await h.startWorker({
      taskQueue,
      arkor: new ArkorClient({
        baseUrl: h.emulator.url,
        token: 'wrong-token',
        scope: { orgSlug: h.emulator.orgSlug, projectSlug: h.emulator.projectSlug },
      }),
    });
    try {
      const jobsBefore = h.emulator.stats().jobs.length;
      const service = new TrainingService(h.temporal.client, { taskQueue });
      const { workflowId } = await service.start(trainingInput({ trainer: { name: 'wrong-token', maxSteps: 3 } }));
      const result = await service.outcome(workflowId);
      assert.equal(result.outcome, 'failed');
      assert.match(result.reason ?? '', /Arkor answered 401/);
      assert.ok(!(result.reason ?? '').includes(SECRET_TOKEN));
      assert.equal(h.emulator.stats().jobs.length, jobsBefore);
    } finally {
      await worker.stop();
    }
  });

  it('a lost create response still yields exactly one job', async () => {
    h.emulator.setBehaviour({ kind: 'nameContains', text: 'lost-create' }, { loseCreateResponse: true });
    const { workflowId } = await h.service.start(trainingInput({ trainer: { name: 'lost-create', maxSteps: 5 } }));
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed');
    const jobs = h.emulator.stats().jobs.filter((j) => j.name.startsWith('lost-create '));
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]?.id, result.jobId);
  });

  it('keeps the Arkor token and the dataset token out of the workflow history', async () => {
    const { workflowId } = await h.service.start(
      trainingInput({
        trainer: {
          name: 'secret-check',
          maxSteps: 5,
          dataset: { type: 'blob', url: 'https://data.example/train.jsonl', tokenEnv: 'TEST_DATASET_TOKEN' },
        },
      }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed');
    // The job really was created with the token (the worker resolved it from its environment)...
    const { job } = await h.arkor.getJob(result.jobId!);
    assert.equal((job.config.datasetSource as { token?: string }).token, DATASET_SECRET);
    // ...but neither secret is anywhere in the history.
    const history = await historyText(h.service.handle(workflowId));
    // Control: payload bytes are searched (the dataset URL is only in the input payload).
    assert.ok(history.includes('https://data.example/train.jsonl'));
    assert.ok(!history.includes(SECRET_TOKEN), 'Arkor token in history');
    assert.ok(!history.includes(DATASET_SECRET), 'dataset token in history');
  });

  it('rejects bad input before anything is started, naming the fields', async () => {
    const jobsBefore = h.emulator.stats().jobs.length;
    await assert.rejects(
      h.service.start(
        trainingInput({ trainer: { name: 'bad', model: 'gpt-5' as 'unsloth/gemma-4-E4B-it', maxSteps: -3 } }),
      ),
      (error: unknown) =>
        error instanceof InvalidTrainingInputError &&
        error.issues.some((issue) => issue.startsWith('trainer.model:')) &&
        error.issues.some((issue) => issue.startsWith('trainer.maxSteps:')),
    );
    // The workflow validates again (a client that skips the service API gets the same answer).
    const handle = await h.temporal.client.workflow.start('trainingRun', {
      taskQueue: h.taskQueue,
      workflowId: `raw-bad-input-${Date.now()}`,
      args: [{ trainer: { name: 'raw', model: 'unsloth/gemma-4-E4B-it', dataset: { type: 'ftp' } } }],
    });
    const error: unknown = await handle.result().catch((e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError);
    assert.ok(error.cause instanceof ApplicationFailure);
    assert.equal(error.cause.type, 'InvalidInput');
    assert.match(error.cause.message, /trainer\.dataset/);
    // A missing dataset-token variable is caught by the worker's preflight, before submitting.
    const { workflowId } = await h.service.start(
      trainingInput({
        trainer: {
          name: 'no-token',
          dataset: { type: 'blob', url: 'https://data.example/x', tokenEnv: 'NOT_SET_ANYWHERE' },
        },
      }),
    );
    const preflight = await h.service.outcome(workflowId);
    assert.equal(preflight.outcome, 'failed');
    assert.match(
      preflight.reason ?? '',
      /trainer\.dataset\.tokenEnv: the worker has no environment variable NOT_SET_ANYWHERE/,
    );
    assert.equal(h.emulator.stats().jobs.length, jobsBefore);
  });
});
