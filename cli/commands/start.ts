/** `start`: starts (or attaches to) a run from a validated config, optionally following it. */
import type { TrainingRunInput } from '../../contract/input.js';
import type { CommandContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { exitCodeForOutcome } from '../outcome-view.js';
import { followRun, printResult } from './follow.js';

export interface StartCommand {
  workflowId?: string;
  watch: boolean;
  wait: boolean;
  json: boolean;
}

/** `input` was validated by the caller before connecting, so a bad config never reaches Temporal. */
export async function runStart(ctx: CommandContext, input: TrainingRunInput, command: StartCommand): Promise<ExitCode> {
  const { io } = ctx;
  const started = await ctx.service.start(
    input,
    command.workflowId === undefined ? {} : { workflowId: command.workflowId },
  );
  const following = command.watch || command.wait;
  const message = started.attached
    ? `attached to existing run ${started.workflowId} (no new run started)\n`
    : `started run ${started.workflowId}\n`;
  if (command.json && !following) {
    io.stdout(`${JSON.stringify({ workflowId: started.workflowId, attached: started.attached })}\n`);
    return ExitCode.Ok;
  }
  // With --json the result is the only thing on stdout, so the start message goes to stderr.
  (command.json ? io.stderr : io.stdout)(message);
  if (command.watch) return followRun(ctx, started.workflowId, { json: command.json });
  if (command.wait) {
    const result = await ctx.service.outcome(started.workflowId);
    printResult(ctx, result, command.json);
    return exitCodeForOutcome(result);
  }
  return ExitCode.Ok;
}
