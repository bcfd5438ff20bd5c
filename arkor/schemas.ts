import { z } from 'zod';
import { ArkorResponseError } from './errors.js';

// Response schemas are loose (docs/arkor-protocol.md §3.2): unknown fields pass through, required fields must be
// present. Request schemas are for validating our own inputs at boundaries; requests are sent
// exactly as given.

/** Job statuses (docs/arkor-protocol.md §3.3). */
export const JOB_STATUSES = ['queued', 'running', 'completed', 'failed', 'cancelled'] as const;
export const JobStatusSchema = z.enum(JOB_STATUSES);
export type JobStatus = z.infer<typeof JobStatusSchema>;

/** Where the training data comes from (docs/arkor-protocol.md §4). */
export const DatasetSourceSchema = z.discriminatedUnion('type', [
  z.looseObject({
    type: z.literal('huggingface'),
    name: z.string().min(1),
    split: z.string().optional(),
    subset: z.string().optional(),
  }),
  z.looseObject({ type: z.literal('blob'), url: z.string().min(1), token: z.string().optional() }),
]);
export type DatasetSource = z.infer<typeof DatasetSourceSchema>;

/**
 * The `config` of a job creation request (docs/arkor-protocol.md §4). Only `model` and `datasetSource` are
 * required; unknown keys are forwarded. `datasetFormat` and `datasetSplit` are unstable upstream
 * and typed `unknown`.
 */
export const JobConfigSchema = z.looseObject({
  model: z.string().min(1),
  datasetSource: DatasetSourceSchema,
  loraR: z.number().optional(),
  loraAlpha: z.number().optional(),
  maxLength: z.number().optional(),
  loadIn4bit: z.boolean().optional(),
  maxSteps: z.number().optional(),
  numTrainEpochs: z.number().optional(),
  learningRate: z.number().optional(),
  batchSize: z.number().optional(),
  weightDecay: z.number().optional(),
  optim: z.string().optional(),
  lrSchedulerType: z.string().optional(),
  warmupSteps: z.number().optional(),
  loggingSteps: z.number().optional(),
  saveSteps: z.number().optional(),
  evalSteps: z.number().optional(),
  trainOnResponsesOnly: z.boolean().optional(),
  datasetFormat: z.unknown().optional(),
  datasetSplit: z.unknown().optional(),
  dryRun: z.boolean().optional(),
});
export type JobConfig = z.infer<typeof JobConfigSchema>;

/** `POST /v1/jobs` body. */
export interface CreateJobRequest {
  name: string;
  config: JobConfig;
}

/** A training job as the cloud-api returns it (docs/arkor-protocol.md §3.3). `config` is the echoed config. */
export const TrainingJobSchema = z.looseObject({
  id: z.string(),
  orgId: z.string(),
  projectId: z.string(),
  name: z.string(),
  status: JobStatusSchema,
  config: z.looseObject({ model: z.string() }),
  error: z.string().nullish(),
  createdAt: z.string(),
  startedAt: z.string().nullish(),
  completedAt: z.string().nullish(),
});
export type TrainingJob = z.infer<typeof TrainingJobSchema>;

/** A project (docs/arkor-protocol.md §3.3). */
export const ProjectSchema = z.looseObject({ id: z.string(), slug: z.string(), name: z.string(), orgId: z.string() });
export type Project = z.infer<typeof ProjectSchema>;

/** `GET /v1/me`. */
export const MeSchema = z.looseObject({
  user: z.looseObject({ id: z.string() }),
  orgs: z.array(z.looseObject({ id: z.string(), slug: z.string(), name: z.string() })),
});
export type Me = z.infer<typeof MeSchema>;

/** The trained adapter to serve: the final one of a job, or one checkpoint (docs/arkor-protocol.md §8.1). */
export const ChatAdapterSchema = z.discriminatedUnion('kind', [
  z.looseObject({ kind: z.literal('final'), jobId: z.string().min(1) }),
  z.looseObject({ kind: z.literal('checkpoint'), jobId: z.string().min(1), step: z.number() }),
]);
export type ChatAdapter = z.infer<typeof ChatAdapterSchema>;

