/**
 * The activity factory: every activity of a training run, built from its dependencies.
 */
import { createCallbackActivities } from './callbacks.js';
import { createCancelActivities } from './cancel.js';
import type { MainActivities, StreamActivities } from '../contract/activities.js';
import type { ActivityDeps } from './deps.js';
import { createStreamActivities } from './stream.js';
import { createSubmitActivities } from './submit.js';
import { createNotifyActivities } from './notify.js';
import { createPromotionActivities } from './promotion.js';
import { BUILTIN_SCORERS } from '../extensions/scorers.js';
import { createSmokeActivities } from './smoke.js';
import { createPreconditionActivities } from './precondition.js';

/** Activities on the main task queue: everything but the stream. */
export function createActivities(deps: ActivityDeps): MainActivities {
  return {
    ...createSubmitActivities(deps),
    ...createCancelActivities(deps),
    ...createCallbackActivities(deps),
    ...createSmokeActivities({
      arkor: deps.arkor,
      scorers: deps.scorers ?? BUILTIN_SCORERS,
      deploymentKeys: deps.keyStore,
    }),
    ...createPromotionActivities(deps),
    ...createNotifyActivities({ channels: deps.notificationChannels }),
    ...createPreconditionActivities({ preconditions: deps.preconditions ?? new Map() }),
  };
}

/** Activities on the stream task queue (see `streamTaskQueue`). */
export function createStreamQueueActivities(deps: ActivityDeps): StreamActivities {
  return createStreamActivities(deps);
}

export type { MainActivities, StreamActivities } from '../contract/activities.js';
export type { ActivityDeps, StreamSettings } from './deps.js';
export { defaultStreamSettings } from './deps.js';
