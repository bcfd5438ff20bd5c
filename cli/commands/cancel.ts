/** `cancel`: cancels the workflow; it cancels the backend job and ends `cancelled`. */
import type { CommandContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';

export async function runCancel(ctx: CommandContext, workflowId: string): Promise<ExitCode> {
  await ctx.service.cancel(workflowId);
  ctx.io.stdout(`cancellation requested for run ${workflowId}\n`);
  return ExitCode.Ok;
}
