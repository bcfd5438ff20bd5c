/**
 * Notifications go out as child workflows that the run abandons: each retries on its own
 * schedule, so a receiver that is down never fails or delays the run's outcome.
 */
import {
  ParentClosePolicy,
  isCancellation,
  log,
  proxyActivities,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { MainActivities } from '../contract/activities.js';
import type { NotificationInput } from '../contract/evaluation.js';
import { notificationActivityOptions } from './activity-options.js';
import type { NotificationEvent, ValidTrainingRunInput } from '../contract/input.js';
import { errorMessage } from '../contract/errors.js';

/** Delivers one notification to one channel. */
export async function notificationDelivery(input: NotificationInput): Promise<void> {
  const { notify } = proxyActivities<MainActivities>(notificationActivityOptions(input));
  await notify.executeWithOptions({ summary: `notify ${input.channel}: ${input.event}` }, [input]);
}

export interface NotificationContent {
  title: string;
  lines: string[];
  data: Record<string, unknown>;
}

/** Sends `event` to every channel that asked for it. `key` tells repeated events apart (a step). */
export async function sendNotification(
  input: ValidTrainingRunInput,
  event: NotificationEvent,
  key: string,
  content: NotificationContent,
): Promise<void> {
  const config = input.notifications;
  if (!config || (config.events && !config.events.includes(event))) return;
  const { workflowId, taskQueue } = workflowInfo();
  for (const channel of config.channels) {
    const childId = `${workflowId}/notify/${event}${key ? `-${key}` : ''}/${channel}`;
    try {
      await startChild(notificationDelivery, {
        workflowId: childId,
        taskQueue,
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `${content.title} → ${channel}`,
        args: [
          {
            channel,
            event,
            idempotencyKey: childId,
            ...content,
            ...(input.heartbeatTimeout ? { heartbeatTimeout: input.heartbeatTimeout } : {}),
          },
        ],
      });
    } catch (error) {
      // A cancelled workflow must stay cancelled; short of that, a notification is never worth
      // failing the run for.
      if (isCancellation(error)) throw error;
      log.warn('Could not start a notification', {
        channel,
        event,
        error: errorMessage(error),
      });
    }
  }
}
