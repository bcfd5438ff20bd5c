/**
 * The input of a training run, validated with zod by the client before starting and again by the
 * workflow on its first task. Pure: imported by workflow code and by the service API.
 *
 * Two readings of the same fields. A user's input, and a first run's argument, are read
 * strictly: an unknown field is refused by name (a typo must not be ignored). A continued run's
 * argument was written by the workflow itself, possibly on an earlier version, and is read
 * leniently: unknown fields are kept, cross-field checks are not repeated, and the state it hands
 * over (`resume`) has a versioned schema of its own (`resume.ts`). Only first runs are strict.
 *
 * The defaults the schema fills in decide what a run does, and a first run's input is read
 * again on every replay: they are part of the run's settings (`run-settings.ts`), fixed by the
 * first run and carried by the chain.
 *
 * Secrets never appear here. A dataset blob token is named by the environment variable that
 * holds it on the worker (`tokenEnv`); notification targets and deployment keys likewise live
 * only in the worker's configuration.
 */
import { z } from 'zod';
import { DURATION_EXAMPLES, durationTextMs } from './duration.js';
import { readResume, type ResumeState, type ResumeV1, type ResumeV2 } from './resume.js';
import { CURRENT_RUN_SETTINGS, type InputDefaults, type RunSettings } from './run-settings.js';

export type { ResumeState } from './resume.js';

/** The base models Arkor can fine-tune today (the SDK's own list). */
export const SUPPORTED_MODELS = ['unsloth/gemma-4-E4B-it'] as const;

/** A duration string as Temporal writes them: `500ms`, `30s`, `5m`, `2h`, `1d`, `1 day`, `90 minutes`. */
export const durationTextSchema = z
  .string()
  .refine((text) => durationTextMs(text) !== undefined, `must be a duration such as ${DURATION_EXAMPLES}`);

/** A Temporal duration: milliseconds, or a duration string (see `duration.ts`). */
export const durationSchema = z.union([z.number().int().positive(), durationTextSchema]);
export type DurationInput = z.infer<typeof durationSchema>;

const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name');
const positiveInt = z.number().int().positive();
const positiveNumber = z.number().positive();

export const CALLBACK_NAMES = ['onStarted', 'onLog', 'onCheckpoint', 'onCompleted', 'onFailed'] as const;
export type CallbackName = (typeof CALLBACK_NAMES)[number];

/** Default of the input's `heartbeatTimeout`. */
export const DEFAULT_HEARTBEAT_TIMEOUT = '30s';

export const DEPLOYMENT_SLUG_PATTERN = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;
export const RESERVED_DEPLOYMENT_SLUGS = ['www', 'api', 'admin', 'app', 'status', 'docs'] as const;

