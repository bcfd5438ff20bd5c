/**
 * A worker as a child process, pointed at a server, a task queue and an emulator, for tests and
 * benchmarks that kill or restart workers: `worker.ts` through tsx in the repository, the
 * compiled `arkor-temporal worker` from the installed package.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Emulator } from '../emulator/index.js';
import type { DevServer } from './dev-server.js';
import { emulatorWorkerEnv } from './emulator.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const compiled = import.meta.url.endsWith('.js');
/** How to start a worker process from here (its arguments to `node`). */
const WORKER_COMMAND = compiled
  ? [join(root, 'cli', 'main.js'), 'worker']
  : ['--import', 'tsx', join(root, 'worker.ts')];

/** What a worker process connects to. */
export interface WorkerProcessTarget {
  temporal: Pick<DevServer, 'address' | 'namespace'>;
  taskQueue: string;
  emulator: Emulator;
}

/**
 * The variables that point `worker.ts` at `target`: `TEMPORAL_ADDRESS`, `TEMPORAL_NAMESPACE`,
 * `TEMPORAL_TASK_QUEUE` and the emulator's (`emulatorWorkerEnv`).
 */
export function workerProcessEnv(target: WorkerProcessTarget): Record<string, string> {
  return {
    TEMPORAL_ADDRESS: target.temporal.address,
    TEMPORAL_NAMESPACE: target.temporal.namespace,
    TEMPORAL_TASK_QUEUE: target.taskQueue,
    ...emulatorWorkerEnv(target.emulator),
  };
}

/** A worker child process. */
export interface ChildWorker {
  process: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGKILL, and wait for the process to be gone. */
  kill(): Promise<void>;
}

/**
 * Spawns a worker with this process's environment, then `workerProcessEnv(target)`, then
 * `env`; resolves once it printed its ready line (rejects if it exits first).
 */
export async function spawnWorkerProcess(
  target: WorkerProcessTarget,
  env: NodeJS.ProcessEnv = {},
): Promise<ChildWorker> {
  const child = spawn(process.execPath, WORKER_COMMAND, {
    // The repository's worker resolves its modules from the repository; an installed one from
    // the caller's directory (where its callbacks module is).
    cwd: compiled ? process.cwd() : root,
    env: { ...process.env, ...workerProcessEnv(target), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  await new Promise<void>((resolveReady, reject) => {
    const lines = createInterface({ input: child.stdout });
    lines.on('line', (line) => {
      output += `${line}\n`;
      // The ready line, as text or (ARKOR_LOG_FORMAT=json) as a JSON record.
      if (line.startsWith('worker ready') || (line.startsWith('{') && line.includes('"msg":"worker ready"'))) {
        resolveReady();
      }
    });
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${output}`)));
  });
  return {
    process: child,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
