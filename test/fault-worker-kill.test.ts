/**
 * Issue 7, items 2 and 3: the worker is SIGKILLed while each kind of activity is in flight
 * (submit, the stream, every callback, smoke tests, the final smoke test the gate decides on,
 * a promotion step, a notification, the cancel), and two workers share a queue when one dies.
 * Each case checks what a user relies on: exactly one backend job, at most one re-target, every
 * event delivered, the run's expected outcome.
 *
 * "In flight" is read from the server (a STARTED pending activity of that type, last picked up by
 * the victim), and each activity is held there on purpose: a route fault that delays the
 * backend's answer, a webhook that answers late, or a callback set that hangs on its first call.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import proto from '@temporalio/proto';
import type { RunResult } from '../contract/result.js';
import type { TrainingRunInput } from '../contract/input.js';
import { readRecords } from './support/records.js';
import {
  eventually,
  expectedEventKeys,
  startHarness,
  trainingInput,
  type ChildWorker,
  type EventPlan,
  type Harness,
} from './support/harness.js';
import { startWebhookReceiver, type WebhookReceiver } from '../testing/webhook-receiver.js';

const { temporal } = proto;
const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

/** Long enough that nothing answers before the kill; the kill always comes first. */
const HOLD_MS = 120_000;

/** A killed worker's activity is retried within about two seconds. */
const fastRecovery = {
  heartbeatTimeout: '2s',
  callbacks: { retry: { initialInterval: '200ms', maximumInterval: '1s', maximumAttempts: 20 } },
} as const;

const plan: EventPlan = { maxSteps: 30, loggingSteps: 1, evalSteps: 10, saveSteps: 10 };

const prompts = [
  { name: 'hello', messages: [{ role: 'user' as const, content: 'Say hello' }], expect: { scorer: 'nonEmpty' } },
];

/** Waits until `activityType` runs, on `worker`, for the workflow `workflowId`. */
async function inFlight(h: Harness, workflowId: string, activityType: string, worker: ChildWorker): Promise<void> {
  const identityPrefix = `${String(worker.process.pid)}@`;
  await eventually(
    async () => {
      const description = await h.temporal.client.workflow.getHandle(workflowId).describe();
      return (description.raw.pendingActivities ?? []).find(
        (p) =>
          p.activityType?.name === activityType &&
          p.state === STARTED &&
          p.lastWorkerIdentity?.startsWith(identityPrefix),
      );
    },
    60_000,
    `${activityType} in flight on worker ${identityPrefix}`,
  );
}

function jobsNamed(h: Harness, name: string) {
  return h.emulator.stats().jobs.filter((job) => job.name.startsWith(`${name} `));
}

/** Every event reached its callback, and nothing else did (held markers aside). */
function assertEveryEventDelivered(h: Harness, jobId: string, eventPlan: EventPlan): void {
  const keys = new Set(
    h
      .recordsOf(jobId)
      .filter((r) => !r.callback.startsWith('hold:'))
      .map((r) => r.key),
  );
  assert.deepEqual([...keys].sort(), expectedEventKeys(jobId, eventPlan).sort());
}

