/**
 * The CLI's exit codes: part of its scripting interface, documented in docs/cli.md.
 */
export const ExitCode = {
  /** The command succeeded; for a waited run, it ended `completed` or `stopped`. */
  Ok: 0,
  /** A waited run ended `failed` or `cancelled`, or Temporal (or the run) could not be reached. */
  Failure: 1,
  /** Bad usage: unknown command or flag, missing argument, unreadable or invalid config. */
  Usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
