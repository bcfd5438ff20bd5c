/**
 * Callback sets for the shutdown tests: the recording set, and one whose first checkpoint
 * callback in each worker process takes a few seconds, so that a test can stop the worker while
 * a callback is in flight and check that it still finishes there, within the grace time.
 */
import { defineCallbacks } from '../../extensions/callbacks.js';
import recording from './recording-callbacks.js';

export default recording;

/** ARKOR_TEST_SLOW_CHECKPOINT_MS, set by the test (exports other than callback sets are refused). */
const SLOW_CHECKPOINT_MS = Number(process.env.ARKOR_TEST_SLOW_CHECKPOINT_MS ?? 3_000);

const slowed = new Set<string>();

export const slowFirstCheckpoint = defineCallbacks({
  ...recording,
  onCheckpoint: async (args) => {
    if (!slowed.has(args.context.jobId)) {
      slowed.add(args.context.jobId);
      await new Promise((resolve) => setTimeout(resolve, SLOW_CHECKPOINT_MS));
    }
    return recording.onCheckpoint?.(args);
  },
});
