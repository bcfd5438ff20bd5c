import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEMO_QUESTIONS } from '../emulator/index.js';
import type { TrainingRunInput } from '../contract/input.js';
import { startWebhookReceiver, type WebhookReceiver } from '../testing/webhook-receiver.js';
import { historyText } from './support/history-text.js';
import { eventually, startHarness, trainingInput, type Harness } from './support/harness.js';

/** Golden prompts the emulator's model answers right once it is good enough. */
const prompts = DEMO_QUESTIONS.map((question) => ({
  name: question.prompt,
  messages: [{ role: 'user' as const, content: question.prompt }],
  expect: { contains: question.answer },
}));

function evaluatedRun(name: string, extra: Omit<Partial<TrainingRunInput>, 'trainer'> = {}): TrainingRunInput {
  return trainingInput({
    trainer: { name, maxSteps: 60, loggingSteps: 5, evalSteps: 20, saveSteps: 20 },
    smokeTest: { prompts },
    ...extra,
  });
}

describe('smoke tests, gate, approval, promotion and notifications', () => {
  let h: Harness;
  let receiver: WebhookReceiver;
  let slack: WebhookReceiver;
  before(async () => {
    receiver = await startWebhookReceiver();
    slack = await startWebhookReceiver();
    h = await startHarness();
    await h.startWorker({
      notificationChannels: new Map([
        ['team', { kind: 'webhook' as const, url: `${receiver.url}/hooks/team-secret-path` }],
        ['chat', { kind: 'slack' as const, url: `${slack.url}/services/T000/B000/slack-secret` }],
      ]),
    });
  });
  after(async () => {
    await h?.close();
    await receiver?.close();
    await slack?.close();
  });

  const deploymentBySlug = async (slug: string) => (await h.arkor.listDeployments()).find((d) => d.slug === slug);

  it('scores checkpoints, passes the gate, promotes the final adapter with a key, and notifies', async () => {
    const { workflowId } = await h.service.start(
      evaluatedRun('promoted', {
        gate: { minScore: 0.75 },
        promotion: { deployment: 'support-bot', create: true, createKey: { label: 'production' } },
        notifications: { channels: ['team', 'chat'] },
      }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed');
    const status = result.status;
    // Checkpoints were scored against the same prompts, the base model once.
    assert.deepEqual(
      status.checkpoints.map((c) => c.step),
      [20, 40, 60],
    );
    assert.ok(status.checkpoints.every((c) => typeof c.score === 'number'));
    assert.ok((status.checkpoints.at(-1)?.score ?? 0) > (status.baseScore ?? 1), 'training beats the base model');
    assert.equal(
      status.bestCheckpoint?.step,
      status.checkpoints.reduce((a, b) => ((b.score ?? 0) > (a.score ?? 0) ? b : a)).step,
    );
    assert.equal(status.finalScore?.score, 1);
    assert.equal(status.finalScore?.prompts.length, prompts.length);
    assert.deepEqual(status.gate?.passed, true);
    // The deployment now serves the new job's final adapter, verified, with a key in the store.
    const promotion = status.promotion;
    assert.equal(promotion?.verified, true);
    assert.equal(promotion?.created, true);
    assert.equal(promotion?.before, null);
    assert.deepEqual(promotion?.after, { kind: 'adapter', adapter: { kind: 'final', jobId: result.jobId } });
    const deployment = await deploymentBySlug('support-bot');
    assert.deepEqual(deployment?.target, { kind: 'adapter', adapter: { kind: 'final', jobId: result.jobId } });
    assert.ok(promotion?.keyId);
    const keyFiles = readdirSync(join(h.keyStoreDir, 'support-bot')).filter((f) => f.endsWith('.key'));
    assert.equal(keyFiles.length, 1);
    const plaintext = readFileSync(join(h.keyStoreDir, 'support-bot', keyFiles[0]!), 'utf8').trim();
    assert.match(plaintext, /^ark_live_/);

    // Notifications: started, one per checkpoint, completed; on both channels, each once.
    const expected = ['started', 'checkpoint', 'checkpoint', 'checkpoint', 'completed'];
    await receiver.waitForRequests(expected.length, 20_000);
    await slack.waitForRequests(expected.length, 20_000);
    const events = receiver.requests.map((r) => (r.body as { event: string }).event);
    assert.deepEqual([...events].sort(), [...expected].sort());
    const keys = receiver.requests.map((r) => r.headers['idempotency-key']);
    assert.equal(new Set(keys).size, keys.length);
    const completed = receiver.requests.find((r) => (r.body as { event: string }).event === 'completed');
    assert.match(JSON.stringify(completed?.body), /promoted to support-bot/);
    // A notification carries a summary of the status, not its curve or cursor: every
    // notification child's input would otherwise grow with the run.
    const summary = (completed?.body as { data?: { status?: Record<string, unknown> } }).data?.status;
    assert.equal(summary?.phase, 'completed');
    for (const bulky of ['lossCurve', 'cursor', 'callbackErrors', 'checkpoints'])
      assert.ok(!(bulky in (summary ?? {})), bulky);
    assert.ok(slack.requests.every((r) => typeof (r.body as { text?: unknown }).text === 'string'));

    // Neither the key plaintext nor a webhook URL is anywhere in the run's history.
    const history = await historyText(h.service.handle(workflowId));
    assert.ok(history.includes('"production"'), 'control: payload bytes are searched');
    assert.ok(!history.includes(plaintext), 'key plaintext in history');
    assert.ok(!history.includes('team-secret-path') && !history.includes('slack-secret'), 'webhook URL in history');
  });

  it('stops a run whose checkpoint regresses, cancelling the job, without promotion', async () => {
    // Checkpoint 1200 answers right; from step 1400 the model degrades, so checkpoint 1600 does
    // not. (Long enough that training is still running when checkpoint 1600 is scored.)
    h.emulator.setBehaviour(
      { kind: 'nameContains', text: 'regresses' },
      { regressFromStep: { step: 1400, quality: 0 } },
    );
    const { workflowId } = await h.service.start(
      trainingInput({
        trainer: { name: 'regresses', maxSteps: 2000, loggingSteps: 50, saveSteps: 400 },
        smokeTest: { prompts, regressionTolerance: 0.2 },
        promotion: { deployment: 'regress-bot', create: true },
      }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(
      result.outcome,
      'stopped',
      JSON.stringify({ checkpoints: result.status.checkpoints, errors: result.status.callbackErrors }),
    );
    assert.equal(result.stop?.cause, 'rule');
    assert.match(
      result.stop?.reason ?? '',
      /^checkpoint 1600 scored 0\.000, regressing more than 0\.2 from checkpoint 1200/,
    );
    assert.equal(result.status.bestCheckpoint?.step, 1200);
    const job = h.emulator.stats().jobs.find((j) => j.id === result.jobId);
    assert.equal(job?.status, 'cancelled');
    assert.equal(await deploymentBySlug('regress-bot'), undefined);
    assert.equal(result.status.promotion, undefined);
  });

  it('leaves the deployment alone when the new adapter does not beat the deployed one', async () => {
    // A strong run promotes first.
    // The deployment needs a key; the run stores one, and the gate's comparison then uses it.
    const first = await h.service.start(
      evaluatedRun('strong', { promotion: { deployment: 'gated-bot', create: true, createKey: { label: 'gate' } } }),
    );
    const strong = await h.service.outcome(first.workflowId);
    assert.equal(strong.status.promotion?.verified, true);
    // A weak one must beat it to replace it.
    h.emulator.setBehaviour({ kind: 'nameContains', text: 'weak' }, { finalQuality: 0.3 });
    const second = await h.service.start(
      evaluatedRun('weak', { gate: { minScore: 0, mustBeatDeployed: true }, promotion: { deployment: 'gated-bot' } }),
    );
    const weak = await h.service.outcome(second.workflowId);
    assert.equal(weak.outcome, 'completed');
    assert.equal(weak.status.gate?.passed, false);
    assert.match(weak.status.gate?.reason ?? '', /does not beat the deployed adapter/);
    assert.ok((weak.status.gate?.deployedScore ?? 0) > (weak.status.gate?.score ?? 1));
    assert.match(weak.status.promotion?.skipped ?? '', /gate failed/);
    const deployment = await deploymentBySlug('gated-bot');
    assert.deepEqual(deployment?.target, { kind: 'adapter', adapter: { kind: 'final', jobId: strong.jobId } });
  });

  it('promotes only with approval: granted, rejected, timed out', async () => {
    const approvalRun = (name: string, timeout: string) =>
      evaluatedRun(name, { approval: { timeout }, promotion: { deployment: `${name}-bot`, create: true } });
    const waitForApproval = (workflowId: string) =>
      eventually(
        async () => ((await h.service.status(workflowId)).phase === 'awaiting-approval' ? true : undefined),
        30_000,
        'awaiting-approval',
      );

    const granted = await h.service.start(approvalRun('granted', '1m'));
    // Deciding before the run waits is refused, and nothing is recorded.
    const refusedWith = (pattern: RegExp) => (error: unknown) =>
      error instanceof Error && error.cause instanceof Error && pattern.test(error.cause.message);
    await assert.rejects(
      h.service.decide(granted.workflowId, { approved: true }),
      refusedWith(/not waiting for approval yet/),
    );
    await waitForApproval(granted.workflowId);
    const approval = await h.service.decide(granted.workflowId, { approved: true, by: 'alice' });
    assert.equal(approval.state, 'approved');
    await assert.rejects(h.service.decide(granted.workflowId, { approved: false }), refusedWith(/already approved/));
    const grantedResult = await h.service.outcome(granted.workflowId);
    assert.equal(grantedResult.status.approval?.by, 'alice');
    assert.equal(grantedResult.status.promotion?.verified, true);

    const rejected = await h.service.start(approvalRun('rejected', '1m'));
    await waitForApproval(rejected.workflowId);
    await h.service.decide(rejected.workflowId, { approved: false, reason: 'not this week' });
    const rejectedResult = await h.service.outcome(rejected.workflowId);
    assert.equal(rejectedResult.status.approval?.state, 'rejected');
    assert.equal(rejectedResult.status.promotion?.skipped, 'rejected: not this week');
    assert.equal(await deploymentBySlug('rejected-bot'), undefined);

    const timedOut = await h.service.start(approvalRun('silent', '1s'));
    const timedOutResult = await h.service.outcome(timedOut.workflowId);
    assert.equal(timedOutResult.outcome, 'completed');
    assert.equal(timedOutResult.status.approval?.state, 'timed-out');
    assert.equal(timedOutResult.status.promotion?.skipped, 'no approval within 1s');
    assert.equal(await deploymentBySlug('silent-bot'), undefined);

    // A stop while the run waits is a rejection: trained, not promoted, the run ends stopped.
    const stopped = await h.service.start(approvalRun('stop-approval', '1m'));
    await waitForApproval(stopped.workflowId);
    assert.deepEqual(await h.service.stop(stopped.workflowId, 'not now'), {
      effect: 'skips-promotion',
      phase: 'awaiting-approval',
    });
    const stoppedResult = await h.service.outcome(stopped.workflowId);
    assert.equal(stoppedResult.outcome, 'stopped');
    assert.equal(stoppedResult.stop?.reason, 'not now');
    assert.equal(stoppedResult.status.promotion?.skipped, 'stopped: not now');
    assert.equal(await deploymentBySlug('stop-approval-bot'), undefined);
    const job = h.emulator.stats().jobs.find((j) => j.id === stoppedResult.jobId);
    assert.equal(job?.status, 'completed', 'the training itself had completed');
    assert.equal(h.recordsOf(stoppedResult.jobId!).filter((r) => r.callback === 'onCompleted').length, 1);
  });

  it('rolls back to the previous target when verification fails', async () => {
    const previous = { kind: 'base_model' as const, baseModel: 'unsloth/gemma-4-E4B-it' };
    await h.arkor.createDeployment({ slug: 'rollback-bot', target: previous, authMode: 'none' });
    h.emulator.addRouteFault({
      method: 'POST',
      path: '/_edge/rollback-bot/v1/chat/completions',
      status: 404,
      times: 1,
    });
    const { workflowId } = await h.service.start(
      evaluatedRun('rollback', { promotion: { deployment: 'rollback-bot' } }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed');
    assert.equal(result.status.promotion?.verified, false);
    assert.equal(result.status.promotion?.rolledBack, true);
    assert.deepEqual(result.status.promotion?.before, previous);
    assert.deepEqual((await deploymentBySlug('rollback-bot'))?.target, previous);
  });

  it('a stop while the final adapter is evaluated skips the promotion', async () => {
    const { workflowId } = await h.service.start(
      evaluatedRun('stop-evaluating', {
        gate: { minScore: 0.5 },
        promotion: { deployment: 'stop-evaluating-bot', create: true },
      }),
    );
    // Every chat answers late, so the run sits in its final smoke test.
    await eventually(
      async () => ((await h.service.status(workflowId)).phase === 'running' ? true : undefined),
      30_000,
      'running',
    );
    h.emulator.addRouteFault({ method: 'POST', path: '/v1/inference/chat', delayMs: 1_500 });
    try {
      await eventually(
        async () => ((await h.service.status(workflowId)).phase === 'evaluating' ? true : undefined),
        60_000,
        'evaluating',
      );
      assert.deepEqual(await h.service.stop(workflowId, 'hold the release'), {
        effect: 'skips-promotion',
        phase: 'evaluating',
      });
      const result = await h.service.outcome(workflowId);
      assert.equal(result.outcome, 'stopped');
      assert.equal(result.status.promotion?.skipped, 'stopped: hold the release');
      assert.equal(await deploymentBySlug('stop-evaluating-bot'), undefined);
    } finally {
      h.emulator.clearFaults();
    }
  });

  it('a notification receiver that is down does not fail or delay the run', async () => {
    await receiver.down();
    const before = receiver.requests.length;
    try {
      const { workflowId } = await h.service.start(
        evaluatedRun('receiver-down', { notifications: { channels: ['team'], events: ['completed'] } }),
      );
      const result = await h.service.outcome(workflowId);
      assert.equal(result.outcome, 'completed');
      assert.equal(receiver.requests.length, before);
    } finally {
      await receiver.up();
    }
    // The abandoned delivery keeps retrying and lands once the receiver is back.
    await receiver.waitForRequests(before + 1, 30_000);
    assert.equal((receiver.requests.at(-1)?.body as { event: string }).event, 'completed');
  });
});
