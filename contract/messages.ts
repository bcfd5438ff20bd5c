/**
 * Messages of the training workflow, shared by the workflow, the wait activity and the client.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { z } from 'zod';
import type { Delivery, DeliveryAck } from './delivery.js';
import type { EventBatch } from './events.js';
import type { ApprovalInfo, RunStatus } from './status.js';

/**
 * Job events from the wait activity, in stream order (see `delivery.ts`). Its validator refuses
 * a delivery that does not continue the run's position (a refused update is not written to
 * history); the result is the run's new position and backlog. The handler only enqueues.
 */
export const deliverUpdate = defineUpdate<DeliveryAck, [Delivery]>('arkor.deliver');

/** The run's stream position and backlog, for a wait activity that paused on the backlog. */
export const deliveryQuery = defineQuery<DeliveryAck>('arkor.delivery');

/**
 * Job events as wait activities of earlier versions delivered them: unacknowledged signals.
 * Still accepted (with the same checks) so that an attempt started by a worker of an earlier
 * version, still running during a deploy, loses nothing.
 */
export const eventsSignal = defineSignal<[EventBatch]>('arkor.events');

/** Stop the run early: the backend job is cancelled and the run ends `stopped`. */
export const stopSignal = defineSignal<[{ reason: string }]>('stop');

/** The `stop` signal's payload, as the workflow checks it (the Web UI and CLI send anything). */
export const stopRequestSchema = z.object({ reason: z.string().min(1).max(1000) });

/** What a stop does to the run, as the `requestStop` update answers. */
export const StopEffect = {
  /** The backend job is being cancelled; the run ends `stopped`. */
  Stopping: 'stopping',
  /** A stop was already under way; this one changes nothing. */
  AlreadyStopping: 'already-stopping',
  /** Training is over: the run is evaluating or waiting for approval, and will not promote. */
  SkipsPromotion: 'skips-promotion',
  /** Too late to change anything: training is over (or a promotion is under way, which finishes). */
  Moot: 'moot',
} as const;
export type StopEffect = (typeof StopEffect)[keyof typeof StopEffect];

export interface StopAnswer {
  effect: StopEffect;
  /** The run's phase when the stop arrived. */
  phase: RunStatus['phase'];
}

/** Stop the run early, and learn what that did. The `stop` signal is the same without an answer. */
export const stopUpdate = defineUpdate<StopAnswer, [{ reason: string }]>('requestStop');

/** The live state of the run; answered from workflow state, never from the backend. */
export const statusQuery = defineQuery<RunStatus>('status');

/** Id of the last event the workflow has received (asked by wait activities of earlier versions). */
export const cursorQuery = defineQuery<string | undefined>('cursor');

export interface ApprovalDecision {
  approved: boolean;
  /** Who decided (free text, for the record). */
  by?: string;
  reason?: string;
}

/** An {@link ApprovalDecision} as the approval update's validator checks it. */
export const approvalDecisionSchema = z.object({
  approved: z.boolean(),
  by: z.string().max(200).optional(),
  reason: z.string().max(1000).optional(),
});

/**
 * Approve or reject the promotion of a run that waits for approval. Rejected by its validator
 * (and so never written to history) when the run is not waiting or has already been decided.
 */
export const approvalUpdate = defineUpdate<ApprovalInfo, [ApprovalDecision]>('approval');
