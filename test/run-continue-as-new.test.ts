/**
 * Continue-as-new: a run that receives many event signals hands its state to a new run of the
 * same workflow id several times. Nothing may be lost or dispatched twice across the hand-overs,
 * the backend job stays the same, and each run's history stays small.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readRecords, type CallbackRecord } from './support/records.js';
import {
  eventually,
  expectedEventKeys,
  startHarness,
  trainingInput,
  type EventPlan,
  type Harness,
} from './support/harness.js';

function jobRecords(h: Harness, jobId: string): CallbackRecord[] {
  return readRecords(h.recordFile).filter((r) => r.key.startsWith(`${jobId}:`));
}

/** The run ids of a workflow id, oldest first, once visibility lists `expected` of them. */
async function runIdsOf(h: Harness, workflowId: string, expected: number): Promise<string[]> {
  return eventually(
    async () => {
      const runs: Array<{ runId: string; startTime: Date }> = [];
      for await (const execution of h.temporal.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
        runs.push({ runId: execution.runId, startTime: execution.startTime });
      }
      return runs.length >= expected
        ? runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime()).map((r) => r.runId)
        : undefined;
    },
    20_000,
    `visibility to list ${expected} runs of ${workflowId}`,
  );
}

describe('a training run that continues as new', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    // Batches of at most 5 logs: a few hundred events make dozens of signals.
    await h.startWorker({ stream: { logBatchMaxEvents: 5, logBatchMaxDelayMs: 20 } });
  });
  after(async () => h?.close());

  /**
   * Runs `plan` to completion with `afterSignals: 5` and checks the hand-overs. With loggingSteps 1
   * the stream signals faster than the workflow dispatches callbacks (its queue never drains);
   * with loggingSteps 10 the workflow keeps up.
   */
  async function handOver(name: string, plan: EventPlan & { loggingSteps: number; saveSteps: number }): Promise<void> {
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name, ...plan }, continueAsNew: { afterSignals: 5 } }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed');
    const jobId = result.jobId;
    assert.ok(jobId);
    const status = result.status;
    if (status.runNumber === 1) {
      const size = (await h.service.handle(workflowId).fetchHistory()).events?.length ?? 0;
      console.log(`[continue-as-new] ${name}: never continued as new; one run with ${size} history events`);
    }
    assert.ok(status.runNumber > 1, `expected more than one run, got ${status.runNumber}`);

    // The same single job, followed to its end, never cancelled.
    const jobs = h.emulator.stats().jobs.filter((job) => job.name.startsWith(`${name} `));
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]?.id, jobId);
    assert.equal(jobs[0]?.status, 'completed');
    assert.equal(jobs[0]?.cancelsAccepted, 0);

    // Every event exactly once.
    const records = jobRecords(h, jobId);
    const keys = records.map((r) => r.key);
    assert.deepEqual([...keys].sort(), expectedEventKeys(jobId, plan).sort());
    assert.equal(
      status.eventsReceived,
      keys.length - 1,
      'every signalled event counted once (the terminal event is not signalled)',
    );

    // The loss summary carried across the hand-overs agrees with what the callbacks saw.
    const trainLosses = records.flatMap((r) =>
      r.callback === 'onLog' && typeof r.loss === 'number' ? [{ step: r.step, loss: r.loss }] : [],
    );
    assert.equal(trainLosses.length, plan.maxSteps / plan.loggingSteps);
    const lowest = Math.min(...trainLosses.map((l) => l.loss));
    assert.ok(status.bestLoss);
    assert.equal(status.bestLoss.value, lowest);
    for (const { loss } of trainLosses) assert.ok(status.bestLoss.value <= loss);
    const lossAtStep = new Map(trainLosses.map((l) => [l.step, l.loss]));
    assert.ok(status.lossCurve.length > 0 && status.lossCurve.length <= 200);
    for (const [step, loss] of status.lossCurve)
      assert.equal(loss, lossAtStep.get(step), `loss curve point at step ${step}`);
    for (let i = 1; i < status.lossCurve.length; i++) assert.ok(status.lossCurve[i]![0] > status.lossCurve[i - 1]![0]);
    assert.equal(status.lossCurve.at(-1)?.[0], plan.maxSteps);
    assert.equal(status.step, plan.maxSteps);
    assert.equal(status.checkpoints.length, plan.maxSteps / plan.saveSteps);

    // Every run is listed, and each run's history stays small.
    const runIds = await runIdsOf(h, workflowId, status.runNumber);
    assert.equal(runIds.length, status.runNumber);
    const sizes: number[] = [];
    for (const runId of runIds) {
      const history = await h.temporal.client.workflow.getHandle(workflowId, runId).fetchHistory();
      sizes.push(history.events?.length ?? 0);
    }
    console.log(
      `[continue-as-new] ${name}: ${status.runNumber} runs; history events per run: ${sizes.join(', ')} (total ${sizes.reduce((a, b) => a + b, 0)})`,
    );
    console.log(`[continue-as-new] stream opens (Last-Event-ID): ${JSON.stringify(jobs[0]?.streamOpens)}`);
    for (const size of sizes) assert.ok(size < 1000, `a run's history has ${size} events`);
    // One stream per run, each resuming after the previous run's cursor (the first from nothing).
    assert.equal(jobs[0]?.streamOpens.length, status.runNumber);
    assert.equal(jobs[0]?.streamOpens[0], null);
  }

  it('hands over without losing or repeating an event, on the same backend job', async () => {
    // About 1300 events over 6 s: the stream is still live while the hand-overs are due.
    await handOver('can-many', { maxSteps: 1200, loggingSteps: 1, evalSteps: 100, saveSteps: 200 });
  });

  it('hands over when the workflow keeps up with the stream', async () => {
    // 150 log events over 7.5 s: the queue drains between signals.
    await handOver('can-paced', { maxSteps: 1500, loggingSteps: 10, evalSteps: 500, saveSteps: 500 });
  });

  it('stops on a stop signal sent during continue-as-new churn, and cancels the job', async () => {
    const { workflowId } = await h.service.start(
      // Longer than the test (300 s of training), so only the stop can end it.
      trainingInput({
        trainer: { name: 'can-stop', maxSteps: 60_000, loggingSteps: 10 },
        continueAsNew: { afterSignals: 3 },
      }),
    );
    // Wait for the churn to be under way, then stop right after a hand-over.
    await eventually(
      async () => ((await h.service.status(workflowId)).runNumber >= 3 ? true : undefined),
      60_000,
      'three runs',
    );
    console.log('[continue-as-new] run 3 reached');
    await h.service.stop(workflowId, 'enough');
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'stopped');
    assert.equal(result.stop?.cause, 'signal');
    assert.equal(result.stop?.reason, 'enough');
    console.log(`[continue-as-new] stopped in run ${result.status.runNumber} at step ${result.status.step}`);
    const job = h.emulator.stats().jobs.find((j) => j.id === result.jobId);
    assert.ok(job);
    assert.equal(job.status, 'cancelled');
    assert.equal(job.cancelsAccepted, 1);
    assert.ok(job.step < 60_000);
    // Nothing after the stop reached a callback: no onCompleted, and at most the steps received.
    const records = jobRecords(h, job.id);
    assert.ok(!records.some((r) => r.callback === 'onCompleted' || r.callback === 'onFailed'));
    assert.equal(new Set(records.map((r) => r.key)).size, records.length);
  });
});
