/**
 * Callback sets for the integration tests. Every call appends one JSON line to the file named by
 * ARKOR_TEST_RECORD_FILE, so tests can count side effects across worker processes (a killed
 * worker's calls included) and read them back with `readRecords`.
 */
import { appendFileSync } from 'node:fs';
import { defineCallbacks, stopRun, type CallbackContext, type TrainingCallbacks } from '../../extensions/callbacks.js';
import type { CallbackName } from '../../contract/input.js';

import { readRecords, type CallbackRecord } from './records.js';

function record(callback: string, context: CallbackContext, extra: Partial<CallbackRecord> = {}): void {
  const file = process.env.ARKOR_TEST_RECORD_FILE;
  if (!file) return;
  const line: CallbackRecord = {
    callback,
    key: context.idempotencyKey,
    ...(context.eventId === undefined ? {} : { eventId: context.eventId }),
    attempt: context.attempt,
    pid: process.pid,
    at: Date.now(),
    ...extra,
  };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}

const recordAll = {
  onStarted: ({ job, context }) => record('onStarted', context, { status: job.status }),
  onLog: ({ step, loss, evalLoss, context }) => record('onLog', context, { step, loss, evalLoss }),
  onCheckpoint: ({ step, context }) => record('onCheckpoint', context, { step }),
  onCompleted: ({ job, artifacts, context }) =>
    record('onCompleted', context, { status: job.status, artifacts: artifacts.length }),
  onFailed: ({ job, error, context }) => record('onFailed', context, { status: job.status, error }),
} satisfies TrainingCallbacks;

export default defineCallbacks(recordAll);

/** onCheckpoint throws on its first two attempts, then succeeds. */
export const flaky = defineCallbacks({
  ...recordAll,
  onCheckpoint: ({ step, context }) => {
    record('onCheckpoint', context, { step });
    if (context.attempt <= 2) throw new Error(`flaky checkpoint handler, attempt ${context.attempt}`);
  },
});

/** onStarted always throws. */
export const broken = defineCallbacks({
  ...recordAll,
  onStarted: ({ job, context }) => {
    record('onStarted', context, { status: job.status });
    throw new Error('onStarted is broken');
  },
});

/** Asks to stop the run at the first checkpoint. */
export const stopAtCheckpoint = defineCallbacks({
  ...recordAll,
  onCheckpoint: ({ step, context }) => {
    record('onCheckpoint', context, { step });
    return stopRun(`checkpoint ${step} is good enough`);
  },
});

/** Slow callbacks, to hold callback slots while streams keep flowing. */
export const slow = defineCallbacks({
  ...recordAll,
  onLog: async ({ step, loss, evalLoss, context }) => {
    await new Promise((resolve) => setTimeout(resolve, 50));
    record('onLog', context, { step, loss, evalLoss });
  },
});

/** One log event of a batch, as the `batched` set records it. */
export interface BatchedLogRecord {
  key: string;
  step: number;
  kind: 'train' | 'eval';
}

/** The record of one `onLogBatch` call: the batch's size and its events in order. */
export type BatchRecord = CallbackRecord & { size: number; events: BatchedLogRecord[] };

/** onLogBatch instead of onLog: one record per batch, listing its events. */
export const batched = defineCallbacks({
  ...recordAll,
  onLogBatch: ({ events, context }) => {
    const file = process.env.ARKOR_TEST_RECORD_FILE;
    if (!file) return;
    const line: BatchRecord = {
      callback: 'onLogBatch',
      key: context.idempotencyKey,
      ...(context.eventId === undefined ? {} : { eventId: context.eventId }),
      attempt: context.attempt,
      pid: process.pid,
      at: Date.now(),
      size: events.length,
      events: events.map((event) => ({
        key: event.idempotencyKey,
        step: event.step,
        kind: event.loss === null ? 'eval' : 'train',
      })),
    };
    appendFileSync(file, `${JSON.stringify(line)}\n`);
  },
});

/** onCompleted takes a second, so a test can act while the run is finishing. */
export const slowCompleted = defineCallbacks({
  ...recordAll,
  onCompleted: async ({ job, artifacts, context }) => {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    record('onCompleted', context, { status: job.status, artifacts: artifacts.length });
  },
});

/** How long a held callback waits: far longer than any test lets a worker live meanwhile. */
const HOLD_MS = 120_000;

/**
 * The recording set, except that the first call of `name` for each job hangs (recorded as
 * `hold:<name>`), so a test can kill the worker while that activity is in flight. Later calls,
 * the retry on the replacement worker included, run normally: the records file, shared by every
 * worker process, remembers that the job was already held.
 */
function holdFirst(name: CallbackName): TrainingCallbacks {
  const callbacks: TrainingCallbacks = { ...recordAll };
  const original = recordAll[name] as (args: { context: CallbackContext }) => void;
  const held = async (args: { context: CallbackContext }): Promise<void> => {
    const { context } = args;
    const file = process.env.ARKOR_TEST_RECORD_FILE;
    const marker = `hold:${name}`;
    if (file && !readRecords(file).some((r) => r.callback === marker && r.key.startsWith(`${context.jobId}:`))) {
      record(marker, context);
      await new Promise((resolve) => setTimeout(resolve, HOLD_MS));
    }
    original(args);
  };
  Object.assign(callbacks, { [name]: held });
  return defineCallbacks(callbacks);
}

export const holdOnStarted = holdFirst('onStarted');
export const holdOnLog = holdFirst('onLog');
export const holdOnCheckpoint = holdFirst('onCheckpoint');
export const holdOnCompleted = holdFirst('onCompleted');
export const holdOnFailed = holdFirst('onFailed');

/**
 * The first onCheckpoint of each job takes ARKOR_TEST_SLOW_CHECKPOINT_MS (default 60 s): the
 * run's backlog fills meanwhile.
 */
export const slowCheckpoint = defineCallbacks({
  ...recordAll,
  onCheckpoint: async ({ step, context }) => {
    const file = process.env.ARKOR_TEST_RECORD_FILE;
    const first =
      !file || !readRecords(file).some((r) => r.callback === 'onCheckpoint' && r.key.startsWith(`${context.jobId}:`));
    if (first)
      await new Promise((resolve) => setTimeout(resolve, Number(process.env.ARKOR_TEST_SLOW_CHECKPOINT_MS ?? 60_000)));
    record('onCheckpoint', context, { step });
  },
});

/**
 * onLog fails on its first attempt at the 8th log of each batch (after recording it), so the
 * retried batch shows where it resumed.
 */
export const logFailsMidBatch = defineCallbacks({
  ...recordAll,
  onLog: ({ step, loss, evalLoss, context }) => {
    record('onLog', context, { step, loss, evalLoss });
    if (context.attempt === 1 && step === 8) throw new Error(`onLog gives up at step ${step}`);
  },
});
