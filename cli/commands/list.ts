/** `list`: recent training runs from visibility, with best score and promotion when a worker answers. */
import type { RunSummary } from '../../service/runs.js';
import type { PromotionInfo } from '../../contract/status.js';
import type { CommandContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { formatMetric } from '../format.js';
import type { ListCommand } from '../schedule-args.js';
import { table } from './schedule.js';

export async function runList(ctx: CommandContext, command: ListCommand): Promise<ExitCode> {
  if (!ctx.listRuns) throw new Error('listing runs is not available with this connection');
  const runs = await ctx.listRuns(
    {
      ...(command.phase ? { phase: command.phase } : {}),
      ...(command.model ? { model: command.model } : {}),
      ...(command.schedule ? { schedule: command.schedule } : {}),
      limit: command.limit,
    },
    { withStatus: true },
  );
  ctx.io.stdout(command.json ? `${JSON.stringify(runs)}\n` : formatRunList(runs));
  return ExitCode.Ok;
}

/** The run table: workflow id, phase, job id, model, best score, promotion. */
export function formatRunList(runs: readonly RunSummary[]): string {
  if (runs.length === 0) return 'no runs\n';
  return table(
    ['WORKFLOW ID', 'PHASE', 'JOB', 'MODEL', 'BEST SCORE', 'PROMOTION'],
    runs.map((run) => [
      run.workflowId,
      run.phase ?? run.status.toLowerCase(),
      run.jobId ?? '–',
      run.model ?? '–',
      run.bestScore === undefined ? '–' : formatMetric(run.bestScore),
      formatPromotion(run.promotion),
    ]),
  );
}

/** One word or phrase for a promotion: promoted, rolled back, skipped (why), failed. */
export function formatPromotion(promotion: PromotionInfo | undefined): string {
  if (promotion === undefined) return '–';
  if (promotion.skipped) return `skipped: ${promotion.skipped}`;
  if (promotion.rolledBack) return `rolled back${promotion.error ? `: ${promotion.error}` : ''}`;
  if (promotion.error) return `failed: ${promotion.error}`;
  if (promotion.after) return `${promotion.changed === false ? 'already on' : 'promoted to'} ${promotion.deployment}`;
  return `pending (${promotion.deployment})`;
}
