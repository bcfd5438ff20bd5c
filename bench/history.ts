/**
 * History cost: history events and bytes per 1,000 log events and per checkpoint (plain, and in
 * a configured run that smoke-tests every checkpoint, gates and notifies), when
 * continue-as-new happens, and whether a long run keeps every run's history under the server's
 * warning limit (10,240 events). Histories are read by following each workflow id's
 * continue-as-new chain.
 *
 * Phase 1 (fast stream, batches fill by count): run A logs only; run B the same plus a
 * checkpoint every `--save-steps`; per checkpoint = (B − A) / checkpoints. Phase 2 (slow stream,
 * batches cut by time): run C at `--slow-rate` events/s, which is how most real trainings log.
 */
import { DEMO_QUESTIONS, startEmulator } from '../emulator/index.js';
import { startWebhookReceiver } from '../testing/webhook-receiver.js';
import type { TrainingRunInput } from '../contract/input.js';
import { parseArgs } from './support/args.js';
import { historyChain, type RunHistory } from './support/history-chain.js';
import { printTable, writeJson, type Cell } from './support/report.js';
import { benchInput, type BenchPlan, type BenchRig, startBenchRig, streamFlags } from './support/rig.js';
import type { ArkorClient } from '../arkor/index.js';

const WARNING_LIMIT = 10_240;
const args = parseArgs();
const steps = args.number('steps', args.has('long') ? 100_000 : args.quick ? 3_000 : 20_000);
const rate = args.number('rate', 1000);
const saveSteps = args.number('save-steps', 100);
const slowRate = args.number('slow-rate', 20);
const slowSteps = args.number('slow-steps', args.quick ? 60 : 400);
const stream = streamFlags(args);
const afterSignals = args.has('after-signals') ? args.number('after-signals', 500) : undefined;

interface Measured {
  label: string;
  plan: BenchPlan;
  rate: number;
  runs: RunHistory[];
  logs: number;
  checkpoints: number;
  step: number;
}

/** Run D's extras: a smoke test of every checkpoint (and the final adapter), a gate, notifications. */
const configured: Omit<Partial<TrainingRunInput>, 'trainer'> = {
  smokeTest: {
    prompts: DEMO_QUESTIONS.slice(0, 2).map((q) => ({
      name: q.prompt.slice(0, 20),
      messages: [{ role: 'user' as const, content: q.prompt }],
      expect: { contains: q.answer },
    })),
  },
  gate: { minScore: 0 },
  notifications: { channels: ['bench-hook'] },
};

async function measure(
  rig: BenchRig,
  label: string,
  plan: BenchPlan,
  arkor: ArkorClient,
  eventsRate: number,
  extra: Omit<Partial<TrainingRunInput>, 'trainer'> = {},
): Promise<Measured> {
  const started = await rig.h.service.start(
    benchInput(`bench-history-${label}`, plan, {
      ...extra,
      ...(afterSignals === undefined ? {} : { continueAsNew: { afterSignals } }),
    }),
  );
  const result = await rig.h.service.outcome(started.workflowId);
  if (result.outcome !== 'completed') throw new Error(`run ${label} ended ${result.outcome}: ${result.reason ?? ''}`);
  const runs = await historyChain(rig.h.temporal.client, started.workflowId, started.firstExecutionRunId ?? '');
  const emitted = await rig.emitted(result.jobId ?? '', arkor);
  return {
    label,
    plan,
    rate: eventsRate,
    runs,
    logs: emitted.filter((e) => e.type === 'training.log').length,
    checkpoints: emitted.filter((e) => e.type === 'checkpoint.saved').length,
    step: result.status.step,
  };
}

const total = (m: Measured, key: 'events' | 'bytes' | 'signals'): number =>
  m.runs.reduce((sum, run) => sum + run[key], 0);

