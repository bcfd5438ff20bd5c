/**
 * Recovery: one run whose worker (a child process) is SIGKILLed at random points; after each
 * kill a replacement is spawned. Measured per kill: time from the replacement's spawn (and from
 * its ready line, and from the kill) to the next callback it starts for the run. At the end:
 * events lost (emitted event ids that never reached a callback; must be 0) and duplicate
 * callback executions (an event id carried by more than one callback start).
 *
 * `--standby`: a second worker polls the same queues all along, as in a deployment of several
 * workers. The worker that holds the stream is killed, the standby takes over without any
 * process start, and a new standby is spawned (untimed) before the next kill.
 */
import { parseArgs } from './support/args.js';
import { printTable, summarize, writeJson, type Cell } from './support/report.js';
import { benchInput, deliveries, jobIdOf, startBenchRig, streamFlags } from './support/rig.js';
import type { TimingRecord } from './support/timing.js';
import type { ChildWorker } from '../testing/worker-process.js';

const args = parseArgs();
const kills = args.number('kills', args.quick ? 1 : 5);
const stepMs = args.number('step-ms', 20);
const heartbeatTimeoutS = args.number('heartbeat-timeout-s', 3);
// Long enough for every kill cycle (a recovery is bounded by the heartbeat and sticky-queue
// timeouts, about 10 s here); the run ends on its own after the last kill.
const steps = args.number('steps', Math.round(((kills * 14 + 4) * 1000) / stepMs));
const seed = args.number('seed', 1);
const standby = args.has('standby');
const stream = streamFlags(args);

let state = seed >>> 0 || 1;
/** A seeded xorshift, so that a run's kill points can be repeated. */
function random(): number {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}

interface Kill {
  n: number;
  step: number;
  fromSpawnMs: number;
  fromReadyMs: number;
  fromKillMs: number;
  /** Spawn → the stream's next open on the emulator (the wait activity resumed). */
  streamReopenMs: number | undefined;
  /** Whether the resumed wait activity started at the run's position (its heartbeat's) or had to read again from it. */
  cursorFrom: 'heartbeat' | 're-read';
}

async function firstRecord(
  read: () => TimingRecord[],
  match: (r: TimingRecord) => boolean,
  timeoutMs: number,
): Promise<TimingRecord | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = read().find(match);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 10));
  }
  return undefined;
}

