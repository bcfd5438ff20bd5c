/**
 * The integration-test rig: a real Temporal dev server, the emulator over real HTTP, our real
 * client, and workers either in this process or as child processes (which tests SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { ArkorClient } from '../../arkor/index.js';
import { defaultStreamSettings, type StreamSettings } from '../../activities/index.js';
import { fileKeyStore } from '../../activities/key-store.js';
import type { NotificationChannels } from '../../activities/notification-channels.js';
import type { PreconditionRegistry } from '../../extensions/preconditions.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../emulator/index.js';
import { TrainingService } from '../../service/index.js';
import type { TrainingRunInput } from '../../contract/input.js';
import { loadWorkerSettings } from '../../worker/config.js';
import { createTrainingWorkers, type TrainingWorkers } from '../../worker/create-worker.js';
import { buildActivityDeps } from '../../worker/deps.js';
import { workflowBundlePath } from '../../worker/bundle.js';
import type { DataConverter } from '@temporalio/common';
import { readRecords, type CallbackRecord } from './records.js';
import { startTemporal, type TemporalTestServer } from './temporal.js';

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

export interface WorkerOptions {
  stream?: Partial<StreamSettings>;
  /** Another Arkor client (for example one with a wrong token). */
  arkor?: ArkorClient;
  env?: NodeJS.ProcessEnv;
  /** Preconditions by name; none by default. */
  preconditions?: PreconditionRegistry;
  /** Notification channels (name → kind and URL); none by default. */
  notificationChannels?: NotificationChannels;
  /** Payload codecs for this worker (clients must use the same; see `clientWith`). */
  dataConverter?: DataConverter;
  /** Another task queue than the harness's (one process may run one worker per queue). */
  taskQueue?: string;
  maxStreams?: number;
  maxActivities?: number;
  /** Which queues the worker polls (default both): `main` leaves the stream to another worker. */
  queues?: 'all' | 'main' | 'streams';
}

