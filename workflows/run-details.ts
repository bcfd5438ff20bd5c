/**
 * The run's "current details" in the Temporal Web UI (`setCurrentDetails`): a few lines of
 * Markdown drawn from the status — phase, step, losses and a sparkline, the last checkpoint and
 * its score, the backlog, and whatever holds the run up. Pure, so it is tested without a server.
 */
import { sparkline } from '../contract/sparkline.js';
import { isFinalPhase, type RunStatus } from '../contract/status.js';

/** Points of the loss curve the sparkline shows (the newest). */
const SPARKLINE_POINTS = 40;
/** Longest text taken from a reason or an error. */
const MAX_TEXT = 160;

export function renderRunDetails(status: RunStatus): string {
  const lines = [headline(status)];
  const items: string[] = [];
  if (status.latestLoss !== null) {
    const best = status.bestLoss ? ` · best ${loss(status.bestLoss.value)} at step ${status.bestLoss.step}` : '';
    const evalLoss = status.latestEvalLoss === null ? '' : ` · eval ${loss(status.latestEvalLoss)}`;
    items.push(`loss **${loss(status.latestLoss)}**${best}${evalLoss}`);
  }
  const curve = sparkline(status.lossCurve.slice(-SPARKLINE_POINTS).map(([, value]) => value));
  if (curve) items.push(`\`${curve}\``);
  const checkpoint = status.checkpoints.at(-1);
  if (checkpoint) {
    const score = checkpoint.score === undefined ? '' : ` · score ${checkpoint.score.toFixed(3)}`;
    const best =
      status.bestCheckpoint && status.bestCheckpoint.step !== checkpoint.step
        ? ` · best checkpoint ${status.bestCheckpoint.step} (${status.bestCheckpoint.score.toFixed(3)})`
        : '';
    items.push(`checkpoint ${checkpoint.step}${score}${best}`);
  }
  if (status.finalScore) items.push(`final score ${status.finalScore.score.toFixed(3)}`);
  const backlog = status.backlog;
  if (backlog && (backlog.events > 0 || backlog.pausedSince) && !isFinalPhase(status.phase)) {
    const paused = backlog.pausedSince ? ` · stream paused since ${backlog.pausedSince}` : '';
    items.push(`backlog ${backlog.events} event${backlog.events === 1 ? '' : 's'}${paused}`);
  }
  if (status.blocked) items.push(`blocked since ${status.blocked.since}: ${text(status.blocked.reason)}`);
  if (status.callbackErrors.length > 0) items.push(`callback errors: ${status.callbackErrors.length}`);
  if (status.gate) items.push(`gate ${status.gate.passed ? 'passed' : 'failed'}: ${text(status.gate.reason)}`);
  const promotion = status.promotion;
  if (promotion) items.push(`deployment ${promotion.deployment}: ${promotionState(promotion)}`);
  if (status.stop) items.push(`stop (${status.stop.cause}, step ${status.stop.atStep}): ${text(status.stop.reason)}`);
  if (status.error !== undefined) items.push(`error: ${text(status.error)}`);
  if (items.length > 0) lines.push('', ...items.map((item) => `- ${item}`));
  return lines.join('\n');
}

function headline(status: RunStatus): string {
  const of = status.maxSteps ? `/${status.maxSteps}` : '';
  const percent = status.maxSteps ? ` (${Math.floor((100 * status.step) / status.maxSteps)} %)` : '';
  const run = status.runNumber > 1 ? ` · run ${status.runNumber}` : '';
  return `**${status.phase}** · step ${status.step}${of}${percent}${run}`;
}

function promotionState(promotion: NonNullable<RunStatus['promotion']>): string {
  if (promotion.skipped) return `not promoted (${text(promotion.skipped)})`;
  if (promotion.verified) return 'promoted and verified';
  if (promotion.error) return `failed${promotion.rolledBack ? ', rolled back' : ''}: ${text(promotion.error)}`;
  return promotion.after ? 'promoting' : 'reading';
}

function loss(value: number): string {
  return Number.isFinite(value) ? value.toFixed(4) : String(value);
}

/** One line of at most {@link MAX_TEXT} characters. */
function text(value: string): string {
  const line = value.replace(/\s+/g, ' ').trim();
  return line.length > MAX_TEXT ? `${line.slice(0, MAX_TEXT - 1)}…` : line;
}
