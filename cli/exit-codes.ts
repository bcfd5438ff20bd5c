/**
 * The CLI's exit codes: part of its scripting interface, documented in docs/cli.md.
 */
export const ExitCode = {
  /** The command succeeded; for a waited run, it ended `completed`, `stopped` or `skipped`. */
  Ok: 0,
  /**
   * A waited run ended `failed` or `cancelled`; no run or schedule with that id; the server
   * refused the request (a wrong API key, a refused update); any other error.
   */
  Failure: 1,
  /**
   * Bad usage: unknown command or flag, a missing or invalid argument or choice; a run config that
   * cannot be read or is invalid; unusable Temporal connection settings. Nothing was started.
   */
  Usage: 2,
  /** No Temporal server answered at the address (within the connect timeout), or it went away. */
  NoServer: 3,
  /** The server is up but no worker polls the run's task queue, so nothing can answer (`status`). */
  NoWorker: 4,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
