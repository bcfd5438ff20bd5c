/**
 * What happens around checkpoints and after training completes: smoke tests, the quality gate,
 * optional human approval, and promotion to an Arkor deployment with verification and rollback.
 *
 * Promotion is a sequence of idempotent activities (read, re-target, verify, roll back, key), so a
 * worker that dies in the middle neither promotes twice nor leaves a half-promotion: the
 * re-target compares before it writes, and the target to roll back to is recorded in the
 * workflow before anything changes. Nor does a workflow cancel: the promotion runs to its end
 * (verified, or rolled back) before the cancellation is honoured.
 */
import {
  type ActivityInterfaceFor,
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { MainActivities } from '../contract/activities.js';
import { durationToMs } from '../contract/duration.js';
import {
  describeSmokeTarget,
  type DeploymentTargetRef,
  type SmokeScore,
  type SmokeTarget,
} from '../contract/evaluation.js';
import { deploymentActivityOptions, smokeTestActivityOptions } from './activity-options.js';
import { promotionScope, type GoldenPrompt, type ValidTrainingRunInput } from '../contract/input.js';
import { failureMessage } from '../contract/result.js';
import { ArkorPromotedScope } from '../contract/search-attributes.js';
import type { ApprovalDecision } from '../contract/messages.js';
import { evaluateCheckpoint } from './rules.js';
import {
  recordCheckpointScore,
  recordCallbackError,
  RunPhase,
  type ApprovalInfo,
  type PromotionInfo,
  type RunStatus,
  type StopInfo,
} from '../contract/status.js';

const DEFAULT_VERIFY_PROMPT: GoldenPrompt = {
  name: 'verify',
  messages: [{ role: 'user', content: 'Say hello' }],
  expect: { scorer: 'nonEmpty' },
  weight: 1,
};

/** Access to the run's state, owned by the workflow. */
export interface RunStateAccess {
  status(): RunStatus;
  update(change: (status: RunStatus) => RunStatus): void;
  setPhase(phase: RunStatus['phase']): void;
  /** A stop that evaluation honours: it skips the promotion. */
  stopRequested(): StopInfo | undefined;
}

export class EvaluationFlow {
  private readonly smokeTest: ActivityInterfaceFor<MainActivities>['smokeTest'];
  private readonly deploymentActivities: ActivityInterfaceFor<MainActivities>;
  private approvalDecision: ApprovalDecision | undefined;

  constructor(
    private readonly input: ValidTrainingRunInput,
    private readonly state: RunStateAccess,
  ) {
    this.deploymentActivities = proxyActivities<MainActivities>(deploymentActivityOptions(input));
    this.smokeTest = proxyActivities<MainActivities>(smokeTestActivityOptions(input)).smokeTest;
  }

  /**
   * Scores a checkpoint (and, once per run, the base model for comparison); returns why the run
   * must stop, if the checkpoint rules say so.
   */
  async scoreCheckpoint(jobId: string, step: number): Promise<string | undefined> {
    const smoke = this.input.smokeTest;
    if (!smoke) return undefined;
    if (this.state.status().baseScore === undefined) {
      const base = await this.score({ kind: 'base', model: this.input.trainer.model });
      if (base) this.state.update((status) => ({ ...status, baseScore: base.score }));
    }
    const result = await this.score({ kind: 'checkpoint', jobId, step });
    if (!result) return undefined;
    const bestBefore = this.state.status().bestCheckpoint;
    this.state.update((status) => recordCheckpointScore(status, step, result.score));
    return evaluateCheckpoint(smoke, step, result.score, bestBefore);
  }

  /** Final smoke test, gate, approval and promotion, each as the input asks. */
  async finish(jobId: string): Promise<void> {
    const { smokeTest: smoke, gate, promotion } = this.input;
    if (!smoke && !promotion) return;
    this.state.setPhase(RunPhase.Evaluating);
    let final: SmokeScore | undefined;
    if (smoke) {
      final = await this.score({ kind: 'final', jobId });
      if (final) this.state.update((status) => ({ ...status, finalScore: final }));
    }
    if (this.skippedByStop()) return;
    if (gate) {
      const decision = await this.decideGate(final);
      this.state.update((status) => ({ ...status, gate: decision }));
      if (!decision.passed) {
        this.skipPromotion(`gate failed: ${decision.reason}`);
        return;
      }
    }
    if (!promotion) return;
    if (this.input.approval && !(await this.awaitApproval())) return;
    if (this.skippedByStop()) return;
    try {
      await this.promoteWhole(jobId);
    } catch (error) {
      if (!isCancellation(error)) {
        const message = failureMessage(error);
        this.state.update((status) => ({
          ...status,
          promotion: { ...status.promotion, deployment: promotion.deployment, error: message },
        }));
      }
      throw error;
    }
  }

  /** Validator of the approval update: only a waiting run, only once. */
  validateApproval(): void {
    const approval = this.state.status().approval;
    if (!this.input.approval) throw new Error('this run does not ask for approval');
    if (approval?.state !== 'waiting') {
      throw new Error(
        approval ? `the promotion is already ${approval.state}` : 'the run is not waiting for approval yet',
      );
    }
  }

  decideApproval(decision: ApprovalDecision): ApprovalInfo {
    this.approvalDecision = decision;
    const approval: ApprovalInfo = {
      state: decision.approved ? 'approved' : 'rejected',
      ...(decision.by ? { by: decision.by } : {}),
      ...(decision.reason ? { reason: decision.reason } : {}),
      at: new Date().toISOString(),
    };
    this.state.update((status) => ({ ...status, approval }));
    return approval;
  }

  private async score(target: SmokeTarget): Promise<SmokeScore | undefined> {
    const prompts = this.input.smokeTest?.prompts;
    if (!prompts) return undefined;
    try {
      return await this.smokeTest.executeWithOptions({ summary: `smokeTest ${smokeSummary(target)}` }, [
        { target, prompts },
      ]);
    } catch (error) {
      if (isCancellation(error)) throw error;
      // A smoke test that cannot run leaves that target unscored; the gate then fails closed.
      const message = `smoke test of ${describeSmokeTarget(target)} failed: ${failureMessage(error)}`;
      log.warn(message);
      this.state.update((status) => recordCallbackError(status, { callback: 'smokeTest', eventIds: [], message }));
      return undefined;
    }
  }

  private async decideGate(final: SmokeScore | undefined): Promise<NonNullable<RunStatus['gate']>> {
    const gate = this.input.gate;
    if (!gate) return { passed: true, reason: 'no gate' };
    if (!final) return { passed: false, reason: 'the final adapter could not be scored' };
    if (final.score < gate.minScore) {
      return {
        passed: false,
        reason: `score ${final.score.toFixed(3)} is below the minimum ${gate.minScore}`,
        score: final.score,
      };
    }
    const slug = this.input.promotion?.deployment;
    if (gate.mustBeatDeployed && slug) {
      const current = await this.deploymentActivities.readDeployment.executeWithOptions(
        { summary: `read deployment ${slug}` },
        [slug],
      );
      if (current) {
        const deployed = await this.score({ kind: 'deployment', slug });
        if (!deployed)
          return { passed: false, reason: `the deployment ${slug} could not be scored`, score: final.score };
        if (final.score <= deployed.score) {
          return {
            passed: false,
            reason: `score ${final.score.toFixed(3)} does not beat the deployed adapter's ${deployed.score.toFixed(3)}`,
            score: final.score,
            deployedScore: deployed.score,
          };
        }
        return {
          passed: true,
          reason: `score ${final.score.toFixed(3)} beats the deployed adapter's ${deployed.score.toFixed(3)}`,
          score: final.score,
          deployedScore: deployed.score,
        };
      }
    }
    return {
      passed: true,
      reason: `score ${final.score.toFixed(3)} reaches the minimum ${gate.minScore}`,
      score: final.score,
    };
  }

  private async awaitApproval(): Promise<boolean> {
    const timeout = this.input.approval?.timeout;
    if (timeout === undefined) return true;
    this.state.setPhase(RunPhase.AwaitingApproval);
    this.state.update((status) => ({ ...status, approval: { state: 'waiting' } }));
    const decided = await condition(
      () => this.approvalDecision !== undefined || this.state.stopRequested() !== undefined,
      durationToMs(timeout),
    );
    // A stop while waiting is a rejection.
    if (this.approvalDecision === undefined && this.skippedByStop()) return false;
    if (!decided) {
      this.state.update((status) => ({ ...status, approval: { state: 'timed-out', at: new Date().toISOString() } }));
      this.skipPromotion(`no approval within ${timeout}`);
      return false;
    }
    if (!this.approvalDecision?.approved) {
      this.skipPromotion(`rejected${this.approvalDecision?.reason ? `: ${this.approvalDecision.reason}` : ''}`);
      return false;
    }
    return true;
  }

  /** True (and the promotion skipped) when a stop is pending. */
  private skippedByStop(): boolean {
    const stop = this.state.stopRequested();
    if (!stop) return false;
    this.skipPromotion(`stopped: ${stop.reason}`);
    return true;
  }

  private skipPromotion(reason: string): void {
    const slug = this.input.promotion?.deployment;
    if (slug) this.state.update((status) => ({ ...status, promotion: { deployment: slug, skipped: reason } }));
  }

  /**
   * The promotion, shielded from a workflow cancel: cancelled half-way (re-targeted, not yet
   * verified), the deployment would serve an adapter nobody verified, with nothing left to roll it
   * back. The cancellation is honoured once the deployment is settled. (A stop is moot by then:
   * `StopControl.request`.) Runs started before this gate keep their recorded behaviour; the
   * marker is written only by runs that promote.
   */
  private async promoteWhole(jobId: string): Promise<void> {
    if (!patched('promotion-survives-cancel')) return this.promote(jobId);
    await CancellationScope.nonCancellable(() => this.promote(jobId));
    if (CancellationScope.current().consideredCancelled) throw new CancelledFailure('Workflow cancelled');
  }

  private async promote(jobId: string): Promise<void> {
    const promotion = this.input.promotion;
    if (!promotion) return;
    this.state.setPhase(RunPhase.Promoting);
    const slug = promotion.deployment;
    const record = (change: Partial<PromotionInfo>) =>
      this.state.update((status) => ({ ...status, promotion: { ...status.promotion, deployment: slug, ...change } }));

    const target = this.promotionTarget(jobId);
    // The previous target is recorded before anything changes: it is what a rollback restores.
    const current = await this.deploymentActivities.readDeployment.executeWithOptions(
      { summary: `read deployment ${slug}` },
      [slug],
    );
    const previous = current?.target ?? null;
    record({ before: previous });

    const result = await this.deploymentActivities.retarget.executeWithOptions(
      { summary: `retarget ${slug} → ${targetSummary(target)}` },
      [{ slug, target, ...(promotion.create ? { createWith: { authMode: promotion.authMode } } : {}) }],
    );
    record({ after: target, created: result.created, changed: result.changed || result.created });

    const verification = await this.deploymentActivities.verifyDeployment.executeWithOptions(
      { summary: `verify ${slug} → ${targetSummary(target)}` },
      [{ slug, target, prompt: this.input.smokeTest?.prompts[0] ?? DEFAULT_VERIFY_PROMPT }],
    );
    if (!verification.ok) {
      log.warn('Promotion verification failed', { slug, reason: verification.reason });
      if (previous) {
        await this.deploymentActivities.retarget.executeWithOptions(
          { summary: `roll back ${slug} → ${targetSummary(previous)}` },
          [{ slug, target: previous }],
        );
        record({ verified: false, rolledBack: true, error: verification.reason ?? 'verification failed' });
      } else {
        record({ verified: false, rolledBack: false, error: verification.reason ?? 'verification failed' });
      }
      return;
    }
    record({ verified: true, rolledBack: false });
    // What a later run's precondition compares with: this run is now the last one promoted.
    upsertSearchAttributes([{ key: ArkorPromotedScope, value: promotionScope(this.input) }]);
    if (promotion.createKey) {
      const key = await this.deploymentActivities.createDeploymentKey.executeWithOptions(
        { summary: `create key ${promotion.createKey.label} on ${slug}` },
        [{ deploymentId: result.deployment.deploymentId, slug, label: promotion.createKey.label }],
      );
      record({ keyId: key.keyId });
    }
  }

  private promotionTarget(jobId: string): DeploymentTargetRef {
    const best = this.state.status().bestCheckpoint;
    if (this.input.promotion?.target === 'best-checkpoint' && best) {
      return { kind: 'adapter', adapter: { kind: 'checkpoint', jobId, step: best.step } };
    }
    return { kind: 'adapter', adapter: { kind: 'final', jobId } };
  }
}

/** A smoke test's target as its activity summary says it: `checkpoint 40`, `final`, `base <model>`. */
function smokeSummary(target: SmokeTarget): string {
  switch (target.kind) {
    case 'checkpoint':
      return `checkpoint ${target.step}`;
    case 'final':
      return 'final';
    case 'base':
      return `base ${target.model}`;
    case 'deployment':
      return `deployment ${target.slug}`;
  }
}

/** A deployment target as an activity summary says it: `final`, `checkpoint 40`, `base <model>`. */
function targetSummary(target: DeploymentTargetRef): string {
  if (target.kind === 'base_model') return `base ${target.baseModel}`;
  return target.adapter.kind === 'final' ? 'final' : `checkpoint ${target.adapter.step}`;
}
