/** `stop`: asks the run to stop early; the workflow cancels the backend job and ends `stopped`. */
import type { CommandContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';

export async function runStop(ctx: CommandContext, workflowId: string, reason: string): Promise<ExitCode> {
  await ctx.service.stop(workflowId, reason);
  ctx.io.stdout(`stop requested for run ${workflowId}: ${reason}\n`);
  return ExitCode.Ok;
}
