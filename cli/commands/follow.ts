/**
 * Shared by `watch` and `start --watch`: renders progress until the run ends and prints the
 * outcome, as text, as one JSON object on stdout with progress on stderr (`start --watch --json`),
 * or as JSON lines ending with an `outcome` line (`watch --json`).
 */
import type { RunResult } from '../../contract/result.js';
import type { CommandContext } from '../context.js';
import { createJsonLinesRenderer, createProgressRenderer, type WatchJsonLine } from '../progress-renderer.js';
import { watchRun, type WatchOptions } from '../watch-run.js';
import { exitCodeForOutcome, formatOutcome } from '../outcome-view.js';
import type { ExitCode } from '../exit-codes.js';
import { missingWorkerForRun, STATUS_QUERY_TIMEOUT_MS } from '../worker-check.js';

export interface FollowOptions extends Pick<WatchOptions, 'intervalMs'> {
  /** Keep stdout for the result JSON; progress and the summary go to stderr. */
  json: boolean;
  /** Progress as JSON lines on stdout, the last one the outcome (`watch --json`). */
  jsonLines?: boolean;
}

export async function followRun(ctx: CommandContext, workflowId: string, options: FollowOptions): Promise<ExitCode> {
  const { io, workers } = ctx;
  const write = options.json ? io.stderr : io.stdout;
  const tty = options.json ? io.stderrIsTty : io.stdoutIsTty;
  const renderer = options.jsonLines
    ? createJsonLinesRenderer(io.stdout)
    : createProgressRenderer(write, { tty, ...(io.columns === undefined ? {} : { columns: io.columns }) });
  const result = await watchRun(ctx.service, workflowId, renderer, {
    diagnostics: io.stderr,
    ...(workers
      ? { missingWorker: () => missingWorkerForRun(workers, workflowId), statusTimeoutMs: STATUS_QUERY_TIMEOUT_MS }
      : {}),
    ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
  });
  if (options.jsonLines) {
    const line: WatchJsonLine = {
      type: 'outcome',
      workflowId: result.workflowId,
      time: new Date().toISOString(),
      outcome: result.outcome,
      result,
    };
    io.stdout(`${JSON.stringify(line)}\n`);
  } else {
    printResult(ctx, result, options.json);
  }
  return exitCodeForOutcome(result);
}

/** Prints a finished run: one JSON object on stdout, or the human summary. */
export function printResult(ctx: CommandContext, result: RunResult, json: boolean): void {
  if (json) ctx.io.stdout(`${JSON.stringify(result)}\n`);
  else ctx.io.stdout(formatOutcome(result));
}
