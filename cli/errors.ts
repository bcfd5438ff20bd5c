/**
 * Errors the CLI turns into exit codes. Anything else that escapes a command is a runtime
 * failure (exit 1).
 */

/** The command line is wrong: printed with the usage on stderr, exit 2. */
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

/** Temporal cannot be reached with the configured connection settings: exit 1. */
export class TemporalConnectionError extends Error {
  override readonly name = 'TemporalConnectionError';
}
