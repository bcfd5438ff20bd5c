/** `start`: starts (or attaches to) a run from a validated config, optionally following it. */
import type { TrainingRunInput } from '../../contract/input.js';
import type { CommandContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { exitCodeForOutcome } from '../outcome-view.js';
import { missingWorkerForRun } from '../worker-check.js';
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
  const url = ctx.runUrl(started.workflowId);
  if (command.json && !following) {
    io.stdout(
      `${JSON.stringify({ workflowId: started.workflowId, attached: started.attached, ...(url ? { webUrl: url } : {}) })}\n`,
    );
  } else {
    const message = started.attached
      ? `attached to existing run ${started.workflowId} (no new run started)\n`
      : `started run ${started.workflowId}\n`;
    // With --json the result is the only thing on stdout, so the start message goes to stderr.
    (command.json ? io.stderr : io.stdout)(`${message}${url ? `Temporal Web UI: ${url}\n` : ''}`);
  }
  if (command.watch) return followRun(ctx, started.workflowId, { json: command.json });
  // The run waits for a worker without a word; say so at once (`--watch` says so while watching).
  const missing =
    ctx.workers && !started.attached
      ? await missingWorkerForRun(ctx.workers, started.workflowId).catch(() => undefined)
      : undefined;
  if (missing !== undefined)
    io.stderr(`warning: ${missing}; the run ${command.wait ? 'waits' : 'will wait'} until one does\n`);
  if (command.wait) {
    const result = await ctx.service.outcome(started.workflowId);
    printResult(ctx, result, command.json);
    return exitCodeForOutcome(result);
  }
  return ExitCode.Ok;
}
