/**
 * The benchmark's callbacks module: every callback appends one JSON line, written the moment the
 * callback starts, to the file named by ARKOR_BENCH_RECORD_FILE. It does nothing else, so the
 * numbers measure delivery, not user code. Log events arrive through `onLogBatch` (one record
 * per onLog activity, listing its events); `onLog` exists for the in-process baseline, which
 * calls it per event as Arkor's own wait() does.
 */
import { defineCallbacks, type CallbackContext } from '../../extensions/callbacks.js';
import { recordTiming } from './timing.js';

const idOf = (context: CallbackContext): string[] => (context.eventId === undefined ? [] : [context.eventId]);

export default defineCallbacks({
  onStarted: ({ context }) => recordTiming('onStarted', context, idOf(context)),
  onLog: ({ context }) => recordTiming('onLog', context, idOf(context)),
  onLogBatch: ({ events, context }) =>
    recordTiming(
      'onLogBatch',
      context,
      events.flatMap((event) => (event.eventId === undefined ? [] : [event.eventId])),
    ),
  onCheckpoint: ({ context }) => recordTiming('onCheckpoint', context, idOf(context)),
  onCompleted: ({ context }) => recordTiming('onCompleted', context, idOf(context)),
  onFailed: ({ context }) => recordTiming('onFailed', context, idOf(context)),
});
