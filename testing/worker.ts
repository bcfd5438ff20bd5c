/**
 * A training worker in this process, wired the way `worker.ts` wires one (`worker/deps.ts`
 * `buildActivityDeps`, `worker/create-worker.ts`), from options instead of the environment.
 *
 * ```ts
 * const worker = await startTestWorker({
 *   temporal, arkor: emulator.arkor, taskQueue: 'my-test', callbacksModule: './my-callbacks.ts',
 * });
 * after(() => worker.stop());
 * ```
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataConverter, WorkerDeploymentVersion } from '@temporalio/common';
import type { WorkerOptions } from '@temporalio/worker';
import type { StreamSettings } from '../activities/index.js';
import { fileKeyStore } from '../activities/key-store.js';
import type { NotificationChannels } from '../activities/notification-channels.js';
import type { ArkorClient } from '../arkor/index.js';
import type { PreconditionRegistry } from '../extensions/preconditions.js';
import { loadWorkerSettings } from '../worker/config.js';
import { workflowBuildId } from '../worker/bundle.js';
import { deploymentNameOf } from '../contract/deployments.js';
import { createTrainingWorkers } from '../worker/create-worker.js';
import type { WorkerTracing } from '../worker/tracing.js';
import { buildActivityDeps } from '../worker/deps.js';
import { describeReadiness, type VersionReadiness, type WorkerVersioning } from '../worker/versioning.js';
import type { DevServer } from './dev-server.js';

/** Options of `startTestWorker`: `temporal`, `arkor` and `taskQueue` are required, the rest has defaults. */
export interface TestWorkerOptions {
  /** The server to poll (`startDevServer`); only its native connection and namespace are used. */
  temporal: Pick<DevServer, 'nativeConnection' | 'namespace'>;
  /** The Arkor client the activities call, e.g. `TestEmulator.arkor`. */
  arkor: ArkorClient;
  /** The task queue (the `TrainingService`'s must match); the stream queue is derived from it. */
  taskQueue: string;
  /**
   * Path of the callbacks module, as `ARKOR_CALLBACKS_MODULE` (a relative path is taken from the
   * working directory). Default: none (a `default` set without callbacks).
   */
  callbacksModule?: string;
  /** Path of the scorers module, as `ARKOR_SCORERS_MODULE`. Default: none (the built-in scorers). */
  scorersModule?: string;
  /** Path of the preconditions module, as `ARKOR_PRECONDITIONS_MODULE`. Default: none. */
  preconditionsModule?: string;
  /** Preconditions by name, instead of `preconditionsModule`. */
  preconditions?: PreconditionRegistry;
  /** Notification channels (name → kind and URL). Default: none (`ARKOR_NOTIFY_*` is not read). */
  notificationChannels?: NotificationChannels;
  /** Where deployment keys are written. Default: a fresh folder under the OS temp dir. */
  keyStoreDir?: string;
  /** Dataset secrets and other variables the activities read. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Stream settings over the worker's defaults (batches of 1,000 events or 1,000 ms, ...). */
  stream?: Partial<StreamSettings>;
  /** Which queues to poll. Default `all` (`main` leaves the streams to another worker). */
  queues?: 'all' | 'main' | 'streams';
  /** Streams followed at once. Default 200 (the worker's). */
  maxStreams?: number;
  /** Short activities (callbacks, submit, cancel) at once. Default 20 (the worker's). */
  maxActivities?: number;
  /** Workflow runs kept in memory between tasks. Default: the SDK's. */
  maxCachedWorkflows?: number;
  /** Grace time for callbacks at `stop()`, in ms. Default 1,000 (the worker's is 10,000). */
  shutdownGraceMs?: number;
  /** Payload codecs; clients must use the same. Default: none. */
  dataConverter?: DataConverter;
  /** Where spans go, e.g. `workerTracing(new SimpleSpanProcessor(new InMemorySpanExporter()))`. Default: none. */
  tracing?: WorkerTracing;
  /**
   * Worker Versioning: `false` for an unversioned worker, else what to change of its version.
   * Defaults: deployment = the task queue (each test's runs in a deployment of their own), build
   * id = the workflow code's (`workflowBuildId()`), `becomeCurrent: 'fresh'` (the first version of
   * the deployment takes the new runs). `startTestWorker` resolves once the version is registered
   * (and current, when it made itself current).
   */
  versioning?: false | Partial<WorkerVersioning>;
  /**
   * Other workflow code (the SDK's `workflowBundle` option), e.g. the next version of the
   * workflows in a deploy test; give it a `versioning.buildId` of its own. Default: this package's.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/** A running in-process worker. */
export interface TestWorker {
  /** The version it polls as; undefined when unversioned. */
  readonly version?: WorkerDeploymentVersion;
  /** Where its version stood once it polled; undefined when unversioned. */
  readonly readiness?: VersionReadiness;
  /** Shuts the worker down and waits until it stopped. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Builds the worker's dependencies from `options` (loading every module up front, so a bad
 * module fails here), creates its workers (main and stream queue) and starts polling.
 */
export async function startTestWorker(options: TestWorkerOptions): Promise<TestWorker> {
  const modules: NodeJS.ProcessEnv = {};
  if (options.callbacksModule) modules.ARKOR_CALLBACKS_MODULE = options.callbacksModule;
  if (options.scorersModule) modules.ARKOR_SCORERS_MODULE = options.scorersModule;
  if (options.preconditionsModule) modules.ARKOR_PRECONDITIONS_MODULE = options.preconditionsModule;
  const keyStoreDir = options.keyStoreDir ?? join(mkdtempSync(join(tmpdir(), 'arkor-temporal-')), 'keys');
  const workers = await createTrainingWorkers({
    connection: options.temporal.nativeConnection,
    namespace: options.temporal.namespace,
    taskQueue: options.taskQueue,
    ...(options.queues ? { queues: options.queues } : {}),
    ...(options.maxStreams === undefined ? {} : { maxStreams: options.maxStreams }),
    ...(options.maxActivities === undefined ? {} : { maxActivities: options.maxActivities }),
    ...(options.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: options.maxCachedWorkflows }),
    shutdownGraceMs: options.shutdownGraceMs ?? 1000,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...(options.tracing ? { tracing: options.tracing } : {}),
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : {}),
    ...(options.versioning === false
      ? {}
      : {
          versioning: {
            deploymentName: options.versioning?.deploymentName ?? deploymentNameOf(options.taskQueue),
            buildId: options.versioning?.buildId ?? (await workflowBuildId()),
            becomeCurrent: options.versioning?.becomeCurrent ?? 'fresh',
          },
        }),
    deps: await buildActivityDeps(
      { settings: loadWorkerSettings(modules), arkor: options.arkor, env: options.env ?? process.env },
      {
        keyStore: fileKeyStore(keyStoreDir),
        notificationChannels: options.notificationChannels ?? new Map(),
        ...(options.preconditions ? { preconditions: options.preconditions } : {}),
        ...(options.stream ? { stream: options.stream } : {}),
      },
    ),
  });
  const done = workers.run();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      workers.shutdown();
      await done;
    })();
    return stopping;
  };
  const readiness = await Promise.race([workers.ready(), done.then(() => undefined)]);
  if (readiness?.problem) {
    await stop().catch(() => undefined);
    throw new Error(`The test worker's ${describeReadiness(readiness)} (versioning: false for an unversioned worker)`);
  }
  return {
    ...(workers.version ? { version: workers.version } : {}),
    ...(readiness ? { readiness } : {}),
    stop,
  };
}
