/**
 * Shared by `watch` and `start --watch`: renders progress until the run ends and prints the
 * outcome, as text or (for `--json`) as one JSON object on stdout with progress on stderr.
 */
import type { RunResult } from '../../contract/result.js';
import type { CommandContext } from '../context.js';
import { createProgressRenderer } from '../progress-renderer.js';
import { watchRun, type WatchOptions } from '../watch-run.js';
import { exitCodeForOutcome, formatOutcome } from '../outcome-view.js';
import type { ExitCode } from '../exit-codes.js';

export interface FollowOptions extends Pick<WatchOptions, 'intervalMs'> {
  /** Keep stdout for the result JSON; progress and the summary go to stderr. */
  json: boolean;
}

export async function followRun(ctx: CommandContext, workflowId: string, options: FollowOptions): Promise<ExitCode> {
  const { io } = ctx;
  const write = options.json ? io.stderr : io.stdout;
  const tty = options.json ? io.stderrIsTty : io.stdoutIsTty;
  const renderer = createProgressRenderer(write, { tty, ...(io.columns === undefined ? {} : { columns: io.columns }) });
  const result = await watchRun(ctx.service, workflowId, renderer, {
    diagnostics: io.stderr,
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
  });
  printResult(ctx, result, options.json);
  return exitCodeForOutcome(result);
}

/** Prints a finished run: one JSON object on stdout, or the human summary. */
export function printResult(ctx: CommandContext, result: RunResult, json: boolean): void {
  if (json) ctx.io.stdout(`${JSON.stringify(result)}\n`);
  else ctx.io.stdout(formatOutcome(result));
}
