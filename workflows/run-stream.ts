/**
 * The wait activity of a run — one long-running activity, on the stream task queue, that follows
 * the job's events and delivers them to the run — as the main loop sees it.
 */
import { CancellationScope, proxyActivities } from '@temporalio/workflow';
import type { FollowJobInput, StreamActivities, StreamOutcome } from '../contract/activities.js';
import type { ValidTrainingRunInput } from '../contract/input.js';
import { streamTaskQueue } from '../contract/task-queues.js';
import { streamActivityOptions } from './activity-options.js';

export interface RunningStream {
  settled(): boolean;
  outcome(): StreamOutcome | undefined;
  error(): unknown;
  /** Cancels the activity and waits until it acknowledged (no delivery of it is still on its way). */
  stop(): Promise<void>;
}

/** Starts wait activities for a run whose workflow task queue is `taskQueue`. */
export function streamStarter(
  input: ValidTrainingRunInput,
  taskQueue: string,
): (args: FollowJobInput, onOutcome: () => void) => RunningStream {
  const { followJob } = proxyActivities<StreamActivities>(streamActivityOptions(input, streamTaskQueue(taskQueue)));
  return (args, onOutcome) => {
    const scope = new CancellationScope();
    let settled: { outcome?: StreamOutcome; error?: unknown } | undefined;
    const done = scope
      .run(() =>
        followJob.executeWithOptions(
          { summary: `follow job ${args.jobId}${args.cursor === undefined ? '' : ` from event ${args.cursor}`}` },
          [args],
        ),
      )
      .then(
        (outcome) => {
          settled = { outcome };
          onOutcome();
        },
        (error: unknown) => void (settled = { error }),
      );
    return {
      settled: () => settled !== undefined,
      outcome: () => settled?.outcome,
      error: () => settled?.error,
      stop: async () => {
        scope.cancel();
        await done;
      },
    };
  };
}