export interface Harness {
  temporal: TemporalTestServer;
  emulator: Emulator;
  arkor: ArkorClient;
  service: TrainingService;
  taskQueue: string;
  /** JSON-lines file the recording callbacks write to. */
  recordFile: string;
  /** The workers' deployment key store. */
  keyStoreDir: string;
  /** What the recording callbacks recorded for one job, in order. */
  recordsOf(jobId: string): CallbackRecord[];
  /** A worker in this process, using the recording callbacks module. */
  startWorker(options?: WorkerOptions): Promise<{ stop(): Promise<void> }>;
  /** `worker.ts` as a child process; resolves once it printed its ready line. */
  spawnWorker(env?: NodeJS.ProcessEnv): Promise<ChildWorker>;
  close(): Promise<void>;
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

export interface ChildWorker {
  process: ChildProcess;
  output(): string;
  /** SIGKILL, and wait for the process to be gone. */
  kill(): Promise<void>;
}

export async function startHarness(emulatorOptions: EmulatorOptions = {}): Promise<Harness> {
  // Build the bundle before the server starts, so a first build does not eat into timeouts.
  await workflowBundlePath();
  const temporal = await startTemporal();
  const emulator = await startEmulator({ stepMs: 5, pingIntervalMs: 500, ...emulatorOptions });
  const arkor = new ArkorClient({
    baseUrl: emulator.url,
    token: emulator.token,
    scope: { orgSlug: emulator.orgSlug, projectSlug: emulator.projectSlug },
    deploymentUrlTemplate: emulator.deploymentUrlTemplate,
  });
  const taskQueue = `test-${randomUUID()}`;
  const workDir = mkdtempSync(join(tmpdir(), 'arkor-temporal-'));
  const recordFile = join(workDir, 'records.jsonl');
  const keyStoreDir = join(workDir, 'keys');
  process.env.ARKOR_TEST_RECORD_FILE = recordFile;
  const service = new TrainingService(temporal.client, { taskQueue });
  const running = new Set<{ stop(): Promise<void> }>();
  const children = new Set<ChildWorker>();

  return {
    temporal,
    emulator,
    arkor,
    service,
    taskQueue,
    recordFile,
    keyStoreDir,
    recordsOf: (jobId) => readRecords(recordFile).filter((record) => record.key.startsWith(`${jobId}:`)),
    async startWorker(options = {}) {
      const workers: TrainingWorkers = await createTrainingWorkers({
        connection: temporal.nativeConnection,
        namespace: temporal.namespace,
        taskQueue: options.taskQueue ?? taskQueue,
        ...(options.queues ? { queues: options.queues } : {}),
        maxStreams: options.maxStreams ?? 50,
        maxActivities: options.maxActivities ?? 20,
        shutdownGraceMs: 1000,
        ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
        // The worker's wiring, from settings of the test's own rather than this process's
        // environment, with the harness's key store and in-memory channels.
        deps: await buildActivityDeps(
          {
            settings: loadWorkerSettings({ ARKOR_CALLBACKS_MODULE: recordingCallbacksModule }),
            arkor: options.arkor ?? arkor,
            env: options.env ?? process.env,
          },
          {
            keyStore: fileKeyStore(keyStoreDir),
            notificationChannels: options.notificationChannels ?? new Map(),
            preconditions: options.preconditions,
            stream: { ...testStreamSettings, ...options.stream },
          },
        ),
      });
      const done = workers.run();
      const handle = {
        async stop() {
          workers.shutdown();
          await done;
          running.delete(handle);
        },
      };
      running.add(handle);
      return handle;
    },
    async spawnWorker(env = {}) {
      const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'worker.ts')], {
        cwd: root,
        env: {
          ...process.env,
          TEMPORAL_ADDRESS: temporal.address,
          TEMPORAL_NAMESPACE: temporal.namespace,
          TEMPORAL_TASK_QUEUE: taskQueue,
          ARKOR_CLOUD_API_URL: emulator.url,
          ARKOR_TOKEN: emulator.token,
          ARKOR_ORG_SLUG: emulator.orgSlug,
          ARKOR_PROJECT_SLUG: emulator.projectSlug,
          ARKOR_DEPLOYMENT_URL_TEMPLATE: emulator.deploymentUrlTemplate,
          ARKOR_CALLBACKS_MODULE: recordingCallbacksModule,
          ARKOR_TEST_RECORD_FILE: recordFile,
          ARKOR_LOG_BATCH_MAX_EVENTS: String(testStreamSettings.logBatchMaxEvents),
          ARKOR_LOG_BATCH_MAX_DELAY_MS: String(testStreamSettings.logBatchMaxDelayMs),
          ARKOR_STREAM_IDLE_TIMEOUT_MS: String(testStreamSettings.idleTimeoutMs),
          ARKOR_SHUTDOWN_GRACE_MS: '1000',
          ARKOR_KEY_STORE_DIR: keyStoreDir,
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
      await new Promise<void>((resolveReady, reject) => {
        const lines = createInterface({ input: child.stdout });
        lines.on('line', (line) => {
          output += `${line}\n`;
          if (line.startsWith('worker ready')) resolveReady();
        });
        child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${output}`)));
      });
      const worker: ChildWorker = {
        process: child,
        output: () => output,
        async kill() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          await exited;
          children.delete(worker);
        },
      };
      children.add(worker);
      return worker;
    },
    async close() {
      for (const child of [...children]) await child.kill();
      for (const worker of [...running]) await worker.stop();
      await emulator.close();
      await temporal.close();
    },
  };
}

/** A valid input for the emulator; override what the test is about. */
export function trainingInput(
  overrides: Omit<Partial<TrainingRunInput>, 'trainer'> & { trainer?: Partial<TrainingRunInput['trainer']> } = {},
): TrainingRunInput {
  const { trainer, ...rest } = overrides;
  return {
    ...rest,
    trainer: {
      name: 'test-run',
      model: 'unsloth/gemma-4-E4B-it',
      dataset: { type: 'huggingface', name: 'arkor/demo' },
      maxSteps: 30,
      loggingSteps: 1,
      evalSteps: 10,
      saveSteps: 10,
      ...trainer,
    },
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
