/**
 * Follows a run until it ends: polls the status query (default every 500 ms) into a progress
 * renderer while waiting for the workflow's result, and returns how the run ended.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { performance } from 'node:perf_hooks';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { RunResult } from '../contract/result.js';
import type { RunService } from './context.js';
import type { ProgressRenderer, TextSink } from './progress-renderer.js';
import { oneLine } from './format.js';
import { errorMessage } from '../contract/errors.js';

/** Default interval between status polls. */
export const WATCH_POLL_INTERVAL_MS = 500;

export interface WatchOptions {
  /** Default 500 ms. */
  intervalMs?: number;
  /** Where a status query that fails (and is retried) is reported, once per distinct message. */
  diagnostics?: TextSink;
  /**
   * Asked before the first status query and after each failed one: a message when no worker polls
   * the run's task queue (no query is sent then; the watch waits for a worker). See worker-check.ts.
   */
  missingWorker?: () => Promise<string | undefined>;
  /** A deadline for each status query (default: the server's, about 30 s). */
  statusTimeoutMs?: number;
}

/** The worker check's message; a check that cannot be made (other than for a missing run) says nothing. */
async function askMissingWorker(options: WatchOptions): Promise<string | undefined> {
  try {
    return await options.missingWorker?.();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw error;
    return undefined;
  }
}

export async function watchRun(
  service: Pick<RunService, 'status' | 'outcome'>,
  workflowId: string,
  renderer: ProgressRenderer,
  options: WatchOptions = {},
): Promise<RunResult> {
  const intervalMs = options.intervalMs ?? WATCH_POLL_INTERVAL_MS;
  let ended = false;
  const outcome = service.outcome(workflowId);
  // Settles the loop as soon as the run ends; the result (or error) is read from `outcome` below.
  const settled = outcome.then(
    () => void (ended = true),
    () => void (ended = true),
  );
  let lastProblem: string | undefined;
  const report = (problem: string): void => {
    if (problem !== lastProblem) options.diagnostics?.(problem);
    lastProblem = problem;
  };
  let checkWorker = options.missingWorker !== undefined;
  const queryOptions = options.statusTimeoutMs === undefined ? {} : { timeoutMs: options.statusTimeoutMs };
  try {
    while (!ended) {
      const missing = checkWorker ? await askMissingWorker(options) : undefined;
      if (missing !== undefined) {
        report(`${missing}; waiting for one (the run goes on once a worker polls)\n`);
      } else {
        checkWorker = false;
        try {
          renderer.update(await service.status(workflowId, queryOptions), performance.now());
          lastProblem = undefined;
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) throw error;
          // A query can fail while no worker is polling or before the first workflow task:
          // report it once and keep waiting, the run itself may be fine.
          report(`status query failed, retrying: ${oneLine(errorMessage(error))}\n`);
          checkWorker = options.missingWorker !== undefined;
        }
      }
      if (ended) break;
      const timer = new AbortController();
      await Promise.race([sleep(intervalMs, undefined, { signal: timer.signal }).catch(() => undefined), settled]);
      timer.abort();
    }
    const result = await outcome;
    // The final status (from the result) so the last line shows where the run ended.
    renderer.update(result.status, performance.now());
    return result;
  } finally {
    renderer.finish();
  }
}
