/**
 * The wait activity holds a worker slot for the whole run, so it has a task queue of its own:
 * a worker polls it with its own concurrency limit, and callbacks (on the main queue) never
 * starve behind open streams.
 */
export function streamTaskQueue(taskQueue: string): string {
  return `${taskQueue}-streams`;
}

/** The task queue used when TEMPORAL_TASK_QUEUE is not set. */
export const DEFAULT_TASK_QUEUE = 'arkor-training';
