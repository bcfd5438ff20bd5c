/**
 * Worker crashes: the workers run as child processes and are SIGKILLed mid-run. The stream
 * activity must resume (from the workflow's cursor) on the replacement worker, the backend job
 * must never be submitted twice, and every event must reach its callback — duplicates only from
 * an activity that was in flight at the kill.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readRecords, type CallbackRecord } from './support/records.js';
import {
  eventually,
  expectedEventKeys,
  startHarness,
  trainingInput,
  type ChildWorker,
  type Harness,
} from './support/harness.js';

/** Short enough that a killed worker's stream and callbacks are retried within seconds. */
const fastRecovery = {
  stream: { heartbeatTimeout: '3s' },
  callbacks: { timeout: '3s', retry: { initialInterval: '200ms', maximumInterval: '1s', maximumAttempts: 20 } },
} as const;

function jobRecords(h: Harness, jobId: string): CallbackRecord[] {
  return readRecords(h.recordFile).filter((r) => r.key.startsWith(`${jobId}:`));
}

/** Polls the records file (fast, so a kill lands right after the record appears). */
async function waitForRecord(
  h: Harness,
  what: string,
  match: (r: CallbackRecord) => boolean,
  timeoutMs = 45_000,
): Promise<CallbackRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = readRecords(h.recordFile).find(match);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Prints what a stuck run is waiting for: pending activities, the end of its history, worker logs. */
async function diagnose(h: Harness, workflowId: string, workers: ChildWorker[]): Promise<void> {
  const handle = h.temporal.client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  const pending = (description.raw.pendingActivities ?? []).map((p) => ({
    type: p.activityType?.name,
    state: p.state,
    attempt: p.attempt,
    lastFailure: p.lastFailure?.message,
    lastWorker: p.lastWorkerIdentity,
  }));
  console.log(
    `[worker-kill] diagnose ${workflowId}: status=${description.status.name} pending=${JSON.stringify(pending)}`,
  );
  const events = (await handle.fetchHistory()).events ?? [];
  for (const event of events.slice(-25)) {
    const attributes = Object.entries(event).find(([key, value]) => key.endsWith('Attributes') && value)?.[1] as
      { activityType?: { name?: string }; failure?: { message?: string }; signalName?: string } | undefined;
    console.log(
      `  ${String(event.eventId)} type=${String(event.eventType)} ${attributes?.activityType?.name ?? ''} ${attributes?.signalName ?? ''} ${attributes?.failure?.message ?? ''}`,
    );
  }
  console.log(
    `  emulator: ${JSON.stringify(h.emulator.stats().jobs.map((j) => ({ name: j.name, status: j.status, step: j.step, opens: j.streamOpens })))}`,
  );
  for (const worker of workers)
    console.log(`  worker ${worker.process.pid} output tail:\n${worker.output().slice(-2000)}`);
}

/**
 * How often a resumed stream's first delivery did not continue the run's position (it resumed
 * from a heartbeat behind the run) and the stream was read again from the run's own.
 */
function reportCursorFallbacks(workers: ChildWorker[]): void {
  const counts = workers.map((w) => `${w.process.pid}:${w.output().split('Reading the stream again').length - 1}`);
  console.log(`[worker-kill] re-reads from the run's position per worker (pid:count): ${counts.join(' ')}`);
}

