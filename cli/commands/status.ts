/** `status`: the run's live status query, as text or raw JSON. */
import { isGrpcServiceError } from '@temporalio/client';
import type { RunStatus } from '../../contract/status.js';
import type { CommandContext } from '../context.js';
import { NoWorkerError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { formatStatus } from '../status-view.js';
import { missingWorker, startWorkerHint, STATUS_QUERY_TIMEOUT_MS } from '../worker-check.js';

export async function runStatus(ctx: CommandContext, workflowId: string, json: boolean): Promise<ExitCode> {
  const status = await readStatus(ctx, workflowId);
  ctx.io.stdout(json ? `${JSON.stringify(status)}\n` : formatStatus(status, { webUi: ctx.runUrl(workflowId) }));
  return ExitCode.Ok;
}

/**
 * A closed run's recorded status (no worker needed); else the status query, failing at once with
 * `NoWorkerError` when no worker polls the run's task queue, and after `STATUS_QUERY_TIMEOUT_MS`
 * when the workers seen lately do not answer.
 */
async function readStatus(ctx: CommandContext, workflowId: string): Promise<RunStatus> {
  const { workers } = ctx;
  if (!workers) return ctx.service.status(workflowId);
  const recorded = await ctx.service.recordedStatus(workflowId);
  if (recorded) return recorded;
  const { taskQueue } = await workers.describeRun(workflowId);
  const missing = await missingWorker(workers, taskQueue);
  if (missing !== undefined) throw new NoWorkerError(`cannot read the status of run ${workflowId}: ${missing}`);
  try {
    return await ctx.service.status(workflowId, { timeoutMs: STATUS_QUERY_TIMEOUT_MS });
  } catch (error) {
    if (!isDeadlineExceeded(error)) throw error;
    throw new NoWorkerError(
      `no worker answered the status query of run ${workflowId} within ${STATUS_QUERY_TIMEOUT_MS / 1000} s ` +
        `(a worker polled task queue ${taskQueue} lately and may have stopped, or is overloaded); ${startWorkerHint(taskQueue)}`,
    );
  }
}

/** gRPC DEADLINE_EXCEEDED, on the error or (as the client wraps query failures) on its cause. */
function isDeadlineExceeded(error: unknown): boolean {
  const DEADLINE_EXCEEDED = 4;
  const cause = error instanceof Error ? error.cause : undefined;
  return [error, cause].some(
    (candidate) => isGrpcServiceError(candidate) && Number(candidate.code) === DEADLINE_EXCEEDED,
  );
}