export const NOTIFICATION_EVENTS = ['started', 'checkpoint', 'stopped', 'completed', 'failed'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/**
 * How an input is read: `strict` for a user's input and a first run's argument (an unknown key
 * is refused, cross-field checks apply), `lenient` for a continued run's, which its first run
 * accepted (unknown keys are kept, cross-field checks are not repeated; values are still checked,
 * since the workflow relies on them).
 */
export type InputReading = 'strict' | 'lenient';

/** The input schemas filling in `defaults` (a run's settings' defaults), read as `reading` says. */
export function inputSchemas(defaults: InputDefaults, reading: InputReading) {
  // The lenient objects have the same fields and types; only what they do with unknown keys differs.
  const object = reading === 'strict' ? z.strictObject : z.looseObject;
  const strictOnly = <Schema>(schema: Schema, check: (schema: Schema) => Schema): Schema =>
    reading === 'strict' ? check(schema) : schema;

  const datasetSchema = z.discriminatedUnion('type', [
    object({
      type: z.literal('huggingface'),
      name: z.string().min(1),
      split: z.string().min(1).optional(),
      subset: z.string().min(1).optional(),
    }),
    object({
      type: z.literal('blob'),
      url: z.url({ protocol: /^https?$/ }),
      /** Name of the worker environment variable holding the blob's access token. */
      tokenEnv: envVarName.optional(),
    }),
  ]);

  /** The Arkor trainer settings: the SDK's `TrainerInput` fields that reach the job config. */
  const trainerSchema = object({
    /** Job name shown in Arkor; a marker derived from the workflow is appended to it. */
    name: z.string().min(1).max(120),
    model: z.enum(SUPPORTED_MODELS, {
      error: `must be one of the supported models: ${SUPPORTED_MODELS.join(', ')}`,
    }),
    dataset: datasetSchema,
    lora: object({
      r: positiveInt,
      alpha: positiveInt,
      maxLength: positiveInt.optional(),
      loadIn4bit: z.boolean().optional(),
    }).optional(),
    maxSteps: positiveInt.optional(),
    numTrainEpochs: positiveNumber.optional(),
    learningRate: positiveNumber.optional(),
    batchSize: positiveInt.optional(),
    weightDecay: z.number().nonnegative().optional(),
    optim: z.string().min(1).optional(),
    lrSchedulerType: z.string().min(1).optional(),
    warmupSteps: z.number().int().nonnegative().optional(),
    loggingSteps: positiveInt.optional(),
    saveSteps: positiveInt.optional(),
    evalSteps: positiveInt.optional(),
    trainOnResponsesOnly: z.boolean().optional(),
    // Forwarded verbatim, as the SDK does: their shape is the backend's to define.
    datasetFormat: z.record(z.string(), z.unknown()).optional(),
    datasetSplit: z.unknown().optional(),
    dryRun: z.boolean().optional(),
  });

  const retrySchema = object({
    /** Attempts including the first; default 5. */
    maximumAttempts: positiveInt.max(1000).optional(),
    initialInterval: durationSchema.optional(),
    maximumInterval: durationSchema.optional(),
  });

  const callbackOptionsSchema = object({ retry: retrySchema.optional(), timeout: durationSchema.optional() });

  const callbacksSchema = object({
    /** Export of the worker's callbacks module to use; `default` is its default export. */
    set: z.string().min(1).default(defaults.callbackSet),
    /**
     * What a callback that exhausts its retries does to the run: `fail` cancels the backend job
     * and fails the run; `continue` records the error in the run's status and goes on.
     */
    onFailure: z.enum(['fail', 'continue']).default(defaults.callbackOnFailure),
    /** Defaults for every callback: 5 attempts from 1 s backing off to 30 s, 5 minutes each. */
    retry: retrySchema.optional(),
    timeout: durationSchema.optional(),
    /** Per-callback overrides of `retry` and `timeout`. */
    overrides: z.partialRecord(z.enum(CALLBACK_NAMES), callbackOptionsSchema).optional(),
  });

  const earlyStoppingSchema = object({
    /** Stop when a logged loss is NaN or infinite. Default true. */
    nonFiniteLoss: z.boolean().default(defaults.nonFiniteLoss),
    /** Stop when the training loss exceeds `value` at or after `afterStep` (default 0). */
    lossCeiling: object({
      value: z.number(),
      afterStep: z.number().int().nonnegative().default(defaults.lossCeilingAfterStep),
    }).optional(),
    /** Stop when `metric` has not improved by more than `minDelta` for `evaluations` readings. */
    patience: object({
      metric: z.enum(['loss', 'evalLoss']).default(defaults.patienceMetric),
      evaluations: positiveInt,
      minDelta: z.number().nonnegative().default(defaults.patienceMinDelta),
    }).optional(),
  });

  const budgetSchema = object({
    /** Stop (and cancel the backend job) once a logged step reaches this number. */
    maxSteps: positiveInt.optional(),
    /** Stop once the run has lasted this long since it started. */
    maxWallTime: durationSchema.optional(),
  });

  const streamSchema = object({
    /** The run's `heartbeatTimeout`, for the wait activity only. Default: the run's. */
    heartbeatTimeout: durationSchema.optional(),
  });

  const continueAsNewSchema = object({
    /**
     * Continue as new after this many event signals in one run, even if the server does not yet
     * suggest it. Default 500.
     */
    afterSignals: positiveInt.optional(),
  });

  const chatMessageSchema = object({
    role: z.enum(['system', 'user', 'assistant']),
    content: z.string().max(20_000, 'must be at most 20000 characters'),
  });

  /** How an answer is scored (0 to 1). */
  const expectationSchema = z.union(
    [
      /** A single text: 1 when the answer contains it, else 0; a list: the fraction of its texts found. */
      object({
        contains: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]),
        caseSensitive: z.boolean().default(defaults.expectCaseSensitive),
      }),
      /** 1 when the regular expression matches. */
      object({
        regex: z
          .string()
          .min(1)
          .refine((source) => {
            try {
              new RegExp(source);
              return true;
            } catch {
              return false;
            }
          }, 'must be a valid regular expression'),
        flags: z
          .string()
          .regex(/^[dgimsuvy]*$/)
          .optional(),
      }),
      /** 1 when the trimmed answer equals the text. */
      object({ exact: z.string(), caseSensitive: z.boolean().default(defaults.expectCaseSensitive) }),
      /** Asks for JSON through responseFormat; 1 when the answer parses and validates. */
      object({
        jsonSchema: z.record(z.string(), z.unknown()),
        name: z
          .string()
          .regex(/^[a-zA-Z0-9_-]{1,64}$/)
          .default(defaults.expectJsonSchemaName),
      }),
      /** A scorer registered in the worker, by name, with its own options. */
      object({ scorer: z.string().min(1), options: z.record(z.string(), z.unknown()).optional() }),
    ],
    { error: 'must be an object with exactly one of contains, regex, exact, jsonSchema or scorer' },
  );

  const goldenPromptSchema = object({
    name: z.string().min(1).max(80),
    messages: z.array(chatMessageSchema).min(1).max(50),
    expect: expectationSchema,
    /** Weight of this prompt in the score (default 1). */
    weight: z.number().positive().default(defaults.promptWeight),
    maxTokens: positiveInt.max(4096).optional(),
  });

  const smokeTestSchema = strictOnly(
    object({
      prompts: z.array(goldenPromptSchema).min(1).max(50),
      /** Stop the run when a checkpoint scores below this (0 to 1). */
      floor: z.number().min(0).max(1).optional(),
      /** Stop the run when a checkpoint scores more than this below the best so far. */
      regressionTolerance: z.number().min(0).max(1).optional(),
      /** Timeout of one smoke test (all prompts). Default 5m. */
      timeout: durationSchema.optional(),
    }),
    (schema) =>
      schema.refine((value) => new Set(value.prompts.map((prompt) => prompt.name)).size === value.prompts.length, {
        message: 'prompt names must be unique',
        path: ['prompts'],
      }),
  );

  const gateSchema = object({
    /** The final adapter must score at least this (0 to 1). */
    minScore: z.number().min(0).max(1),
    /** The final adapter must also beat what the promotion's deployment serves now. */
    mustBeatDeployed: z.boolean().default(defaults.gateMustBeatDeployed),
  });

  const approvalSchema = object({
    /** How long to wait for approve/reject; no decision by then means not promoted. */
    timeout: durationSchema,
  });

  const promotionSchema = object({
    /** The Arkor deployment (endpoint) to point at the new adapter. */
    deployment: z
      .string()
      .min(2, 'must be 2 to 50 characters')
      .max(50, 'must be 2 to 50 characters')
      .regex(DEPLOYMENT_SLUG_PATTERN, 'must be lowercase letters, digits and inner dashes')
      .refine((slug) => !(RESERVED_DEPLOYMENT_SLUGS as readonly string[]).includes(slug), 'is a reserved name'),
    /** Create the deployment when it does not exist (else a missing deployment fails the promotion). */
    create: z.boolean().default(defaults.promotionCreate),
    /** What to serve: the final adapter (default) or the best-scoring checkpoint. */
    target: z.enum(['final', 'best-checkpoint']).default(defaults.promotionTarget),
    /** Auth mode of a deployment this run creates. Default `fixed_api_key`. */
    authMode: z.enum(['none', 'fixed_api_key']).default(defaults.promotionAuthMode),
    /** Create a deployment key; its plaintext goes to the worker's key store, never to history. */
    createKey: object({ label: z.string().trim().min(1).max(80) }).optional(),
  });

  const notificationsSchema = object({
    /** Channel names configured on the worker (their URLs are secrets). */
    channels: z.array(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'must be a channel name')).min(1),
    /** Which events to send (default: all). */
    events: z.array(z.enum(NOTIFICATION_EVENTS)).min(1).optional(),
  });

  const preconditionSchema = object({
    /** A precondition registered in the worker (ARKOR_PRECONDITIONS_MODULE), e.g. a dataset revision. */
    check: z.string().min(1),
    /**
     * What "the last promoted run" means: runs promoted within this scope. Default: the promotion's
     * deployment, else the trainer name.
     */
    scope: z.string().min(1).max(200).optional(),
  });

  const inputSchema = strictOnly(
    object({
      trainer: trainerSchema,
      callbacks: callbacksSchema.default({ set: defaults.callbackSet, onFailure: defaults.callbackOnFailure }),
      earlyStopping: earlyStoppingSchema.default({ nonFiniteLoss: defaults.nonFiniteLoss }),
      budget: budgetSchema.optional(),
      stream: streamSchema.optional(),
      continueAsNew: continueAsNewSchema.optional(),
      smokeTest: smokeTestSchema.optional(),
      gate: gateSchema.optional(),
      approval: approvalSchema.optional(),
      promotion: promotionSchema.optional(),
      notifications: notificationsSchema.optional(),
      /** Retrain only when something changed: a run whose revision was the last one promoted is skipped. */
      precondition: preconditionSchema.optional(),
      /**
       * How long the server waits without a heartbeat before it retries an activity of this run
       * (submit, the stream, callbacks, smoke tests, promotion steps, notifications, cancel) on
       * another worker: how long a killed worker holds up the run. Default 30 s.
       */
      heartbeatTimeout: durationSchema.optional(),
      /** Free-form labels copied into the run's status (for example the schedule or the team). */
      labels: z.record(z.string(), z.string()).optional(),
    }),
    (schema) =>
      schema
        .refine((input) => !input.gate || input.smokeTest, {
          message: 'a gate needs smokeTest prompts to score',
          path: ['gate'],
        })
        .refine((input) => !input.gate?.mustBeatDeployed || input.promotion, {
          message: 'mustBeatDeployed needs a promotion deployment to compare with',
          path: ['gate', 'mustBeatDeployed'],
        })
        .refine((input) => input.promotion?.target !== 'best-checkpoint' || input.smokeTest, {
          message: 'the best checkpoint is known only with smokeTest prompts',
          path: ['promotion', 'target'],
        }),
  );

  return {
    trainer: trainerSchema,
    retry: retrySchema,
    callbackOptions: callbackOptionsSchema,
    earlyStopping: earlyStoppingSchema,
    expectation: expectationSchema,
    goldenPrompt: goldenPromptSchema,
    input: inputSchema,
  };
}

