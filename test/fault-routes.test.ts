/**
 * Backend faults on every route a training run uses, driven through whole runs: a real Temporal
 * dev server, the emulator, an in-process worker whose client has a short request timeout.
 *
 * Routes a run calls (checked in activities/): GET /v1/jobs (marker lookup) and POST /v1/jobs
 * (submit), the event stream, GET /v1/jobs/:id (after an `end` frame, and after a 409 cancel),
 * POST /v1/jobs/:id/cancel, POST /v1/inference/chat (smoke tests, gate), GET /v1/endpoints,
 * POST /v1/endpoints, GET and PATCH /v1/endpoints/:id, GET and POST /v1/endpoints/:id/keys,
 * DELETE /v1/endpoints/:id/keys/:keyId (temporary verification keys) and the edge chat.
 *
 * Transient faults (5xx, 429 with and without Retry-After, reset, slower than the timeout) must
 * leave a run that completes with exactly one backend job, every event delivered once and in
 * order, and a bounded number of requests. Permanent ones must fail fast, once, naming what was
 * rejected. The runs of one table share the emulator, so they run concurrently and the request
 * counts are checked over the whole batch against a healthy run of the same shape.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import { DEMO_QUESTIONS, type RouteFault, type StreamConnectionFault } from '../emulator/index.js';
import type { RunResult } from '../service/index.js';
import type { TrainingRunInput } from '../contract/input.js';
import { eventually, expectedEventKeys, startHarness, trainingInput, type Harness } from './support/harness.js';
import {
  FAULT_STREAM_IDLE_MS,
  TRANSIENT_FAULTS,
  armWhenCreated,
  isSlow,
  jobsNamed,
  requestsSince,
  shortTimeoutClient,
  type TransientFault,
} from './support/faults.js';

const MODEL = 'unsloth/gemma-4-E4B-it';
const BASE_TARGET = { kind: 'base_model' as const, baseModel: MODEL };
/** Small runs: 10 steps, a log per step, two eval logs, no checkpoint (so one smoke test: the final one). */
const PLAN = { maxSteps: 10, loggingSteps: 1, evalSteps: 5, saveSteps: 1000 } as const;
const QUESTION = DEMO_QUESTIONS[0]!;
const PROMPT = {
  name: 'capital',
  messages: [{ role: 'user' as const, content: QUESTION.prompt }],
  expect: { contains: QUESTION.answer },
};
/** A frame the stream has no business sending mid-run: makes the worker read the job (GET /v1/jobs/:id). */
const END_FRAME: StreamConnectionFault = { kind: 'raw', body: 'event: end\ndata: \n\n' };
/** A quiet first connection: time to arm faults on the job's own paths once it exists. */
const QUIET_OPEN: StreamConnectionFault = { kind: 'pingOnly', pings: 20, intervalMs: 25 };
/**
 * Queue time of jobs whose stream says `end` early: the job must still be active when the worker
 * reads it, as it would be for a real server's early `end` (a finished job's stream has already
 * delivered every event before its `end`).
 */
const QUEUE_MS = 8_000;

type Counts = Record<string, number>;

/** One route of the sweep: its stats key, and how many extra requests a fault on it forces. */
interface SweepRoute {
  key: string;
  /** The route's path for one run (deployment id, slug, job id are per run). */
  path: (run: { deploymentId: string; slug: string; jobId: string }) => string;
  /** Armed only once the job exists (the job id is in the path). */
  perJob?: boolean;
  /**
   * Whether a slow answer makes the run send the request again. Not for requests the server
   * acts on after the client gave up, when the retry finds the effect (create, PATCH), nor for
   * the job read after `end` (the retried stream does not see that `end` again).
   */
  slowRepeats: boolean;
  /** Whether any failed request is sent again (false for the job read after `end`, see above). */
  repeats: boolean;
}

