/** The records the timing callbacks write (see timing-callbacks.ts); a module of its own because a callbacks module may export only callback sets. */
import { appendFileSync } from 'node:fs';
import type { CallbackContext } from '../../extensions/callbacks.js';

/** One callback execution. */
export interface TimingRecord {
  callback: string;
  jobId: string;
  /** Stream ids of the events this execution carries (several for onLogBatch). */
  ids: string[];
  /** `Date.now()` at the start of the callback. */
  at: number;
  pid: number;
  attempt: number;
  /** Which path made the call: the worker or the in-process baseline. */
  via: 'worker' | 'baseline';
}

/** The workflow id the in-process baseline puts in the contexts it builds. */
export const BASELINE_WORKFLOW_ID = 'baseline';

/** Appends a record of a callback that starts now. */
export function recordTiming(callback: string, context: CallbackContext, ids: string[]): void {
  const at = Date.now();
  const via = context.workflowId === BASELINE_WORKFLOW_ID ? 'baseline' : 'worker';
  const file = process.env.ARKOR_BENCH_RECORD_FILE;
  if (!file) return;
  const line: TimingRecord = {
    callback,
    jobId: context.jobId,
    ids,
    at,
    pid: process.pid,
    attempt: context.attempt,
    via,
  };
  appendFileSync(file, `${JSON.stringify(line)}\n`);
}
