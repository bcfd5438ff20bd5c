/**
 * Worker slots: a stream activity holds its slot for the whole training, so streams and
 * callbacks have separate limits. Callbacks must never starve behind streams, and runs beyond
 * the stream limit wait for a free stream slot and then complete.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EmulatorJobRecord } from '../emulator/index.js';
import { readRecords } from './support/records.js';
import { expectedEventKeys, startHarness, trainingInput, type EventPlan, type Harness } from './support/harness.js';

/** A job whose stream is open now: opened at least once and not yet terminal. */
function streaming(job: EmulatorJobRecord): boolean {
  return job.streamOpens.length > 0 && (job.status === 'queued' || job.status === 'running');
}

/** Samples the emulator's jobs every 10 ms until stopped, keeping what the test asserts on. */
function sampleJobs(h: Harness, prefix: string) {
  let maxStreaming = 0;
  let samples = 0;
  /** Per job: the sample at which its first stream was seen open, and at which it was seen terminal. */
  const seen = new Map<string, { openedAt?: number; terminalAt?: number }>();
  const timer = setInterval(() => {
    const now = Date.now();
    const jobs = h.emulator.stats().jobs.filter((j) => j.name.startsWith(prefix));
    samples++;
    maxStreaming = Math.max(maxStreaming, jobs.filter(streaming).length);
    for (const job of jobs) {
      const entry = seen.get(job.id) ?? {};
      if (job.streamOpens.length > 0) entry.openedAt ??= now;
      if (job.status !== 'queued' && job.status !== 'running') entry.terminalAt ??= now;
      seen.set(job.id, entry);
    }
  }, 10);
  return {
    stop: () => {
      clearInterval(timer);
      return { maxStreaming, samples, seen };
    },
  };
}

/** Asserts that every event of every run's job reached its callback exactly once. */
function assertExactlyOnce(h: Harness, jobIds: string[], plan: EventPlan): void {
  const records = readRecords(h.recordFile);
  for (const jobId of jobIds) {
    const keys = records.filter((r) => r.key.startsWith(`${jobId}:`)).map((r) => r.key);
    assert.deepEqual(keys.sort(), expectedEventKeys(jobId, plan).sort(), `events of job ${jobId}`);
  }
}

describe('stream and callback slots', () => {
  let h: Harness;
  before(async () => {
    // 10 ms steps: a 200-step stream stays open about 2 s.
    h = await startHarness({ stepMs: 10 });
  });
  after(async () => h?.close());

  it('runs callbacks while more streams than callback slots are open', async () => {
    const worker = await h.startWorker({ maxActivities: 2, maxStreams: 10 });
    try {
      const plan = { maxSteps: 200, loggingSteps: 10, evalSteps: 50, saveSteps: 100 };
      const sampler = sampleJobs(h, 'slots-many-');
      const started = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          h.service.start(trainingInput({ trainer: { name: `slots-many-${i}`, ...plan }, callbacks: { set: 'slow' } })),
        ),
      );
      const results = await Promise.all(started.map(({ workflowId }) => h.service.outcome(workflowId)));
      const seen = sampler.stop();
      console.log(
        `[slots] 6 runs, 2 callback slots, 10 stream slots: at most ${seen.maxStreaming} streams open at once (${seen.samples} samples)`,
      );
      assert.deepEqual(
        results.map((r) => r.outcome),
        Array.from({ length: 6 }, () => 'completed'),
      );
      // More streams than callback slots were open at once, and callbacks still ran.
      assert.ok(seen.maxStreaming > 2, `expected more than 2 streams open at once, saw ${seen.maxStreaming}`);
      const jobIds = results.map((r) => r.jobId ?? '');
      const jobs = h.emulator.stats().jobs.filter((j) => j.name.startsWith('slots-many-'));
      assert.equal(jobs.length, 6);
      for (const job of jobs) {
        assert.ok(jobIds.includes(job.id));
        assert.equal(job.status, 'completed');
        assert.equal(job.streamOpens.length, 1, `job ${job.id} was followed by one stream`);
      }
      assertExactlyOnce(h, jobIds, plan);
    } finally {
      await worker.stop();
    }
  });

  it('makes runs beyond the stream limit wait for a slot, then completes them all', async () => {
    const worker = await h.startWorker({ maxStreams: 2 });
    try {
      const plan = { maxSteps: 300, loggingSteps: 1, evalSteps: 100, saveSteps: 100 };
      const sampler = sampleJobs(h, 'slots-few-');
      const started = await Promise.all(
        Array.from({ length: 4 }, (_, i) =>
          h.service.start(trainingInput({ trainer: { name: `slots-few-${i}`, ...plan } })),
        ),
      );
      const results = await Promise.all(started.map(({ workflowId }) => h.service.outcome(workflowId)));
      const seen = sampler.stop();
      // Jobs in the order their streams opened; the third and fourth may open only once an
      // earlier job's stream has ended (its job terminal), freeing a slot.
      const order = [...seen.seen.entries()].sort(
        ([, a], [, b]) => (a.openedAt ?? Infinity) - (b.openedAt ?? Infinity),
      );
      const t0 = Math.min(...order.map(([, e]) => e.openedAt ?? Infinity));
      console.log(
        `[slots] 4 runs, 2 stream slots: at most ${seen.maxStreaming} streams open at once; ` +
          `stream opened / job ended (ms from the first open): ${order.map(([, e]) => `${(e.openedAt ?? NaN) - t0}/${(e.terminalAt ?? NaN) - t0}`).join(', ')} (${seen.samples} samples)`,
      );
      assert.deepEqual(
        results.map((r) => r.outcome),
        ['completed', 'completed', 'completed', 'completed'],
      );
      assert.ok(seen.maxStreaming <= 2, `at most 2 streams at once, saw ${seen.maxStreaming}`);
      assert.equal(order.length, 4);
      for (let i = 2; i < order.length; i++) {
        const openedAt = order[i]![1].openedAt ?? Infinity;
        const firstEnd = Math.min(...order.slice(0, i).map(([, e]) => e.terminalAt ?? Infinity));
        assert.ok(
          openedAt >= firstEnd,
          `stream ${i + 1} opened at ${openedAt - t0} ms, before any earlier stream ended (${firstEnd - t0} ms)`,
        );
      }
      const jobs = h.emulator.stats().jobs.filter((j) => j.name.startsWith('slots-few-'));
      assert.equal(jobs.length, 4);
      for (const job of jobs) assert.equal(job.streamOpens.length, 1);
      assertExactlyOnce(
        h,
        results.map((r) => r.jobId ?? ''),
        plan,
      );
    } finally {
      await worker.stop();
    }
  });
});
