/**
 * Converts Arkor stream events to the JSON-safe events the workflow receives, and back to the
 * Arkor-shaped arguments user callbacks get.
 */
import type { JobEvent } from '../arkor/index.js';
import type { RunEvent, RunEventPayload } from '../contract/events.js';
import { metricValue, toMetric } from '../contract/events.js';
import type { LogArgs } from '../extensions/callbacks.js';

export function toRunEvent(id: string | undefined, event: JobEvent): RunEvent {
  return id === undefined ? { payload: toPayload(event) } : { id, payload: toPayload(event) };
}

function toPayload(event: JobEvent): RunEventPayload {
  switch (event.type) {
    case 'training.started':
      return { type: event.type, timestamp: event.timestamp };
    case 'training.log':
      return {
        type: event.type,
        timestamp: event.timestamp,
        step: event.step,
        loss: toMetric(event.loss),
        evalLoss: toMetric(event.evalLoss),
        learningRate: toMetric(event.learningRate),
        epoch: toMetric(event.epoch),
        samplesPerSecond: toMetric(event.samplesPerSecond),
      };
    case 'checkpoint.saved':
      return event.artifacts === undefined
        ? { type: event.type, timestamp: event.timestamp, step: event.step }
        : { type: event.type, timestamp: event.timestamp, step: event.step, artifacts: event.artifacts };
    case 'training.completed':
      return { type: event.type, timestamp: event.timestamp, metrics: event.metrics, artifacts: event.artifacts ?? [] };
    case 'training.failed':
      return event.step === undefined
        ? { type: event.type, timestamp: event.timestamp, error: event.error }
        : { type: event.type, timestamp: event.timestamp, error: event.error, step: event.step };
  }
}

/** The SDK's `onLog` arguments: metrics as numbers (NaN/±Infinity restored) or null. */
export function toLogArgs(payload: Extract<RunEventPayload, { type: 'training.log' }>): LogArgs {
  return {
    step: payload.step,
    loss: metricValue(payload.loss),
    evalLoss: metricValue(payload.evalLoss),
    learningRate: metricValue(payload.learningRate),
    epoch: metricValue(payload.epoch),
    samplesPerSecond: metricValue(payload.samplesPerSecond),
  };
}
