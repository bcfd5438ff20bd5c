/** `approve` / `reject`: decides the promotion of a run that waits for approval. */
import type { ApprovalDecision } from '../../contract/messages.js';
import type { CommandContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';

export async function runDecide(
  ctx: CommandContext,
  workflowId: string,
  decision: ApprovalDecision,
): Promise<ExitCode> {
  const approval = await ctx.service.decide(workflowId, decision);
  ctx.io.stdout(`run ${workflowId}: promotion ${approval.state}${approval.reason ? ` (${approval.reason})` : ''}\n`);
  return ExitCode.Ok;
}
