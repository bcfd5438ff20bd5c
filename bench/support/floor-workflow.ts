/**
 * The floor of the latency benchmark: a workflow that does nothing but turn each `ping` signal
 * into one trivial activity (the same signal → workflow task → activity path a checkpoint takes,
 * without our code), and answers the `echo` update at once (the bare round trip). Bundled on its
 * own by the latency script; it is not part of the worker's workflows.
 */
import { condition, defineSignal, defineUpdate, proxyActivities, setHandler } from '@temporalio/workflow';

export const pingSignal = defineSignal<[number]>('ping');
export const finishSignal = defineSignal('finish');
export const echoUpdate = defineUpdate<number, [number]>('echo');

/** The activity side: marks the start of the activity that carries ping `seq`. */
export interface FloorActivities {
  floorMark(seq: number): Promise<void>;
}

const { floorMark } = proxyActivities<FloorActivities>({ startToCloseTimeout: '10s' });

/** Runs one `floorMark` per ping, in order, until `finish`. */
export async function floorWorkflow(): Promise<void> {
  const queue: number[] = [];
  let finished = false;
  setHandler(pingSignal, (seq) => void queue.push(seq));
  setHandler(echoUpdate, (value) => value);
  setHandler(finishSignal, () => void (finished = true));
  for (;;) {
    await condition(() => queue.length > 0 || finished);
    const seq = queue.shift();
    if (seq === undefined) return;
    await floorMark(seq);
  }
}
