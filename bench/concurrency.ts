/**
 * Concurrency: N runs at once on one worker process (a child, so its memory and CPU are its
 * own), each streaming its job to the end. The worker's RSS and CPU time are sampled from /proc
 * every 500 ms; reported: peak RSS, mean CPU (% of one core), and whether every run completed.
 * A fresh worker per N, so each N starts from a cold process.
 */
import { parseArgs } from './support/args.js';
import { startSampler } from './support/proc-sampler.js';
import { printTable, writeJson, type Cell } from './support/report.js';
import { benchInput, startBenchRig, streamFlags } from './support/rig.js';

const args = parseArgs();
const sizes = args.numbers('n', args.quick ? [10] : [10, 100]);
const stepMs = args.number('step-ms', 100);
const steps = args.number('steps', args.quick ? 40 : 100);
const saveSteps = args.number('save-steps', 50);
const stream = streamFlags(args);
/** The worker's `ARKOR_MAX_CACHED_WORKFLOWS`; absent = the SDK default. */
const maxCachedWorkflows = args.has('max-cached-workflows') ? args.number('max-cached-workflows', 0) : undefined;
/** Starts in flight at once, so that 500 starts do not all queue on one connection. */
const START_PARALLELISM = 25;

interface Row {
  n: number;
  completed: number;
  seconds: number;
  peakRssMiB: number;
  meanCpuPercent: number;
  idleRssMiB: number;
}

const rig = await startBenchRig({ stepMs });
const rows: Row[] = [];
try {
  for (const n of sizes) {
    const worker = await rig.spawnWorker({
      stream,
      maxStreams: Math.max(200, n),
      maxActivities: 20,
      ...(maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows }),
    });
    const pid = worker.process.pid;
    if (pid === undefined) throw new Error('the worker has no pid');
    const idle = startSampler(pid).stop();
    const sampler = startSampler(pid, 500);
    const startedAt = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < n; i += START_PARALLELISM) {
      const batch = Array.from({ length: Math.min(START_PARALLELISM, n - i) }, (_, j) =>
        rig.h.service.start(benchInput(`bench-conc-${n}-${i + j}`, { maxSteps: steps, saveSteps })),
      );
      ids.push(...(await Promise.all(batch)).map((started) => started.workflowId));
    }
    const outcomes = await Promise.all(
      ids.map((id) =>
        rig.h.service.outcome(id).then(
          (r) => r.outcome,
          () => 'error',
        ),
      ),
    );
    const usage = sampler.stop();
    await worker.kill();
    const row: Row = {
      n,
      completed: outcomes.filter((o) => o === 'completed').length,
      seconds: (Date.now() - startedAt) / 1000,
      peakRssMiB: usage.peakRssBytes / 2 ** 20,
      meanCpuPercent: usage.meanCpuPercent,
      idleRssMiB: idle.peakRssBytes / 2 ** 20,
    };
    rows.push(row);
    console.log(
      `N=${n}: ${row.completed}/${n} completed in ${row.seconds.toFixed(1)} s; peak RSS ${row.peakRssMiB.toFixed(0)} MiB; CPU ${row.meanCpuPercent.toFixed(0)} %`,
    );
  }
} finally {
  await rig.close();
}
printTable(
  `Concurrency (one worker process; each run ${steps} steps at ${stepMs} ms/step, checkpoint every ${saveSteps}; batches ${stream.logBatchMaxEvents} / ${stream.logBatchMaxDelayMs} ms; maxCachedWorkflows ${maxCachedWorkflows ?? 'SDK default'})`,
  rows.map((r): Record<string, Cell> => ({
    'N runs': r.n,
    completed: `${r.completed}/${r.n}`,
    'wall s': r.seconds,
    'RSS at ready MiB': r.idleRssMiB,
    'peak RSS MiB': r.peakRssMiB,
    'mean CPU % (1 core)': r.meanCpuPercent,
  })),
);
writeJson(args.jsonName('concurrency'), args.json, {
  settings: { sizes, stepMs, steps, saveSteps, stream, maxCachedWorkflows },
  rows,
});
