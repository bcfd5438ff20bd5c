/**
 * The metrics only activities see (contract/metrics.ts): events read from Arkor streams,
 * reconnects, failed callback calls. Recorded on the activity context's metric meter, which
 * labels them with the namespace, task queue and activity type.
 */
import type { Context } from '@temporalio/activity';
import { eventTypeLabel, TrainingMetric } from '../contract/metrics.js';

/** A wait activity's metrics, made once per attempt. */
export interface StreamMetrics {
  eventRead(type: string): void;
  reconnected(): void;
}

export function streamMetrics(context: Context): StreamMetrics {
  const read = context.metricMeter.createCounter(
    TrainingMetric.streamEventsRead.name,
    undefined,
    TrainingMetric.streamEventsRead.description,
  );
  const reconnects = context.metricMeter.createCounter(
    TrainingMetric.streamReconnects.name,
    undefined,
    TrainingMetric.streamReconnects.description,
  );
  return {
    eventRead: (type) => read.add(1, { event_type: eventTypeLabel(type) }),
    reconnected: () => reconnects.add(1),
  };
}

/** A callback call threw or timed out. */
export function countCallbackFailure(context: Context, callback: string): void {
  context.metricMeter
    .createCounter(TrainingMetric.callbackFailures.name, undefined, TrainingMetric.callbackFailures.description)
    .add(1, { callback });
}
