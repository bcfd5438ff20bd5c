/** The workflows a worker registers: every export of this module is one. */
import type { NotificationDeliveryWorkflow, TrainingRunWorkflow, WorkflowType } from '../contract/workflows.js';
import { notificationDelivery } from './notifications.js';
import { trainingRun } from './training-run.js';

export { notificationDelivery, trainingRun };

// Clients start workflows by the contract's names and signatures (they never import this code):
// this fails to compile when an exported workflow drifts from them.
const startedByClientsAs: {
  [Name in keyof typeof WorkflowType]: Name extends 'trainingRun' ? TrainingRunWorkflow : NotificationDeliveryWorkflow;
} = { trainingRun, notificationDelivery };
void startedByClientsAs;
