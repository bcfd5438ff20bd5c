/**
 * Bad input is rejected before anything is submitted, with a message that names the field.
 *
 * (a) every field of the input schema, walked from `trainingRunInputSchema` itself: a wrong type,
 *     an unknown key in every object, every required field missing, and a table of wrong values
 *     that must list every walked path (a new field without a case fails this file); the internal
 *     `resume`, which only the workflow's own argument takes;
 * (b) the service API and the CLI against a real dev server, worker and emulator: nothing starts;
 * (c) a callbacks module that does not load or has the wrong shape, and a run naming a callback
 *     set the worker lacks;
 * (d) worker environment variables with bad values.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { z } from 'zod';
import { CallbackModuleError, loadCallbackSets } from '../extensions/callbacks.js';
import { NotificationConfigError, loadNotificationChannels } from '../activities/notification-channels.js';
import { loadWorkerSettings } from '../worker/config.js';
import {
  InvalidTrainingInputError,
  parseTrainingRunInput,
  parseTrainingRunWorkflowInput,
  trainingRunInputSchema,
  type TrainingRunInput,
} from '../contract/input.js';
import { ScheduleNotFoundError, ScheduleService } from '../service/schedules.js';
import { runClient, startHarness, trainingInput, type Harness } from './support/harness.js';

// ---------------------------------------------------------------------------------------------
// Walking the schema
// ---------------------------------------------------------------------------------------------

/** The parts of a zod 4 definition the walk needs. */
interface SchemaDef {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  innerType?: z.core.$ZodType;
  element?: z.core.$ZodType;
  valueType?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  discriminator?: string;
}

interface FieldInfo {
  /** The zod type of the field once optional/default are unwrapped. */
  type: string;
  required: boolean;
  /** The field is one branch's key of a non-discriminated union (an expectation kind). */
  inUnionBranch: boolean;
}

const defOf = (schema: z.core.$ZodType): SchemaDef => schema._zod.def;
const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch']);

function unwrap(schema: z.core.$ZodType): { def: SchemaDef; optional: boolean } {
  let def = defOf(schema);
  let optional = false;
  while (WRAPPERS.has(def.type) && def.innerType) {
    optional = true;
    def = defOf(def.innerType);
  }
  return { def, optional };
}

/**
 * Every field path of `schema`: object keys by name, array elements and record values as `*`,
 * union branches merged at the union's path.
 */
function fieldPaths(
  schema: z.core.$ZodType,
  prefix = '',
  out = new Map<string, FieldInfo>(),
  inUnionBranch = false,
): Map<string, FieldInfo> {
  const { def } = unwrap(schema);
  const child = (key: string): string => (prefix ? `${prefix}.${key}` : key);
  if (def.type === 'object' && def.shape) {
    for (const [key, value] of Object.entries(def.shape)) {
      const { def: inner, optional } = unwrap(value);
      const path = child(key);
      if (!out.has(path)) out.set(path, { type: inner.type, required: !optional, inUnionBranch });
      fieldPaths(value, path, out);
    }
  } else if (def.type === 'array' && def.element) {
    fieldPaths(def.element, child('*'), out);
  } else if (def.type === 'record' && def.valueType) {
    fieldPaths(def.valueType, child('*'), out);
  } else if (def.type === 'union' && def.options) {
    for (const option of def.options) fieldPaths(option, prefix, out, def.discriminator === undefined);
  }
  return out;
}

const FIELDS = fieldPaths(trainingRunInputSchema);

// ---------------------------------------------------------------------------------------------
// A valid input that sets every field, and a way to make one field bad
// ---------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;
/** A fresh conversation each time (inputs are mutated by the cases). */
const messages = (): Json[] => [
  { role: 'system', content: 'Answer briefly.' },
  { role: 'user', content: 'What is 2 + 2?' },
  { role: 'assistant', content: '4' },
  { role: 'user', content: 'And 3 + 3?' },
];

/** Every field of the schema set to a valid value (the huggingface dataset branch). */
function everyField(): Json {
  return {
    trainer: {
      name: 'every-field',
      model: 'unsloth/gemma-4-E4B-it',
      dataset: { type: 'huggingface', name: 'arkor/demo', split: 'train', subset: 'default' },
      lora: { r: 16, alpha: 16, maxLength: 1024, loadIn4bit: true },
      maxSteps: 30,
      numTrainEpochs: 1,
      learningRate: 0.0002,
      batchSize: 2,
      weightDecay: 0.01,
      optim: 'adamw_8bit',
      lrSchedulerType: 'linear',
      warmupSteps: 5,
      loggingSteps: 1,
      saveSteps: 10,
      evalSteps: 10,
      trainOnResponsesOnly: true,
      datasetFormat: { type: 'chat' },
      datasetSplit: { train: 0.9 },
      dryRun: false,
    },
    callbacks: {
      set: 'default',
      onFailure: 'continue',
      retry: { maximumAttempts: 3, initialInterval: '1s', maximumInterval: '10s' },
      timeout: '1m',
      overrides: {
        onLog: { retry: { maximumAttempts: 2, initialInterval: 100, maximumInterval: '1s' }, timeout: '30s' },
      },
    },
    earlyStopping: {
      nonFiniteLoss: true,
      lossCeiling: { value: 5, afterStep: 3 },
      patience: { metric: 'evalLoss', evaluations: 3, minDelta: 0.01 },
    },
    budget: { maxSteps: 100, maxWallTime: '1h' },
    stream: { heartbeatTimeout: '20s' },
    continueAsNew: { afterSignals: 200 },
    smokeTest: {
      prompts: [
        {
          name: 'contains',
          messages: messages(),
          expect: { contains: 'Paris', caseSensitive: true },
          weight: 2,
          maxTokens: 64,
        },
        { name: 'regex', messages: messages(), expect: { regex: '^\\d+$', flags: 'i' } },
        { name: 'exact', messages: messages(), expect: { exact: '6', caseSensitive: false } },
        { name: 'json', messages: messages(), expect: { jsonSchema: { type: 'object' }, name: 'answer' } },
        { name: 'scorer', messages: messages(), expect: { scorer: 'length', options: { max: 10 } } },
      ],
      floor: 0.2,
      regressionTolerance: 0.3,
      timeout: '5m',
    },
    gate: { minScore: 0.5, mustBeatDeployed: true },
    approval: { timeout: '1h' },
    promotion: {
      deployment: 'support-bot',
      create: true,
      target: 'final',
      authMode: 'fixed_api_key',
      createKey: { label: 'production' },
    },
    notifications: { channels: ['team'], events: ['completed', 'failed'] },
    precondition: { check: 'dataset-revision', scope: 'support' },
    heartbeatTimeout: '30s',
    labels: { team: 'ml' },
  };
}

