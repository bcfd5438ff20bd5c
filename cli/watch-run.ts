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
  try {
    while (!ended) {
      try {
        renderer.update(await service.status(workflowId), performance.now());
        lastProblem = undefined;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) throw error;
        // A query can fail while no worker is polling or before the first workflow task:
        // report it once and keep waiting, the run itself may be fine.
        const problem = `status query failed, retrying: ${oneLine(errorMessage(error))}\n`;
        if (problem !== lastProblem) options.diagnostics?.(problem);
        lastProblem = problem;
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
