/**
 * The worker side of `keepAlive`: every activity of the worker heartbeats while it runs, so a
 * dead worker is noticed after the run's heartbeat timeout rather than a start-to-close timeout.
 */
import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { keepAlive } from '../activities/heartbeat.js';

/** Worker interceptor applying `keepAlive` to every activity of the worker it is given to. */
export const keepAliveInterceptor: ActivityInterceptorsFactory = (context) => ({
  inbound: { execute: (input, next) => keepAlive(context, () => next(input)) },
});
