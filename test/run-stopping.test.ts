import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkflowHandle } from '@temporalio/client';
import type { RunResult } from '../service/index.js';
import type { TrainingRunInput } from '../contract/input.js';
import { eventually, startHarness, trainingInput, type Harness } from './support/harness.js';

/** 10 s of 5 ms steps: still training whenever a test stops it. */
const LONG_RUN = 2000;

describe('stopping a run early', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.startWorker();
  });
  after(async () => h?.close());

  function longRun(
    name: string,
    overrides: Omit<Partial<TrainingRunInput>, 'trainer'> & { trainer?: Partial<TrainingRunInput['trainer']> } = {},
  ): TrainingRunInput {
    return trainingInput({ ...overrides, trainer: { maxSteps: LONG_RUN, ...overrides.trainer, name } });
  }

  /** Waits until the run is training (its onStarted ran), so a stop lands mid-stream. */
  async function untilTraining(workflowId: string): Promise<void> {
    await eventually(
      async () => {
        const status = await h.service.status(workflowId);
        return status.phase === 'running' && status.step > 0 ? true : undefined;
      },
      30_000,
      `${workflowId} to be running`,
    );
  }

  /** What every early stop guarantees: the job was cancelled, no terminal callback ran. */
  function assertStopped(result: RunResult, outcome: 'stopped' | 'cancelled', cause: string, reason: RegExp): void {
    assert.equal(result.outcome, outcome, result.reason);
    assert.equal(result.status.phase, outcome);
    assert.equal(result.stop?.cause, cause);
    assert.match(result.stop?.reason ?? '', reason);
    assert.ok(result.jobId);
    const job = h.emulator.stats().jobs.find((j) => j.id === result.jobId);
    assert.ok(job);
    assert.equal(job.status, 'cancelled');
    assert.ok(job.cancelsAccepted >= 1);
    assert.ok(job.step < LONG_RUN, 'the job did not train to the end');
    const terminal = h.recordsOf(result.jobId).filter((r) => r.callback === 'onCompleted' || r.callback === 'onFailed');
    assert.deepEqual(terminal, []);
  }

  it('stops on a NaN loss (default rules)', async () => {
    h.emulator.setBehaviour({ kind: 'nameContains', text: 'stop-nan' }, { nanLossFromStep: 7 });
    const { workflowId } = await h.service.start(longRun('stop-nan'));
    const result = await h.service.outcome(workflowId);
    assertStopped(result, 'stopped', 'rule', /^loss is NaN at step 7$/);
    assert.equal(result.reason, result.stop?.reason);
    assert.ok(result.status.eventsNotDispatched > 0, 'events that arrived after the decision reached no callback');
  });

  it('no log reading after the one that stopped the run reaches a callback', async () => {
    h.emulator.setBehaviour({ kind: 'nameContains', text: 'stop-nan-tail' }, { nanLossFromStep: 7 });
    const { workflowId } = await h.service.start(longRun('stop-nan-tail'));
    const result = await h.service.outcome(workflowId);
    assert.equal(result.stop?.reason, 'loss is NaN at step 7');
    const logged = h.recordsOf(result.jobId!).filter((r) => r.callback === 'onLog');
    assert.deepEqual(
      logged.map((r) => r.step),
      [1, 2, 3, 4, 5, 6, 7],
    );
    assert.equal(result.stop?.atStep, 7);
  });

  it('stops on a loss ceiling', async () => {
    const { workflowId } = await h.service.start(
      longRun('stop-ceiling', { earlyStopping: { lossCeiling: { value: 2, afterStep: 10 } } }),
    );
    const result = await h.service.outcome(workflowId);
    // The loss starts near 2.5 and is still above 2 at step 10, the first step the ceiling applies.
    assertStopped(result, 'stopped', 'rule', /^loss [\d.]+ exceeds the ceiling 2 at step 10$/);
  });

  it('stops when the eval loss runs out of patience', async () => {
    const { workflowId } = await h.service.start(
      longRun('stop-patience', {
        trainer: { evalSteps: 5 },
        // No eval reading can improve by 10, so the second one (step 10) exhausts the patience.
        earlyStopping: { patience: { metric: 'evalLoss', evaluations: 1, minDelta: 10 } },
      }),
    );
    const result = await h.service.outcome(workflowId);
    assertStopped(result, 'stopped', 'rule', /^evalLoss has not improved on [\d.]+ for 1 readings \(step 10\)$/);
  });

  it('stops at the step budget', async () => {
    const { workflowId } = await h.service.start(longRun('stop-step-budget', { budget: { maxSteps: 15 } }));
    const result = await h.service.outcome(workflowId);
    assertStopped(result, 'stopped', 'budget', /^step budget of 15 reached$/);
    assert.equal(result.status.maxSteps, 15);
    assert.ok(result.stop!.atStep >= 15);
  });

  it('stops at the wall-time budget', async () => {
    const { workflowId } = await h.service.start(longRun('stop-wall-time', { budget: { maxWallTime: '1s' } }));
    const result = await h.service.outcome(workflowId);
    assertStopped(result, 'stopped', 'budget', /^wall-time budget of 1s reached$/);
    assert.ok(result.stop!.atStep > 0, 'it was training when the budget ran out');
  });

  it('stops when a callback returns a stop directive', async () => {
    const { workflowId } = await h.service.start(
      longRun('stop-directive', { trainer: { evalSteps: 10, saveSteps: 10 }, callbacks: { set: 'stopAtCheckpoint' } }),
    );
    const result = await h.service.outcome(workflowId);
    assertStopped(result, 'stopped', 'directive', /^checkpoint 10 is good enough$/);
    const checkpoints = h.recordsOf(result.jobId!).filter((r) => r.callback === 'onCheckpoint');
    assert.deepEqual(
      checkpoints.map((r) => r.step),
      [10],
      'no callback runs after the directive',
    );
  });

  it('stops on the stop signal', async () => {
    const { workflowId } = await h.service.start(longRun('stop-signal'));
    await untilTraining(workflowId);
    const answer = await h.service.stop(workflowId, 'operator: loss looks fine, ship it');
    assert.deepEqual(answer, { effect: 'stopping', phase: 'running' });
    assert.equal((await h.service.stop(workflowId, 'again')).effect, 'already-stopping');
    const result = await h.service.outcome(workflowId);
    assertStopped(result, 'stopped', 'signal', /^operator: loss looks fine, ship it$/);
  });

  it('a stop while the job is queued cancels it before it trains', async () => {
    h.emulator.setBehaviour({ kind: 'nameContains', text: 'stop-queued' }, { queueMs: 60_000 });
    const { workflowId } = await h.service.start(longRun('stop-queued'));
    await eventually(
      async () => ((await h.service.status(workflowId)).phase === 'queued' ? true : undefined),
      30_000,
      'queued',
    );
    assert.deepEqual(await h.service.stop(workflowId, 'not needed'), { effect: 'stopping', phase: 'queued' });
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'stopped');
    const job = h.emulator.stats().jobs.find((j) => j.id === result.jobId);
    assert.equal(job?.status, 'cancelled');
    assert.equal(job?.step, 0, 'it never trained');
    assert.deepEqual(h.recordsOf(result.jobId!), [], 'no callback ran');
  });

  it('stops on the stop signal too (the form the Web UI sends)', async () => {
    const { workflowId } = await h.service.start(longRun('stop-by-signal'));
    await untilTraining(workflowId);
    await h.temporal.client.workflow.getHandle(workflowId).signal('stop', { reason: 'from the Web UI' });
    const result = await h.service.outcome(workflowId);
    assertStopped(result, 'stopped', 'signal', /^from the Web UI$/);
  });

  it('cancelling the workflow cancels the job and ends the run cancelled', async () => {
    const { workflowId } = await h.service.start(longRun('stop-cancel'));
    await untilTraining(workflowId);
    await h.service.cancel(workflowId);
    const result = await h.service.outcome(workflowId);
    assertStopped(result, 'cancelled', 'cancel', /^workflow cancelled$/);
  });

  it('cancelling the workflow while its submit is in flight: the job is created, then cancelled; one job', async () => {
    h.emulator.addRouteFault({ method: 'POST', path: '/v1/jobs', delayMs: 2_000, times: 1 });
    const { workflowId, handle } = await h.service.start(longRun('cancel-submitting'));
    await eventually(
      async () => ((await submitEvents(handle)).scheduled ? true : undefined),
      30_000,
      'the submit scheduled',
    );
    await h.service.cancel(workflowId);
    const result = await h.service.outcome(workflowId);
    const { cancelRequested, completed } = await submitEvents(handle);
    assert.ok(cancelRequested && completed && cancelRequested < completed, 'the cancel came while the submit ran');
    // The abandoned create would be a GPU job nobody tracks: the submit finished, its job was cancelled.
    const jobs = h.emulator.stats().jobs.filter((job) => job.name.startsWith('cancel-submitting '));
    assert.equal(jobs.length, 1);
    assert.equal(result.jobId, jobs[0]?.id);
    assertStopped(result, 'cancelled', 'cancel', /^workflow cancelled$/);
  });

  it('cancelling a queued run cancels its job before it trains', async () => {
    h.emulator.setBehaviour({ kind: 'nameContains', text: 'cancel-queued' }, { queueMs: 60_000 });
    const { workflowId } = await h.service.start(longRun('cancel-queued'));
    await eventually(
      async () => ((await h.service.status(workflowId)).phase === 'queued' ? true : undefined),
      30_000,
      'queued',
    );
    await h.service.cancel(workflowId);
    const result = await h.service.outcome(workflowId);
    assertStopped(result, 'cancelled', 'cancel', /^workflow cancelled$/);
    assert.equal(h.emulator.stats().jobs.find((job) => job.id === result.jobId)?.step, 0, 'it never trained');
    assert.deepEqual(h.recordsOf(result.jobId!), [], 'no callback ran');
  });

  it('a stop signal while the run is finishing (training over, onCompleted running) is moot', async () => {
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name: 'stop-while-finishing', maxSteps: 5 }, callbacks: { set: 'slowCompleted' } }),
    );
    // Training is over once the backend job is; onCompleted then takes a second.
    await eventually(
      async () => {
        const jobId = (await h.service.status(workflowId)).jobId;
        return h.emulator.stats().jobs.find((job) => job.id === jobId)?.status === 'completed' ? true : undefined;
      },
      30_000,
      'the training to be over',
    );
    // Resolving proves the workflow was still open (a closed one rejects the stop, see below).
    const answer = await h.service.stop(workflowId, 'too late');
    assert.ok(answer.effect === 'moot' || answer.effect === 'stopping', answer.effect);
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
    assert.equal(result.stop, undefined);
    const job = h.emulator.stats().jobs.find((j) => j.id === result.jobId);
    assert.equal(job?.status, 'completed');
    assert.equal(job?.cancelsAccepted, 0);
    // The stop may reach the workflow before the terminal event does: the cancel is then
    // refused (the job is over) and the run finishes normally.
    assert.ok((job?.cancelsRejected ?? 0) <= 1);
    assert.equal(h.recordsOf(result.jobId!).filter((r) => r.callback === 'onCompleted').length, 1);
  });

  it('malformed messages are refused or dropped; no workflow task fails and the run completes', async () => {
    const { workflowId } = await h.service.start(trainingInput({ trainer: { name: 'bad-messages', maxSteps: 400 } }));
    await untilTraining(workflowId);
    const handle = h.temporal.client.workflow.getHandle(workflowId);
    // As the Temporal CLI or Web UI may send them: no input, null, a wrong shape.
    await handle.signal('stop');
    await handle.signal('stop', null);
    await handle.signal('stop', { why: 'no reason field' });
    await handle.signal('arkor.events', { events: [{ payload: null }] });
    await handle.signal('arkor.events', null);
    const refusedWith = (pattern: RegExp) => (error: unknown) =>
      error instanceof Error && pattern.test(String((error.cause as Error | undefined)?.message));
    await assert.rejects(handle.executeUpdate('approval', { args: [null] }), refusedWith(/Malformed approval/));
    await assert.rejects(
      handle.executeUpdate('arkor.deliver', { args: [{ after: 7, events: 'x' }] }),
      refusedWith(/Malformed delivery/),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
    assert.equal(result.stop, undefined);
    const history = await handle.fetchHistory();
    const failedTasks = (history.events ?? []).filter((event) => event.workflowTaskFailedEventAttributes);
    assert.deepEqual(failedTasks, [], 'no workflow task failed');
    const job = h.emulator.stats().jobs.find((j) => j.id === result.jobId);
    assert.equal(job?.cancelsAccepted, 0);
  });

  it('a stop signal after the run completed changes nothing', async () => {
    const { workflowId } = await h.service.start(trainingInput({ trainer: { name: 'stop-after-done', maxSteps: 5 } }));
    const first = await h.service.outcome(workflowId);
    assert.equal(first.outcome, 'completed');
    // A closed workflow takes no signal; the client says so and the run's ending stands.
    await assert.rejects(h.service.stop(workflowId, 'too late'), /already completed/);
    const again = await h.service.outcome(workflowId);
    assert.equal(again.outcome, 'completed');
    assert.equal(again.stop, undefined);
    const job = h.emulator.stats().jobs.find((j) => j.id === first.jobId);
    assert.equal(job?.status, 'completed');
    assert.equal(job?.cancelsAccepted, 0);
    assert.equal(h.recordsOf(first.jobId!).filter((r) => r.callback === 'onCompleted').length, 1);
  });
});

/** Event ids in a run's history: the submit's scheduling and completion, the cancel request. */
async function submitEvents(
  handle: WorkflowHandle,
): Promise<Record<'scheduled' | 'completed' | 'cancelRequested', number | undefined>> {
  const events = (await handle.fetchHistory()).events ?? [];
  const scheduled = events.find(
    (event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'submitJob',
  );
  const completed = events.find(
    (event) =>
      scheduled && String(event.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled.eventId),
  );
  const cancelRequested = events.find((event) => event.workflowExecutionCancelRequestedEventAttributes);
  const id = (event: (typeof events)[number] | undefined) => (event ? Number(event.eventId) : undefined);
  return { scheduled: id(scheduled), completed: id(completed), cancelRequested: id(cancelRequested) };
}
