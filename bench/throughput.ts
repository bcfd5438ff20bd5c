/**
 * Throughput: the highest training.log rate a run delivers with lag under 1 s. The emulator's
 * step rate is stepped up (one log event per step, no checkpoints); a trial passes when every
 * event reached onLog and the last event's lag (its onLog activity start − its timestamp) is
 * under 1 s. Then the same with 10 concurrent runs (the rate is per run). Each trial has an
 * emulator of its own (the step rate is an emulator option) and a fresh in-process worker.
 */
import { startEmulator } from '../emulator/index.js';
import { parseArgs } from './support/args.js';
import { printTable, writeJson, type Cell } from './support/report.js';
import { benchInput, type BenchRig, deliveries, jobIdOf, startBenchRig, streamFlags } from './support/rig.js';

const args = parseArgs();
const seconds = args.number('seconds', args.quick ? 2 : 4);
const singleRates = args.numbers('rates', args.quick ? [1000, 5000] : [500, 1000, 2000, 5000]);
const concurrentRuns = args.number('concurrent', 10);
const concurrentRates = args.numbers('concurrent-rates', args.quick ? [100] : [100, 200, 500, 1000]);
const keepGoing = args.has('all');
const stream = streamFlags(args);
const LAG_LIMIT_MS = 1000;

interface Trial {
  runs: number;
  rate: number;
  steps: number;
  emittedPerSec: number;
  deliveredPerSec: number;
  endLagMs: number;
  maxLagMs: number;
  missing: number;
  pass: boolean;
}

async function trial(rig: BenchRig, runs: number, rate: number): Promise<Trial> {
  const steps = Math.round(rate * seconds);
  const emulator = await startEmulator({ stepMs: 1000 / rate, pingIntervalMs: 5_000 });
  const arkor = rig.clientFor(emulator);
  const worker = await rig.startWorker({ arkor, stream });
  try {
    const perRun = await Promise.all(
      Array.from({ length: runs }, async (_, index) => {
        const { workflowId } = await rig.h.service.start(
          benchInput(`bench-throughput-${rate}-${index}`, { maxSteps: steps }),
        );
        const result = await rig.h.service.outcome(workflowId);
        const jobId = result.jobId ?? (await jobIdOf(rig, workflowId));
        const logs = (await rig.emitted(jobId, arkor)).filter((event) => event.type === 'training.log');
        const delivered = deliveries(rig.timings(), jobId);
        const lags = logs.flatMap((event) => {
          const d = delivered.get(event.id);
          return d ? [d.first - event.at] : [];
        });
        const last = logs.at(-1);
        const lastDelivery = last ? delivered.get(last.id)?.first : undefined;
        const firstAt = logs[0]?.at ?? 0;
        return {
          outcome: result.outcome,
          logs: logs.length,
          missing: logs.length - lags.length,
          endLag: last && lastDelivery !== undefined ? lastDelivery - last.at : Number.POSITIVE_INFINITY,
          maxLag: Math.max(...lags),
          emitSpan: (last?.at ?? firstAt) - firstAt,
          deliverSpan: (lastDelivery ?? firstAt) - firstAt,
        };
      }),
    );
    const logs = perRun.reduce((sum, r) => sum + r.logs, 0);
    const missing = perRun.reduce((sum, r) => sum + r.missing, 0);
    const endLagMs = Math.max(...perRun.map((r) => r.endLag));
    const emitSpan = Math.max(...perRun.map((r) => r.emitSpan));
    const deliverSpan = Math.max(...perRun.map((r) => r.deliverSpan));
    return {
      runs,
      rate,
      steps,
      emittedPerSec: (logs / Math.max(1, emitSpan)) * 1000,
      deliveredPerSec: (logs / Math.max(1, deliverSpan)) * 1000,
      endLagMs,
      maxLagMs: Math.max(...perRun.map((r) => r.maxLag)),
      missing,
      pass: missing === 0 && endLagMs < LAG_LIMIT_MS && perRun.every((r) => r.outcome === 'completed'),
    };
  } finally {
    await worker.stop();
    await emulator.close();
  }
}

const rig = await startBenchRig();
const trials: Trial[] = [];
try {
  for (const [runs, rates] of [
    [1, singleRates],
    [concurrentRuns, concurrentRates],
  ] as const) {
    for (const rate of rates) {
      const result = await trial(rig, runs, rate);
      trials.push(result);
      console.log(
        `trial: ${runs} run(s) at ${rate} events/s each: ${result.pass ? 'pass' : 'FAIL'} (end lag ${result.endLagMs} ms)`,
      );
      if (!result.pass && !keepGoing) break;
    }
  }
} finally {
  await rig.close();
}

const rows: Array<Record<string, Cell>> = trials.map((t) => ({
  runs: t.runs,
  'target /s/run': t.rate,
  'steps/run': t.steps,
  'emitted /s (all)': t.emittedPerSec,
  'delivered /s (all)': t.deliveredPerSec,
  'end lag ms': t.endLagMs,
  'max lag ms': t.maxLagMs,
  missing: t.missing,
  'lag < 1 s': t.pass,
}));
printTable(
  `Throughput (${seconds} s of training per trial; batches ${stream.logBatchMaxEvents} events / ${stream.logBatchMaxDelayMs} ms)`,
  rows,
);
const best = (runs: number): string => {
  const passing = trials.filter((t) => t.runs === runs && t.pass).map((t) => t.rate);
  return passing.length === 0 ? 'none' : String(Math.max(...passing));
};
console.log(
  `highest passing rate: 1 run ${best(1)} events/s; ${concurrentRuns} runs ${best(concurrentRuns)} events/s each`,
);
writeJson(args.jsonName('throughput'), args.json, { settings: { seconds, stream, concurrentRuns }, trials });
