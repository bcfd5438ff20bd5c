/**
 * Everything a run needs, started together and stopped together: a Temporal dev server, the
 * emulator, a `TrainingService` on a task queue of the environment's own, and workers started
 * through it (in this process or as child processes).
 *
 * ```ts
 * const env = await startTestEnvironment({ emulator: { stepMs: 5 } });
 * after(() => env.close());
 * await env.startWorker({ callbacksModule: fileURLToPath(new URL('./my-callbacks.ts', import.meta.url)) });
 * const result = await env.runTraining(trainingInput({ trainer: { maxSteps: 12 } }));
 * assert.equal(result.outcome, 'completed');
 * ```
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArkorClient } from '../arkor/index.js';
import type { TrainingRunInput } from '../contract/input.js';
import { deploymentNameOf } from '../contract/deployments.js';
import type { RunResult } from '../contract/result.js';
import type { EmulatorOptions } from '../emulator/index.js';
import { TrainingService, type StartOptions } from '../service/index.js';
import { workflowBundlePath } from '../worker/bundle.js';
import { startDevServer, type DevServer, type DevServerOptions } from './dev-server.js';
import { startTestEmulator, type TestEmulator } from './emulator.js';
import { spawnWorkerProcess, type ChildWorker } from './worker-process.js';
import { startTestWorker, type TestWorker, type TestWorkerOptions } from './worker.js';

/** Options of `startTestEnvironment`; each has a default. */
export interface TestEnvironmentOptions {
  /** The emulator's options. Default: the emulator's defaults (see `startTestEmulator`). */
  emulator?: EmulatorOptions;
  /** The dev server's options. Default: see `startDevServer` (a new server unless `TEMPORAL_ADDRESS`). */
  temporal?: DevServerOptions;
  /** The task queue of the service and the workers. Default `test-<random uuid>`. */
  taskQueue?: string;
}

/** What an in-process worker of the environment may set; the rest comes from the environment. */
export type EnvironmentWorkerOptions = Omit<TestWorkerOptions, 'temporal' | 'arkor' | 'taskQueue'> & {
  /** Another Arkor client than the environment's (e.g. one with a wrong token). */
  arkor?: ArkorClient;
  /** Another task queue than the environment's. */
  taskQueue?: string;
};

/** A running environment (`startTestEnvironment`). */
export interface TestEnvironment {
  /** The Temporal server (`startDevServer`). */
  temporal: DevServer;
  /** The emulator, in this process (`startTestEmulator`). */
  emulator: TestEmulator;
  /** The emulator's client (`emulator.arkor`): what the workers call unless told otherwise. */
  arkor: ArkorClient;
  /** Starts and manages runs on `taskQueue`. */
  service: TrainingService;
  /** The task queue of `service` and of the environment's workers. */
  taskQueue: string;
  /** The workers' deployment key store: a fresh folder under the OS temp dir. */
  keyStoreDir: string;
  /**
   * A worker in this process on the environment's server, emulator, task queue and key store
   * (defaults otherwise those of `startTestWorker`); `close()` stops it if the test did not.
   */
  startWorker(options?: EnvironmentWorkerOptions): Promise<TestWorker>;
  /**
   * `worker.ts` as a child process on the environment's server, task queue and emulator, with
   * `ARKOR_KEY_STORE_DIR` = `keyStoreDir`, `ARKOR_SHUTDOWN_GRACE_MS` = 1000 and
   * `ARKOR_DEPLOYMENT_NAME` = `taskQueue` (the in-process workers' deployment) unless `env` says
   * otherwise; resolves once it is ready. `close()` kills it if the test did not.
   */
  spawnWorker(env?: NodeJS.ProcessEnv): Promise<ChildWorker>;
  /** Starts a run on the environment's task queue and waits for its result (a worker must be running). */
  runTraining(input: TrainingRunInput, options?: StartOptions): Promise<RunResult>;
  /** Kills child workers, stops in-process workers, then stops the emulator and the server. */
  close(): Promise<void>;
}

/** Starts a dev server and an emulator (see `startDevServer`, `startTestEmulator`). */
export async function startTestEnvironment(options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  // Build the workflow bundle before the server starts, so a first build does not eat into timeouts.
  await workflowBundlePath();
  const temporal = await startDevServer(options.temporal);
  let emulator: TestEmulator;
  try {
    emulator = await startTestEmulator(options.emulator);
  } catch (error) {
    await temporal.close();
    throw error;
  }
  const taskQueue = options.taskQueue ?? `test-${randomUUID()}`;
  const keyStoreDir = join(mkdtempSync(join(tmpdir(), 'arkor-temporal-')), 'keys');
  const service = new TrainingService(temporal.client, { taskQueue });
  const workers = new Set<TestWorker>();
  const children = new Set<ChildWorker>();

  return {
    temporal,
    emulator,
    arkor: emulator.arkor,
    service,
    taskQueue,
    keyStoreDir,
    async startWorker(workerOptions = {}) {
      const worker = await startTestWorker({
        keyStoreDir,
        ...workerOptions,
        temporal,
        arkor: workerOptions.arkor ?? emulator.arkor,
        taskQueue: workerOptions.taskQueue ?? taskQueue,
      });
      const handle: TestWorker = {
        ...(worker.version ? { version: worker.version } : {}),
        ...(worker.readiness ? { readiness: worker.readiness } : {}),
        async stop() {
          await worker.stop();
          workers.delete(handle);
        },
      };
      workers.add(handle);
      return handle;
    },
    async spawnWorker(env = {}) {
      const child = await spawnWorkerProcess(
        { temporal, taskQueue, emulator },
        // A deployment of the environment's own, as for its in-process workers.
        {
          ARKOR_KEY_STORE_DIR: keyStoreDir,
          ARKOR_SHUTDOWN_GRACE_MS: '1000',
          ARKOR_DEPLOYMENT_NAME: deploymentNameOf(taskQueue),
          ...env,
        },
      );
      const tracked: ChildWorker = {
        ...child,
        async kill() {
          await child.kill();
          children.delete(tracked);
        },
      };
      children.add(tracked);
      return tracked;
    },
    async runTraining(input, startOptions) {
      const { workflowId } = await service.start(input, startOptions);
      return service.outcome(workflowId);
    },
    async close() {
      for (const child of [...children]) await child.kill();
      for (const worker of [...workers]) await worker.stop();
      await emulator.close();
      await temporal.close();
    },
  };
}