/** The state a run hands to its continuation: internal, never in a user's input. */
function resumeState(): Json {
  return {
    jobId: 'job-1',
    cursor: '12',
    cursorOffset: 1,
    dispatched: { cursor: '11', offset: 0 },
    recentEventIds: ['11', '12'],
    pendingEvents: [],
    startedAtMs: 1,
    runNumber: 2,
    summary: {},
  };
}

/** The same with the blob dataset branch. */
function everyFieldBlob(): Json {
  const input = everyField();
  (input.trainer as Json).dataset = { type: 'blob', url: 'https://data.example/train.jsonl', tokenEnv: 'DATA_TOKEN' };
  return input;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A concrete path (`*` replaced by an index or key that exists) in `input`, or undefined. */
function concretize(field: string, input: unknown): string | undefined {
  const [head, ...rest] = field.split('.');
  if (head === undefined || !isRecord(input)) return undefined;
  const candidates = head === '*' ? Object.keys(input) : [head];
  for (const key of candidates) {
    if (!(key in input)) continue;
    if (rest.length === 0) return key;
    const tail = concretize(rest.join('.'), input[key]);
    if (tail !== undefined) return `${key}.${tail}`;
  }
  return undefined;
}

/** `field` made concrete in the every-field input (or its blob variant), with that input. */
function locate(field: string): { path: string; base: () => Json } {
  for (const base of [everyField, everyFieldBlob]) {
    const path = concretize(field, base());
    if (path !== undefined) return { path, base };
  }
  throw new Error(`the every-field input has no ${field}`);
}

function parentOf(input: Json, path: string): { parent: Record<string, unknown>; key: string } {
  const keys = path.split('.');
  const key = keys.pop()!;
  let parent: unknown = input;
  for (const part of keys) parent = (parent as Record<string, unknown>)[part];
  assert.ok(isRecord(parent), `no parent for ${path}`);
  return { parent, key };
}

function withValue(base: Json, path: string, value: unknown): Json {
  const { parent, key } = parentOf(base, path);
  parent[key] = value;
  return base;
}

function without(base: Json, path: string): Json {
  const { parent, key } = parentOf(base, path);
  delete parent[key];
  return base;
}

/**
 * Asserts that `input` is rejected with an `InvalidTrainingInputError` whose every issue is at
 * exactly `path` (so the message names that field, and no other), and returns the messages.
 */
function assertRejectedAt(input: unknown, path: string, label: string, parse = parseTrainingRunInput): string[] {
  let error: unknown;
  try {
    parse(input);
  } catch (caught) {
    error = caught;
  }
  assert.ok(error instanceof InvalidTrainingInputError, `${label}: accepted (expected a failure at ${path})`);
  assert.ok(error.message.includes(`${path}: `), `${label}: message does not name ${path}: ${error.message}`);
  const paths = error.issues.map((issue) => issue.slice(0, issue.indexOf(': ')));
  assert.deepEqual([...new Set(paths)], [path], `${label}: ${error.message}`);
  return error.issues;
}

// ---------------------------------------------------------------------------------------------
// The table of wrong values: one entry per field path of the schema
// ---------------------------------------------------------------------------------------------

/** A bad value set at the field (its concrete path), or a whole input and where it is wrong. */
type BadCase = { value: unknown; why: string; expect?: string } | { build: () => Json; why: string; expect: string };

/**
 * Wrong values per field. A string instead of cases says why the field has none beyond the
 * generic ones (wrong type, unknown key, missing): a boolean, or a text any value of is valid.
 */
const WRONG_VALUES: Record<string, BadCase[] | string> = {
  trainer: 'an object: wrong type, unknown key and missing fields are the generic cases',
  'trainer.name': [
    { value: '', why: 'empty' },
    { value: 'x'.repeat(121), why: 'longer than 120' },
  ],
  'trainer.model': [
    { value: 'gpt-5', why: 'unsupported model' },
    { value: 'unsloth/gemma-3-4b-it', why: 'unsupported model of the same family' },
  ],
  'trainer.dataset': [
    {
      value: { type: 'ftp', url: 'ftp://data.example/x' },
      why: 'unknown dataset type',
      expect: 'trainer.dataset.type',
    },
    {
      build: () => withValue(everyFieldBlob(), 'trainer.dataset.token', 'inline-secret'),
      why: 'a secret inline instead of by variable name',
      expect: 'trainer.dataset.token',
    },
    {
      build: () => withValue(everyField(), 'trainer.dataset.url', 'https://data.example/x'),
      why: 'a blob field on a huggingface dataset',
      expect: 'trainer.dataset.url',
    },
  ],
  'trainer.dataset.type': [{ value: 'ftp', why: 'unknown type' }],
  'trainer.dataset.name': [{ value: '', why: 'empty' }],
  'trainer.dataset.split': [{ value: '', why: 'empty' }],
  'trainer.dataset.subset': [{ value: '', why: 'empty' }],
  'trainer.dataset.url': [
    { value: 'not a url', why: 'not a URL' },
    { value: 'ftp://data.example/train.jsonl', why: 'not http(s)' },
    { value: 'file:///etc/passwd', why: 'a local file' },
  ],
  'trainer.dataset.tokenEnv': [
    { value: 'bad name', why: 'not a variable name' },
    { value: '1TOKEN', why: 'starts with a digit' },
  ],
  'trainer.lora': 'an object: generic cases',
  'trainer.lora.r': [
    { value: 0, why: 'zero' },
    { value: 1.5, why: 'not an integer' },
  ],
  'trainer.lora.alpha': [{ value: -16, why: 'negative' }],
  'trainer.lora.maxLength': [{ value: 0, why: 'zero' }],
  'trainer.lora.loadIn4bit': 'a boolean: every wrong value is a wrong type',
  'trainer.maxSteps': [
    { value: 0, why: 'zero' },
    { value: -3, why: 'negative' },
    { value: 2.5, why: 'not an integer' },
  ],
  'trainer.numTrainEpochs': [{ value: 0, why: 'zero' }],
  'trainer.learningRate': [
    { value: 0, why: 'zero' },
    { value: -0.1, why: 'negative' },
  ],
  'trainer.batchSize': [{ value: 0, why: 'zero' }],
  'trainer.weightDecay': [{ value: -0.01, why: 'negative' }],
  'trainer.optim': [{ value: '', why: 'empty' }],
  'trainer.lrSchedulerType': [{ value: '', why: 'empty' }],
  'trainer.warmupSteps': [
    { value: -1, why: 'negative' },
    { value: 1.5, why: 'not an integer' },
  ],
  'trainer.loggingSteps': [{ value: 0, why: 'zero' }],
  'trainer.saveSteps': [{ value: 0, why: 'zero' }],
  'trainer.evalSteps': [{ value: 0, why: 'zero' }],
  'trainer.trainOnResponsesOnly': 'a boolean',
  'trainer.datasetFormat': [{ value: ['chat'], why: 'a list, not an object' }],
  'trainer.datasetSplit': 'forwarded verbatim to the backend (the SDK does the same): any value is accepted',
  'trainer.dryRun': 'a boolean',
  callbacks: 'an object: generic cases',
  'callbacks.set': [{ value: '', why: 'empty (an unknown set is caught by the worker preflight, see (c))' }],
  'callbacks.onFailure': [{ value: 'ignore', why: 'not fail/continue' }],
  'callbacks.retry': 'an object: generic cases',
  'callbacks.retry.maximumAttempts': [
    { value: 0, why: 'zero' },
    { value: 1001, why: 'over 1000' },
    { value: 2.5, why: 'not an integer' },
  ],
  'callbacks.retry.initialInterval': [
    { value: 'soon', why: 'not a duration' },
    { value: '5 fortnights', why: 'not a unit' },
    { value: '0s', why: 'zero' },
    { value: 0, why: 'zero milliseconds' },
    { value: -5, why: 'negative' },
  ],
  'callbacks.retry.maximumInterval': [{ value: 'forever', why: 'not a duration' }],
  'callbacks.timeout': [{ value: '10', why: 'no unit' }],
  'callbacks.overrides': [
    { value: { onBogus: { timeout: '1s' } }, why: 'not a callback name', expect: 'callbacks.overrides.onBogus' },
  ],
  'callbacks.overrides.*.retry': 'an object: generic cases',
  'callbacks.overrides.*.retry.maximumAttempts': [{ value: 0, why: 'zero' }],
  'callbacks.overrides.*.retry.initialInterval': [{ value: 'x', why: 'not a duration' }],
  'callbacks.overrides.*.retry.maximumInterval': [{ value: 'h2', why: 'unit before the number' }],
  'callbacks.overrides.*.timeout': [{ value: 'never', why: 'not a duration' }],
  earlyStopping: 'an object: generic cases',
  'earlyStopping.nonFiniteLoss': 'a boolean',
  'earlyStopping.lossCeiling': 'an object: generic cases',
  'earlyStopping.lossCeiling.value': [{ value: Number.POSITIVE_INFINITY, why: 'not finite' }],
  'earlyStopping.lossCeiling.afterStep': [
    { value: -1, why: 'negative' },
    { value: 2.5, why: 'not an integer' },
  ],
  'earlyStopping.patience': 'an object: generic cases',
  'earlyStopping.patience.metric': [{ value: 'accuracy', why: 'not loss/evalLoss' }],
  'earlyStopping.patience.evaluations': [{ value: 0, why: 'zero' }],
  'earlyStopping.patience.minDelta': [{ value: -0.1, why: 'negative' }],
  budget: 'an object: generic cases',
  'budget.maxSteps': [{ value: 0, why: 'zero' }],
  'budget.maxWallTime': [
    { value: 'forever', why: 'not a duration' },
    { value: 0, why: 'zero' },
  ],
  stream: 'an object: generic cases',
  'stream.heartbeatTimeout': [{ value: '30 secs later', why: 'not a duration' }],
  continueAsNew: 'an object: generic cases',
  'continueAsNew.afterSignals': [{ value: 0, why: 'zero' }],
  smokeTest: 'an object: generic cases',
  'smokeTest.prompts': [
    { value: [], why: 'no prompts' },
    {
      value: Array.from({ length: 51 }, (_, index) => ({
        name: `p${index}`,
        messages: messages(),
        expect: { contains: 'x' },
      })),
      why: 'too many prompts (over 50)',
    },
    {
      value: [
        { name: 'same', messages: messages(), expect: { contains: 'a' } },
        { name: 'same', messages: messages(), expect: { contains: 'b' } },
      ],
      why: 'duplicate prompt names',
    },
  ],
  'smokeTest.prompts.*.name': [
    { value: '', why: 'empty' },
    { value: 'x'.repeat(81), why: 'longer than 80' },
  ],
  'smokeTest.prompts.*.messages': [
    { value: [], why: 'no messages' },
    { value: Array.from({ length: 51 }, () => ({ role: 'user', content: 'hi' })), why: 'oversized: over 50 messages' },
  ],
  'smokeTest.prompts.*.messages.*.role': [{ value: 'tool', why: 'not system/user/assistant' }],
  'smokeTest.prompts.*.messages.*.content': [
    { value: 'x'.repeat(20_001), why: 'oversized prompt: over 20000 characters' },
  ],
  'smokeTest.prompts.*.expect': [
    { value: {}, why: 'no expectation kind' },
    { value: { contains: 'a', regex: 'b' }, why: 'two expectation kinds' },
    { value: { equals: 'a' }, why: 'an unknown kind' },
  ],
  'smokeTest.prompts.*.expect.contains': [
    { value: '', why: 'empty text' },
    { value: [], why: 'empty list' },
    { value: ['ok', ''], why: 'an empty text in the list', expect: 'smokeTest.prompts.0.expect.contains.1' },
  ],
  'smokeTest.prompts.*.expect.caseSensitive': 'a boolean',
  'smokeTest.prompts.*.expect.regex': [
    { value: '(', why: 'does not compile' },
    { value: '', why: 'empty' },
  ],
  'smokeTest.prompts.*.expect.flags': [{ value: 'q', why: 'not a regex flag' }],
  'smokeTest.prompts.*.expect.exact': 'any text (even empty) is a valid exact answer',
  'smokeTest.prompts.*.expect.jsonSchema': [{ value: ['object'], why: 'a list, not a schema object' }],
  'smokeTest.prompts.*.expect.name': [
    { value: 'has space', why: 'not a response-format name' },
    { value: 'x'.repeat(65), why: 'longer than 64' },
  ],
  'smokeTest.prompts.*.expect.scorer': [{ value: '', why: 'empty' }],
  'smokeTest.prompts.*.expect.options': [{ value: ['max'], why: 'a list, not an object' }],
  'smokeTest.prompts.*.weight': [
    { value: 0, why: 'zero' },
    { value: -1, why: 'negative' },
  ],
  'smokeTest.prompts.*.maxTokens': [
    { value: 0, why: 'zero' },
    { value: 4097, why: 'over 4096' },
  ],
  'smokeTest.floor': [
    { value: 1.5, why: 'over 1' },
    { value: -0.1, why: 'under 0' },
  ],
  'smokeTest.regressionTolerance': [{ value: 2, why: 'over 1' }],
  'smokeTest.timeout': [{ value: 'x', why: 'not a duration' }],
  gate: [
    {
      build: () => without(withValue(everyField(), 'gate.mustBeatDeployed', false), 'smokeTest'),
      why: 'a gate without smoke-test prompts to score',
      expect: 'gate',
    },
  ],
  'gate.minScore': [
    { value: 1.1, why: 'over 1' },
    { value: -1, why: 'under 0' },
  ],
  'gate.mustBeatDeployed': [
    {
      build: () => without(everyField(), 'promotion'),
      why: 'nothing deployed to compare with',
      expect: 'gate.mustBeatDeployed',
    },
  ],
  approval: 'an object: generic cases',
  'approval.timeout': [{ value: 'later', why: 'not a duration' }],
  promotion: 'an object: generic cases',
  'promotion.deployment': [
    { value: 'Support-Bot', why: 'upper case' },
    { value: 'a', why: 'shorter than 2' },
    { value: 'x'.repeat(51), why: 'longer than 50' },
    { value: '-bot', why: 'leading dash' },
    { value: 'bot-', why: 'trailing dash' },
    { value: 'support_bot', why: 'underscore' },
    { value: 'support bot', why: 'space' },
    { value: 'api', why: 'reserved' },
    { value: 'www', why: 'reserved' },
  ],
  'promotion.create': 'a boolean',
  'promotion.target': [
    { value: 'latest', why: 'not final/best-checkpoint' },
    {
      build: () =>
        withValue(without(without(everyField(), 'smokeTest'), 'gate'), 'promotion.target', 'best-checkpoint'),
      why: 'the best checkpoint without smoke-test prompts',
      expect: 'promotion.target',
    },
  ],
  'promotion.authMode': [{ value: 'oauth', why: 'not none/fixed_api_key' }],
  'promotion.createKey': 'an object: generic cases',
  'promotion.createKey.label': [
    { value: '', why: 'empty' },
    { value: '   ', why: 'blank' },
    { value: 'x'.repeat(81), why: 'longer than 80' },
  ],
  notifications: 'an object: generic cases',
  'notifications.channels': [
    { value: [], why: 'no channel' },
    { value: ['Team Alerts'], why: 'not a channel name', expect: 'notifications.channels.0' },
    { value: ['team', '-x'], why: 'leading dash', expect: 'notifications.channels.1' },
  ],
  'notifications.events': [
    { value: [], why: 'no event' },
    { value: ['finished'], why: 'unknown event', expect: 'notifications.events.0' },
  ],
  precondition: 'an object: generic cases',
  'precondition.check': [{ value: '', why: 'empty' }],
  'precondition.scope': [
    { value: '', why: 'empty' },
    { value: 'x'.repeat(201), why: 'longer than 200' },
  ],
  heartbeatTimeout: [
    { value: '30', why: 'no unit' },
    { value: 0, why: 'zero' },
  ],
  labels: [{ value: { team: 1 }, why: 'a number label', expect: 'labels.team' }],
};

/** A value of another JSON type than the field takes (`true` fits only booleans). */
const wrongTypeFor = (info: FieldInfo): unknown => (info.type === 'boolean' ? 'yes' : true);
/** Fields that accept any value, so they have no wrong type. */
const ACCEPT_ANYTHING = new Set(['unknown', 'any', 'custom']);

describe('bad input: every field of the schema', () => {
  it('the every-field inputs are valid, and set every field the schema has', () => {
    parseTrainingRunInput(everyField());
    parseTrainingRunInput(everyFieldBlob());
    for (const field of FIELDS.keys()) locate(field);
    // Control: the walk found the nested fields too.
    for (const field of [
      'trainer.dataset.tokenEnv',
      'callbacks.overrides.*.retry.maximumAttempts',
      'smokeTest.prompts.*.expect.regex',
      'promotion.createKey.label',
    ]) {
      assert.ok(FIELDS.has(field), field);
    }
  });

  it('the table of wrong values covers every field of the schema, and nothing else', () => {
    const missing = [...FIELDS.keys()].filter((field) => !(field in WRONG_VALUES));
    const stale = Object.keys(WRONG_VALUES).filter((field) => !FIELDS.has(field));
    assert.deepEqual(missing, [], 'fields without a bad-value case: add them to WRONG_VALUES');
    assert.deepEqual(stale, [], 'WRONG_VALUES names fields the schema no longer has');
  });

  it('a wrong type in any field is rejected, naming its dotted path', () => {
    let checked = 0;
    for (const [field, info] of FIELDS) {
      const { path, base } = locate(field);
      if (ACCEPT_ANYTHING.has(info.type)) {
        // The control: this field really takes anything (so it needs no wrong-type case).
        parseTrainingRunInput(withValue(base(), path, true));
        continue;
      }
      const issues = assertRejectedAt(withValue(base(), path, wrongTypeFor(info)), path, `${field} wrong type`);
      assert.ok(
        issues.every((issue) => /expected|must|Invalid/.test(issue)),
        issues.join('; '),
      );
      checked++;
    }
    assert.ok(checked >= 100, `only ${checked} fields checked`);
  });

  it('an unknown key in any object is rejected, naming it', () => {
    assertRejectedAt({ ...everyField(), surprise: 1 }, 'surprise', 'top level');
    for (const [field, info] of FIELDS) {
      if (info.type !== 'object' && !(info.type === 'union' && field === 'trainer.dataset')) continue;
      const { path, base } = locate(field);
      const input = base();
      (parentOf(input, `${path}.x`).parent as Json).unexpectedField = 1;
      const [issue] = assertRejectedAt(input, `${path}.unexpectedField`, `${field} unknown key`);
      assert.match(issue ?? '', /: unknown field$/);
    }
  });

  it('a missing required field is rejected, naming it', () => {
    for (const [field, info] of FIELDS) {
      if (!info.required) continue;
      const { path, base } = locate(field);
      // In an expectation, the kind's key is what picks the branch: without it, the expectation as a whole is wrong.
      const expected = info.inUnionBranch ? path.slice(0, path.lastIndexOf('.')) : path;
      const issues = assertRejectedAt(without(base(), path), expected, `${field} missing`);
      assert.equal(issues.length, 1, issues.join('; '));
      // The dataset's `type` picks its branch: zod lists the types it takes instead.
      if (!info.inUnionBranch)
        assert.match(
          issues[0] ?? '',
          field === 'trainer.dataset.type' ? /: Invalid discriminator value/ : /: is required/,
          field,
        );
    }
  });

  it('a wrong value in any field is rejected, naming its dotted path', () => {
    for (const [field, cases] of Object.entries(WRONG_VALUES)) {
      if (typeof cases === 'string') continue;
      for (const bad of cases) {
        if ('build' in bad) {
          assertRejectedAt(bad.build(), bad.expect, `${field}: ${bad.why}`);
        } else {
          const { path, base } = locate(field);
          assertRejectedAt(withValue(base(), path, bad.value), bad.expect ?? path, `${field}: ${bad.why}`);
        }
      }
    }
  });

  it('says what is wrong in words a user can act on', () => {
    const issuesOf = (field: string, value: unknown): string[] => {
      const { path, base } = locate(field);
      return assertRejectedAt(withValue(base(), path, value), path, field);
    };
    assert.deepEqual(issuesOf('trainer.model', 'gpt-5'), [
      'trainer.model: must be one of the supported models: unsloth/gemma-4-E4B-it',
    ]);
    assert.deepEqual(issuesOf('promotion.deployment', 'api'), ['promotion.deployment: is a reserved name']);
    assert.deepEqual(issuesOf('promotion.deployment', 'Bot'), [
      'promotion.deployment: must be lowercase letters, digits and inner dashes',
    ]);
    assert.deepEqual(issuesOf('smokeTest.prompts.*.messages.*.content', 'x'.repeat(20_001)), [
      'smokeTest.prompts.0.messages.0.content: must be at most 20000 characters',
    ]);
    assert.deepEqual(issuesOf('budget.maxWallTime', 'forever'), [
      'budget.maxWallTime: must be a duration such as "30s", "5m", "2h" or "1 day"',
    ]);
    assert.deepEqual(issuesOf('budget.maxWallTime', true), [
      'budget.maxWallTime: expected number or string, received boolean',
    ]);
    assert.deepEqual(issuesOf('smokeTest.prompts.*.expect.contains', 5), [
      'smokeTest.prompts.0.expect.contains: expected string or array, received number',
    ]);
    assert.deepEqual(issuesOf('smokeTest.prompts.*.expect', {}), [
      'smokeTest.prompts.0.expect: must be an object with exactly one of contains, regex, exact, jsonSchema or scorer',
    ]);
  });
});

describe('bad input: the internal continue-as-new state', () => {
  it('a user input that sets resume is refused, naming the field and why', () => {
    assert.ok(!FIELDS.has('resume'), 'the user-facing schema has no resume field');
    for (const resume of [resumeState(), {}, null]) {
      const issues = assertRejectedAt({ ...everyField(), resume }, 'resume', 'resume in a user input');
      assert.deepEqual(issues, [
        'resume: is internal, set only by a run that continues as new (the state it hands over); an input cannot set it',
      ]);
    }
    // Only at the top level: a nested unknown key named resume is just unknown.
    const nested = everyField();
    (nested.trainer as Json).resume = 1;
    assert.deepEqual(assertRejectedAt(nested, 'trainer.resume', 'nested resume'), ['trainer.resume: unknown field']);
  });

  it('the workflow’s own argument takes it, and refuses a malformed one naming the field', () => {
    const continued = parseTrainingRunWorkflowInput({ ...everyField(), resume: resumeState() });
    assert.equal(continued.resume?.runNumber, 2);
    assert.deepEqual(continued.resume?.pendingEvents, []);
    assert.equal(parseTrainingRunWorkflowInput(everyField()).resume, undefined);
    const bad: Array<{ field: string; value: unknown; expect?: string }> = [
      { field: 'cursorOffset', value: -1 },
      { field: 'dispatched', value: { cursor: '11', offset: 1.5 }, expect: 'dispatched.offset' },
      { field: 'recentEventIds', value: [1], expect: 'recentEventIds.0' },
      { field: 'runNumber', value: 0 },
      { field: 'runNumber', value: 1.5 },
      { field: 'summary', value: ['x'] },
      { field: 'jobId', value: 7 },
    ];
    for (const { field, value, expect } of bad) {
      const input = { ...everyField(), resume: { ...resumeState(), [field]: value } };
      assertRejectedAt(input, `resume.${expect ?? field}`, `resume.${field}`, parseTrainingRunWorkflowInput);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// (b)-(d): through the real system
// ---------------------------------------------------------------------------------------------

const workDir = mkdtempSync(join(tmpdir(), 'arkor-bad-input-'));
function writeFile(name: string, text: string): string {
  const file = join(workDir, name);
  writeFileSync(file, text);
  return file;
}

/** Bad inputs as users write them, each with the field its message must name. */
const SYSTEM_CASES: Array<{ id: string; field: string; input: unknown }> = [
  {
    id: 'model',
    field: 'trainer.model',
    input: trainingInput({ trainer: { model: 'gpt-5' as 'unsloth/gemma-4-E4B-it' } }),
  },
  { id: 'steps', field: 'trainer.maxSteps', input: trainingInput({ trainer: { maxSteps: -3 } }) },
  {
    id: 'url',
    field: 'trainer.dataset.url',
    input: trainingInput({ trainer: { dataset: { type: 'blob', url: 'ftp://x.example/d' } } }),
  },
  { id: 'slug', field: 'promotion.deployment', input: trainingInput({ promotion: { deployment: 'Support_Bot' } }) },
  {
    id: 'prompt',
    field: 'smokeTest.prompts.0.messages.0.content',
    input: trainingInput({
      smokeTest: {
        prompts: [
          { name: 'big', messages: [{ role: 'user', content: 'x'.repeat(20_001) }], expect: { contains: 'x' } },
        ],
      },
    }),
  },
  {
    id: 'retry',
    field: 'callbacks.overrides.onLog.retry.maximumAttempts',
    input: trainingInput({ callbacks: { overrides: { onLog: { retry: { maximumAttempts: 0 } } } } }),
  },
  {
    id: 'unknown',
    field: 'trainer.learningrate',
    input: { ...trainingInput(), trainer: { ...trainingInput().trainer, learningrate: 0.1 } },
  },
  // The continue-as-new state the workflow hands itself: never from a user.
  { id: 'resume', field: 'resume', input: { ...trainingInput(), resume: resumeState() } },
];

/** A Node stack frame line. */
const STACK_FRAME = /^\s+at /m;

describe('bad input through the service, the CLI and the worker', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.startWorker();
  });
  after(async () => h?.close());

  async function assertNoWorkflow(workflowId: string): Promise<void> {
    await assert.rejects(
      h.temporal.client.workflow.getHandle(workflowId).describe(),
      WorkflowNotFoundError,
      `${workflowId} exists`,
    );
  }

  it('TrainingService.start rejects before anything exists, naming the field', async () => {
    for (const bad of SYSTEM_CASES) {
      const workflowId = `bad-service-${bad.id}`;
      await assert.rejects(h.service.start(bad.input as TrainingRunInput, { workflowId }), (error: unknown) => {
        assert.ok(error instanceof InvalidTrainingInputError, String(error));
        assert.ok(error.message.includes(`${bad.field}: `), `${bad.id}: ${error.message}`);
        return true;
      });
      await assertNoWorkflow(workflowId);
    }
    assert.equal(h.emulator.stats().jobs.length, 0);
  });

  it('ScheduleService.create and update refuse the internal resume before any schedule exists', async () => {
    const schedules = new ScheduleService(h.temporal.client, { taskQueue: h.taskQueue });
    const input = { ...trainingInput(), resume: resumeState() } as TrainingRunInput;
    const namesResume = (error: unknown): boolean => {
      assert.ok(error instanceof InvalidTrainingInputError, String(error));
      assert.ok(error.message.includes('resume: is internal'), error.message);
      return true;
    };
    await assert.rejects(schedules.create('bad-resume', input, { every: '1h' }), namesResume);
    await assert.rejects(schedules.update('bad-resume', input, { every: '1h' }), namesResume);
    await assert.rejects(schedules.describe('bad-resume'), ScheduleNotFoundError);
  });

  it('the CLI start exits 2 naming the field, without a stack trace, and starts nothing', async () => {
    // A few of the cases (each CLI run is a process start): the shared path is the same.
    for (const bad of SYSTEM_CASES.filter((c) => ['model', 'slug', 'prompt', 'unknown', 'resume'].includes(c.id))) {
      const workflowId = `bad-cli-${bad.id}`;
      const config = writeFile(`${bad.id}.json`, JSON.stringify(bad.input));
      const run = await runClient(h, ['start', '--config', config, '--workflow-id', workflowId, '--wait']);
      assert.equal(run.code, 2, `${bad.id}: ${run.stderr}`);
      assert.equal(run.stdout, '');
      assert.ok(run.stderr.includes(`  - ${bad.field}: `), `${bad.id}: ${run.stderr}`);
      assert.match(
        run.stderr,
        new RegExp(`^error: config ${config.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is invalid$`, 'm'),
      );
      assert.doesNotMatch(run.stderr, STACK_FRAME);
      await assertNoWorkflow(workflowId);
    }
    // A file that is not JSON, and one that does not exist: the file is named, exit 2.
    const notJson = writeFile('not-json.json', '{ trainer: ');
    const broken = await runClient(h, ['start', '--config', notJson, '--workflow-id', 'bad-cli-not-json']);
    assert.equal(broken.code, 2);
    assert.match(broken.stderr, /^error: config .*not-json\.json is not valid JSON/);
    assert.doesNotMatch(broken.stderr, STACK_FRAME);
    const missing = await runClient(h, ['start', '--config', join(workDir, 'nowhere.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error: cannot read config .*nowhere\.json \(ENOENT\)/);
    await assertNoWorkflow('bad-cli-not-json');
    assert.equal(h.emulator.stats().jobs.length, 0);
    // Visibility agrees: no run of this file's ids was ever started.
    const listed: string[] = [];
    for await (const info of h.temporal.client.workflow.list({ query: `WorkflowType = 'trainingRun'` }))
      listed.push(info.workflowId);
    assert.deepEqual(
      listed.filter((id) => id.startsWith('bad-')),
      [],
    );
  });

  it('a run naming a callback set the worker lacks fails at preflight, with zero jobs', async () => {
    const { workflowId } = await h.service.start(
      trainingInput({ trainer: { name: 'no-such-set' }, callbacks: { set: 'nightly' } }),
    );
    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'failed');
    assert.equal(result.jobId, undefined);
    assert.match(result.reason ?? '', /callbacks\.set: the worker has no callback set "nightly" \(it has: /);
    assert.equal(h.emulator.stats().jobs.length, 0);
  });

  it('a callbacks module that does not load, or exports the wrong shape, is refused naming the module and export', async () => {
    const cases: Array<{ file: string; text: string; expect: RegExp }> = [
      {
        file: 'syntax.mjs',
        text: 'export default { onLog( };\n',
        expect: /^Cannot load the callbacks module .*syntax\.mjs: /,
      },
      {
        file: 'throws.mjs',
        text: "throw new Error('database not reachable');\n",
        expect: /^Cannot load the callbacks module .*throws\.mjs: database not reachable$/,
      },
      {
        file: 'not-functions.mjs',
        text: "export default { onLog: 'log it' };\n",
        expect: /^Export "default" of .*not-functions\.mjs member "onLog" is not a function\.$/,
      },
      {
        file: 'typo.mjs',
        text: 'export const nightly = { onLogg() {} };\n',
        expect: /^Export "nightly" of .*typo\.mjs has an unknown member "onLogg"/,
      },
      {
        file: 'not-object.mjs',
        text: 'export const retries = 3;\n',
        expect: /^Export "retries" of .*not-object\.mjs is not an object of callbacks\.$/,
      },
      {
        file: 'empty.mjs',
        text: 'export {};\n',
        expect: /^The callbacks module .*empty\.mjs exports no callback set\.$/,
      },
    ];
    for (const bad of cases) {
      const path = writeFile(bad.file, bad.text);
      await assert.rejects(loadCallbackSets(path), (error: unknown) => {
        assert.ok(error instanceof CallbackModuleError, String(error));
        assert.match(error.message, bad.expect);
        return true;
      });
    }
    await assert.rejects(
      loadCallbackSets(join(workDir, 'missing.mjs')),
      /^CallbackModuleError: Cannot load the callbacks module .*missing\.mjs: /,
    );

    // The worker process refuses to start: one line naming the module (or export), no stack trace.
    for (const [file, expect] of [
      ['syntax.mjs', /Cannot load the callbacks module .*syntax\.mjs/],
      ['not-functions.mjs', /Export "default" of .*not-functions\.mjs member "onLog" is not a function/],
    ] as const) {
      const error: unknown = await h.spawnWorker({ ARKOR_CALLBACKS_MODULE: join(workDir, file) }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof Error, `the worker started with ${file}`);
      assert.match(error.message, /^worker exited \(1\) before it was ready/);
      assert.match(error.message, expect);
      assert.doesNotMatch(error.message, STACK_FRAME);
    }
    assert.equal(h.emulator.stats().jobs.length, 0);
  });

  it('a worker variable with a bad value is named (and a secret value is not echoed)', async () => {
    const cases: Array<[string, string]> = [
      ['TEMPORAL_TASK_QUEUE', ''],
      ['ARKOR_CALLBACKS_MODULE', ''],
      ['ARKOR_SCORERS_MODULE', ''],
      ['ARKOR_PRECONDITIONS_MODULE', ''],
      ['ARKOR_WORKER_QUEUES', 'both'],
      ['ARKOR_MAX_STREAMS', 'many'],
      ['ARKOR_MAX_ACTIVITIES', '0'],
      ['ARKOR_MAX_CACHED_WORKFLOWS', '1'],
      ['ARKOR_MAX_CACHED_WORKFLOWS', '-2'],
      ['ARKOR_LOG_BATCH_MAX_EVENTS', '-1'],
      ['ARKOR_LOG_BATCH_MAX_DELAY_MS', '1.5'],
      ['ARKOR_STREAM_IDLE_TIMEOUT_MS', 'soon'],
      ['ARKOR_SHUTDOWN_GRACE_MS', '0'],
      ['ARKOR_METRICS_PORT', '70000'],
      ['ARKOR_METRICS_BIND', 'everywhere'],
    ];
    for (const [variable, value] of cases) {
      assert.throws(
        () => loadWorkerSettings({ [variable]: value }),
        (error: unknown) =>
          error instanceof Error &&
          error.message.startsWith('Invalid worker configuration: ') &&
          error.message.includes(`${variable}: `),
        `${variable}=${value}`,
      );
    }
    // Two bad variables: both named.
    assert.throws(
      () => loadWorkerSettings({ ARKOR_MAX_STREAMS: 'x', ARKOR_SHUTDOWN_GRACE_MS: 'y' }),
      /ARKOR_MAX_STREAMS: .*; ARKOR_SHUTDOWN_GRACE_MS: /,
    );
    // Control: good values load.
    assert.equal(loadWorkerSettings({ ARKOR_MAX_STREAMS: '5' }).ARKOR_MAX_STREAMS, 5);

    // A channel variable: named, its value (a secret URL) not echoed.
    const secretValue = 'webhook:ftp://hooks.example/T0/very-secret-path';
    assert.throws(
      () => loadNotificationChannels({ ARKOR_NOTIFY_TEAM: secretValue }),
      (error: unknown) =>
        error instanceof NotificationConfigError &&
        /ARKOR_NOTIFY_TEAM: /.test(error.message) &&
        !error.message.includes('very-secret-path'),
    );
    assert.throws(
      () => loadNotificationChannels({ ARKOR_NOTIFY_TEAM: 'email:https://x.example/very-secret-path' }),
      /ARKOR_NOTIFY_TEAM: must start with/,
    );

    // The worker process: exits 1 with the variable named, before connecting anywhere.
    for (const [env, expect] of [
      [{ ARKOR_MAX_STREAMS: 'many' }, /Invalid worker configuration: ARKOR_MAX_STREAMS: /],
      [{ ARKOR_NOTIFY_TEAM: secretValue }, /ARKOR_NOTIFY_TEAM: the part after the kind must be an http\(s\) URL/],
    ] as const) {
      const error: unknown = await h.spawnWorker(env).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(error instanceof Error, `the worker started with ${JSON.stringify(env)}`);
      assert.match(error.message, expect);
      assert.ok(!error.message.includes('very-secret-path'), 'the channel URL is echoed');
      assert.doesNotMatch(error.message, STACK_FRAME);
    }
  });
});
