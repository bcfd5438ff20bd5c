/** `stop`: asks the run to stop early and prints what that did. */
import { StopEffect, type StopAnswer } from '../../contract/messages.js';
import type { CommandContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';

const EFFECTS: Record<StopAnswer['effect'], string> = {
  [StopEffect.Stopping]: 'stopping: the backend job is being cancelled',
  [StopEffect.AlreadyStopping]: 'already stopping',
  [StopEffect.SkipsPromotion]: 'training is over; the run will not promote',
  [StopEffect.Moot]: 'too late to change anything: the run finishes as it is',
};

export async function runStop(ctx: CommandContext, workflowId: string, reason: string): Promise<ExitCode> {
  const answer = await ctx.service.stop(workflowId, reason);
  ctx.io.stdout(`stop requested for run ${workflowId}: ${reason}\n${EFFECTS[answer.effect]} (phase ${answer.phase})\n`);
  return ExitCode.Ok;
}
