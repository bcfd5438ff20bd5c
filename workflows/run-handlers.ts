/**
 * The run's messages: queries answer from its state, updates and signals only record what they
 * receive (never run activities), and each checks what it receives. A malformed message is
 * refused (updates) or logged and dropped (signals): no workflow task ever fails on user input.
 */
import { log, setHandler } from '@temporalio/workflow';
import {
  approvalDecisionSchema,
  approvalUpdate,
  cursorQuery,
  deliverUpdate,
  deliveryQuery,
  eventsSignal,
  statusQuery,
  stopRequestSchema,
  stopSignal,
  stopUpdate,
} from '../contract/messages.js';
import type { EvaluationFlow } from './evaluation.js';
import type { Inbox } from './run-inbox.js';
import type { RunState } from './run-state.js';
import type { StopControl } from './run-stop.js';

export interface HandledParts {
  state: RunState;
  inbox: Inbox;
  stop: StopControl;
  evaluation: EvaluationFlow;
}

/**
 * Installs every handler. Messages that arrived before are handled as each is installed, so the
 * order below is part of the recorded behaviour.
 */
export function installHandlers({ state, inbox, stop, evaluation }: HandledParts): void {
  setHandler(statusQuery, () => state.status);
  setHandler(approvalUpdate, (decision) => evaluation.decideApproval(decision), {
    validator: (decision) => {
      const parsed = approvalDecisionSchema.safeParse(decision);
      if (!parsed.success) throw new Error(`Malformed approval: ${parsed.error.message}`);
      evaluation.validateApproval();
    },
  });
  setHandler(deliverUpdate, (delivery) => inbox.deliver(delivery), {
    validator: (delivery) => inbox.validate(delivery),
  });
  setHandler(deliveryQuery, () => inbox.ack());
  setHandler(cursorQuery, () => state.status.cursor);
  setHandler(eventsSignal, (batch) => inbox.receiveLegacy(batch));
  // A malformed signal must never fail a workflow task (it would stay in history and fail every
  // retry): it is logged and dropped.
  setHandler(stopSignal, (request) => {
    const parsed = stopRequestSchema.safeParse(request);
    if (parsed.success) stop.request('signal', parsed.data.reason);
    else log.warn('Dropping a malformed stop signal: it needs { reason: string }', { error: parsed.error.message });
  });
  setHandler(stopUpdate, ({ reason }) => stop.answer(reason), {
    validator: (request) => {
      const parsed = stopRequestSchema.safeParse(request);
      if (!parsed.success) throw new Error(`Malformed stop: it needs { reason: string }: ${parsed.error.message}`);
    },
  });
}
