/**
 * Cancel: ends the backend job. Every way a run stops early (a rule, a directive, the stop
 * signal, cancelling the workflow) ends here, and the workflow retries it until the backend
 * confirms: a GPU job left running is the costliest failure this project can have.
 *
 * What the backend answers, and what the activity makes of it:
 * - 2xx: `cancelled`.
 * - 409: the job may be terminal; a read decides (`already-terminal`, or retried while active).
 * - 404: the job may be gone (deleted in the Arkor UI), or a replica may not see it yet (right
 *   after submit). Only reads that keep answering 404 over a few seconds make it `gone`; a read
 *   that finds the job sends the cancel round again (retried).
 * - any other status `isRetryableStatus` calls permanent (400, 401, 403, 422, 426…): a
 *   non-retryable `ArkorRejected` failure whose message names the status; retrying would send
 *   the same refused request forever.
 * - transient answers (network, timeouts, 5xx, 429, 408): thrown for the retry policy.
 */
import { log, sleep } from '@temporalio/activity';
import { CloudApiError } from '../arkor/index.js';
import type { JobStatus } from '../arkor/index.js';
import type { ActivityDeps } from './deps.js';
import { rethrowArkorError } from './failures.js';
import type { CancelJobInput, CancelJobResult } from '../contract/activities.js';

export type CancelDeps = Pick<ActivityDeps, 'arkor'> & {
  /**
   * After a 404, the job is read at once and again after each of these delays; only when every
   * read answers 404 is it `gone`. Default 1 s then 2 s: a job a replica has not seen yet (a
   * cancel right after submit) shows up within that, and a cancel wrongly given up leaves a GPU
   * job running.
   */
  goneConfirmDelaysMs?: readonly number[];
};

const DEFAULT_GONE_CONFIRM_DELAYS_MS: readonly number[] = [1_000, 2_000];

function isStatus(error: unknown, status: number): error is CloudApiError {
  return error instanceof CloudApiError && error.status === status;
}

function isActive(status: JobStatus): boolean {
  return status === 'queued' || status === 'running';
}

export function createCancelActivities(deps: CancelDeps) {
  const goneConfirmDelaysMs = deps.goneConfirmDelaysMs ?? DEFAULT_GONE_CONFIRM_DELAYS_MS;

  /** The job's status, or undefined when every read (now and after each delay) answers 404. */
  async function readStatus(jobId: string): Promise<JobStatus | undefined> {
    for (const delayMs of [0, ...goneConfirmDelaysMs]) {
      if (delayMs > 0) await sleep(delayMs);
      try {
        return (await deps.arkor.getJob(jobId)).job.status;
      } catch (error) {
        if (!isStatus(error, 404)) rethrowArkorError(error, `read job ${jobId} after its cancel was refused`);
      }
    }
    return undefined;
  }

  return {
    async cancelJob(input: CancelJobInput): Promise<CancelJobResult> {
      const { jobId } = input;
      try {
        await deps.arkor.cancelJob(jobId);
        log.info('Backend job cancelled', { jobId, reason: input.reason });
        return { outcome: 'cancelled', status: 'cancelled' };
      } catch (error) {
        // Neither 409 nor 404 is trusted on its own: a read decides (a 409 may be another
        // conflict, a 404 a replica that has not seen the job yet).
        if (!isStatus(error, 409) && !isStatus(error, 404)) rethrowArkorError(error, `cancel job ${jobId}`);
        const status = await readStatus(jobId);
        if (status === undefined) {
          log.warn('Backend job no longer exists; nothing to cancel', { jobId, reason: input.reason });
          return { outcome: 'gone' };
        }
        if (!isActive(status)) return { outcome: 'already-terminal', status };
        // Plain Error: retryable, and the message says why the cancel is sent again.
        throw new Error(
          `cancel job ${jobId}: Arkor answered ${error.status}: ${error.message}, yet the job is still ${status}; retrying`,
          { cause: error },
        );
      }
    },
  };
}
