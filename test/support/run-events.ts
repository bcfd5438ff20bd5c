/** Run events for unit tests: JSON-safe stream events as the wait activity delivers them. */
import type { RunEvent } from '../../contract/events.js';

/** A `training.log` event at `step` (loss 1), with the id `String(step)` or `id`; `null` for none. */
export function logEvent(step: number, id: string | null = String(step)): RunEvent {
  const payload = {
    type: 'training.log',
    timestamp: 't',
    step,
    loss: 1,
    evalLoss: null,
    learningRate: null,
    epoch: null,
    samplesPerSecond: null,
  } as const;
  return id === null ? { payload } : { id, payload };
}
