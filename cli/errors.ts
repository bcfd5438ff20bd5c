/**
 * Errors the CLI turns into exit codes. Anything else that escapes a command is a runtime
 * failure (exit 1).
 */

/** The command line is wrong: printed with a hint on stderr, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The config file cannot be read, is not JSON, or fails validation: exit 2, nothing started. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** One entry per bad field (`path: message`); empty when the file itself is the problem. */
  readonly issues: readonly string[];
  constructor(message: string, issues: readonly string[] = []) {
    super(message);
    this.issues = issues;
  }
}

export const ConnectionProblem = {
  /** The settings cannot be used (an invalid address, a missing certificate file): exit 2. */
  Settings: 'settings',
  /** No server answered within the connect timeout, or it went away: exit 3. */
  Unreachable: 'unreachable',
  /** The server answered and refused (authentication, permission): exit 1. */
  Refused: 'refused',
} as const;
export type ConnectionProblem = (typeof ConnectionProblem)[keyof typeof ConnectionProblem];

/** Temporal cannot be used with the connection settings given; the message names the address. */
export class TemporalConnectionError extends Error {
  override readonly name = 'TemporalConnectionError';
  constructor(
    message: string,
    readonly problem: ConnectionProblem = ConnectionProblem.Unreachable,
  ) {
    super(message);
  }
}

/** No worker polls the run's task queue, so nothing answers (`status`): exit 4. */
export class NoWorkerError extends Error {
  override readonly name = 'NoWorkerError';
}
