import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { BatchRecord } from './support/recording-callbacks.js';
import { startHarness, trainingInput, type Harness } from './support/harness.js';

/** Long enough (10 s of 5 ms steps) that the job is still running when a failed run cancels it. */
const LONG_RUN = 2000;

describe('callback retries, failure policies and batching', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.startWorker();
  });
  after(async () => h?.close());

  const jobOf = (jobId: string) => h.emulator.stats().jobs.find((j) => j.id === jobId);

  /** The workflow's own failure type (what Temporal, Schedules and alerts see). */
  async function failureType(workflowId: string): Promise<string | undefined> {
    const error = await h.service
      .handle(workflowId)
      .result()
      .catch((e: unknown) => e);
    assert.ok(error instanceof WorkflowFailedError, 'the workflow failed');
    assert.ok(error.cause instanceof ApplicationFailure);
    return error.cause.type ?? undefined;
  }

  it('retries a throwing callback until it succeeds, then completes', async () => {
    const { workflowId } = await h.service.start(
      trainingInput({
        trainer: { name: 'cb-flaky', maxSteps: 12, evalSteps: 10, saveSteps: 10 },
        callbacks: { set: 'flaky', retry: { initialInterval: '100ms' } },
      }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
    const records = h.recordsOf(result.jobId!);
    const checkpoints = records.filter((r) => r.callback === 'onCheckpoint');
    assert.deepEqual(
      checkpoints.map((r) => [r.step, r.attempt]),
      [
        [10, 1],
        [10, 2],
        [10, 3],
      ],
    );
    assert.equal(new Set(checkpoints.map((r) => r.key)).size, 1, 'every attempt has the same idempotency key');
    // The retries held back the events behind the checkpoint, they did not lose or reorder them.
    const afterCheckpoint = records.slice(records.lastIndexOf(checkpoints[2]!) + 1);
    assert.deepEqual(
      afterCheckpoint.map((r) => (r.callback === 'onLog' ? `log:${r.step}` : r.callback)),
      ['log:11', 'log:12', 'onCompleted'],
    );
    assert.deepEqual(result.status.callbackErrors, []);
  });

  it("a callback that always fails, under onFailure 'fail', cancels the job and fails the run", async () => {
    const { workflowId } = await h.service.start(
      trainingInput({
        trainer: { name: 'cb-broken-fail', maxSteps: LONG_RUN },
        callbacks: { set: 'broken', onFailure: 'fail', retry: { maximumAttempts: 2, initialInterval: '100ms' } },
      }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason ?? '', /^onStarted failed after its retries: .*onStarted is broken/);
    assert.equal(result.status.phase, 'failed');
    assert.equal(result.stop?.cause, 'callback-failure');
    assert.equal(await failureType(workflowId), 'CallbackFailed');

    const records = h.recordsOf(result.jobId!);
    assert.deepEqual(
      records.map((r) => [r.callback, r.attempt]),
      [
        ['onStarted', 1],
        ['onStarted', 2],
      ],
    );
    const job = jobOf(result.jobId!);
    assert.equal(job?.status, 'cancelled');
    assert.equal(job?.cancelsAccepted, 1);
  });

  it("a callback that always fails, under onFailure 'continue', is recorded and the run completes", async () => {
    const { workflowId } = await h.service.start(
      trainingInput({
        trainer: { name: 'cb-broken-continue', maxSteps: 10, evalSteps: 5, saveSteps: 5 },
        callbacks: { set: 'broken', onFailure: 'continue', retry: { maximumAttempts: 2, initialInterval: '100ms' } },
      }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
    assert.equal(result.status.callbackErrors.length, 1);
    const [error] = result.status.callbackErrors;
    assert.equal(error?.callback, 'onStarted');
    assert.deepEqual(error?.eventIds, ['1']);
    assert.match(error?.message ?? '', /^onStarted failed after its retries: .*onStarted is broken/);
    // The later callbacks all ran, once each.
    const records = h.recordsOf(result.jobId!);
    assert.equal(records.filter((r) => r.callback === 'onStarted').length, 2);
    assert.equal(records.filter((r) => r.callback === 'onLog').length, 12);
    assert.deepEqual(
      records.filter((r) => r.callback === 'onCheckpoint').map((r) => r.step),
      [5, 10],
    );
    assert.equal(records.filter((r) => r.callback === 'onCompleted').length, 1);
    const status = await h.service.status(workflowId);
    assert.equal(status.callbackErrors[0]?.callback, 'onStarted');
    assert.equal(jobOf(result.jobId!)?.cancelsAccepted, 0);
  });

  it('an unknown callback set fails the run before any job exists, naming callbacks.set', async () => {
    const jobsBefore = h.emulator.stats().jobs.length;
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name: 'cb-nope' }, callbacks: { set: 'nope' } }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason ?? '', /callbacks\.set: the worker has no callback set "nope"/);
    assert.equal(result.jobId, undefined);
    assert.equal(await failureType(workflowId), 'InvalidInput');
    assert.equal(h.emulator.stats().jobs.length, jobsBefore);
  });

  it('honours per-callback overrides of the retry policy', async () => {
    const { workflowId } = await h.service.start(
      trainingInput({
        trainer: { name: 'cb-override', maxSteps: LONG_RUN, evalSteps: 10, saveSteps: 10 },
        callbacks: {
          set: 'flaky',
          retry: { initialInterval: '100ms' },
          overrides: { onCheckpoint: { retry: { maximumAttempts: 1 } } },
        },
      }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason ?? '', /^onCheckpoint failed after its retries: .*flaky checkpoint handler, attempt 1/);
    assert.equal(await failureType(workflowId), 'CallbackFailed');
    const checkpoints = h.recordsOf(result.jobId!).filter((r) => r.callback === 'onCheckpoint');
    assert.deepEqual(
      checkpoints.map((r) => [r.step, r.attempt]),
      [[10, 1]],
    );
    const job = jobOf(result.jobId!);
    assert.equal(job?.status, 'cancelled');
    assert.equal(job?.cancelsAccepted, 1);
  });

  it('onLogBatch receives every log event exactly once, in order, in fewer calls than events', async () => {
    const maxSteps = 60;
    const evalSteps = 10;
    const { workflowId } = await h.service.start(
      trainingInput({
        trainer: { name: 'cb-batched', maxSteps, evalSteps, saveSteps: 25 },
        callbacks: { set: 'batched' },
      }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
    const records = h.recordsOf(result.jobId!);
    assert.equal(records.filter((r) => r.callback === 'onLog').length, 0, 'onLog is not called when onLogBatch exists');
    const batches = records.filter((r): r is BatchRecord => r.callback === 'onLogBatch');
    const events = batches.flatMap((batch) => batch.events);

    const expected: string[] = [];
    for (let step = 1; step <= maxSteps; step++) {
      expected.push(`${step}:train`);
      if (step % evalSteps === 0) expected.push(`${step}:eval`);
    }
    assert.deepEqual(
      events.map((e) => `${e.step}:${e.kind}`),
      expected,
    );
    assert.equal(new Set(events.map((e) => e.key)).size, events.length, 'every log event exactly once');
    assert.ok(events.every((e) => e.key.startsWith(`${result.jobId}:`)));
    for (const batch of batches) {
      assert.equal(batch.size, batch.events.length);
      assert.equal(batch.key, batch.events.at(-1)?.key, "a batch's key is its last event's");
    }
    assert.ok(batches.length < events.length, `${batches.length} batches for ${events.length} events`);
    // Checkpoints split the batches: each one sits between the logs of its step and the next.
    const order = records.map((r) => (r.callback === 'onCheckpoint' ? `ckpt:${r.step}` : r.callback));
    assert.deepEqual(
      order.filter((c) => c !== 'onLogBatch'),
      ['onStarted', 'ckpt:25', 'ckpt:50', 'onCompleted'],
    );
    const lastStepBefore = (index: number) =>
      records
        .slice(0, index)
        .filter((r): r is BatchRecord => r.callback === 'onLogBatch')
        .flatMap((batch) => batch.events)
        .at(-1)?.step;
    assert.equal(lastStepBefore(order.indexOf('ckpt:25')), 25);
    assert.equal(lastStepBefore(order.indexOf('ckpt:50')), 50);
  });
});
