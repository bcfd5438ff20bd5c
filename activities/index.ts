/**
 * The activity factory: every activity of a training run, built from its dependencies.
 */
import { createCallbackActivities } from './callbacks.js';
import { createCancelActivities } from './cancel.js';
import type { ActivityDeps } from './deps.js';
import { createStreamActivities } from './stream.js';
import { createSubmitActivities } from './submit.js';

/** Activities on the main task queue: everything but the stream. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createSubmitActivities(deps),
    ...createCancelActivities(deps),
    ...createCallbackActivities(deps),
  };
}

/** Activities on the stream task queue (see `streamTaskQueue`). */
export function createStreamQueueActivities(deps: ActivityDeps) {
  return createStreamActivities(deps);
}

export type MainActivities = ReturnType<typeof createActivities>;
export type StreamActivities = ReturnType<typeof createStreamQueueActivities>;
export type { ActivityDeps, StreamSettings } from './deps.js';
export { defaultStreamSettings } from './deps.js';