/** Prints the stream activity's attempts as the history records them (only the last attempt's start is kept). */
async function reportStreamAttempts(h: Harness, workflowId: string): Promise<void> {
  const events = (await h.temporal.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const scheduled = new Set<string>();
  const lines: string[] = [];
  for (const event of events) {
    const s = event.activityTaskScheduledEventAttributes;
    if (s?.activityType?.name === 'followJob') {
      scheduled.add(String(event.eventId));
      lines.push(`scheduled#${String(event.eventId)}`);
    }
    const started = event.activityTaskStartedEventAttributes;
    if (started && scheduled.has(String(started.scheduledEventId))) {
      lines.push(
        `started attempt=${started.attempt} by ${started.identity} lastFailure=${started.lastFailure?.message ?? '-'}`,
      );
    }
    const completed = event.activityTaskCompletedEventAttributes;
    if (completed && scheduled.has(String(completed.scheduledEventId)))
      lines.push(`completed by ${completed.identity}`);
  }
  console.log(`[worker-kill] followJob in history: ${lines.join(' | ')}`);
}

interface Recovery {
  label: string;
  /** From spawning the replacement to its first recorded callback. */
  fromSpawnMs: number;
  /** From the replacement printing its ready line to its first recorded callback. */
  fromReadyMs: number;
  /** From the kill to the replacement's first recorded callback. */
  fromKillMs: number;
}

/** SIGKILLs `victim`, spawns its replacement and measures how long until the replacement records a callback. */
async function killAndReplace(h: Harness, victim: ChildWorker, label: string, killed: Set<number>, jobId: string) {
  const pid = victim.process.pid;
  assert.ok(pid);
  const killedAt = Date.now();
  await victim.kill();
  killed.add(pid);
  const spawnedAt = Date.now();
  const replacement = await h.spawnWorker();
  const readyAt = Date.now();
  const newPid = replacement.process.pid;
  const first = await waitForRecord(
    h,
    `a callback on the replacement after ${label}`,
    (r) => r.pid === newPid && r.key.startsWith(`${jobId}:`),
  );
  const recovery: Recovery = {
    label,
    fromSpawnMs: first.at - spawnedAt,
    fromReadyMs: first.at - readyAt,
    fromKillMs: first.at - killedAt,
  };
  console.log(`[worker-kill] recovery after ${label}: ${JSON.stringify(recovery)}`);
  return { replacement, recovery };
}

describe('a training run whose workers are SIGKILLed', () => {
  let h: Harness;
  before(async () => {
    // 60 ms steps: the 600-step job (36 s) is still training while the kills happen.
    h = await startHarness({ stepMs: 60 });
  });
  after(async () => h?.close());

  it('resumes on a replacement worker after kills early, mid-stream and right after a checkpoint', async () => {
    const plan = { maxSteps: 600, loggingSteps: 1, evalSteps: 50, saveSteps: 100 };
    const killed = new Set<number>();
    const a = await h.spawnWorker();
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name: 'kill-many', ...plan }, ...fastRecovery }),
    );
    const jobId = await eventually(async () => (await h.service.status(workflowId)).jobId, 30_000, 'the job id');

    // Early: as soon as the first callback ran.
    await waitForRecord(h, 'the first callback', (r) => r.key.startsWith(`${jobId}:`) && r.pid === a.process.pid);
    const early = await killAndReplace(h, a, 'an early kill', killed, jobId);
    const b = early.replacement;

    // Mid-stream: once the replacement has delivered a good number of log events.
    const bPid = b.process.pid;
    await eventually(
      () => (jobRecords(h, jobId).filter((r) => r.pid === bPid).length >= 60 ? true : undefined),
      45_000,
      'B to make progress',
    ).catch(async (error: unknown) => {
      await diagnose(h, workflowId, [b]);
      throw error;
    });
    assert.ok(
      !jobRecords(h, jobId).some((r) => r.callback === 'onCompleted'),
      'the mid-stream kill must land before the run ends',
    );
    const mid = await killAndReplace(h, b, 'a mid-stream kill', killed, jobId);
    const c = mid.replacement;

    // Right after a checkpoint callback: its signal has been received, the heartbeat that
    // follows it may not have been sent yet.
    const cPid = c.process.pid;
    await waitForRecord(
      h,
      'a checkpoint on C',
      (r) => r.pid === cPid && r.callback === 'onCheckpoint' && r.key.startsWith(`${jobId}:`),
    );
    assert.ok(
      !jobRecords(h, jobId).some((r) => r.callback === 'onCompleted'),
      'the checkpoint kill must land before the run ends',
    );
    const last = await killAndReplace(h, c, 'a kill right after a checkpoint', killed, jobId);
    reportCursorFallbacks([a, b, c, last.replacement]);

    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed');
    assert.equal(result.jobId, jobId);
    await reportStreamAttempts(h, workflowId);
    console.log(`[worker-kill] killed pids: ${[...killed].join(', ')}`);

    // Exactly one backend job for this run, completed, never cancelled.
    const jobs = h.emulator.stats().jobs.filter((job) => job.name.startsWith('kill-many '));
    assert.equal(jobs.length, 1);
    assert.equal(jobs[0]?.id, jobId);
    assert.equal(jobs[0]?.status, 'completed');
    assert.equal(jobs[0]?.cancelsAccepted, 0);
    console.log(`[worker-kill] stream opens (Last-Event-ID): ${JSON.stringify(jobs[0]?.streamOpens)}`);

    const records = jobRecords(h, jobId);
    const expected = expectedEventKeys(jobId, plan);
    const distinct = new Set(records.map((r) => r.key));
    assert.deepEqual(
      [...distinct].sort(),
      [...expected].sort(),
      'every event reached its callback, and nothing else did',
    );

    const byKey = new Map<string, CallbackRecord[]>();
    for (const r of records) byKey.set(r.key, [...(byKey.get(r.key) ?? []), r]);
    const duplicated = [...byKey.entries()].filter(([, list]) => list.length > 1);
    const extra = records.length - distinct.size;
    console.log(
      `[worker-kill] ${records.length} callback invocations for ${distinct.size} events: ${extra} duplicate invocations over ${duplicated.length} keys` +
        (duplicated.length > 0
          ? `: ${duplicated.map(([key, list]) => `${key.slice(jobId.length + 1)}=${list.map((r) => `${r.callback}#${r.attempt}@${killed.has(r.pid) ? 'killed' : 'live'}`).join('/')}`).join(', ')}`
          : ''),
    );
    for (const [key, list] of duplicated) {
      // All invocations but one are explained by a kill: a killed process ran it, or a retry did.
      const unexplained = list.filter((r) => r.attempt === 1 && !killed.has(r.pid));
      assert.ok(unexplained.length <= 1, `duplicate of ${key} not explained by a kill: ${JSON.stringify(list)}`);
      assert.ok(
        list.some((r) => killed.has(r.pid)),
        `duplicate of ${key} without an invocation on a killed worker: ${JSON.stringify(list)}`,
      );
    }
    const started = records.filter((r) => r.callback === 'onStarted');
    assert.ok(started.every((r) => r.status === 'running'));
    const completed = records.filter((r) => r.callback === 'onCompleted');
    assert.ok(completed.length >= 1 && completed.every((r) => r.status === 'completed'));

    const status = await h.service.status(workflowId);
    assert.equal(status.phase, 'completed');
    assert.equal(status.step, 600);
    // The next test counts on its own workers only.
    await last.replacement.kill();
  });

  it('resumes a quiet stream (job still queued) from the cursor without any event yet', async () => {
    // Quiet for a while: no event at all until training.started.
    // Longer than a typical recovery (about 10-20 s here), so the stream is resumed before training.started.
    h.emulator.setBehaviour({ kind: 'nameContains', text: 'kill-quiet' }, { queueMs: 22_000 });
    const plan = { maxSteps: 20, loggingSteps: 1, evalSteps: 10, saveSteps: 10 };
    const killed = new Set<number>();
    const a = await h.spawnWorker();
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name: 'kill-quiet', ...plan }, ...fastRecovery }),
    );
    const job = await eventually(
      () => h.emulator.stats().jobs.find((j) => j.name.startsWith('kill-quiet ') && j.streamOpens.length >= 1),
      30_000,
      'the quiet stream to open',
    );
    assert.equal(job.status, 'queued');
    assert.equal((await h.service.status(workflowId)).phase, 'queued');
    const aPid = a.process.pid;
    assert.ok(aPid);
    const killedAt = Date.now();
    await a.kill();
    killed.add(aPid);
    const b = await h.spawnWorker();
    const reopened = await eventually(
      () => {
        const current = h.emulator.stats().jobs.find((j) => j.id === job.id);
        return current && current.streamOpens.length >= 2 ? current : undefined;
      },
      30_000,
      'the stream to reopen on B',
    );
    const reopenMs = Date.now() - killedAt;
    console.log(
      `[worker-kill] quiet stream reopened ${reopenMs} ms after the kill; job status then: ${reopened.status}`,
    );
    // Nothing was received before the kill, so the resumed stream starts from the beginning.
    assert.equal(reopened.streamOpens[1], null);

    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed');
    reportCursorFallbacks([b]);
    const records = jobRecords(h, job.id);
    // No event was in flight at the kill: exactly once, all on B.
    assert.deepEqual(records.map((r) => r.key).sort(), expectedEventKeys(job.id, plan).sort());
    assert.ok(records.every((r) => r.pid === b.process.pid));
    assert.equal(h.emulator.stats().jobs.filter((j) => j.name.startsWith('kill-quiet ')).length, 1);
    await b.kill();
  });
});
