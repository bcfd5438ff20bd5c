/**
 * How the worker process stops, whatever launched it. The first stop request — a signal, or the
 * npm launcher going away (launcher-watch.ts) — starts the graceful shutdown; later ones are
 * logged and change nothing, so that a launcher relaying a signal the worker already got from
 * its process group neither kills it mid-shutdown nor is lost. The listeners stay installed for
 * the life of the process: a signal with no listener would terminate it.
 */
import { watchLauncher } from './launcher-watch.js';

/** The signals that stop the worker gracefully: the SDK's own set, which this replaces. */
export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGUSR2'];

/**
 * Beyond the grace time, for cancelled activities to report back, workflow tasks to drain and
 * connections to close; a worker still up after that exits anyway (its activities time out).
 */
export const EXIT_MARGIN_MS = 3_000;

export interface ShutdownRequests {
  /** What first asked the worker to stop, and when (ms since the epoch); undefined until then. */
  readonly request: { reason: string; at: number } | undefined;
  /** Runs `stop` once: now when a stop was already requested, else at the first request. */
  onRequest(stop: () => void): void;
  /** Removes the listeners (tests; the worker keeps them until it exits). */
  dispose(): void;
}

export interface ShutdownOptions {
  /** ARKOR_SHUTDOWN_GRACE_MS: how long running activities may take to finish. */
  graceMs: number;
  log?: (line: string) => void;
  /** Ends the process when the shutdown overruns; `process.exit` by default. */
  exit?: (code: number) => void;
  /** Watch the npm launcher (default true). */
  watchLauncher?: boolean;
  /** Default EXIT_MARGIN_MS. */
  exitMarginMs?: number;
}

/** Installs the signal listeners (and the launcher watch); call it before the worker connects. */
export function handleShutdownRequests(options: ShutdownOptions): ShutdownRequests {
  const log = options.log ?? ((line: string) => console.log(line));
  const exit = options.exit ?? ((code: number) => process.exit(code));
  let first: { reason: string; at: number } | undefined;
  let overrun: NodeJS.Timeout | undefined;
  const pending: Array<() => void> = [];
  const limitMs = options.graceMs + (options.exitMarginMs ?? EXIT_MARGIN_MS);

  const request = (why: string): void => {
    if (first !== undefined) {
      log(`worker: ${why} while stopping (${first.reason}); still stopping gracefully`);
      return;
    }
    first = { reason: why, at: Date.now() };
    log(
      `worker stopping (${why}): no new tasks; streams move to other workers now, running activities get up to ${options.graceMs} ms`,
    );
    overrun = setTimeout(() => {
      log(`worker: still running ${limitMs} ms after ${why}; exiting`);
      exit(1);
    }, limitMs);
    // Never the reason the process stays up.
    overrun.unref();
    for (const stop of pending.splice(0)) stop();
  };

  const listeners = SHUTDOWN_SIGNALS.map((signal) => {
    const listener = (): void => request(signal);
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  const stopWatching =
    options.watchLauncher === false
      ? () => undefined
      : watchLauncher((link) => request(`its launcher (pid ${link.ppid}) exited`));

  return {
    get request() {
      return first;
    },
    onRequest(stop) {
      if (first === undefined) pending.push(stop);
      else stop();
    },
    dispose() {
      for (const [signal, listener] of listeners) process.off(signal, listener);
      stopWatching();
      clearTimeout(overrun);
    },
  };
}
