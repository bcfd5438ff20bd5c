/**
 * Latency: emulator frame written → start of the callback that carries it.
 *
 * - workflow: checkpoint.saved → onCheckpoint activity start; training.log → start of the onLog
 *   activity that carries it (the timing module's onLogBatch records when that activity starts);
 * - baseline: the same job's stream consumed in this process with our `followJobEvents`,
 *   calling the same callbacks directly, one event at a time (what Arkor's own wait() does);
 * - floor: on the same server, a trivial workflow's signal → activity start, and an update's
 *   round trip.
 *
 * Event times are the emulator's payload `timestamp` (written with the frame, ms resolution).
 */
import { followJobEvents } from '../arkor/index.js';
import { toLogArgs, toRunEvent } from '../activities/to-run-event.js';
import { loadCallbackSets, type CallbackContext } from '../extensions/callbacks.js';
import { parseArgs } from './support/args.js';
import { measureFloor } from './support/floor.js';
import { printTable, summarize, writeJson, type Cell } from './support/report.js';
import { benchInput, deliveries, jobIdOf, startBenchRig, streamFlags, timingCallbacksModule } from './support/rig.js';
import { BASELINE_WORKFLOW_ID } from './support/timing.js';

const args = parseArgs();
const runs = args.number('runs', args.quick ? 2 : 5);
const steps = args.number('steps', args.quick ? 200 : 2500);
const stepMs = args.number('step-ms', 20);
const saveSteps = args.number('save-steps', args.quick ? 20 : 25);
const floorCount = args.number('floor', args.quick ? 30 : 200);
const stream = streamFlags(args);
const afterSignals = args.has('after-signals') ? args.number('after-signals', 500) : undefined;

const rig = await startBenchRig({ stepMs });
try {
  // Training starts 2 s after the job is created, so the baseline is connected before the first frame.
  rig.h.emulator.setBehaviour({ kind: 'allJobs' }, { queueMs: 2_000 });
  await rig.startWorker({ stream });
  const callbacks = (await loadCallbackSets(timingCallbacksModule)).get('default');
  if (!callbacks?.onLog || !callbacks.onCheckpoint)
    throw new Error('the timing callbacks module lacks onLog/onCheckpoint');
  const { onLog, onCheckpoint } = callbacks;

  const latencies = {
    workflow: { checkpoint: [] as number[], log: [] as number[] },
    baseline: { checkpoint: [] as number[], log: [] as number[] },
  };
  let missing = 0;
  let workflowRuns = 0;
  await Promise.all(
    Array.from({ length: runs }, async (_, index) => {
      const { workflowId } = await rig.h.service.start(
        benchInput(
          `bench-latency-${index}`,
          { maxSteps: steps, saveSteps },
          afterSignals === undefined ? {} : { continueAsNew: { afterSignals } },
        ),
      );
      const jobId = await jobIdOf(rig, workflowId);
      const { job } = await rig.h.arkor.getJob(jobId);

      const baseline = (async () => {
        for await (const item of followJobEvents(rig.h.arkor, jobId, { idleTimeoutMs: 20_000 })) {
          if (item.kind !== 'event' || item.id === undefined) continue;
          const id = item.id;
          const context: CallbackContext = {
            workflowId: BASELINE_WORKFLOW_ID,
            jobId,
            attempt: 1,
            idempotencyKey: `${jobId}:${id}`,
            eventId: id,
          };
          const payload = toRunEvent(id, item.event).payload;
          if (payload.type === 'training.log') await onLog({ ...toLogArgs(payload), job, context });
          else if (payload.type === 'checkpoint.saved') {
            const adapter = { kind: 'checkpoint' as const, jobId, step: payload.step };
            await onCheckpoint({
              step: payload.step,
              adapter,
              job,
              infer: () => Promise.reject(new Error('no inference in the bench')),
              artifacts: payload.artifacts,
              context,
            });
          }
        }
      })();

      const result = await rig.h.service.outcome(workflowId);
      await baseline;
      if (result.outcome !== 'completed') throw new Error(`the run ended ${result.outcome}: ${result.reason ?? ''}`);
      workflowRuns += result.status.runNumber;

      const emitted = await rig.emitted(jobId);
      const records = rig.timings();
      const viaWorker = deliveries(records, jobId);
      const viaBaseline = new Map(
        records
          .filter((r) => r.via === 'baseline' && r.jobId === jobId)
          .flatMap((r) => r.ids.map((id) => [id, r.at] as const)),
      );
      for (const event of emitted) {
        const kind =
          event.type === 'checkpoint.saved' ? 'checkpoint' : event.type === 'training.log' ? 'log' : undefined;
        if (!kind) continue;
        const delivered = viaWorker.get(event.id);
        if (delivered) latencies.workflow[kind].push(delivered.first - event.at);
        else missing++;
        const direct = viaBaseline.get(event.id);
        if (direct !== undefined) latencies.baseline[kind].push(direct - event.at);
      }
    }),
  );

  const floor = await measureFloor(rig.h, floorCount);
  const rows: Array<Record<string, Cell>> = [];
  const row = (path: string, what: string, values: number[]): void => {
    const s = summarize(values);
    rows.push({ path, what, n: s.n, 'p50 ms': s.p50, 'p95 ms': s.p95, 'p99 ms': s.p99, 'max ms': s.max });
  };
  row('workflow', 'checkpoint.saved → onCheckpoint start', latencies.workflow.checkpoint);
  row('workflow', 'training.log → onLog activity start', latencies.workflow.log);
  row('baseline', 'checkpoint.saved → onCheckpoint call', latencies.baseline.checkpoint);
  row('baseline', 'training.log → onLog call', latencies.baseline.log);
  row('floor', 'signal → activity start', floor.signalToActivity);
  row('floor', 'update round trip', floor.updateRoundTrip);
  printTable(
    `Latency (${runs} concurrent runs of ${steps} steps at ${stepMs} ms/step, checkpoint every ${saveSteps}; batches ${stream.logBatchMaxEvents} events / ${stream.logBatchMaxDelayMs} ms; ${workflowRuns} workflow runs in all; ${missing} events not delivered)`,
    rows,
  );
  writeJson(args.jsonName('latency'), args.json, {
    settings: { runs, steps, stepMs, saveSteps, floorCount, stream, afterSignals },
    workflowRuns,
    missing,
    summary: Object.fromEntries(rows.map((r) => [`${String(r.path)}: ${String(r.what)}`, r])),
  });
} finally {
  await rig.close();
}
