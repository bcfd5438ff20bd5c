/**
 * The bench rig: the shared test environment (`testing/`: a real Temporal dev server, the
 * emulator over HTTP, workers in this process or as child processes) with the timing callbacks
 * module, and the production stream settings (the worker defaults) unless a script asks
 * otherwise.
 */
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultStreamSettings, type StreamSettings } from '../../activities/index.js';
import type { NotificationChannels } from '../../activities/notification-channels.js';
import { followJobEvents, type ArkorClient } from '../../arkor/index.js';
import type { Emulator, EmulatorOptions } from '../../emulator/index.js';
import type { TrainingRunInput } from '../../contract/input.js';
import { emulatorClient } from '../../testing/emulator.js';
import { startTestEnvironment, type TestEnvironment } from '../../testing/environment.js';
import { trainingInput } from '../../testing/training-input.js';
import type { ChildWorker } from '../../testing/worker-process.js';
import type { BenchArgs } from './args.js';
import type { TimingRecord } from './timing.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The callbacks module every bench worker loads. */
export const timingCallbacksModule = join(root, 'bench/support/timing-callbacks.ts');

/** Worker settings a script may vary (the knobs the worker already exposes). */
export interface BenchWorkerOptions {
  stream?: Partial<StreamSettings>;
  /** Another Arkor client (another emulator); in-process workers only. */
  arkor?: ArkorClient;
  maxStreams?: number;
  maxActivities?: number;
  /** The worker's `maxCachedWorkflows`; absent = the SDK default. */
  maxCachedWorkflows?: number;
  /** Notification channels (name → kind and URL); none by default. In-process workers only. */
  notificationChannels?: NotificationChannels;
}

/**
 * The batching knobs every script takes: `--batch-events N` and `--batch-delay-ms N`, defaulting
 * to the worker's own defaults (`ARKOR_LOG_BATCH_MAX_EVENTS` / `ARKOR_LOG_BATCH_MAX_DELAY_MS`).
 */
export function streamFlags(args: BenchArgs): Pick<StreamSettings, 'logBatchMaxEvents' | 'logBatchMaxDelayMs'> {
  return {
    logBatchMaxEvents: args.number('batch-events', defaultStreamSettings.logBatchMaxEvents),
    logBatchMaxDelayMs: args.number('batch-delay-ms', defaultStreamSettings.logBatchMaxDelayMs),
  };
}

/** What the emulator wrote for one event, read back from the job's stream. */
export interface EmittedEvent {
  id: string;
  type: string;
  /** The payload's `timestamp`, in ms since the epoch (written when the frame was written). */
  at: number;
  step?: number;
}

export interface BenchRig {
  /** The server, emulator, service and task queue (`startTestEnvironment`). */
  h: TestEnvironment;
  recordFile: string;
  /** A worker in this process; stop it with the returned handle. */
  startWorker(options?: BenchWorkerOptions): Promise<{ stop(): Promise<void> }>;
  /** `worker.ts` as a child process with the timing callbacks and the given settings. */
  spawnWorker(options?: BenchWorkerOptions & { env?: NodeJS.ProcessEnv }): Promise<ChildWorker>;
  /** Every timing record written so far (all processes). */
  timings(): TimingRecord[];
  /** The job's whole event history, replayed from its stream (call once the job has ended). */
  emitted(jobId: string, arkor?: ArkorClient): Promise<EmittedEvent[]>;
  /** A client of another emulator (one per step rate: the rate is an emulator option). */
  clientFor(emulator: Emulator): ArkorClient;
  close(): Promise<void>;
}