/** The schemas users see: strict, with the defaults of the settings a run started now takes. */
const userSchemas = inputSchemas(CURRENT_RUN_SETTINGS.defaults, 'strict');

export const trainerSchema = userSchemas.trainer;
export type TrainerSettings = z.infer<typeof trainerSchema>;
export type RetryInput = z.infer<typeof userSchemas.retry>;
export type CallbackOptions = z.infer<typeof userSchemas.callbackOptions>;
export type EarlyStoppingRules = z.infer<typeof userSchemas.earlyStopping>;
/** How an answer is scored (0 to 1). */
export const expectationSchema = userSchemas.expectation;
export type Expectation = z.infer<typeof expectationSchema>;
export const goldenPromptSchema = userSchemas.goldenPrompt;
export type GoldenPrompt = z.infer<typeof goldenPromptSchema>;
/** A user's run input. */
export const trainingRunInputSchema = userSchemas.input;

/** What a caller passes (the service, the CLI, a schedule): defaults may be omitted. */
export type TrainingRunInput = z.input<typeof trainingRunInputSchema>;
/** The input after validation, defaults filled in. */
export type ValidTrainingRunInput = z.output<typeof trainingRunInputSchema>;
/**
 * What the workflow accepts: a user's input, or its own continuation's, which adds the state it
 * hands over (`resume`, of any version this code reads).
 */
