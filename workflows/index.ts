/** The workflows a worker registers. */
export { trainingRun } from './training-run.js';
export { notificationDelivery } from './notifications.js';
