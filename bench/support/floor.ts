/**
 * Runs the floor workflow on the bench rig's server and measures, one message at a time:
 * client signal → start of the activity it causes, and an update's full round trip.
 */
import { randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from '@temporalio/worker';
import type { DevServer } from '../../testing/dev-server.js';
import { echoUpdate, finishSignal, floorWorkflow, pingSignal, type FloorActivities } from './floor-workflow.js';

const floorWorkflowPath = join(dirname(fileURLToPath(import.meta.url)), 'floor-workflow.ts');

export interface FloorResult {
  /** Client `signal()` call → start of the activity it caused, ms. */
  signalToActivity: number[];
  /** `executeUpdate()` call → its result back at the client, ms. */
  updateRoundTrip: number[];
}

export async function measureFloor(h: { temporal: DevServer }, count: number): Promise<FloorResult> {
  const waiters = new Map<number, (at: number) => void>();
  const activities: FloorActivities = {
    floorMark: (seq) => {
      waiters.get(seq)?.(Date.now());
      return Promise.resolve();
    },
  };
  const taskQueue = `floor-${randomUUID()}`;
  const worker = await Worker.create({
    connection: h.temporal.nativeConnection,
    namespace: h.temporal.namespace,
    taskQueue,
    workflowsPath: floorWorkflowPath,
    activities,
  });
  const running = worker.run();
  const result: FloorResult = { signalToActivity: [], updateRoundTrip: [] };
  try {
    const handle = await h.temporal.client.workflow.start(floorWorkflow, {
      taskQueue,
      workflowId: `floor-${randomUUID()}`,
    });
    // Warm-up: the first workflow task replays nothing but still pays for the sandbox.
    await handle.executeUpdate(echoUpdate, { args: [0] });
    for (let seq = 1; seq <= count; seq++) {
      const marked = new Promise<number>((resolve) => waiters.set(seq, resolve));
      const sentAt = Date.now();
      await handle.signal(pingSignal, seq);
      result.signalToActivity.push((await marked) - sentAt);
      waiters.delete(seq);
    }
    for (let seq = 1; seq <= count; seq++) {
      const sentAt = Date.now();
      await handle.executeUpdate(echoUpdate, { args: [seq] });
      result.updateRoundTrip.push(Date.now() - sentAt);
    }
    await handle.signal(finishSignal);
    await handle.result();
  } finally {
    worker.shutdown();
    await running;
  }
  return result;
}
