/**
 * Job events as they travel from the wait activity into the workflow: JSON-safe copies of the
 * Arkor stream payloads. Temporal payloads are JSON, which has no NaN or Infinity, so a
 * non-finite metric travels as a string tag and is turned back into a number before any user
 * callback sees it.
 */
import { z } from 'zod';

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

const metricSchema = z.union([z.number(), z.null(), z.enum(['NaN', 'Infinity', '-Infinity'])]);
const timestamp = z.string();
const step = z.number().int().nonnegative();

/**
 * A {@link RunEvent} as a message carries it. Handlers check what arrives before it touches
 * workflow state: a malformed message is refused, never a failed workflow task.
 */
export const runEventSchema: z.ZodType<RunEvent> = z.object({
  id: z.string().min(1).optional(),
  payload: z.discriminatedUnion('type', [
    z.object({ type: z.literal('training.started'), timestamp }),
    z.object({
      type: z.literal('training.log'),
      timestamp,
      step,
      loss: metricSchema,
      evalLoss: metricSchema,
      learningRate: metricSchema,
      epoch: metricSchema,
      samplesPerSecond: metricSchema,
    }),
    z.object({ type: z.literal('checkpoint.saved'), timestamp, step, artifacts: z.array(z.unknown()).optional() }),
    z.object({
      type: z.literal('training.completed'),
      timestamp,
      metrics: z.unknown(),
      artifacts: z.array(z.unknown()),
    }),
    z.object({ type: z.literal('training.failed'), timestamp, error: z.string(), step: step.optional() }),
  ]),
});