describe('a worker SIGKILLed while each kind of activity is in flight', () => {
  let h: Harness;
  let receiver: WebhookReceiver;
  /** The live worker; each case kills it and leaves its replacement for the next. */
  let worker: ChildWorker;

  before(async () => {
    receiver = await startWebhookReceiver();
    // 20 ms steps: a 30-step job trains for 0.6 s, long runs (the stream, the cancel) for seconds.
    h = await startHarness({ stepMs: 20 });
    worker = await spawn();
  });
  after(async () => {
    await h?.close();
    await receiver?.close();
  });

  function spawn(): Promise<ChildWorker> {
    return h.spawnWorker({ ARKOR_NOTIFY_HOOK: `webhook:${receiver.url}/hook` });
  }

  /**
   * Kills the live worker once `activityType` is in flight on it and `held()` says the hold is in
   * place, and starts its replacement. "In flight" on the server is not enough: an activity is
   * STARTED before its code reaches the hold, and a kill in between moves the hold to the
   * replacement's retry (a held request then times out after 30 s, a held callback waits 120 s on
   * the replacement and finishes there).
   */
  async function killDuring(workflowId: string, activityType: string, held?: () => boolean): Promise<void> {
    await inFlight(h, workflowId, activityType, worker);
    if (held) await eventually(() => (held() ? true : undefined), 60_000, `${activityType} held`);
    await worker.kill();
    worker = await spawn();
  }

  /** Requests the emulator received on `route` (`METHOD /template`), counted before any fault holds them. */
  const requestsTo = (route: string): number => h.emulator.stats().requests[route] ?? 0;
  /** A hold that is in place once `route` received more than `before` requests. */
  const requestArrived =
    (route: string, before = requestsTo(route)) =>
    (): boolean =>
      requestsTo(route) > before;
  /** A hold that is in place once the live worker recorded the hold marker of `callback`. */
  const callbackHeld = (callback: string) => {
    const pid = worker.process.pid;
    return (): boolean => readRecords(h.recordFile).some((r) => r.callback === `hold:${callback}` && r.pid === pid);
  };

  async function run(
    name: string,
    input: Omit<TrainingRunInput, 'trainer'> & { trainer?: Partial<TrainingRunInput['trainer']> } = {},
  ) {
    const { trainer, ...rest } = input;
    return h.service.start(trainingInput({ ...fastRecovery, ...rest, trainer: { name, ...plan, ...trainer } }));
  }

  /** One job for `name`, and the run ended `outcome` on it. */
  function assertOneJob(name: string, result: RunResult, outcome: RunResult['outcome']): string {
    assert.equal(result.outcome, outcome, `outcome of ${name}: ${JSON.stringify(result)}`);
    const jobs = jobsNamed(h, name);
    assert.equal(jobs.length, 1, `exactly one backend job for ${name}`);
    assert.equal(jobs[0]?.id, result.jobId);
    return jobs[0]?.id ?? '';
  }

  it('submit: the retry finds no job from the killed attempt and submits exactly one', async () => {
    h.emulator.addRouteFault({ method: 'POST', path: '/v1/jobs', delayMs: HOLD_MS, times: 1 });
    const submitted = requestArrived('POST /v1/jobs');
    const { workflowId } = await run('kill-submit');
    await killDuring(workflowId, 'submitJob', submitted);
    const result = await h.service.outcome(workflowId);
    const jobId = assertOneJob('kill-submit', result, 'completed');
    assertEveryEventDelivered(h, jobId, plan);
  });

  it('the stream: resumes from the cursor on the replacement', async () => {
    const long: EventPlan = { ...plan, maxSteps: 200 };
    const { workflowId } = await run('kill-stream', { trainer: long });
    const jobId = await eventually(async () => (await h.service.status(workflowId)).jobId, 30_000, 'the job id');
    await eventually(() => (h.recordsOf(jobId).length >= 5 ? true : undefined), 30_000, 'the first events');
    await killDuring(workflowId, 'followJob');
    const result = await h.service.outcome(workflowId);
    assertOneJob('kill-stream', result, 'completed');
    assertEveryEventDelivered(h, jobId, long);
    assert.equal(jobsNamed(h, 'kill-stream')[0]?.cancelsAccepted, 0);
  });

  for (const callback of ['onStarted', 'onLog', 'onCheckpoint', 'onCompleted'] as const) {
    it(`${callback}: retried on the replacement, every event delivered`, async () => {
      const name = `kill-${callback}`;
      const set = `hold${callback.slice(0, 1).toUpperCase()}${callback.slice(1)}`;
      const { workflowId } = await run(name, { callbacks: { ...fastRecovery.callbacks, set } });
      await killDuring(workflowId, callback, callbackHeld(callback));
      const result = await h.service.outcome(workflowId);
      const jobId = assertOneJob(name, result, 'completed');
      assertEveryEventDelivered(h, jobId, plan);
      // The held call ran on the killed worker; the event was then delivered on the replacement.
      const held = h.recordsOf(jobId).find((r) => r.callback === `hold:${callback}`);
      assert.ok(held, `the ${callback} call was held`);
      const delivered = h.recordsOf(jobId).filter((r) => r.callback === callback && r.key === held.key);
      assert.ok(
        delivered.length >= 1 && delivered.every((r) => r.pid !== held.pid && r.attempt >= 2),
        `held ${JSON.stringify(held)}; delivered ${JSON.stringify(delivered)}`,
      );
    });
  }

  it('onFailed: retried on the replacement; the run fails with the training error', async () => {
    h.emulator.setBehaviour(
      { kind: 'nameContains', text: 'kill-onFailed' },
      { failAtStep: { step: 12, error: 'CUDA out of memory' } },
    );
    const { workflowId } = await run('kill-onFailed', {
      callbacks: { ...fastRecovery.callbacks, set: 'holdOnFailed' },
    });
    await killDuring(workflowId, 'onFailed', callbackHeld('onFailed'));
    const result = await h.service.outcome(workflowId);
    const jobId = assertOneJob('kill-onFailed', result, 'failed');
    const failed = h.recordsOf(jobId).filter((r) => r.callback === 'onFailed');
    assert.ok(failed.length >= 1 && failed.every((r) => r.attempt >= 2 && /CUDA out of memory/.test(r.error ?? '')));
    assert.ok(!h.recordsOf(jobId).some((r) => r.callback === 'onCompleted'));
  });

  it('a checkpoint smoke test: retried on the replacement, every checkpoint scored', async () => {
    // The first inference call is the base model's smoke test, the second the first checkpoint's.
    h.emulator.addRouteFault({ method: 'POST', path: '/v1/inference/chat', delayMs: HOLD_MS, times: 1 });
    const chatted = requestArrived('POST /v1/inference/chat');
    const { workflowId } = await run('kill-smoke', { smokeTest: { prompts } });
    await killDuring(workflowId, 'smokeTest', chatted);
    const result = await h.service.outcome(workflowId);
    assertOneJob('kill-smoke', result, 'completed');
    assert.equal(typeof result.status?.baseScore, 'number');
    assert.deepEqual(
      result.status?.checkpoints.map((c) => typeof c.score),
      ['number', 'number', 'number'],
    );
  });

  it("the gate's final smoke test: retried on the replacement, the gate decides on its score", async () => {
    // One prompt per smoke test: the base model and three checkpoints pass, the final adapter's is held.
    h.emulator.addRouteFault({ method: 'POST', path: '/v1/inference/chat', delayMs: 0, times: 4 });
    h.emulator.addRouteFault({ method: 'POST', path: '/v1/inference/chat', delayMs: HOLD_MS, times: 1 });
    const finalChatted = requestArrived('POST /v1/inference/chat', requestsTo('POST /v1/inference/chat') + 4);
    const { workflowId } = await run('kill-gate', { smokeTest: { prompts }, gate: { minScore: 0.5 } });
    const jobId = await eventually(async () => (await h.service.status(workflowId)).jobId, 30_000, 'the job id');
    // The final smoke test comes after onCompleted; the checkpoints' came before it.
    await eventually(
      () => (h.recordsOf(jobId).some((r) => r.callback === 'onCompleted') ? true : undefined),
      30_000,
      'onCompleted',
    );
    await killDuring(workflowId, 'smokeTest', finalChatted);
    const result = await h.service.outcome(workflowId);
    assertOneJob('kill-gate', result, 'completed');
    assert.equal(result.status?.finalScore?.score, 1);
    assert.equal(result.status?.gate?.passed, true);
  });

  it('promotion: the re-target is applied exactly once, and verified', async () => {
    const previous = { kind: 'base_model' as const, baseModel: 'unsloth/gemma-4-E4B-it' };
    const deployment = await h.arkor.createDeployment({ slug: 'kill-bot', target: previous, authMode: 'none' });
    const patchesBefore = h.emulator.stats().requests['PATCH /v1/endpoints/:id'] ?? 0;
    // The killed attempt's PATCH is held, then dropped with its connection: never applied.
    h.emulator.addRouteFault({ method: 'PATCH', path: `/v1/endpoints/${deployment.id}`, delayMs: HOLD_MS, times: 1 });
    const { workflowId } = await run('kill-promotion', { promotion: { deployment: 'kill-bot' } });
    await killDuring(workflowId, 'retarget', requestArrived('PATCH /v1/endpoints/:id', patchesBefore));
    const result = await h.service.outcome(workflowId);
    assertOneJob('kill-promotion', result, 'completed');
    const patches = (h.emulator.stats().requests['PATCH /v1/endpoints/:id'] ?? 0) - patchesBefore;
    assert.equal(patches, 2, 'the held PATCH and exactly one applied re-target');
    assert.equal(result.status?.promotion?.verified, true);
    const current = (await h.arkor.listDeployments()).find((d) => d.slug === 'kill-bot');
    assert.deepEqual(current?.target, { kind: 'adapter', adapter: { kind: 'final', jobId: result.jobId } });
  });

  it('a notification: redelivered by the replacement with the same idempotency key', async () => {
    const before = receiver.requests.length;
    receiver.respondWith(200, { delayMs: HOLD_MS });
    const { workflowId } = await run('kill-notify', { notifications: { channels: ['hook'], events: ['started'] } });
    const childId = `${workflowId}/notify/started/hook`;
    await eventually(
      async () => {
        const child = await h.temporal.client.workflow
          .getHandle(childId)
          .describe()
          .catch(() => undefined);
        return child &&
          (child.raw.pendingActivities ?? []).some(
            (p) => p.state === STARTED && p.lastWorkerIdentity?.startsWith(`${String(worker.process.pid)}@`),
          )
          ? true
          : undefined;
      },
      60_000,
      'the notification in flight',
    );
    await worker.kill();
    worker = await spawn();
    await h.temporal.client.workflow.getHandle(childId).result();
    const result = await h.service.outcome(workflowId);
    assertOneJob('kill-notify', result, 'completed');
    const delivered = receiver.requests.slice(before).filter((r) => r.status === 200);
    assert.ok(delivered.length >= 1);
    assert.equal(
      new Set(delivered.map((r) => r.headers['idempotency-key'])).size,
      1,
      'one notification, under one key',
    );
  });

  it('the cancel of a stop: retried until the backend confirms; the run ends stopped', async () => {
    const long: EventPlan = { ...plan, maxSteps: 2000 };
    const { workflowId } = await run('kill-cancel', { trainer: long });
    const jobId = await eventually(async () => (await h.service.status(workflowId)).jobId, 30_000, 'the job id');
    await eventually(() => (h.recordsOf(jobId).length >= 3 ? true : undefined), 30_000, 'the first events');
    h.emulator.addRouteFault({ method: 'POST', path: `/v1/jobs/${jobId}/cancel`, delayMs: HOLD_MS, times: 1 });
    const cancelled = requestArrived('POST /v1/jobs/:id/cancel');
    await h.service.stop(workflowId, 'enough');
    await killDuring(workflowId, 'cancelJob', cancelled);
    const result = await h.service.outcome(workflowId);
    assertOneJob('kill-cancel', result, 'stopped');
    const job = jobsNamed(h, 'kill-cancel')[0];
    assert.equal(job?.status, 'cancelled');
    assert.equal(job?.cancelsAccepted, 1);
  });

  it('two workers on one queue: the survivor takes over the stream after the heartbeat timeout', async () => {
    const second = await spawn();
    try {
      const long: EventPlan = { ...plan, maxSteps: 200 };
      const { workflowId } = await run('kill-one-of-two', { trainer: long });
      const jobId = await eventually(async () => (await h.service.status(workflowId)).jobId, 30_000, 'the job id');
      await eventually(() => (h.recordsOf(jobId).length >= 5 ? true : undefined), 30_000, 'the first events');
      const pending = await h.temporal.client.workflow.getHandle(workflowId).describe();
      const stream = (pending.raw.pendingActivities ?? []).find(
        (p) => p.activityType?.name === 'followJob' && p.state === STARTED,
      );
      const holderPid = Number(stream?.lastWorkerIdentity?.split('@')[0]);
      const [holder, survivor] = holderPid === second.process.pid ? [second, worker] : [worker, second];
      assert.equal(holder.process.pid, holderPid, 'the stream runs on one of the two workers');
      const killedAt = Date.now();
      await holder.kill();
      // No replacement: the survivor alone must finish the run.
      worker = survivor;
      const result = await h.service.outcome(workflowId);
      assertOneJob('kill-one-of-two', result, 'completed');
      assertEveryEventDelivered(h, jobId, long);
      assert.ok(
        readRecords(h.recordFile).some(
          (r) => r.key.startsWith(`${jobId}:`) && r.pid === survivor.process.pid && r.at >= killedAt,
        ),
        'the survivor delivered events after the kill',
      );
      // The stream's last attempt, the one that saw training end, ran on the survivor.
      const events = (await h.temporal.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
      const streamScheduled = new Set(
        events
          .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'followJob')
          .map((e) => String(e.eventId)),
      );
      const streamStarts = events
        .map((e) => e.activityTaskStartedEventAttributes)
        .filter((a) => a && streamScheduled.has(String(a.scheduledEventId)));
      assert.ok(
        streamStarts.length > 0 && streamStarts.at(-1)?.identity?.startsWith(`${String(survivor.process.pid)}@`),
      );
    } finally {
      if (second !== worker) await second.kill();
    }
  });
});
