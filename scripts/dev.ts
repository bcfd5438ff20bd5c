/**
 * `npm run dev [-- <config>]` and `arkor-temporal dev [config]`: one command for a whole training
 * run on a fresh machine.
 *
 * Starts what is not already running — the Temporal dev server (persistent database in .data/,
 * Web UI), the Arkor emulator (unless ARKOR_CLOUD_API_URL points at a real cloud-api), a worker —
 * then runs the demo training from examples/train.json and shows its progress. Afterwards the
 * services stay up for exploring the Web UI until Ctrl-C; with CI=true everything stops and the
 * exit code says whether the run completed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { ArkorClient, resolveArkorConnection, type ArkorConnection } from '../arkor/index.js';
import { fileKeyStore } from '../activities/key-store.js';
import { loadRunConfig } from '../cli/config.js';
import { ConfigError } from '../cli/errors.js';
import { createProgressRenderer } from '../cli/progress-renderer.js';
import { formatOutcome } from '../cli/outcome-view.js';
import { watchRun } from '../cli/watch-run.js';
import { startEmulator } from '../emulator/index.js';
import {
  loadTemporalSettings,
  TrainingService,
  type ConnectionOverrides,
  type TemporalSettings,
} from '../service/index.js';
import { connectWorker } from '../worker/connection.js';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { loadWorkerSettings } from '../worker/config.js';
import { createTrainingWorkers } from '../worker/create-worker.js';
import { buildActivityDeps } from '../worker/deps.js';
import { workflowBuildId } from '../worker/bundle.js';
import { deploymentNameOf } from '../contract/deployments.js';
import { describeReadiness, type WorkerVersioning } from '../worker/versioning.js';
import { devServerArgs } from './dev-server.js';
import { ensureSearchAttributes } from './search-attributes.js';
import { ensureTemporalCli } from './temporal-cli.js';
import { errorMessage } from '../contract/errors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ci = process.env.CI === 'true';
const say = (line: string): void => void process.stderr.write(`▸ ${line}\n`);

/** Where the dev server's database, its log and the deployment key store live. */
const dataDir = (): string => process.env.ARKOR_DEV_DATA_DIR ?? join(root, '.data');

type Cleanup = () => Promise<void>;
const cleanups: Cleanup[] = [];

async function shutdown(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
}

async function tryConnect(settings: TemporalSettings, timeoutMs: number): Promise<Client | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const connection = await Connection.connect({ ...settings.connectionOptions, connectTimeout: 1000 });
      await connection.workflowService.getSystemInfo({});
      return new Client({
        connection,
        namespace: settings.namespace,
        ...(settings.dataConverter ? { dataConverter: settings.dataConverter } : {}),
      });
    } catch {
      if (Date.now() > deadline) return undefined;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

function stopChild(child: ChildProcess): Cleanup {
  return () =>
    new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill('SIGINT');
    });
}

/**
 * The running Temporal server, or a dev server started for this session. `explicitAddress`:
 * TEMPORAL_ADDRESS or `--address` named the server, so none is started.
 */
async function temporalServer(
  configured: TemporalSettings,
  explicitAddress: string | undefined,
): Promise<{ client: Client; uiUrl: string; settings: TemporalSettings }> {
  const port = Number(process.env.TEMPORAL_DEV_PORT ?? 7233);
  const uiPort = Number(process.env.TEMPORAL_DEV_UI_PORT ?? 8233);
  // Without TEMPORAL_ADDRESS (or a profile naming one) the server is the local dev server.
  const address = explicitAddress ? configured.address : `127.0.0.1:${port}`;
  const settings = { ...configured, address, connectionOptions: { ...configured.connectionOptions, address } };
  const running = await tryConnect(settings, 500);
  if (running) {
    say(`Temporal: using the server at ${settings.address}`);
    return { client: running, uiUrl: `http://127.0.0.1:${uiPort}`, settings };
  }
  if (explicitAddress) throw new Error(`Cannot reach the Temporal server at ${explicitAddress}.`);
  const binary = await ensureTemporalCli();
  const data = dataDir();
  mkdirSync(data, { recursive: true });
  say(`Temporal: starting the dev server on ${address} (data in ${join(data, 'temporal.db')})`);
  // Its own log goes to a file: the terminal is for the run's progress.
  const logFile = openSync(join(data, 'temporal.log'), 'a');
  const child = spawn(binary, devServerArgs({ port, uiPort, dbFile: join(data, 'temporal.db') }), {
    stdio: ['ignore', logFile, logFile],
  });
  cleanups.push(stopChild(child));
  const client = await tryConnect(settings, 60_000);
  if (!client)
    throw new Error(`The Temporal dev server did not come up on ${address} (its log: ${join(data, 'temporal.log')}).`);
  return { client, uiUrl: `http://127.0.0.1:${uiPort}`, settings };
}

/** The real cloud-api when ARKOR_CLOUD_API_URL is set, otherwise an emulator for this session. */
async function arkorBackend(): Promise<ArkorConnection> {
  if (process.env.ARKOR_CLOUD_API_URL !== undefined) {
    const connection = await resolveArkorConnection();
    say(`Arkor: ${connection.baseUrl} (org ${connection.scope.orgSlug}, project ${connection.scope.projectSlug})`);
    return connection;
  }
  const emulator = await startEmulator({ stepMs: Number(process.env.DEV_STEP_MS ?? 40) });
  cleanups.push(() => emulator.close());
  say(`Arkor: emulator at ${emulator.url} (set ARKOR_CLOUD_API_URL to use the real cloud-api)`);
  return {
    baseUrl: emulator.url,
    token: emulator.token,
    scope: { orgSlug: emulator.orgSlug, projectSlug: emulator.projectSlug },
    deploymentUrlTemplate: emulator.deploymentUrlTemplate,
  };
}

