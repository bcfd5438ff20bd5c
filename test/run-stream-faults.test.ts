import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StreamConnectionFault } from '../emulator/index.js';
import { TrainingService } from '../service/index.js';
import type { CallbackRecord } from './support/records.js';
import { startHarness, trainingInput, type Harness } from './support/harness.js';

/** The run every fault scenario trains: 32 frames (started, 24 logs, 3 evals, 3 checkpoints, completed). */
const PLAN = { maxSteps: 24, loggingSteps: 1, evalSteps: 8, saveSteps: 8 } as const;

/** What a healthy run of PLAN hands to the recording callbacks, in order. */
function healthySequence(): string[] {
  const expected = ['onStarted'];
  for (let step = 1; step <= PLAN.maxSteps; step++) {
    expected.push(`log:${step}:train`);
    if (step % PLAN.evalSteps === 0) expected.push(`log:${step}:eval`);
    if (step % PLAN.saveSteps === 0) expected.push(`ckpt:${step}`);
  }
  expected.push('onCompleted');
  return expected;
}

function describeRecord(r: CallbackRecord): string {
  if (r.callback === 'onLog') return `log:${r.step}:${r.loss === null ? 'eval' : 'train'}`;
  if (r.callback === 'onCheckpoint') return `ckpt:${r.step}`;
  return r.callback;
}

describe('stream faults do not change what callbacks see', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.startWorker();
  });
  after(async () => h?.close());

  /** Trains PLAN under `faults` and checks the callbacks saw exactly a healthy run; returns the stream opens. */
  async function trainThrough(
    name: string,
    behaviour: { streamConnections?: StreamConnectionFault[]; notVisibleForOpens?: number },
    service: TrainingService = h.service,
  ): Promise<Array<string | null>> {
    h.emulator.setBehaviour({ kind: 'nameContains', text: name }, behaviour);
    const { workflowId } = await service.start(trainingInput({ trainer: { name, ...PLAN } }));
    const result = await service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
    const jobId = result.jobId;
    assert.ok(jobId);

    const records = h.recordsOf(jobId);
    assert.deepEqual(records.map(describeRecord), healthySequence());
    // Exactly once: one record per idempotency key, each on its first attempt.
    assert.equal(new Set(records.map((r) => r.key)).size, records.length);
    assert.ok(records.every((r) => r.attempt === 1));
    // Every key is the stream id of its event: 1 = started, 32 = completed.
    assert.deepEqual(
      records.map((r) => r.eventId),
      Array.from({ length: 32 }, (_, i) => String(i + 1)),
    );
    assert.equal(result.status.eventsReceived, 31, 'every non-terminal event received once');

    const job = h.emulator.stats().jobs.find((j) => j.id === jobId);
    assert.ok(job);
    assert.equal(job.status, 'completed');
    assert.equal(job.cancelsAccepted, 0);
    return job.streamOpens;
  }

  it('clean and reset drops, 404 until visible, 503 and 429 on open: reconnects from the cursor', async () => {
    const opens = await trainThrough('faults-drops', {
      notVisibleForOpens: 2,
      streamConnections: [
        { kind: 'drop', afterFrames: 5, mode: 'clean' },
        { kind: 'drop', afterFrames: 4, mode: 'reset' },
        { kind: 'status', status: 503 },
        { kind: 'status', status: 429, retryAfterSeconds: 1 },
      ],
    });
    // 404, 404, clean drop after frames 1-5, reset after frames 6-9, 503, 429, then healthy from 9.
    assert.deepEqual(opens, [null, null, null, '5', '9', '9', '9']);
  });

  it('ping-only, garbage, unknown-type and malformed frames deliver nothing and keep the cursor', async () => {
    const unknownAndMalformed =
      'event: training.paused\ndata: {"type":"training.paused","jobId":"x","timestamp":"2026-01-01T00:00:00Z"}\n\n' +
      'event: training.log\ndata: {"type":"training.log","step":\n\n' +
      'data: [1, 2\n\n';
    const opens = await trainThrough('faults-junk', {
      streamConnections: [
        { kind: 'drop', afterFrames: 3, mode: 'clean' },
        { kind: 'pingOnly', pings: 3 },
        { kind: 'garbage' },
        { kind: 'raw', body: unknownAndMalformed },
        { kind: 'empty' },
      ],
    });
    assert.deepEqual(opens, [null, '3', '3', '3', '3', '3']);
  });

  it('a stalled connection is abandoned by the idle watchdog and resumed', async () => {
    // A worker of its own, so only this run uses the short idle timeout.
    const taskQueue = `${h.taskQueue}-short-idle`;
    const worker = await h.startWorker({ taskQueue, stream: { idleTimeoutMs: 500 } });
    try {
      const service = new TrainingService(h.temporal.client, { taskQueue });
      const opens = await trainThrough(
        'faults-stall',
        { streamConnections: [{ kind: 'drop', afterFrames: 2, mode: 'clean' }, { kind: 'stall' }, { kind: 'stall' }] },
        service,
      );
      assert.deepEqual(opens, [null, '2', '2', '2']);
    } finally {
      await worker.stop();
    }
  });

  it('a job whose stream 404s after its events were seen fails the run as gone, without retrying forever', async () => {
    const notFound = { kind: 'status', status: 404 } as const;
    // The job trains on, but its stream now answers 404: what a deleted job looks like.
    h.emulator.setBehaviour(
      { kind: 'nameContains', text: 'faults-gone' },
      {
        streamConnections: [
          { kind: 'drop', afterFrames: 5, mode: 'clean' },
          notFound,
          notFound,
          notFound,
          notFound,
          notFound,
          notFound,
        ],
      },
    );
    const { workflowId } = await h.service.start(trainingInput({ trainer: { name: 'faults-gone', ...PLAN } }));
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'failed');
    assert.match(result.reason ?? '', /no longer exists: its event stream answered 404 3 times in a row/);
    const job = h.emulator.stats().jobs.find((j) => j.id === result.jobId);
    // The first connection, then three 404s: one attempt, not retried.
    assert.equal(job?.streamOpens.length, 4);
    // Its first five events had been delivered before the job went away.
    assert.deepEqual(
      h
        .recordsOf(result.jobId ?? '')
        .map(describeRecord)
        .slice(0, 5),
      healthySequence().slice(0, 5),
    );
  });
});