const rig = await startBenchRig({ stepMs: 1000 / rate });
const measured: Measured[] = [];
try {
  const hook = await startWebhookReceiver();
  const worker = await rig.startWorker({
    stream,
    notificationChannels: new Map([['bench-hook', { kind: 'webhook', url: hook.url }]]),
  });
  const [a, b, d] = await Promise.all([
    measure(rig, 'A-logs', { maxSteps: steps }, rig.h.arkor, rate),
    measure(rig, 'B-logs+checkpoints', { maxSteps: steps, saveSteps }, rig.h.arkor, rate),
    measure(rig, 'D-configured', { maxSteps: steps, saveSteps }, rig.h.arkor, rate, configured),
  ]);
  measured.push(a, b, d);
  await worker.stop();
  await hook.close();

  const slowEmulator = await startEmulator({ stepMs: 1000 / slowRate, pingIntervalMs: 5_000 });
  const slowClient = rig.clientFor(slowEmulator);
  const slowWorker = await rig.startWorker({ stream, arkor: slowClient });
  try {
    measured.push(await measure(rig, 'C-slow-logs', { maxSteps: slowSteps }, slowClient, slowRate));
  } finally {
    await slowWorker.stop();
    await slowEmulator.close();
  }
} finally {
  await rig.close();
}

const [a, b] = measured;
const rows: Array<Record<string, Cell>> = measured.map((m) => ({
  run: m.label,
  'logs/s': m.rate,
  logs: m.logs,
  checkpoints: m.checkpoints,
  'workflow runs': m.runs.length,
  signals: total(m, 'signals'),
  'history events': total(m, 'events'),
  'history KiB': total(m, 'bytes') / 1024,
  'events / 1k logs': (total(m, 'events') / m.logs) * 1000,
  'KiB / 1k logs': (total(m, 'bytes') / 1024 / m.logs) * 1000,
  'largest run (events)': Math.max(...m.runs.map((r) => r.events)),
}));
printTable(
  `History cost (batches ${stream.logBatchMaxEvents} events / ${stream.logBatchMaxDelayMs} ms; continue-as-new after ${afterSignals ?? 500} signals)`,
  rows,
);

const chainRows: Array<Record<string, Cell>> = measured.flatMap((m) =>
  m.runs.map((run, index) => ({
    run: m.label,
    '#': index + 1,
    events: run.events,
    KiB: run.bytes / 1024,
    signals: run.signals,
    ending: run.ending,
  })),
);
printTable('Runs of each workflow id (continue-as-new chain)', chainRows);

let perCheckpoint: { events: number; bytes: number } | undefined;
let perConfiguredCheckpoint: { events: number; bytes: number } | undefined;
const d = measured.find((m) => m.label === 'D-configured');
if (a && b && b.checkpoints > 0) {
  perCheckpoint = {
    events: (total(b, 'events') - total(a, 'events')) / b.checkpoints,
    bytes: (total(b, 'bytes') - total(a, 'bytes')) / b.checkpoints,
  };
  console.log(
    `\nper checkpoint (B − A): ${perCheckpoint.events.toFixed(1)} history events, ${(perCheckpoint.bytes / 1024).toFixed(2)} KiB`,
  );
}
if (a && d && d.checkpoints > 0) {
  // Smoke test per checkpoint, the base model once, the final smoke test and gate, notifications.
  perConfiguredCheckpoint = {
    events: (total(d, 'events') - total(a, 'events')) / d.checkpoints,
    bytes: (total(d, 'bytes') - total(a, 'bytes')) / d.checkpoints,
  };
  console.log(
    `per checkpoint, configured (D − A): ${perConfiguredCheckpoint.events.toFixed(1)} history events, ${(perConfiguredCheckpoint.bytes / 1024).toFixed(2)} KiB`,
  );
}
const largest = Math.max(...measured.flatMap((m) => m.runs.map((r) => r.events)));
console.log(
  `largest single run: ${largest} events (${largest < WARNING_LIMIT ? 'under' : 'OVER'} the ${WARNING_LIMIT}-event warning limit)`,
);
writeJson(args.jsonName('history'), args.json, {
  settings: { steps, rate, saveSteps, slowRate, slowSteps, stream, afterSignals },
  measured: measured.map((m) => ({
    ...m,
    events: total(m, 'events'),
    bytes: total(m, 'bytes'),
    signals: total(m, 'signals'),
  })),
  perCheckpoint,
  perConfiguredCheckpoint,
  largestRunEvents: largest,
});
