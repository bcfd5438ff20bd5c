/**
 * `worker.ts` started the way people start it — `npm run worker`, `npx tsx worker.ts`,
 * `tsx worker.ts`, `node --import tsx worker.ts` — in a process group of its own, as a terminal,
 * systemd or a container runtime would start it, so a test can signal the group, the launcher
 * or the worker's own node process. Linux only: the process tree is read from /proc.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workerProcessEnv } from '../../testing/worker-process.js';
import { recordingWorkerEnv, type Harness } from './harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export type Launcher =
  'npm run worker' | 'npm run worker as PID 1' | 'npx tsx worker.ts' | 'tsx worker.ts' | 'node --import tsx worker.ts';

/** A PID namespace of its own, as a container has: npm is its PID 1. */
const pid1 = ['--pid', '--fork', '--mount-proc', '--kill-child'];

const commands: Record<Launcher, [string, string[]]> = {
  'npm run worker': ['npm', ['run', '--silent', 'worker']],
  'npm run worker as PID 1': ['unshare', [...pid1, 'npm', 'run', '--silent', 'worker']],
  'npx tsx worker.ts': ['npx', ['tsx', 'worker.ts']],
  'tsx worker.ts': [join(root, 'node_modules/.bin/tsx'), ['worker.ts']],
  'node --import tsx worker.ts': [process.execPath, ['--import', 'tsx', 'worker.ts']],
};

export interface LaunchedWorker {
  launcher: Launcher;
  /** The process the launcher command started: the process group's leader. */
  top: ChildProcess;
  /** The launcher: the top process, or for PID 1 the namespace's first process (npm). */
  launcherPid: number;
  /** The node process that runs `worker.ts` (the top one, or a descendant of it). */
  workerPid: number;
  /** The worker's pid as it sees itself, in its worker identity and records (PID namespaces differ). */
  selfPid: number;
  output(): string;
  /** Resolves when the top process has exited. */
  topExited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILLs the whole group (orphaned members included) and waits until the worker is gone. */
  kill(): Promise<void>;
}

/** The worker's environment: the harness's server, emulator, callbacks and records, as `spawnWorker` sets them. */
function workerEnv(h: Harness, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    ...process.env,
    ...workerProcessEnv(h),
    ...recordingWorkerEnv(h),
    ARKOR_KEY_STORE_DIR: h.keyStoreDir,
    npm_config_update_notifier: 'false',
    npm_config_fund: 'false',
    ...env,
  };
}

/** Starts `worker.ts` through `launcher`; resolves once the worker printed its ready line. */
export async function launchWorker(
  h: Harness,
  launcher: Launcher,
  env: NodeJS.ProcessEnv = {},
): Promise<LaunchedWorker> {
  const [command, args] = commands[launcher];
  // A group of its own (setsid), like a service or a terminal job: the test can signal the group.
  const top = spawn(command, args, {
    cwd: root,
    env: workerEnv(h, env),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  top.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  top.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const topExited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    top.once('exit', (code, signal) => resolveExit({ code, signal })),
  );
  const topPid = top.pid;
  if (topPid === undefined) throw new Error(`${launcher} did not start`);
  const group = topPid;
  const kill = async (): Promise<void> => {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // The group is already empty.
    }
    await waitUntilGone(workerPidOrTop(), 10_000);
  };
  let workerPid: number | undefined;
  const workerPidOrTop = (): number => workerPid ?? topPid;
  try {
    await new Promise<void>((resolveReady, reject) => {
      const timer = setTimeout(() => reject(new Error(`${launcher}: no ready line within 60 s:\n${output}`)), 60_000);
      const onData = (): void => {
        if (!output.includes('worker ready')) return;
        clearTimeout(timer);
        resolveReady();
      };
      top.stdout.on('data', onData);
      void topExited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`${launcher} exited (${code ?? signal}) before the worker was ready:\n${output}`));
      });
    });
    workerPid = workerProcess(topPid);
  } catch (error) {
    await kill();
    throw error;
  }
  const launcherPid = launcher === 'npm run worker as PID 1' ? childrenOf(topPid)[0] : topPid;
  if (launcherPid === undefined) throw new Error(`no PID 1 under ${topPid}`);
  return {
    launcher,
    top,
    launcherPid,
    workerPid,
    selfPid: namespacePid(workerPid),
    output: () => output,
    topExited,
    kill,
  };
}

/** Whether this machine lets a test start a process as PID 1 of a new PID namespace. */
export function canRunAsPid1(): boolean {
  return spawnSync('unshare', [...pid1, 'true'], { stdio: 'ignore' }).status === 0;
}

/** `pid` as its own (innermost) PID namespace numbers it. */
function namespacePid(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('NSpid:'));
  return Number(line?.split(/\s+/).at(-1) ?? pid);
}

/** Parent pid and state of `pid`, or undefined when it is gone. */
function stat(pid: number): { ppid: number; state: string } | undefined {
  try {
    // The command name may hold spaces and parentheses: the fields start after the last ')'.
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '?', ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

/** Every process's children, from /proc. */
function processTree(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const info = stat(pid);
    if (info) children.set(info.ppid, [...(children.get(info.ppid) ?? []), pid]);
  }
  return children;
}

function childrenOf(pid: number): number[] {
  return processTree().get(pid) ?? [];
}

/** The deepest descendant of `top` (itself included) whose command line runs worker.ts. */
function workerProcess(top: number): number {
  const children = processTree();
  let found: number | undefined;
  const visit = (pid: number): void => {
    let cmdline = '';
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return;
    }
    if (/node/.test(cmdline) && cmdline.includes('worker.ts')) found = pid;
    for (const child of children.get(pid) ?? []) visit(child);
  };
  visit(top);
  if (found === undefined) throw new Error(`no worker.ts process under ${top}`);
  return found;
}

/** Whether `pid` has exited (a zombie nobody reaped yet counts as exited). */
export function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  return stat(pid)?.state === 'Z';
}

/** Polls until `pid` has exited; returns when it did (ms since epoch), or undefined after `timeoutMs`. */
export async function waitUntilGone(pid: number, timeoutMs: number): Promise<number | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (processGone(pid)) return Date.now();
    if (Date.now() > deadline) return undefined;
    await new Promise((r) => setTimeout(r, 20));
  }
}