export type TrainingRunWorkflowInput = TrainingRunInput & { resume?: ResumeV1 | ResumeV2 };
/** The workflow's argument once read: a continued run's `resume` is of the newest version. */
export type ValidTrainingRunWorkflowInput = ValidTrainingRunInput & { resume?: ResumeState };

/**
 * Fields only the workflow sets; an input that sets one is refused with the reason. (The input
 * schema is strict, so they are unknown fields to it; this says why.)
 */
const INTERNAL_FIELDS = new Map<PropertyKey, string>([
  ['resume', 'is internal, set only by a run that continues as new (the state it hands over); an input cannot set it'],
]);

/** The input failed validation; `issues` name each field. */
export class InvalidTrainingInputError extends Error {
  override readonly name = 'InvalidTrainingInputError';
  constructor(readonly issues: string[]) {
    super(`Invalid training run input: ${issues.join('; ')}`);
  }
}

/**
 * Validates a user's run input (what the service, the CLI and schedules accept); throws
 * `InvalidTrainingInputError` naming every bad field. The internal `resume` is refused.
 */
export function parseTrainingRunInput(input: unknown): ValidTrainingRunInput {
  return parseWith(trainingRunInputSchema, input);
}

/** The workflow's argument is a continued run's: it carries the state its previous run handed over. */
export function isContinuedRunInput(input: unknown): boolean {
  return typeof input === 'object' && input !== null && (input as { resume?: unknown }).resume !== undefined;
}