const rig = await startBenchRig({ stepMs });
const done: Kill[] = [];
let summary: Record<string, unknown> = {};
try {
  let worker = await rig.spawnWorker({ stream });
  let spare: ChildWorker | undefined = standby ? await rig.spawnWorker({ stream }) : undefined;
  /** The pid of the worker whose identity the server last saw on the wait activity. */
  const streamHolderPid = async (workflowId: string): Promise<number | undefined> => {
    const description = await rig.h.temporal.client.workflow.getHandle(workflowId).describe();
    const stream = (description.raw.pendingActivities ?? []).find((p) => p.activityType?.name === 'followJob');
    return Number(stream?.lastWorkerIdentity?.split('@')[0]) || undefined;
  };
  const { workflowId } = await rig.h.service.start(
    benchInput(
      'bench-recovery',
      { maxSteps: steps, saveSteps: 50 },
      {
        heartbeatTimeout: `${heartbeatTimeoutS}s`,
        callbacks: { timeout: '3s', retry: { initialInterval: '200ms', maximumInterval: '1s', maximumAttempts: 20 } },
      },
    ),
  );
  const jobId = await jobIdOf(rig, workflowId);
  const ofJob = (r: TimingRecord): boolean => r.jobId === jobId && r.via === 'worker';
  await firstRecord(
    () => rig.timings(),
    (r) => ofJob(r) && r.pid === worker.process.pid,
    60_000,
  );

  for (let n = 1; n <= kills; n++) {
    // A random point: 0.2–3 s after the current worker delivered its first event.
    await new Promise((r) => setTimeout(r, 200 + random() * 2_800));
    if (rig.timings().some((r) => ofJob(r) && r.callback === 'onCompleted')) {
      console.log(`the run completed before kill ${n}; stopping the kills there`);
      break;
    }
    const jobStats = () => rig.h.emulator.stats().jobs.find((j) => j.id === jobId);
    const step = jobStats()?.step ?? 0;
    const opensBefore = jobStats()?.streamOpens.length ?? 0;
    let victim = worker;
    let survivor: ChildWorker | undefined;
    if (standby) {
      spare ??= await rig.spawnWorker({ stream });
      const holder = await streamHolderPid(workflowId);
      [victim, survivor] = holder === spare.process.pid ? [spare, worker] : [worker, spare];
    }
    const killedAt = Date.now();
    await victim.kill();
    const spawnedAt = Date.now();
    worker = survivor ?? (await rig.spawnWorker({ stream }));
    spare = undefined;
    const readyAt = Date.now();
    const pid = worker.process.pid;
    let streamReopenMs: number | undefined;
    const reopen = (async () => {
      for (let i = 0; i < 12_000 && (jobStats()?.streamOpens.length ?? 0) <= opensBefore; i++)
        await new Promise((r) => setTimeout(r, 10));
      if ((jobStats()?.streamOpens.length ?? 0) > opensBefore) streamReopenMs = Date.now() - spawnedAt;
    })();
    const first = await firstRecord(
      () => rig.timings(),
      (r) => ofJob(r) && r.pid === pid && r.at >= killedAt,
      120_000,
    );
    if (!first) throw new Error(`no callback on the replacement worker ${pid} within 120 s of kill ${n}`);
    await reopen;
    // activities/stream.ts logs this when its first delivery did not continue the run's position.
    const cursorFrom = worker.output().includes('Reading the stream again') ? 're-read' : 'heartbeat';
    done.push({
      n,
      step,
      streamReopenMs,
      cursorFrom,
      fromSpawnMs: first.at - spawnedAt,
      fromReadyMs: first.at - readyAt,
      fromKillMs: first.at - killedAt,
    });
    console.log(`kill ${n} at step ${step}: next event ${first.at - spawnedAt} ms after the replacement's spawn`);
  }

  const result = await rig.h.service.outcome(workflowId);
  await worker.kill();
  await spare?.kill();
  const emitted = await rig.emitted(jobId);
  const delivered = deliveries(rig.timings(), jobId);
  const lost = emitted.filter((event) => !delivered.has(event.id)).length;
  const duplicates = [...delivered.values()].reduce((sum, d) => sum + d.count - 1, 0);
  const duplicatedEvents = [...delivered.values()].filter((d) => d.count > 1).length;
  const fromSpawn = summarize(done.map((k) => k.fromSpawnMs));
  summary = { outcome: result.outcome, events: emitted.length, lost, duplicates, duplicatedEvents, fromSpawn };

  printTable(
    `Recovery${standby ? ', warm standby' : ''} (${steps} steps at ${stepMs} ms/step; heartbeat timeout ${heartbeatTimeoutS} s; batches ${stream.logBatchMaxEvents} events / ${stream.logBatchMaxDelayMs} ms)`,
    done.map((k): Record<string, Cell> => ({
      kill: k.n,
      'at step': k.step,
      'spawn → next event ms': k.fromSpawnMs,
      'ready → next event ms': k.fromReadyMs,
      'kill → next event ms': k.fromKillMs,
      'spawn → stream reopened ms': k.streamReopenMs,
      'cursor from': k.cursorFrom,
    })),
  );
  printTable('Summary', [
    {
      kills: done.length,
      'p50 spawn → event ms': fromSpawn.p50,
      'max spawn → event ms': fromSpawn.max,
      'target ms (heartbeat + 2 s)': heartbeatTimeoutS * 1000 + 2000,
      'events emitted': emitted.length,
      lost,
      'duplicate executions': duplicates,
      'events run twice+': duplicatedEvents,
      outcome: result.outcome,
    },
  ]);
} finally {
  await rig.close();
}
writeJson(args.jsonName('recovery'), args.json, {
  settings: { kills, stepMs, heartbeatTimeoutS, steps, seed, standby, stream },
  kills: done,
  ...summary,
});