export interface DevOptions {
  /** The run config (JSON or a .ts/.js module); default examples/train.json. */
  configPath?: string;
  /** Connection flags over envconfig; `address` (like TEMPORAL_ADDRESS) means: start no server. */
  connection?: ConnectionOverrides;
  /** Over TEMPORAL_TASK_QUEUE; default `arkor-dev`. */
  taskQueue?: string;
}

async function main(options: DevOptions): Promise<number> {
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const configPath = options.configPath ?? join(root, 'examples', 'train.json');
  const input = await loadRunConfig(configPath);
  // The worker's own settings (so a config that runs under `npm run worker` runs here too), with
  // a shorter log batch delay by default so that the progress bar moves smoothly.
  const workerSettings = loadWorkerSettings({ ARKOR_LOG_BATCH_MAX_DELAY_MS: '250', ...process.env });
  const { client, uiUrl, settings } = await temporalServer(
    loadTemporalSettings(options.connection),
    options.connection?.address ?? process.env.TEMPORAL_ADDRESS,
  );
  const added = await ensureSearchAttributes(client, settings.namespace);
  if (added.length > 0) say(`Temporal: registered search attributes ${added.join(', ')}`);

  const arkor = new ArkorClient(await arkorBackend());
  const deps = await buildActivityDeps(
    { settings: workerSettings, arkor, env: process.env },
    // Dev keeps deployment keys beside the dev server's data unless told otherwise.
    { keyStore: fileKeyStore(process.env.ARKOR_KEY_STORE_DIR ?? join(dataDir(), 'keys')) },
  );
  const taskQueue = options.taskQueue ?? process.env.TEMPORAL_TASK_QUEUE ?? 'arkor-dev';
  const connection = await connectWorker(settings);
  const workers = await createTrainingWorkers({
    connection,
    namespace: settings.namespace,
    taskQueue,
    shutdownGraceMs: 2000,
    ...(settings.dataConverter ? { dataConverter: settings.dataConverter } : {}),
    deps,
    ...(workerSettings.ARKOR_WORKER_VERSIONING === 'on' ? { versioning: await devVersioning(taskQueue) } : {}),
  });
  const workersDone = workers.run();
  cleanups.push(async () => {
    workers.shutdown();
    await workersDone;
    await connection.close();
  });
  const readiness = await Promise.race([workers.ready(), workersDone.then(() => undefined)]);
  say(`Worker: polling ${taskQueue}${readiness ? `; ${describeReadiness(readiness)}` : ' (unversioned)'}`);

  const service = new TrainingService(client, { taskQueue });
  const { workflowId } = await service.start(input, { workflowId: `dev-${input.trainer.name}-${Date.now()}` });
  const runUrl = `${uiUrl}/namespaces/${settings.namespace}/workflows/${encodeURIComponent(workflowId)}`;
  say(`Run: ${workflowId}  ${runUrl}`);

  const renderer = createProgressRenderer((text) => void process.stdout.write(text), {
    tty: process.stdout.isTTY === true,
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
  });
  const result = await watchRun(service, workflowId, renderer, {
    diagnostics: (text) => void process.stderr.write(text),
  });
  process.stdout.write(formatOutcome(result));
  say(`Temporal Web UI: ${runUrl}`);

  exitCode = result.outcome === 'completed' ? 0 : 1;
  if (!ci) {
    say('Everything is still running for you to explore. Press Ctrl-C to stop.');
    await new Promise<never>(() => undefined);
  }
  return exitCode;
}

/**
 * The dev worker's version: a deployment of the dev queue's own (so that making it current moves
 * no other fleet on the same server) that it makes current at every start, so the code being
 * edited takes the new runs. `ARKOR_DEPLOYMENT_NAME`, `ARKOR_BUILD_ID` and `ARKOR_BECOME_CURRENT`
 * override; a run of an earlier session whose workflow code changed since stays pinned to its own
 * version (a worker of that code finishes it).
 */
async function devVersioning(taskQueue: string): Promise<WorkerVersioning> {
  const env = process.env;
  const settings = loadWorkerSettings({
    ARKOR_DEPLOYMENT_NAME: deploymentNameOf(taskQueue),
    ARKOR_BECOME_CURRENT: 'always',
    ...env,
  });
  return {
    deploymentName: settings.ARKOR_DEPLOYMENT_NAME,
    buildId: settings.ARKOR_BUILD_ID ?? (await workflowBuildId()),
    becomeCurrent: settings.ARKOR_BECOME_CURRENT,
  };
}

/** Set once the run has ended: Ctrl-C after that is the normal way out. */
let exitCode: number | undefined;

/**
 * Runs `dev` to its end and exits the process: 0 when the run completed (with CI=true), 1 when it
 * did not or something failed to start, 130 on Ctrl-C before the run ended.
 */
export async function runDev(options: DevOptions = {}): Promise<never> {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say('Stopping...');
      void shutdown().then(() => process.exit(exitCode ?? 130));
    });
  }
  let code: number;
  try {
    code = await main(options);
  } catch (error) {
    console.error(errorMessage(error));
    if (error instanceof ConfigError) for (const issue of error.issues) console.error(`  - ${issue}`);
    code = 1;
  }
  await shutdown();
  process.exit(code);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void runDev({ configPath: process.argv[2] });