export async function startBenchRig(emulatorOptions: EmulatorOptions = {}): Promise<BenchRig> {
  const h = await startTestEnvironment({ emulator: { stepMs: 5, pingIntervalMs: 5_000, ...emulatorOptions } });
  const recordFile = join(mkdtempSync(join(tmpdir(), 'arkor-bench-')), 'timings.jsonl');
  process.env.ARKOR_BENCH_RECORD_FILE = recordFile;
  const streamSettings = (options: BenchWorkerOptions): StreamSettings => ({
    ...defaultStreamSettings,
    idleTimeoutMs: 20_000,
    reconnect: { baseDelayMs: 100, maxDelayMs: 1_000 },
    ...options.stream,
  });

  return {
    h,
    recordFile,
    startWorker(options = {}) {
      return h.startWorker({
        callbacksModule: timingCallbacksModule,
        ...(options.arkor ? { arkor: options.arkor } : {}),
        maxStreams: options.maxStreams ?? 200,
        maxActivities: options.maxActivities ?? 20,
        ...(options.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: options.maxCachedWorkflows }),
        ...(options.notificationChannels ? { notificationChannels: options.notificationChannels } : {}),
        stream: streamSettings(options),
      });
    },
    spawnWorker(options = {}) {
      const stream = streamSettings(options);
      return h.spawnWorker({
        ARKOR_CALLBACKS_MODULE: timingCallbacksModule,
        ARKOR_BENCH_RECORD_FILE: recordFile,
        ARKOR_LOG_BATCH_MAX_EVENTS: String(stream.logBatchMaxEvents),
        ARKOR_LOG_BATCH_MAX_DELAY_MS: String(stream.logBatchMaxDelayMs),
        ARKOR_STREAM_IDLE_TIMEOUT_MS: String(stream.idleTimeoutMs),
        ARKOR_MAX_STREAMS: String(options.maxStreams ?? 200),
        ARKOR_MAX_ACTIVITIES: String(options.maxActivities ?? 20),
        ...(options.maxCachedWorkflows === undefined
          ? {}
          : { ARKOR_MAX_CACHED_WORKFLOWS: String(options.maxCachedWorkflows) }),
        ...options.env,
      });
    },
    timings() {
      if (!existsSync(recordFile)) return [];
      return readFileSync(recordFile, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as TimingRecord);
    },
    clientFor: emulatorClient,
    async emitted(jobId, arkor = h.arkor) {
      const events: EmittedEvent[] = [];
      for await (const item of followJobEvents(arkor, jobId, { idleTimeoutMs: 10_000 })) {
        if (item.kind !== 'event' || item.id === undefined) continue;
        const event = item.event;
        events.push({
          id: item.id,
          type: event.type,
          at: Date.parse(event.timestamp),
          ...('step' in event && typeof event.step === 'number' ? { step: event.step } : {}),
        });
      }
      return events;
    },
    close: () => h.close(),
  };
}

/** The trainer plan of a bench job; absent intervals mean "never". */
export interface BenchPlan {
  maxSteps: number;
  loggingSteps?: number;
  evalSteps?: number;
  saveSteps?: number;
}

/** A run input for the emulator with exactly the events of `plan`. */
export function benchInput(
  name: string,
  plan: BenchPlan,
  extra: Omit<Partial<TrainingRunInput>, 'trainer'> = {},
): TrainingRunInput {
  const input = trainingInput({
    ...extra,
    trainer: { name, maxSteps: plan.maxSteps, loggingSteps: plan.loggingSteps ?? 1 },
  });
  const trainer: TrainingRunInput['trainer'] = { ...input.trainer };
  delete trainer.evalSteps;
  delete trainer.saveSteps;
  if (plan.evalSteps !== undefined) trainer.evalSteps = plan.evalSteps;
  if (plan.saveSteps !== undefined) trainer.saveSteps = plan.saveSteps;
  return { ...input, trainer };
}

/** Waits for the run's job id (set once the submit activity returned). */
export async function jobIdOf(rig: BenchRig, workflowId: string, timeoutMs = 120_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const jobId = await rig.h.service
      .status(workflowId)
      .then((status) => status.jobId)
      .catch(() => undefined);
    if (jobId) return jobId;
    if (Date.now() > deadline) throw new Error(`no job id for ${workflowId} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Per event id of one job: the first time a worker callback carrying it started, and how often. */
export function deliveries(
  records: TimingRecord[],
  jobId: string,
): Map<string, { first: number; count: number; callback: string }> {
  const byId = new Map<string, { first: number; count: number; callback: string }>();
  for (const record of records) {
    if (record.jobId !== jobId || record.via !== 'worker') continue;
    for (const id of record.ids) {
      const seen = byId.get(id);
      if (seen) {
        seen.count++;
        seen.first = Math.min(seen.first, record.at);
      } else byId.set(id, { first: record.at, count: 1, callback: record.callback });
    }
  }
  return byId;
}
