import { z } from 'zod';

/**
 * Any JS number, including NaN and ±Infinity (zod's `z.number()` rejects those, but a Python
 * backend writes them as bare tokens, which {@link parseJsonLenient} turns into numbers).
 */
const anyNumber = z.custom<number>((value) => typeof value === 'number', { message: 'expected a number' });

/** A metric: a number (possibly non-finite) or null; absent becomes null (docs/arkor-protocol.md §5.4). */
const metric = anyNumber.nullish().transform((value) => value ?? null);

const common = { jobId: z.string(), timestamp: z.string() };

/**
 * Terminal events must never be rejected for a malformed detail: losing one would leave the
 * follower reconnecting forever. Their fields therefore fall back instead of failing.
 */
const terminalCommon = { jobId: z.string().catch(''), timestamp: z.string().catch('') };
const artifacts = z.array(z.unknown()).optional().catch(undefined);

/** `training.started` (status → running). */
export const TrainingStartedEventSchema = z.looseObject({
  type: z.literal('training.started'),
  ...common,
  metadata: z.unknown().optional(),
});

/** `training.log`: one logging/eval step; every metric is `number | null` (absent → null). */
export const TrainingLogEventSchema = z.looseObject({
  type: z.literal('training.log'),
  ...common,
  step: anyNumber,
  loss: metric,
  evalLoss: metric,
  learningRate: metric,
  epoch: metric,
  samplesPerSecond: metric,
});

/** `checkpoint.saved`: an adapter checkpoint at `step`; `artifacts` are opaque (docs/arkor-protocol.md §5.4). */
export const CheckpointSavedEventSchema = z.looseObject({
  type: z.literal('checkpoint.saved'),
  ...common,
  step: anyNumber,
  artifacts: z.array(z.unknown()).optional(),
});

/** `training.completed` (terminal). */
export const TrainingCompletedEventSchema = z.looseObject({
  type: z.literal('training.completed'),
  ...terminalCommon,
  metrics: z.unknown().optional(),
  artifacts,
});

/** `training.failed` (terminal). */
export const TrainingFailedEventSchema = z.looseObject({
  type: z.literal('training.failed'),
  ...terminalCommon,
  error: z.string().catch('training failed without an error message'),
  step: anyNumber.optional().catch(undefined),
});

/** The five job event payloads of docs/arkor-protocol.md §5.4, discriminated on `type`. */
export const JobEventSchema = z.discriminatedUnion('type', [
  TrainingStartedEventSchema,
  TrainingLogEventSchema,
  CheckpointSavedEventSchema,
  TrainingCompletedEventSchema,
  TrainingFailedEventSchema,
]);

export type TrainingStartedEvent = z.infer<typeof TrainingStartedEventSchema>;
export type TrainingLogEvent = z.infer<typeof TrainingLogEventSchema>;
export type CheckpointSavedEvent = z.infer<typeof CheckpointSavedEventSchema>;
export type TrainingCompletedEvent = z.infer<typeof TrainingCompletedEventSchema>;
export type TrainingFailedEvent = z.infer<typeof TrainingFailedEventSchema>;
export type JobEvent = z.infer<typeof JobEventSchema>;
export type JobEventType = JobEvent['type'];

/** The known event types, in lifecycle order. */
export const JOB_EVENT_TYPES = [
  'training.started',
  'training.log',
  'checkpoint.saved',
  'training.completed',
  'training.failed',
] as const satisfies readonly JobEventType[];

/** True for `training.completed` and `training.failed`, after which the stream is over. */
export function isTerminalJobEvent(event: JobEvent): event is TrainingCompletedEvent | TrainingFailedEvent {
  return event.type === 'training.completed' || event.type === 'training.failed';
}

/** Result of {@link decodeJobEvent}. */
export type DecodedJobEvent =
  | { ok: true; event: JobEvent }
  /** Not a known, well-formed event; `type` is the JSON `type` when it was a string. */
  | { ok: false; type?: string; issue: string };

/** Decodes already-parsed JSON `data` of a frame into a {@link JobEvent}. Never throws. */
export function decodeJobEvent(data: unknown): DecodedJobEvent {
  const type =
    typeof data === 'object' && data !== null && 'type' in data && typeof data.type === 'string'
      ? data.type
      : undefined;
  if (type === undefined) return { ok: false, issue: 'no string "type" field' };
  if (!(JOB_EVENT_TYPES as readonly string[]).includes(type))
    return { ok: false, type, issue: `unknown event type "${type}"` };
  const parsed = JobEventSchema.safeParse(data);
  if (parsed.success) return { ok: true, event: parsed.data };
  return { ok: false, type, issue: z.prettifyError(parsed.error) };
}
