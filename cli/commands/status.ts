/** `status`: the run's live status query, as text or raw JSON. */
import type { CommandContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { formatStatus } from '../status-view.js';

export async function runStatus(ctx: CommandContext, workflowId: string, json: boolean): Promise<ExitCode> {
  const status = await ctx.service.status(workflowId);
  ctx.io.stdout(json ? `${JSON.stringify(status)}\n` : formatStatus(status));
  return ExitCode.Ok;
}
