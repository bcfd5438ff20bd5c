import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Precondition } from '../extensions/preconditions.js';
import { ArkorPromotedScope } from '../contract/search-attributes.js';
import type { TrainingRunInput } from '../contract/input.js';
import { eventually, startHarness, trainingInput, type Harness } from './support/harness.js';

describe('retraining only when something changed', () => {
  let h: Harness;
  /** What the precondition reports: the "dataset revision" the tests move. */
  let revision = 'r1';
  before(async () => {
    h = await startHarness();
    await h.startWorker({
      preconditions: new Map<string, Precondition>([
        ['datasetRevision', () => ({ revision, detail: `dataset at ${revision}` })],
        // Slow enough for a stop to arrive before the submit.
        [
          'slowRevision',
          async () => (await new Promise((resolve) => setTimeout(resolve, 2_000)), { revision: 'slow' }),
        ],
        [
          'broken',
          () => {
            throw new Error('the dataset registry is down');
          },
        ],
      ]),
    });
  });
  after(async () => h?.close());

  const run = (name: string): TrainingRunInput =>
    trainingInput({
      trainer: { name, maxSteps: 5, saveSteps: 5 },
      precondition: { check: 'datasetRevision', scope: 'support-model' },
      promotion: { deployment: 'precondition-bot', create: true, authMode: 'none' },
    });

  /** Waits until visibility lists `workflowId` as the promoted run of the scope. */
  const promotedVisible = (workflowId: string) =>
    eventually(
      async () => {
        for await (const execution of h.temporal.client.workflow.list({
          query: `${ArkorPromotedScope.name} = 'support-model' AND ExecutionStatus = 'Completed'`,
        })) {
          if (execution.workflowId === workflowId) return true;
        }
        return undefined;
      },
      20_000,
      'the promoted run in visibility',
    );

  it('trains on a new revision, skips the same one, and trains again when it changes', async () => {
    const first = await h.service.start(run('rev-first'));
    const firstResult = await h.service.outcome(first.workflowId);
    assert.equal(firstResult.outcome, 'completed');
    assert.equal(firstResult.status.promotion?.verified, true);
    assert.deepEqual(firstResult.status.precondition, { revision: 'r1', detail: 'dataset at r1' });
    await promotedVisible(first.workflowId);

    const jobsBefore = h.emulator.stats().jobs.length;
    const same = await h.service.start(run('rev-same'));
    const sameResult = await h.service.outcome(same.workflowId);
    assert.equal(sameResult.outcome, 'skipped');
    assert.equal(sameResult.status.phase, 'skipped');
    assert.equal(sameResult.reason, `revision r1 is what the last promoted run (${first.workflowId}) trained on`);
    assert.equal(sameResult.jobId, undefined);
    assert.equal(h.emulator.stats().jobs.length, jobsBefore, 'a skipped run submits nothing');

    revision = 'r2';
    const changed = await h.service.start(run('rev-changed'));
    const changedResult = await h.service.outcome(changed.workflowId);
    assert.equal(changedResult.outcome, 'completed');
    assert.equal(changedResult.status.precondition?.revision, 'r2');
    await promotedVisible(changed.workflowId);

    // Back to r1: the last promoted run trained on r2, so r1 is new again.
    revision = 'r1';
    const back = await h.service.start(run('rev-back'));
    assert.equal((await h.service.outcome(back.workflowId)).outcome, 'completed');
  });

  it('fails before submitting when the worker has no such precondition', async () => {
    const jobsBefore = h.emulator.stats().jobs.length;
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name: 'no-check' }, precondition: { check: 'nope' } }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason ?? '', /precondition\.check: the worker has no precondition "nope"/);
    assert.equal(h.emulator.stats().jobs.length, jobsBefore);
  });

  it('a stop before the submit ends the run stopped, and no job is created', async () => {
    const jobsBefore = h.emulator.stats().jobs.length;
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name: 'stop-before-submit', maxSteps: 5 }, precondition: { check: 'slowRevision' } }),
    );
    await h.service.stop(workflowId, 'changed my mind');
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'stopped');
    assert.equal(result.stop?.reason, 'changed my mind');
    assert.equal(result.jobId, undefined);
    assert.equal(h.emulator.stats().jobs.length, jobsBefore, 'no job was created');
  });

  it('a precondition that keeps throwing fails the run after its retries, before any job exists', async () => {
    const jobsBefore = h.emulator.stats().jobs.length;
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name: 'broken-precondition', maxSteps: 5 }, precondition: { check: 'broken' } }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason ?? '', /the dataset registry is down/);
    assert.equal(h.emulator.stats().jobs.length, jobsBefore);
  });
});