/** One chat message; nested OpenAI shapes keep their snake_case (docs/arkor-protocol.md §8.1). */
export const ChatMessageSchema = z.looseObject({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.string().nullish(),
  tool_calls: z.array(z.unknown()).optional(),
  tool_call_id: z.string().optional(),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/**
 * `POST /v1/inference/chat` body (docs/arkor-protocol.md §8.1). Forwarded verbatim; `stream` absent means the
 * backend default. `tools`, `toolChoice`, `responseFormat` and `structuredOutputs` are passed
 * through untyped.
 */
export const ChatRequestSchema = z.looseObject({
  messages: z.array(ChatMessageSchema),
  adapter: ChatAdapterSchema.optional(),
  baseModel: z.string().optional(),
  temperature: z.number().optional(),
  topP: z.number().optional(),
  maxTokens: z.number().optional(),
  stream: z.boolean().optional(),
  tools: z.array(z.unknown()).optional(),
  toolChoice: z.unknown().optional(),
  responseFormat: z.unknown().optional(),
  structuredOutputs: z.unknown().optional(),
});
export type ChatRequest = z.infer<typeof ChatRequestSchema>;

/** An OpenAI chat completions request for a deployment edge; `model` is ignored there (docs/arkor-protocol.md §9.1). */
export interface EdgeChatRequest {
  model?: string;
  messages: ChatMessage[];
  stream?: boolean;
  [field: string]: unknown;
}

/** What a deployment serves (docs/arkor-protocol.md §9.2). */
export const DeploymentTargetSchema = z.discriminatedUnion('kind', [
  z.looseObject({ kind: z.literal('adapter'), adapter: ChatAdapterSchema }),
  z.looseObject({ kind: z.literal('base_model'), baseModel: z.string() }),
]);
export type DeploymentTarget = z.infer<typeof DeploymentTargetSchema>;

export const DEPLOYMENT_AUTH_MODES = ['none', 'fixed_api_key'] as const;
export type DeploymentAuthMode = (typeof DEPLOYMENT_AUTH_MODES)[number];

/** A deployment ("endpoint" in URLs), docs/arkor-protocol.md §9.2. `runRetentionMode` is an open enum. */
export const DeploymentSchema = z.looseObject({
  id: z.string(),
  slug: z.string(),
  orgId: z.string(),
  projectId: z.string(),
  target: DeploymentTargetSchema,
  authMode: z.enum(DEPLOYMENT_AUTH_MODES),
  urlFormat: z.string(),
  enabled: z.boolean(),
  customDomain: z.string().nullable(),
  runRetentionMode: z.string().optional(),
  runRetentionDays: z.number().nullish(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Deployment = z.infer<typeof DeploymentSchema>;

/** `POST /v1/endpoints` body (docs/arkor-protocol.md §9.3). */
export interface CreateDeploymentRequest {
  slug: string;
  target: DeploymentTarget;
  authMode: DeploymentAuthMode;
  runRetentionMode?: string;
  runRetentionDays?: number;
}

/** `PATCH /v1/endpoints/:id` body: omitted fields stay unchanged (docs/arkor-protocol.md §9.3). */
export interface UpdateDeploymentRequest {
  target?: DeploymentTarget;
  authMode?: DeploymentAuthMode;
  enabled?: boolean;
  runRetentionMode?: string;
  runRetentionDays?: number;
}

/**
 * A listed deployment key (docs/arkor-protocol.md §9.3). Strict about secrets: this schema strips unknown
 * fields, so a stray `plaintext` never survives decoding.
 */
export const DeploymentKeySchema = z.object({
  id: z.string(),
  label: z.string(),
  prefix: z.string(),
  enabled: z.boolean(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
});
export type DeploymentKey = z.infer<typeof DeploymentKeySchema>;

/** The answer to creating a key: the only time `plaintext` is returned. */
export const CreatedDeploymentKeySchema = z.looseObject({
  id: z.string(),
  label: z.string(),
  plaintext: z.string(),
  prefix: z.string(),
  createdAt: z.string(),
});
export type CreatedDeploymentKey = z.infer<typeof CreatedDeploymentKeySchema>;

/** Response envelopes of the routes in docs/arkor-protocol.md §3.1. */
export const envelopes = {
  job: z.looseObject({ job: TrainingJobSchema }),
  jobWithEvents: z.looseObject({ job: TrainingJobSchema, events: z.array(z.unknown()).optional() }),
  jobs: z.looseObject({ jobs: z.array(TrainingJobSchema) }),
  project: z.looseObject({ project: ProjectSchema }),
  projects: z.looseObject({ projects: z.array(ProjectSchema) }),
  deployment: z.looseObject({ deployment: DeploymentSchema }),
  deployments: z.looseObject({ deployments: z.array(DeploymentSchema) }),
  keys: z.looseObject({ keys: z.array(DeploymentKeySchema) }),
  key: z.looseObject({ key: CreatedDeploymentKeySchema }),
  me: MeSchema,
} as const;

/**
 * Validates a decoded response body; throws {@link ArkorResponseError} naming the route and the
 * failing fields.
 */
export function decodeResponse<T>(schema: z.ZodType<T>, value: unknown, route: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new ArkorResponseError(`Unexpected response from ${route}: ${z.prettifyError(parsed.error)}`);
}
