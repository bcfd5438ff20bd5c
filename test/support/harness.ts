/**
 * The integration-test rig: the shared test environment (`testing/`: a real Temporal dev
 * server, the emulator over real HTTP, workers in this process or as child processes, which
 * tests SIGKILL) with the recording callbacks, their records and quick stream settings.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultStreamSettings, type StreamSettings } from '../../activities/index.js';
import type { EmulatorOptions } from '../../emulator/index.js';
import {
  startTestEnvironment,
  type EnvironmentWorkerOptions,
  type TestEnvironment,
} from '../../testing/environment.js';
import type { ChildWorker } from '../../testing/worker-process.js';
import type { TestWorker } from '../../testing/worker.js';
import { readRecords, type CallbackRecord } from './records.js';

export type { ChildWorker } from '../../testing/worker-process.js';
export { trainingInput } from '../../testing/training-input.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const recordingCallbacksModule = join(root, 'test/support/recording-callbacks.ts');

/** Stream settings that keep tests quick: small batches, short delays, fast reconnects. */
export const testStreamSettings: StreamSettings = {
  ...defaultStreamSettings,
  logBatchMaxEvents: 20,
  logBatchMaxDelayMs: 100,
  idleTimeoutMs: 5_000,
  reconnect: { baseDelayMs: 20, maxDelayMs: 200 },
};

/** A harness worker's options: the environment's (the harness defaults the callbacks, 50 streams and the stream settings). */
export type WorkerOptions = EnvironmentWorkerOptions;

export interface Harness extends TestEnvironment {
  /** JSON-lines file the recording callbacks write to. */
  recordFile: string;
  /** What the recording callbacks recorded for one job, in order. */
  recordsOf(jobId: string): CallbackRecord[];
  /** A worker in this process, using the recording callbacks module and `testStreamSettings`. */
  startWorker(options?: WorkerOptions): Promise<TestWorker>;
  /** `worker.ts` as a child process with the recording callbacks; resolves once it printed its ready line. */
  spawnWorker(env?: NodeJS.ProcessEnv): Promise<ChildWorker>;
}

/** What `client.ts` printed and how it exited. */
export interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `client.ts` as a child process against the harness's server and task queue (async, so a
 * worker in this process keeps running meanwhile).
 */
export function runClient(h: Harness, args: string[], env: NodeJS.ProcessEnv = {}): Promise<ClientRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'client.ts'), ...args], {
      cwd: root,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: h.temporal.address,
        TEMPORAL_NAMESPACE: h.temporal.namespace,
        TEMPORAL_TASK_QUEUE: h.taskQueue,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolveRun({ code, stdout, stderr }));
  });
}

/** The variables that make a `worker.ts` process record like the harness's in-process workers. */
export function recordingWorkerEnv(h: Pick<Harness, 'recordFile'>): NodeJS.ProcessEnv {
  return {
    ARKOR_CALLBACKS_MODULE: recordingCallbacksModule,
    ARKOR_TEST_RECORD_FILE: h.recordFile,
    ARKOR_LOG_BATCH_MAX_EVENTS: String(testStreamSettings.logBatchMaxEvents),
    ARKOR_LOG_BATCH_MAX_DELAY_MS: String(testStreamSettings.logBatchMaxDelayMs),
    ARKOR_STREAM_IDLE_TIMEOUT_MS: String(testStreamSettings.idleTimeoutMs),
  };
}

export async function startHarness(emulatorOptions: EmulatorOptions = {}): Promise<Harness> {
  const env = await startTestEnvironment({
    emulator: { stepMs: 5, pingIntervalMs: 500, ...emulatorOptions },
    // Worker state changes at INFO would drown the test report.
    temporal: { workerLogLevel: process.env.TEST_LOG_LEVEL === 'debug' ? 'DEBUG' : 'WARN' },
  });
  const recordFile = join(mkdtempSync(join(tmpdir(), 'arkor-temporal-')), 'records.jsonl');
  process.env.ARKOR_TEST_RECORD_FILE = recordFile;
  return {
    ...env,
    recordFile,
    recordsOf: (jobId) => readRecords(recordFile).filter((record) => record.key.startsWith(`${jobId}:`)),
    startWorker: (options = {}) =>
      env.startWorker({
        callbacksModule: recordingCallbacksModule,
        maxStreams: 50,
        ...options,
        stream: { ...testStreamSettings, ...options.stream },
      }),
    spawnWorker: (workerEnv = {}) => env.spawnWorker({ ...recordingWorkerEnv({ recordFile }), ...workerEnv }),
  };
}

/** Polls until `check` returns a value (not undefined); fails after `timeoutMs`. */
export async function eventually<T>(
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The parts of a trainer config that decide which events the emulator emits. */
export interface EventPlan {
  maxSteps: number;
  loggingSteps?: number;
  evalSteps?: number;
  saveSteps?: number;
}

/**
 * The idempotency keys every event of a job completed by the emulator reaches its callback with,
 * in emission order: `training.started` is event 1, then per step its log (every `loggingSteps`),
 * eval-only log (every `evalSteps`), checkpoint (every `saveSteps`), and `training.completed`
 * after the last step's events. Event ids are the emulator's per-job sequence numbers.
 */
export function expectedEventKeys(jobId: string, plan: EventPlan): string[] {
  const loggingSteps = plan.loggingSteps ?? 1;
  const kinds: string[] = ['started'];
  for (let step = 1; step <= plan.maxSteps; step++) {
    if (step % loggingSteps === 0) kinds.push(`log:${step}`);
    if (plan.evalSteps !== undefined && step % plan.evalSteps === 0) kinds.push(`eval:${step}`);
    if (plan.saveSteps !== undefined && step % plan.saveSteps === 0) kinds.push(`checkpoint:${step}`);
  }
  kinds.push('completed');
  return kinds.map((_kind, index) => `${jobId}:${index + 1}`);
}
