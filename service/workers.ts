/**
 * Whether any worker polls a task queue, from the server's record of recent pollers
 * (DescribeTaskQueue). The server keeps a poller for about five minutes after its last poll, and a
 * live worker polls at least once a minute (a long poll ends after 60 s), so a poller last seen
 * more than `RECENT_POLLER_MS` ago has stopped.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

/** A poller seen this recently may still be polling (a long poll lasts up to 70 s). */
export const RECENT_POLLER_MS = 90_000;

export interface PollerInfo {
  identity: string;
  /** When the poller last polled, as the server recorded it. */
  lastAccessTime?: Date;
}

/** The pollers the server has seen on the workflow tasks of `taskQueue`, most recent first. */
export async function workflowPollers(client: Client, taskQueue: string): Promise<PollerInfo[]> {
  const response = await client.workflowService.describeTaskQueue({
    namespace: client.options.namespace,
    taskQueue: { name: taskQueue, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  return response.pollers
    .map((poller) => {
      const seconds = poller.lastAccessTime?.seconds;
      const nanos = poller.lastAccessTime?.nanos ?? 0;
      return {
        identity: poller.identity ?? '',
        ...(seconds == null ? {} : { lastAccessTime: new Date(Number(seconds) * 1000 + Math.floor(nanos / 1e6)) }),
      };
    })
    .sort((a, b) => (b.lastAccessTime?.getTime() ?? 0) - (a.lastAccessTime?.getTime() ?? 0));
}

/** The pollers that may still be polling at `now` (seen within `RECENT_POLLER_MS`). */
export function recentPollers(pollers: readonly PollerInfo[], now: number = Date.now()): PollerInfo[] {
  return pollers.filter(
    (poller) => poller.lastAccessTime === undefined || now - poller.lastAccessTime.getTime() <= RECENT_POLLER_MS,
  );
}
