/**
 * Event delivery under the timings that used to lose, duplicate or flood: a stop that turns out
 * moot, callbacks far slower than the stream, a resumed reader far behind the run, onLog batches
 * that outlive one timeout or fail half-way. Real dev server, real emulator at 1,000 steps/s.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { historyChain } from '../bench/support/history-chain.js';
import type { StreamOutcome } from '../contract/activities.js';
import { TrainingService } from '../service/index.js';
import { positionAfter, STALE_DELIVERY, STREAM_START, type StreamPosition } from '../contract/delivery.js';
import type { RunEvent } from '../contract/events.js';
import { deliverUpdate } from '../contract/messages.js';
import { streamTaskQueue } from '../contract/task-queues.js';
import { armWhenCreated } from './support/faults.js';
import { eventually, expectedEventKeys, startHarness, trainingInput, type Harness } from './support/harness.js';

/** Keys that reached a callback more than once. */
function duplicates(keys: string[]): string[] {
  const seen = new Set<string>();
  return keys.filter((key) => (seen.has(key) ? true : (seen.add(key), false)));
}

describe('exact, back-pressured delivery', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ stepMs: 1 });
    await h.startWorker();
  });
  after(async () => h?.close());

  it('a stop that turns out moot dispatches every event that arrived meanwhile, in order', async () => {
    // The step budget is reached at step 20; the job trains on to 40 (and saves its only
    // checkpoint there) while the cancel is on its way, so the cancel finds the job completed.
    const name = 'moot-stop';
    const plan = { maxSteps: 40, loggingSteps: 1, saveSteps: 40 };
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name, ...plan, evalSteps: 1000 }, budget: { maxSteps: 20 } }),
    );
    const jobId = await armWhenCreated(h, name, (id) => [
      { method: 'POST', path: `/v1/jobs/${id}/cancel`, delayMs: 1_500 },
    ]);
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
    assert.equal(result.stop, undefined);
    assert.equal(result.status.eventsNotDispatched, 0);
    const records = h.recordsOf(jobId);
    assert.deepEqual(
      records.map((r) => r.key),
      expectedEventKeys(jobId, plan),
      'every event once, in order',
    );
    assert.deepEqual(
      records.filter((r) => r.callback === 'onCheckpoint').map((r) => r.step),
      [40],
    );
    assert.equal(h.emulator.stats().jobs.find((job) => job.id === jobId)?.cancelsAccepted, 0);
  });

  it('an onLog batch longer than one timeout completes: the timeout applies to each call', async () => {
    // 50 ms per call against a 400 ms timeout: a batch of 20 logs takes a second.
    const plan = { maxSteps: 60, loggingSteps: 1 };
    const { workflowId } = await h.service.start(
      trainingInput({
        trainer: { name: 'log-batch-timeout', ...plan, evalSteps: 1000, saveSteps: 1000 },
        callbacks: { set: 'slow', timeout: '400ms', retry: { maximumAttempts: 2, initialInterval: '100ms' } },
      }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
    const keys = h.recordsOf(result.jobId!).map((r) => r.key);
    assert.deepEqual(keys, expectedEventKeys(result.jobId!, plan));
  });

  it('a retried onLog batch resumes after the last event its previous attempt finished', async () => {
    const plan = { maxSteps: 30, loggingSteps: 1 };
    const { workflowId } = await h.service.start(
      trainingInput({
        trainer: { name: 'log-batch-resume', ...plan, evalSteps: 1000, saveSteps: 1000 },
        callbacks: { set: 'logFailsMidBatch', retry: { initialInterval: '100ms' } },
      }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
    const logs = h.recordsOf(result.jobId!).filter((r) => r.callback === 'onLog');
    // Step 8 failed on the first attempt and ran again on the second; nothing before it did.
    assert.deepEqual(
      logs.map((r) => r.step),
      [1, 2, 3, 4, 5, 6, 7, 8, ...Array.from({ length: 23 }, (_, i) => i + 8)],
    );
    assert.deepEqual(
      logs.filter((r) => r.step === 8).map((r) => r.attempt),
      [1, 2],
    );
  });

  it('a reader that re-reads more than 10,000 events from the start dispatches none twice', async () => {
    // The wait activity is replaced by a reader that, on its second attempt, starts over from
    // the beginning and delivers every batch again whatever the run answers: the worst resumed
    // attempt there can be. Every 500th event has no id.
    const taskQueue = `redelivery-${randomUUID()}`;
    const main = await h.startWorker({ taskQueue, queues: 'main' });
    const total = 15_000;
    const firstAttemptDelivers = 12_000;
    let refused = 0;
    const reader = await Worker.create({
      connection: h.temporal.nativeConnection,
      namespace: h.temporal.namespace,
      taskQueue: streamTaskQueue(taskQueue),
      activities: {
        async followJob({ jobId }: { jobId: string }): Promise<StreamOutcome> {
          const context = Context.current();
          const execution = context.info.workflowExecution!;
          const run = context.client.workflow.getHandle(execution.workflowId, execution.runId);
          void jobId;
          const events = syntheticStream(total);
          let after: StreamPosition = STREAM_START;
          const end = context.info.attempt === 1 ? firstAttemptDelivers : total;
          for (let index = 0; index < end; index += 1000) {
            const batch = events.slice(index, Math.min(index + 1000, end));
            try {
              await run.executeUpdate(deliverUpdate, { args: [{ after, events: batch }] });
            } catch (error) {
              const stale =
                error instanceof WorkflowUpdateFailedError &&
                error.cause instanceof ApplicationFailure &&
                error.cause.type === STALE_DELIVERY;
              if (!stale) throw error;
              refused++;
            }
            after = positionAfter(after, batch);
          }
          if (context.info.attempt === 1) throw ApplicationFailure.retryable('reader lost');
          return {
            kind: 'terminal',
            event: {
              id: String(total + 1),
              payload: { type: 'training.completed', timestamp: new Date().toISOString(), artifacts: [] },
            },
          };
        },
      },
    });
    const running = reader.run();
    try {
      const service = new TrainingService(h.temporal.client, { taskQueue });
      const { workflowId } = await service.start(trainingInput({ trainer: { name: 'redelivery', maxSteps: 100_000 } }));
      const result = await service.outcome(workflowId);
      assert.equal(result.outcome, 'completed', result.reason);
      const keys = h.recordsOf(result.jobId!).map((r) => r.key);
      assert.deepEqual(duplicates(keys), [], 'no event dispatched twice');
      assert.equal(keys.length, total + 1, 'every event once, onCompleted included');
      assert.ok(refused >= 11, `the re-read deliveries were refused (${refused})`);
    } finally {
      reader.shutdown();
      await running;
      await main.stop();
    }
  });

  it('callbacks far slower than the stream: the reader pauses, every history stays bounded, every log once', async () => {
    // 1,000 logs/s for 70 s; the first checkpoint (step 5,000) takes 60 s.
    const taskQueue = `backpressure-${randomUUID()}`;
    process.env.ARKOR_TEST_SLOW_CHECKPOINT_MS = '60000';
    const worker = await h.startWorker({
      taskQueue,
      stream: { logBatchMaxEvents: 200, logBatchMaxDelayMs: 100, maxBacklog: 1_000, readAgainAfterPauseMs: 10_000 },
    });
    try {
      const service = new TrainingService(h.temporal.client, { taskQueue });
      const plan = { maxSteps: 70_000, loggingSteps: 1, saveSteps: 5_000 };
      const afterSignals = 20;
      const started = await service.start(
        trainingInput({
          trainer: { name: 'backpressure', ...plan, evalSteps: 1_000_000 },
          callbacks: { set: 'slowCheckpoint', timeout: '2m' },
          continueAsNew: { afterSignals },
        }),
      );
      const paused = await eventually(
        async () => {
          const status = await service.status(started.workflowId);
          return status.backlog?.pausedSince ? status : undefined;
        },
        60_000,
        'the reader to pause on the backlog',
      );
      assert.equal(paused.backlog?.limit, 1_000);
      assert.ok((paused.backlog?.events ?? 0) >= 1_000);

      const result = await service.outcome(started.workflowId);
      assert.equal(result.outcome, 'completed', result.reason);
      const keys = h.recordsOf(result.jobId!).map((r) => r.key);
      assert.deepEqual(duplicates(keys), []);
      assert.deepEqual(keys, expectedEventKeys(result.jobId!, plan), 'every event once, in order');

      // Bound: a run takes at most `afterSignals` deliveries plus the few that land while it
      // hands over; 200-event deliveries are ≈ 45 KiB each. Unbounded, the run blocked on the
      // checkpoint took about 300 deliveries (60,000 events, > 12 MiB).
      const runs = await historyChain(h.temporal.client, started.workflowId, started.firstExecutionRunId ?? '');
      console.log(
        `[backpressure] ${runs.length} runs; largest ${Math.max(...runs.map((r) => r.events))} events, ${Math.max(...runs.map((r) => r.bytes))} bytes, ${Math.max(...runs.map((r) => r.signals))} deliveries`,
      );
      assert.ok(runs.length > 1, 'the run continued as new');
      for (const run of runs) {
        assert.ok(run.signals <= afterSignals + 10, `run ${run.runId}: ${run.signals} deliveries`);
        assert.ok(run.events <= 1_500, `run ${run.runId}: ${run.events} history events`);
        assert.ok(run.bytes <= 4 * 1024 * 1024, `run ${run.runId}: ${run.bytes} bytes`);
      }
    } finally {
      await worker.stop();
    }
  });
});

/** `training.started`, then logs; every 500th event without an id. */
function syntheticStream(total: number): RunEvent[] {
  const timestamp = new Date().toISOString();
  return Array.from({ length: total }, (_, index): RunEvent => {
    const id = index % 500 === 499 ? {} : { id: String(index + 1) };
    if (index === 0) return { ...id, payload: { type: 'training.started', timestamp } };
    return {
      ...id,
      payload: {
        type: 'training.log',
        timestamp,
        step: index,
        loss: 1,
        evalLoss: null,
        learningRate: null,
        epoch: null,
        samplesPerSecond: null,
      },
    };
  });
}