/**
 * Validates the workflow's argument; throws `InvalidTrainingInputError` naming every bad field.
 *
 * A first run's (no `resume`) is read strictly, filling in the defaults of `firstRunSettings`,
 * the settings the run starts with. A continued run's was written by an earlier run of the chain,
 * perhaps on an earlier version: its `resume` is read by its own version's schema and migrated to
 * the newest (`resume.ts`), and the rest leniently (unknown keys kept, never refused), filling in
 * the defaults of the settings the chain carries.
 */
export function parseTrainingRunWorkflowInput(
  input: unknown,
  firstRunSettings: RunSettings = CURRENT_RUN_SETTINGS,
): ValidTrainingRunWorkflowInput {
  if (!isContinuedRunInput(input)) return parseWith(inputSchemas(firstRunSettings.defaults, 'strict').input, input);
  const { resume: carried, ...user } = input as { resume: unknown };
  const resume = readResume(carried);
  const defaults = resume.success ? resume.data.settings.defaults : CURRENT_RUN_SETTINGS.defaults;
  const parsed = inputSchemas(defaults, 'lenient').input.safeParse(user, { reportInput: true });
  const issues = [
    ...(resume.success ? [] : describeIssues(resume.issues, ['resume'])),
    ...(parsed.success ? [] : describeIssues(parsed.error.issues, [])),
  ];
  if (!resume.success || !parsed.success) throw new InvalidTrainingInputError(issues);
  return { ...parsed.data, resume: resume.data };
}

function parseWith<Schema extends z.ZodType>(schema: Schema, input: unknown): z.output<Schema> {
  // The input is reported on each issue so that a missing field can be told from a wrong one.
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  throw new InvalidTrainingInputError(describeIssues(result.error.issues, []));
}

type Issue = z.core.$ZodIssue;
type PathKey = PropertyKey;

/** `a.b.0.c`; the root is `(input)`. */
function dottedPath(path: readonly PathKey[]): string {
  return path.length ? path.map(String).join('.') : '(input)';
}

/** A missing key: zod reports it as a wrong value (type, enum option) of `undefined`. */
function isMissing(issue: Issue): boolean {
  if (issue.code === 'invalid_type') return issue.message.endsWith('received undefined');
  return (
    (issue.code === 'invalid_value' || issue.code === 'invalid_union') && 'input' in issue && issue.input === undefined
  );
}

/** The issue says the value has the wrong keys for this union branch, not a wrong value. */
function isShapeMismatch(issue: Issue): boolean {
  if (issue.code === 'unrecognized_keys' || isMissing(issue)) return true;
  return (
    issue.code === 'invalid_union' &&
    issue.errors.length > 0 &&
    issue.errors.every((branch) => branch.some(isShapeMismatch))
  );
}

/**
 * One `path: message` line per problem, each naming the exact field. zod reports a failed union
 * (a duration, an expectation) at the union with "Invalid input"; the branch whose keys fit the
 * value is the one the user meant, so its issues are reported instead, at their own paths.
 */
function describeIssues(issues: readonly Issue[], prefix: readonly PathKey[]): string[] {
  return issues.flatMap((issue): string[] => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map(
        (key) => `${dottedPath([...path, key])}: ${(path.length === 0 && INTERNAL_FIELDS.get(key)) || 'unknown field'}`,
      );
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const fitting = issue.errors.filter((branch) => !branch.some(isShapeMismatch));
      if (fitting.length === 1 && fitting[0]) return describeIssues(fitting[0], path);
      // Every branch refused the value's type (a number where a string or a list is wanted).
      const types = issue.errors.map((branch) =>
        branch.length === 1 && branch[0]?.code === 'invalid_type' && branch[0].path.length === 0
          ? branch[0]
          : undefined,
      );
      if (types.every((type) => type !== undefined)) {
        const expected = [...new Set(types.map((type) => type.expected))].join(' or ');
        const received = /received (\w+)$/.exec(types[0]?.message ?? '')?.[1];
        return [
          `${dottedPath(path)}: ${received === 'undefined' ? 'is required' : `expected ${expected}${received ? `, received ${received}` : ''}`}`,
        ];
      }
    }
    if (isMissing(issue))
      return [`${dottedPath(path)}: is required${issue.code === 'invalid_value' ? ` (${issue.message})` : ''}`];
    return [`${dottedPath(path)}: ${issue.message}`];
  });
}

/**
 * The scope in which "the last promoted run" is looked up: the precondition's own scope, else
 * the promotion's deployment, else the trainer name.
 */
export function promotionScope(input: ValidTrainingRunInput): string {
  return input.precondition?.scope ?? input.promotion?.deployment ?? input.trainer.name;
}
