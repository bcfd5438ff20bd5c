/**
 * Cancel: ends the backend job. Every way a run stops early (a rule, a directive, the stop
 * signal, cancelling the workflow) ends here, and the workflow retries it until the backend
 * confirms: a GPU job left running is the costliest failure this project can have.
 */
import { log } from '@temporalio/activity';
import { CloudApiError } from '../arkor/index.js';
import type { JobStatus } from '../arkor/index.js';
import type { ActivityDeps } from './deps.js';

export interface CancelJobInput {
  jobId: string;
  reason: string;
}

export interface CancelJobResult {
  /** `cancelled`: this request cancelled it; `already-terminal`: it had ended on its own. */
  outcome: 'cancelled' | 'already-terminal';
  status: JobStatus;
}

export function createCancelActivities(deps: ActivityDeps) {
  return {
    async cancelJob(input: CancelJobInput): Promise<CancelJobResult> {
      try {
        await deps.arkor.cancelJob(input.jobId);
        log.info('Backend job cancelled', { jobId: input.jobId, reason: input.reason });
        return { outcome: 'cancelled', status: 'cancelled' };
      } catch (error) {
        // 409 means the job is terminal already; confirm by reading it rather than trusting the
        // message, since any other conflict must be retried.
        if (error instanceof CloudApiError && error.status === 409) {
          const { job } = await deps.arkor.getJob(input.jobId);
          if (job.status !== 'queued' && job.status !== 'running') {
            return { outcome: 'already-terminal', status: job.status };
          }
        }
        throw error;
      }
    },
  };
}
