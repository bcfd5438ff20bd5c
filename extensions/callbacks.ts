/**
 * The callbacks a user writes, Arkor-shaped (the SDK's `onStarted`, `onLog`, `onCheckpoint`,
 * `onCompleted`, `onFailed`), and the loader of the module that holds them.
 *
 * Differences from the SDK, all of them because each callback is now a retried activity:
 * - every callback gets a `context` with an idempotency key, so a side effect that is retried
 *   (after a crash or a thrown error) can be recognised and applied once;
 * - `onLogBatch` may take a whole batch of log events instead of one `onLog` call per event;
 * - a callback may return `stopRun(reason)` to end the run early (the backend job is cancelled).
 */
import type { ChatRequest, TrainingJob } from '../arkor/index.js';
import { type EntryDescriptions, importModuleExports } from './load-module.js';

type Awaitable<T> = T | Promise<T>;

/** Returned by a callback to stop the run: the workflow cancels the backend job. */
export interface StopDirective {
  stop: { reason: string };
}

/** What a callback may return. */
export type CallbackReturn = void | undefined | StopDirective;

/** Builds a stop directive. */
export function stopRun(reason: string): StopDirective {
  return { stop: { reason } };
}

export interface CallbackContext {
  workflowId: string;
  jobId: string;
  /** Attempt of the activity running this callback, from 1. */
  attempt: number;
  /**
   * Stable across retries of the same event: `<jobId>:<eventId>` (for a batch, of its last
   * event). Use it to make side effects idempotent.
   */
  idempotencyKey: string;
  /** The stream id of the event, when the backend sent one. */
  eventId?: string;
}

/** Metrics of one `training.log` event; absent metrics are `null`, non-finite ones NaN/±Infinity. */
export interface LogArgs {
  step: number;
  loss: number | null;
  evalLoss: number | null;
  learningRate: number | null;
  epoch: number | null;
  samplesPerSecond: number | null;
}

export interface CheckpointAdapter {
  kind: 'checkpoint';
  jobId: string;
  step: number;
}

/** A chat request without its target: `infer` binds the adapter. */
export type InferArgs = Pick<
  ChatRequest,
  | 'messages'
  | 'temperature'
  | 'topP'
  | 'maxTokens'
  | 'stream'
  | 'tools'
  | 'toolChoice'
  | 'responseFormat'
  | 'structuredOutputs'
>;

/** Inference against the checkpoint: the chat route with the adapter bound; the raw Response. */
export type InferFn = (args: InferArgs) => Promise<Response>;

export interface TrainingCallbacks {
  onStarted?: (args: { job: TrainingJob; context: CallbackContext }) => Awaitable<CallbackReturn>;
  onLog?: (args: LogArgs & { job: TrainingJob; context: CallbackContext }) => Awaitable<CallbackReturn>;
  /** When present it receives whole batches and `onLog` is not called. */
  onLogBatch?: (args: {
    events: Array<LogArgs & { eventId?: string; idempotencyKey: string }>;
    job: TrainingJob;
    context: CallbackContext;
  }) => Awaitable<CallbackReturn>;
  onCheckpoint?: (args: {
    step: number;
    adapter: CheckpointAdapter;
    job: TrainingJob;
    infer: InferFn;
    artifacts: unknown[] | undefined;
    context: CallbackContext;
  }) => Awaitable<CallbackReturn>;
  onCompleted?: (args: {
    job: TrainingJob;
    artifacts: unknown[];
    context: CallbackContext;
  }) => Awaitable<CallbackReturn>;
  onFailed?: (args: { job: TrainingJob; error: string; context: CallbackContext }) => Awaitable<CallbackReturn>;
}

const CALLBACK_KEYS = ['onStarted', 'onLog', 'onLogBatch', 'onCheckpoint', 'onCompleted', 'onFailed'] as const;

/** Identity helper that gives a callback set its type. */
export function defineCallbacks(callbacks: TrainingCallbacks): TrainingCallbacks {
  return callbacks;
}

/** Callback sets by name; `default` is the module's default export. */
export type CallbackSets = ReadonlyMap<string, TrainingCallbacks>;

/** The callbacks module does not load or exports something that is not a callback set. */
export class CallbackModuleError extends Error {
  override readonly name = 'CallbackModuleError';
}

/** Checks that `value` is a callback set; returns why not, or undefined. */
function callbackSetProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return 'is not an object of callbacks';
  for (const [key, member] of Object.entries(value)) {
    if (!(CALLBACK_KEYS as readonly string[]).includes(key)) {
      return `has an unknown member "${key}" (expected ${CALLBACK_KEYS.join(', ')})`;
    }
    if (typeof member !== 'function') return `member "${key}" is not a function`;
  }
  return undefined;
}

/**
 * Loads the user's callbacks module. Every export must be a callback set: a typo in a callback
 * name would otherwise silently never run, so the worker refuses to start instead.
 */
export async function loadCallbackSets(modulePath: string | undefined): Promise<CallbackSets> {
  if (!modulePath) return new Map([['default', {}]]);
  const exported = await importModuleExports(modulePath, 'callbacks', (message) => new CallbackModuleError(message));
  return callbackSetsFrom(exported, {
    entry: (name) => `Export "${name}" of ${modulePath}`,
    empty: `The callbacks module ${modulePath} exports no callback set.`,
  });
}

/**
 * Callback sets from named values (a module's exports, or what a service passes to
 * `createWorker`), with the same checks as a module: every value must be a callback set.
 */
export function callbackSetsFrom(entries: Iterable<[string, unknown]>, describe: EntryDescriptions): CallbackSets {
  const sets = new Map<string, TrainingCallbacks>();
  for (const [name, value] of entries) {
    const problem = callbackSetProblem(value);
    if (problem) throw new CallbackModuleError(`${describe.entry(name)} ${problem}.`);
    sets.set(name, value as TrainingCallbacks);
  }
  if (sets.size === 0) throw new CallbackModuleError(describe.empty);
  return sets;
}
