/**
 * Tells "no worker" apart from "the run is slow": a run's status is answered, and its work done,
 * only by a worker polling its task queue. Without one a status query waits for the server's
 * query timeout (about 30 s) and a run never moves, so the CLI asks the server which pollers it
 * has seen on the queue and says at once what to start.
 */
import { recentPollers, type PollerInfo } from '../service/workers.js';

/** What the commands need to know about workers; absent for test fakes (no checks then). */
export interface WorkerProbe {
  /** The task queue of the run's workflow tasks, and whether it is open (throws `WorkflowNotFoundError`). */
  describeRun(workflowId: string): Promise<{ taskQueue: string; running: boolean }>;
  /** The pollers the server has seen on the workflow tasks of `taskQueue`. */
  pollers(taskQueue: string): Promise<PollerInfo[]>;
}

/** How long `status` (and each poll of `watch`) waits for a worker's answer when pollers were seen. */
export const STATUS_QUERY_TIMEOUT_MS = 4000;

/** How to start a worker for `taskQueue`, for messages. */
export function startWorkerHint(taskQueue: string): string {
  return `start one with \`npx arkor-temporal worker --task-queue ${taskQueue}\` (or \`TEMPORAL_TASK_QUEUE=${taskQueue} npm run worker\`)`;
}

/** The sentence for a task queue without workers. */
export function noWorkerMessage(taskQueue: string): string {
  return `no worker is polling task queue ${taskQueue}; ${startWorkerHint(taskQueue)}`;
}

/**
 * A message when no worker has polled `taskQueue` recently, else undefined. A failure to ask
 * (an older server, a permission) is not evidence of anything: undefined too.
 */
export async function missingWorker(probe: WorkerProbe, taskQueue: string): Promise<string | undefined> {
  let pollers: PollerInfo[];
  try {
    pollers = await probe.pollers(taskQueue);
  } catch {
    return undefined;
  }
  return recentPollers(pollers).length === 0 ? noWorkerMessage(taskQueue) : undefined;
}

/**
 * `missingWorker` for a run: its own task queue (which may differ from the CLI's). A closed run
 * needs no worker to be followed (its result is in its history): undefined.
 */
export async function missingWorkerForRun(probe: WorkerProbe, workflowId: string): Promise<string | undefined> {
  const run = await probe.describeRun(workflowId);
  return run.running ? missingWorker(probe, run.taskQueue) : undefined;
}
