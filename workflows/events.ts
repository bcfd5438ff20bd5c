/**
 * Job events as they travel from the wait activity into the workflow: JSON-safe copies of the
 * Arkor stream payloads. Temporal payloads are JSON, which has no NaN or Infinity, so a
 * non-finite metric travels as a string tag and is turned back into a number before any user
 * callback sees it.
 */

/** A metric value: a finite number, absent (`null`), or a non-finite value as a tag. */
export type Metric = number | null | 'NaN' | 'Infinity' | '-Infinity';

export interface LogMetrics {
  loss: Metric;
  evalLoss: Metric;
  learningRate: Metric;
  epoch: Metric;
  samplesPerSecond: Metric;
}

export type RunEventPayload =
  | { type: 'training.started'; timestamp: string }
  | ({ type: 'training.log'; timestamp: string; step: number } & LogMetrics)
  | { type: 'checkpoint.saved'; timestamp: string; step: number; artifacts?: unknown[] }
  | { type: 'training.completed'; timestamp: string; metrics?: unknown; artifacts: unknown[] }
  | { type: 'training.failed'; timestamp: string; error: string; step?: number };

/** One event with the stream id it came with (absent only if the backend sent none). */
export interface RunEvent {
  id?: string;
  payload: RunEventPayload;
}

/** The body of the `events` signal: events in stream order. */
export interface EventBatch {
  events: RunEvent[];
}

/** The numeric value of a metric (tags become NaN / ±Infinity); `null` stays `null`. */
export function metricValue(metric: Metric): number | null {
  if (metric === 'NaN') return Number.NaN;
  if (metric === 'Infinity') return Number.POSITIVE_INFINITY;
  if (metric === '-Infinity') return Number.NEGATIVE_INFINITY;
  return metric;
}

/** The JSON-safe form of a number from the stream. */
export function toMetric(value: number | null | undefined): Metric {
  if (value === null || value === undefined) return null;
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return 'Infinity';
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity';
  return value;
}

/** True for a metric that is present and finite. */
export function isFiniteMetric(metric: Metric): metric is number {
  return typeof metric === 'number';
}
