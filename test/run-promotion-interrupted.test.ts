/**
 * A promotion is never left half done: a stop or a workflow cancel that arrives while the run
 * promotes lets the promotion finish (verified, or rolled back) before the run ends. Otherwise a
 * deployment could be left serving an adapter that was never verified, with nothing to roll it
 * back. A cancel before the promotion starts promotes nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RouteFault } from '../emulator/types.js';
import { eventually, startHarness, trainingInput, type Harness } from './support/harness.js';

const PREVIOUS = { kind: 'base_model' as const, baseModel: 'unsloth/gemma-4-E4B-it' };

describe('a promotion interrupted by a stop or a cancel', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.startWorker();
  });
  after(async () => h?.close());

  const deploymentTarget = async (slug: string) =>
    (await h.arkor.listDeployments()).find((deployment) => deployment.slug === slug)?.target;

  /**
   * Starts a run promoting to `slug` (which serves the base model) whose verification is held by
   * `verifyFault`, and returns once the deployment has been re-targeted to the run's adapter and
   * the verification is under way.
   */
  async function promoting(slug: string, verifyFault: Omit<RouteFault, 'method' | 'path'>) {
    await h.arkor.createDeployment({ slug, target: PREVIOUS, authMode: 'none' });
    h.emulator.addRouteFault({ method: 'POST', path: `/_edge/${slug}/v1/chat/completions`, times: 1, ...verifyFault });
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name: slug, maxSteps: 20, saveSteps: 10 }, promotion: { deployment: slug } }),
    );
    const jobId = await eventually(
      async () => {
        const status = await h.service.status(workflowId);
        const target = await deploymentTarget(slug);
        const retargeted = target?.kind === 'adapter' && target.adapter.jobId === status.jobId;
        return status.phase === 'promoting' && retargeted ? status.jobId : undefined;
      },
      60_000,
      'the deployment re-targeted, its verification under way',
    );
    return { workflowId, jobId, newTarget: { kind: 'adapter', adapter: { kind: 'final', jobId } } };
  }

  /**
   * Cancels the run once it is in `phase` (before its promotion): it must end cancelled with
   * `slug` untouched, and its job, which finished training, not cancelled.
   */
  async function cancelledBeforePromotion(workflowId: string, phase: string, slug: string): Promise<void> {
    await eventually(
      async () => ((await h.service.status(workflowId)).phase === phase ? true : undefined),
      60_000,
      phase,
    );
    await h.service.cancel(workflowId);
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'cancelled', result.reason);
    assert.equal(result.status.promotion?.after, undefined);
    assert.deepEqual(await deploymentTarget(slug), PREVIOUS);
    const job = h.emulator.stats().jobs.find((entry) => entry.id === result.jobId);
    assert.equal(job?.status, 'completed');
    assert.equal(job?.cancelsAccepted, 0);
  }

  it('a cancel while promoting: the verification finishes, then the run ends cancelled', async () => {
    const { workflowId, newTarget } = await promoting('cancel-verified', { delayMs: 3_000 });
    await h.service.cancel(workflowId);
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'cancelled', result.reason);
    assert.equal(result.status.promotion?.verified, true, JSON.stringify(result.status.promotion));
    assert.deepEqual(result.status.promotion?.after, newTarget);
    assert.deepEqual(await deploymentTarget('cancel-verified'), newTarget);
  });

  it('a cancel while promoting: a failed verification is still rolled back', async () => {
    const { workflowId } = await promoting('cancel-rollback', { delayMs: 3_000, status: 404 });
    await h.service.cancel(workflowId);
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'cancelled', result.reason);
    assert.equal(result.status.promotion?.verified, false, JSON.stringify(result.status.promotion));
    assert.equal(result.status.promotion?.rolledBack, true);
    assert.deepEqual(await deploymentTarget('cancel-rollback'), PREVIOUS);
  });

  it('a cancel while awaiting approval: nothing promoted, the run ends cancelled, the finished job left as it is', async () => {
    await h.arkor.createDeployment({ slug: 'cancel-approval', target: PREVIOUS, authMode: 'none' });
    const { workflowId } = await h.service.start(
      trainingInput({
        trainer: { name: 'cancel-approval', maxSteps: 20, saveSteps: 10 },
        approval: { timeout: '1h' },
        promotion: { deployment: 'cancel-approval' },
      }),
    );
    await cancelledBeforePromotion(workflowId, 'awaiting-approval', 'cancel-approval');
  });

  it('a cancel while evaluating: nothing promoted, the run ends cancelled, the finished job left as it is', async () => {
    await h.arkor.createDeployment({ slug: 'cancel-evaluating', target: PREVIOUS, authMode: 'none' });
    // The final smoke test's chats are slow: the run is evaluating for seconds.
    h.emulator.addRouteFault({ method: 'POST', path: '/v1/inference/chat', delayMs: 1_500 });
    try {
      const { workflowId } = await h.service.start(
        trainingInput({
          trainer: { name: 'cancel-evaluating', maxSteps: 20, saveSteps: 20 },
          smokeTest: {
            prompts: [{ name: 'hello', messages: [{ role: 'user', content: 'hello' }], expect: { contains: 'hello' } }],
          },
          promotion: { deployment: 'cancel-evaluating' },
        }),
      );
      await cancelledBeforePromotion(workflowId, 'evaluating', 'cancel-evaluating');
    } finally {
      h.emulator.clearFaults();
    }
  });

  it('a stop while promoting is moot: the promotion finishes and the run completes', async () => {
    const { workflowId, newTarget } = await promoting('stop-promoting', { delayMs: 3_000 });
    assert.deepEqual(await h.service.stop(workflowId, 'too late'), { effect: 'moot', phase: 'promoting' });
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed', result.reason);
    assert.equal(result.status.promotion?.verified, true);
    assert.equal(result.status.stop, undefined);
    assert.deepEqual(await deploymentTarget('stop-promoting'), newTarget);
  });
});