const SWEEP_ROUTES: readonly SweepRoute[] = [
  { key: 'GET /v1/jobs', path: () => '/v1/jobs', slowRepeats: true, repeats: true },
  { key: 'POST /v1/jobs', path: () => '/v1/jobs', slowRepeats: false, repeats: true },
  {
    key: 'GET /v1/jobs/:id/events/stream',
    path: (r) => `/v1/jobs/${r.jobId}/events/stream`,
    perJob: true,
    slowRepeats: true,
    repeats: true,
  },
  { key: 'GET /v1/jobs/:id', path: (r) => `/v1/jobs/${r.jobId}`, perJob: true, slowRepeats: false, repeats: false },
  { key: 'POST /v1/inference/chat', path: () => '/v1/inference/chat', slowRepeats: true, repeats: true },
  { key: 'GET /v1/endpoints', path: () => '/v1/endpoints', slowRepeats: true, repeats: true },
  { key: 'PATCH /v1/endpoints/:id', path: (r) => `/v1/endpoints/${r.deploymentId}`, slowRepeats: false, repeats: true },
  { key: 'GET /v1/endpoints/:id', path: (r) => `/v1/endpoints/${r.deploymentId}`, slowRepeats: true, repeats: true },
  {
    key: 'GET /v1/endpoints/:id/keys',
    path: (r) => `/v1/endpoints/${r.deploymentId}/keys`,
    slowRepeats: true,
    repeats: true,
  },
  {
    key: 'POST /v1/endpoints/:id/keys',
    path: (r) => `/v1/endpoints/${r.deploymentId}/keys`,
    slowRepeats: true,
    repeats: true,
  },
  {
    key: 'POST /_edge/:slug/v1/chat/completions',
    path: (r) => `/_edge/${r.slug}/v1/chat/completions`,
    slowRepeats: true,
    repeats: true,
  },
];

function methodOf(key: string): string {
  return key.slice(0, key.indexOf(' '));
}

/** Asserts that every event of the job reached its callback exactly once, in order, first time. */
function assertEventsOnce(h: Harness, jobId: string, what: string): void {
  const records = h.recordsOf(jobId);
  assert.deepEqual(
    records.map((r) => r.key),
    expectedEventKeys(jobId, PLAN),
    `${what}: every event once, in order`,
  );
  assert.ok(
    records.every((r) => r.attempt === 1),
    'no callback was retried',
  );
}

/** Asserts the batch's request counts: at least the healthy ones plus the forced repeats, at most about twice. */
function assertBounded(
  routes: readonly SweepRoute[],
  healthy: Counts,
  actual: Counts,
  faults: readonly TransientFault[],
): void {
  const runs = faults.length;
  for (const route of routes) {
    const base = healthy[route.key] ?? 0;
    assert.ok(base > 0, `the healthy run calls ${route.key}`);
    const forced = faults.filter((f) => route.repeats && (!isSlow(f) || route.slowRepeats)).length;
    const lost = route.repeats ? 0 : faults.filter(isSlow).length;
    const count = actual[route.key] ?? 0;
    const min = runs * base + forced - lost;
    const max = runs * (2 * base + 3);
    assert.ok(count >= min && count <= max, `${route.key}: ${count} requests, expected ${min}..${max}`);
  }
}

