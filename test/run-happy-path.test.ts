import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readRecords } from './support/records.js';
import { startHarness, trainingInput, type Harness } from './support/harness.js';

describe('a training run on the real dev server and the emulator', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.startWorker();
  });
  after(async () => h?.close());

  it('delivers every event to its callback once, in order, and completes', async () => {
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name: 'happy', maxSteps: 30, loggingSteps: 1, evalSteps: 10, saveSteps: 10 } }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed');
    assert.ok(result.jobId);

    const records = readRecords(h.recordFile).filter((r) => r.key.startsWith(result.jobId!));
    const sequence = records.map((r) =>
      r.callback === 'onLog'
        ? `log:${r.step}:${r.loss === null ? 'eval' : 'train'}`
        : r.callback === 'onCheckpoint'
          ? `ckpt:${r.step}`
          : r.callback,
    );
    const expected: string[] = ['onStarted'];
    for (let step = 1; step <= 30; step++) {
      expected.push(`log:${step}:train`);
      if (step % 10 === 0) expected.push(`log:${step}:eval`);
      if (step % 10 === 0 && step < 30) expected.push(`ckpt:${step}`);
    }
    expected.push('onCompleted');
    // Checkpoint at the final step: the emulator saves one there too if saveSteps divides it.
    const normalise = (list: string[]) => list.filter((entry) => entry !== 'ckpt:30');
    assert.deepEqual(normalise(sequence), normalise(expected));
    // Exactly once: every idempotency key appears once.
    assert.equal(new Set(records.map((r) => r.key)).size, records.length);
    const started = records.find((r) => r.callback === 'onStarted');
    assert.equal(started?.status, 'running');
    const completed = records.find((r) => r.callback === 'onCompleted');
    assert.equal(completed?.status, 'completed');
    assert.ok((completed?.artifacts ?? 0) > 0);
    assert.equal(h.emulator.stats().jobs.length, 1);

    const status = await h.service.status(workflowId);
    assert.equal(status.phase, 'completed');
    assert.equal(status.step, 30);
    assert.ok(status.bestLoss && status.bestLoss.value > 0);
    assert.ok(status.lossCurve.length === 30);
  });
});
