/** The human-readable summary of how a run ended. */
import { RunOutcome, type RunResult } from '../contract/result.js';
import { ExitCode } from './exit-codes.js';
import { formatBest, formatSteps, oneLine } from './format.js';

/**
 * Exit code for a finished run: 0 when it completed, was stopped or was skipped (nothing new to
 * train on), 1 when it failed or was cancelled.
 */
export function exitCodeForOutcome(result: RunResult): ExitCode {
  return result.outcome === RunOutcome.Completed ||
    result.outcome === RunOutcome.Stopped ||
    result.outcome === RunOutcome.Skipped
    ? ExitCode.Ok
    : ExitCode.Failure;
}

/**
 * For example `run train-x completed (job j_1) at step 60/60, best loss 0.41 @ step 58, 3 artifacts`,
 * or `run train-x stopped (signal) at step 12/2000: enough`. Ends with a newline.
 */
export function formatOutcome(result: RunResult): string {
  const { status } = result;
  const cause = result.outcome === RunOutcome.Stopped && result.stop ? ` (${result.stop.cause})` : '';
  let line = `run ${result.workflowId} ${result.outcome}${cause}`;
  if (result.jobId) line += ` (job ${result.jobId})`;
  line += ` at step ${formatSteps(status.step, status.maxSteps)}, best loss ${formatBest(status.bestLoss)}`;
  if (result.outcome === RunOutcome.Completed)
    line += `, ${result.artifacts.length} artifact${result.artifacts.length === 1 ? '' : 's'}`;
  if (result.reason) line += `: ${oneLine(result.reason)}`;
  const lines = [line];
  if (status.finalScore) {
    const base = status.baseScore === undefined ? '' : ` (base model ${status.baseScore.toFixed(3)})`;
    lines.push(`  final score ${status.finalScore.score.toFixed(3)}${base}`);
  }
  if (status.gate) lines.push(`  gate ${status.gate.passed ? 'passed' : 'failed'}: ${oneLine(status.gate.reason)}`);
  if (status.approval)
    lines.push(`  approval ${status.approval.state}${status.approval.by ? ` by ${status.approval.by}` : ''}`);
  const promotion = status.promotion;
  if (promotion) {
    lines.push(
      promotion.skipped
        ? `  not promoted to ${promotion.deployment}: ${oneLine(promotion.skipped)}`
        : promotion.verified
          ? `  promoted to ${promotion.deployment}${promotion.created ? ' (created)' : ''}${promotion.keyId ? `, key ${promotion.keyId}` : ''}`
          : `  promotion to ${promotion.deployment} failed${promotion.rolledBack ? ', rolled back' : ''}: ${oneLine(promotion.error ?? 'unknown')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}