describe('backend faults on every route, through whole runs', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.startWorker({ arkor: shortTimeoutClient(h), stream: { idleTimeoutMs: FAULT_STREAM_IDLE_MS } });
  });
  after(async () => h?.close());

  /** A promoting run of PLAN against an existing open deployment, with a final smoke test and a gate. */
  function promotingRun(name: string, slug: string): TrainingRunInput {
    return trainingInput({
      trainer: { name, ...PLAN },
      smokeTest: { prompts: [PROMPT] },
      gate: { minScore: 0.5 },
      promotion: { deployment: slug, createKey: { label: 'fault-test' } },
    });
  }

  /**
   * Runs `promotingRun` with `fault` armed once on every route of SWEEP_ROUTES (none: healthy).
   * The stream first stays quiet (time to arm the job's paths), then says `end` twice (so the
   * worker reads the job), and, for resets, also drops mid-body.
   */
  async function sweepRun(id: string, fault: TransientFault | undefined): Promise<void> {
    const name = `sweep-${id}`;
    const slug = `sweep-${id}`;
    const deployment = await h.arkor.createDeployment({ slug, target: BASE_TARGET, authMode: 'none' });
    const streamConnections: StreamConnectionFault[] = [QUIET_OPEN, END_FRAME, END_FRAME];
    if (fault?.fault.status === 'reset') streamConnections.push({ kind: 'drop', afterFrames: 3, mode: 'reset' });
    h.emulator.setBehaviour({ kind: 'nameContains', text: name }, { queueMs: QUEUE_MS, streamConnections });
    const faultsFor = (run: { deploymentId: string; slug: string; jobId: string }, perJob: boolean): RouteFault[] =>
      fault === undefined
        ? []
        : SWEEP_ROUTES.filter((route) => (route.perJob ?? false) === perJob).map((route) => ({
            method: methodOf(route.key),
            path: route.path(run),
            ...fault.fault,
          }));
    for (const f of faultsFor({ deploymentId: deployment.id, slug, jobId: '' }, false)) h.emulator.addRouteFault(f);

    const { workflowId } = await h.service.start(promotingRun(name, slug));
    await armWhenCreated(h, name, (jobId) => faultsFor({ deploymentId: deployment.id, slug, jobId }, true));
    const result = await h.service.outcome(workflowId);
    assert.equal(
      result.outcome,
      'completed',
      `${name}: ${result.reason ?? ''} ${JSON.stringify(result.status.callbackErrors)}`,
    );
    const jobId = result.jobId!;
    assert.deepEqual(jobsNamed(h, name), [jobId], 'exactly one backend job');
    assertEventsOnce(h, jobId, name);
    const status = result.status;
    assert.deepEqual(status.callbackErrors, [], 'the smoke test ran');
    assert.equal(status.gate?.passed, true, status.gate?.reason);
    const finalTarget = { kind: 'adapter', adapter: { kind: 'final', jobId } };
    assert.equal(status.promotion?.verified, true, status.promotion?.error);
    assert.deepEqual(status.promotion?.after, finalTarget);
    assert.ok(status.promotion?.keyId);
    assert.deepEqual((await h.arkor.getDeployment(deployment.id)).target, finalTarget);
    // One live key with the label (which carries the run's marker), the one the run recorded: a
    // key whose create answer was lost was revoked by the attempt that lost it.
    const live = (await h.arkor.listDeploymentKeys(deployment.id)).filter(
      (k) => k.enabled && k.label.startsWith('fault-test [wf:'),
    );
    assert.deepEqual(
      live.map((k) => k.id),
      [status.promotion?.keyId],
    );
  }

  it('every transient fault on every route: the runs complete, once, with bounded requests', async () => {
    let before = h.emulator.stats().requests;
    await sweepRun('healthy', undefined);
    const healthy = requestsSince(h, before);

    before = h.emulator.stats().requests;
    await Promise.all(TRANSIENT_FAULTS.map((fault) => sweepRun(fault.id, fault)));
    assertBounded(SWEEP_ROUTES, healthy, requestsSince(h, before), TRANSIENT_FAULTS);
  });

  it('404 before the job is visible (stream, job read) is waited out', async () => {
    // Stream: the emulator's own not-yet-visible behaviour; the job read: a 404 after `end`.
    const name = 'visibility';
    h.emulator.setBehaviour(
      { kind: 'nameContains', text: name },
      { queueMs: QUEUE_MS, notVisibleForOpens: 3, streamConnections: [QUIET_OPEN, END_FRAME] },
    );
    const { workflowId } = await h.service.start(trainingInput({ trainer: { name, ...PLAN } }));
    const jobIdArmed = await armWhenCreated(h, name, (jobId) => [
      { method: 'GET', path: `/v1/jobs/${jobId}`, status: 404, times: 2 },
    ]);
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
    assert.equal(result.jobId, jobIdArmed);
    assert.deepEqual(jobsNamed(h, name), [jobIdArmed]);
    assertEventsOnce(h, jobIdArmed, name);
    const job = h.emulator.stats().jobs.find((j) => j.id === jobIdArmed);
    // Three 404s, the quiet one, `end`, then a healthy one (per the retried activity's attempts).
    assert.deepEqual(job?.streamOpens.slice(0, 5), [null, null, null, null, null]);
    assert.ok((job?.streamOpens.length ?? 0) <= 8, `stream opens: ${JSON.stringify(job?.streamOpens)}`);
  });

  it('duplicated and replayed events, and a Last-Event-ID the server no longer knows, reach callbacks once', async () => {
    // After six frames the connection closes; the next one replays an old id with other content
    // (a duplicate) and moves the cursor to an id the server never issued; the server then
    // replays the whole history, which the workflow deduplicates.
    const stale =
      'id: 3\nevent: training.log\ndata: {"type":"training.log","jobId":"x","timestamp":"2026-01-01T00:00:00Z","step":999,"loss":9.9}\n\n' +
      'id: forgotten-cursor-42\nevent: ping\ndata: \n\n';
    const name = 'replayed';
    h.emulator.setBehaviour(
      { kind: 'nameContains', text: name },
      {
        streamConnections: [
          { kind: 'drop', afterFrames: 6, mode: 'clean' },
          { kind: 'raw', body: stale },
        ],
      },
    );
    const { workflowId } = await h.service.start(trainingInput({ trainer: { name, ...PLAN } }));
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
    const jobId = result.jobId!;
    assertEventsOnce(h, jobId, name);
    assert.ok(
      h.recordsOf(jobId).every((r) => r.step !== 999),
      'a duplicated id with other content was dropped',
    );
    const job = h.emulator.stats().jobs.find((j) => j.id === jobId);
    assert.deepEqual(job?.streamOpens, [null, '6', 'forgotten-cursor-42']);
    assert.equal(
      result.status.eventsReceived,
      expectedEventKeys(jobId, PLAN).length - 1,
      'every non-terminal event once',
    );
  });

  it('a transient fault on cancel: the stop still cancels the job exactly once', async () => {
    const cancelFaults: TransientFault[] = [
      ...TRANSIENT_FAULTS,
      { id: '404', name: '404 before visibility', fault: { status: 404, times: 1 } },
    ];
    const before = h.emulator.stats().requests;
    const results = await Promise.all(
      cancelFaults.map(async (fault) => {
        const name = `stop-${fault.id}`;
        // Long enough to outlast the stop and the cancel's retries.
        const { workflowId } = await h.service.start(
          trainingInput({ trainer: { name, maxSteps: 4000, loggingSteps: 200, saveSteps: 100_000 } }),
        );
        const jobId = await armWhenCreated(h, name, (id) => [
          { method: 'POST', path: `/v1/jobs/${id}/cancel`, ...fault.fault },
        ]);
        await eventually(
          async () => ((await h.service.status(workflowId)).phase === 'running' ? true : undefined),
          30_000,
          `${name} running`,
        );
        await h.service.stop(workflowId, 'enough');
        return { fault, jobId, result: await h.service.outcome(workflowId) };
      }),
    );
    for (const { fault, jobId, result } of results) {
      assert.equal(result.outcome, 'stopped', `${fault.name}: ${result.reason ?? ''}`);
      assert.equal(result.jobId, jobId);
      const job = h.emulator.stats().jobs.find((j) => j.id === jobId);
      assert.equal(job?.status, 'cancelled', fault.name);
      assert.equal(job?.cancelsAccepted, 1, fault.name);
      // A slow cancel is carried out after the client gave up; the retry then gets 409.
      assert.equal(job?.cancelsRejected, isSlow(fault) ? 1 : 0, fault.name);
      const records = h.recordsOf(jobId).map((r) => r.key);
      assert.equal(new Set(records).size, records.length, 'no event twice');
    }
    const cancels = requestsSince(h, before)['POST /v1/jobs/:id/cancel'] ?? 0;
    assert.equal(cancels, cancelFaults.length * 2, 'one failed and one successful cancel per run');
  });

  it('a transient fault on deployment create: the promotion creates one deployment', async () => {
    const before = h.emulator.stats().requests;
    for (const fault of TRANSIENT_FAULTS)
      h.emulator.addRouteFault({ method: 'POST', path: '/v1/endpoints', ...fault.fault });
    const results = await Promise.all(
      TRANSIENT_FAULTS.map(async (fault) => {
        const name = `create-${fault.id}`;
        const { workflowId } = await h.service.start(
          trainingInput({ trainer: { name, ...PLAN }, promotion: { deployment: name, create: true } }),
        );
        return { fault, name, result: await h.service.outcome(workflowId) };
      }),
    );
    for (const { fault, name, result } of results) {
      assert.equal(result.outcome, 'completed', `${fault.name}: ${result.reason ?? ''}`);
      assert.equal(result.status.promotion?.verified, true, `${fault.name}: ${result.status.promotion?.error ?? ''}`);
      const deployments = (await h.arkor.listDeployments()).filter((d) => d.slug === name);
      assert.equal(deployments.length, 1);
      assert.deepEqual(deployments[0]?.target, { kind: 'adapter', adapter: { kind: 'final', jobId: result.jobId } });
      // The temporary verification key was revoked again.
      const keys = await h.arkor.listDeploymentKeys(deployments[0].id);
      assert.ok(
        keys.every((k) => !k.enabled),
        `${name}: a verification key is still live`,
      );
    }
    const creates = requestsSince(h, before)['POST /v1/endpoints'] ?? 0;
    // Every failed create is retried, except a slow one the server carried out (found by slug).
    const min = TRANSIENT_FAULTS.length * 2 - TRANSIENT_FAULTS.filter(isSlow).length;
    assert.ok(creates >= min && creates <= TRANSIENT_FAULTS.length * 2, `POST /v1/endpoints: ${creates}`);
  });

  /** The failure of a run that did not end with a RunResult (the workflow's own failure). */
  async function workflowFailure(workflowId: string): Promise<ApplicationFailure> {
    const error: unknown = await h.service
      .handle(workflowId)
      .result()
      .then(
        () => assert.fail('the run should have failed'),
        (e: unknown) => e,
      );
    assert.ok(error instanceof WorkflowFailedError, String(error));
    let cause: unknown = error.cause;
    while (cause instanceof ActivityFailure) cause = cause.cause;
    assert.ok(cause instanceof ApplicationFailure, String(cause));
    return cause;
  }

  it('a permanent error on submit fails the run fast, naming the rejection, without retrying', async () => {
    const cases: Array<{ method: string; path: string; status: number; route: string }> = [
      { method: 'POST', path: '/v1/jobs', status: 400, route: 'POST /v1/jobs' },
      { method: 'POST', path: '/v1/jobs', status: 403, route: 'POST /v1/jobs' },
      { method: 'POST', path: '/v1/jobs', status: 404, route: 'POST /v1/jobs' },
      { method: 'POST', path: '/v1/jobs', status: 422, route: 'POST /v1/jobs' },
      { method: 'GET', path: '/v1/jobs', status: 403, route: 'GET /v1/jobs' },
    ];
    for (const c of cases) {
      const name = `rejected-${c.method.toLowerCase()}-${c.status}`;
      const before = h.emulator.stats().requests;
      h.emulator.addRouteFault({ method: c.method, path: c.path, status: c.status, times: 1 });
      const { workflowId } = await h.service.start(trainingInput({ trainer: { name, ...PLAN } }));
      const result: RunResult = await h.service.outcome(workflowId);
      assert.equal(result.outcome, 'failed', name);
      assert.equal(
        result.reason,
        `Preparing the run failed: Submitting the training job: Arkor answered ${c.status}: injected fault ${c.status}`,
      );
      assert.deepEqual(jobsNamed(h, name), [], 'no job');
      const requests = requestsSince(h, before);
      assert.equal(requests[c.route], 1, `${name}: the rejected request was not retried`);
      assert.equal(requests['POST /v1/jobs'] ?? 0, c.route === 'POST /v1/jobs' ? 1 : 0);
      const failure = await workflowFailure(workflowId);
      assert.equal(failure.type, 'ArkorRejected');
    }
  });

  it('a 4xx on the deployment PATCH fails the promotion fast, naming the deployment, without retrying', async () => {
    const statuses = [400, 403, 404, 422];
    const before = h.emulator.stats().requests;
    const results = await Promise.all(
      statuses.map(async (status) => {
        const slug = `patch-${status}`;
        const deployment = await h.arkor.createDeployment({ slug, target: BASE_TARGET, authMode: 'none' });
        h.emulator.addRouteFault({ method: 'PATCH', path: `/v1/endpoints/${deployment.id}`, status, times: 1 });
        const { workflowId } = await h.service.start(
          trainingInput({ trainer: { name: slug, ...PLAN }, promotion: { deployment: slug } }),
        );
        return {
          status,
          slug,
          deployment,
          failure: await workflowFailure(workflowId),
          result: await h.service.outcome(workflowId),
        };
      }),
    );
    for (const { status, slug, deployment, failure, result } of results) {
      // The run fails (a Schedule sees it) with its result; training itself completed.
      const rejection = `retarget deployment ${slug}: Arkor answered ${status}: injected fault ${status}`;
      assert.equal(failure.type, 'PromotionFailed');
      assert.equal(failure.message, `Promotion failed: ${rejection}`);
      assert.equal(result.outcome, 'failed');
      assert.equal(result.reason, `Promotion failed: ${rejection}`);
      assert.equal(result.status.phase, 'failed');
      assert.equal(result.status.promotion?.error, rejection);
      assert.deepEqual(
        (await h.arkor.getDeployment(deployment.id)).target,
        BASE_TARGET,
        'the deployment was left alone',
      );
    }
    assert.equal(requestsSince(h, before)['PATCH /v1/endpoints/:id'], statuses.length, 'one PATCH per run');
  });

  it('a permanent error on the final smoke test leaves the adapter unscored and the gate closed', async () => {
    const name = 'smoke-403';
    h.emulator.setBehaviour({ kind: 'nameContains', text: name }, {});
    const before = h.emulator.stats().requests;
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name, ...PLAN }, smokeTest: { prompts: [PROMPT] }, gate: { minScore: 0.5 } }),
    );
    // Armed at once: the chat is the last call of the run.
    h.emulator.addRouteFault({ method: 'POST', path: '/v1/inference/chat', status: 403, times: 1 });
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed');
    assert.equal(result.status.gate?.passed, false);
    assert.equal(result.status.gate?.reason, 'the final adapter could not be scored');
    // The recorded error is the rejection itself, not the activity wrapper's message.
    assert.match(
      result.status.callbackErrors[0]?.message ?? '',
      /^smoke test of the final adapter failed: .*Arkor answered 403/,
    );
    assert.equal(requestsSince(h, before)['POST /v1/inference/chat'], 1, 'not retried');
  });
});
