/**
 * Notices that the npm or npx process that launched the worker went away.
 *
 * npm runs a script or an npx command through `sh -c` and forwards SIGTERM and SIGINT to that
 * shell only. dash (Debian's /bin/sh, and the node images') neither relays them nor execs its
 * command, so a signal sent to npm alone — a supervisor signalling its direct child — kills the
 * shell and leaves the worker running, orphaned, until someone SIGKILLs it. The worker never sees
 * that signal, but it can see the chain of processes between itself and npm break.
 *
 * Linux only (it reads /proc); elsewhere, and when npm did not launch the worker, nothing is
 * watched.
 */
import { readFileSync } from 'node:fs';

/** A link of the chain: `pid` must live on with `ppid` as its parent. */
export interface Link {
  pid: number;
  ppid: number;
}

export interface ProcReader {
  /** The parent of a live process; undefined when it is gone (or a zombie). */
  parentOf(pid: number): number | undefined;
  /** The npm script the process was started in (its `npm_lifecycle_event`), if any. */
  npmScriptOf(pid: number): string | undefined;
}

export const procfs: ProcReader = {
  parentOf(pid) {
    try {
      // The command name may hold spaces and parentheses: the fields start after the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return state === 'Z' ? undefined : Number(ppid);
    } catch {
      return undefined;
    }
  },
  npmScriptOf(pid) {
    try {
      const entry = readFileSync(`/proc/${pid}/environ`, 'utf8')
        .split('\0')
        .find((variable) => variable.startsWith('npm_lifecycle_event='));
      return entry?.slice('npm_lifecycle_event='.length);
    } catch {
      return undefined;
    }
  },
};

/**
 * The links from `self` up to the npm process that runs its script. Every process on the way
 * (the shell, a tsx CLI) was started with the same `npm_lifecycle_event`; npm itself was not
 * (it has none, or an outer script's). Empty when `self` is not inside an npm script.
 */
export function launcherChain(self: number, proc: ProcReader = procfs): Link[] {
  const script = proc.npmScriptOf(self);
  if (script === undefined) return [];
  const chain: Link[] = [];
  let pid = self;
  // Bounded: launchers are a handful of processes deep.
  for (let depth = 0; depth < 16; depth++) {
    const ppid = proc.parentOf(pid);
    if (ppid === undefined) break;
    chain.push({ pid, ppid });
    if (ppid <= 1 || proc.npmScriptOf(ppid) !== script) break;
    pid = ppid;
  }
  return chain;
}

/** The first link whose process is gone or has another parent (its parent died), if any. */
export function brokenLink(chain: readonly Link[], proc: ProcReader = procfs): Link | undefined {
  return chain.find((link) => proc.parentOf(link.pid) !== link.ppid);
}

/**
 * Calls `onGone` once the chain from this process to its npm launcher breaks, polling every
 * `intervalMs`; returns a function that stops watching. The timer keeps no process alive.
 */
export function watchLauncher(onGone: (link: Link) => void, intervalMs = 250, proc: ProcReader = procfs): () => void {
  if (process.platform !== 'linux') return () => undefined;
  const chain = launcherChain(process.pid, proc);
  if (chain.length === 0) return () => undefined;
  const timer = setInterval(() => {
    const broken = brokenLink(chain, proc);
    if (!broken) return;
    clearInterval(timer);
    onGone(broken);
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
