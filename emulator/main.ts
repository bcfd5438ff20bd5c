/**
 * Standalone emulator (also `arkor-temporal emulator`, with the same flags):
 *
 *   npx tsx emulator/main.ts [--port 0] [--token emulator-token] [--org local-org]
 *     [--project local-project] [--step-ms 50] [--ping-ms 15000] [--seed 1]
 *     [--min-client-version 0.0.1] [--deprecated-below <semver>] [--verbose]
 *
 * Prints the base URL as the first line of stdout (scripts read it), then a short summary.
 * Exits 0 on SIGINT/SIGTERM after closing, 2 on a bad flag.
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { EmulatorOptions } from './types.js';
import { startEmulator } from './start.js';
import { errorMessage } from '../contract/errors.js';

/** A command-line flag that cannot be used. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

function numberFlag(
  name: string,
  value: string | undefined,
  check: (n: number) => boolean,
  rule: string,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || !check(n))
    throw new UsageError(`--${name} must be ${rule}, got ${JSON.stringify(value)}`);
  return n;
}

function textFlag(name: string, value: string | undefined): string | undefined {
  if (value !== undefined && value.trim() === '') throw new UsageError(`--${name} must not be empty`);
  return value;
}

/** The emulator's flags as text, as a parser hands them over (`--step-ms` is `stepMs`). */
export interface EmulatorFlagValues {
  port?: string | undefined;
  token?: string | undefined;
  org?: string | undefined;
  project?: string | undefined;
  stepMs?: string | undefined;
  pingMs?: string | undefined;
  seed?: string | undefined;
  minClientVersion?: string | undefined;
  deprecatedBelow?: string | undefined;
  verbose?: boolean | undefined;
}

/** Checks the flags and turns them into emulator options (throws `UsageError` naming the flag). */
export function emulatorOptions(values: EmulatorFlagValues): EmulatorOptions {
  return {
    port: numberFlag('port', values.port, (n) => Number.isInteger(n) && n >= 0 && n <= 65_535, 'an integer 0-65535'),
    token: textFlag('token', values.token),
    orgSlug: textFlag('org', values.org),
    projectSlug: textFlag('project', values.project),
    stepMs: numberFlag('step-ms', values.stepMs, (n) => n > 0, 'a positive number'),
    pingIntervalMs: numberFlag('ping-ms', values.pingMs, (n) => n > 0, 'a positive number'),
    seed: numberFlag('seed', values.seed, Number.isInteger, 'an integer'),
    minClientVersion: textFlag('min-client-version', values.minClientVersion),
    deprecatedBelowVersion: textFlag('deprecated-below', values.deprecatedBelow),
    verbose: values.verbose,
  };
}

/** Parses the command line into emulator options (throws `UsageError` naming the flag). */
export function parseCommandLine(argv: string[]): EmulatorOptions {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        token: { type: 'string' },
        org: { type: 'string' },
        project: { type: 'string' },
        'step-ms': { type: 'string' },
        'ping-ms': { type: 'string' },
        seed: { type: 'string' },
        'min-client-version': { type: 'string' },
        'deprecated-below': { type: 'string' },
        verbose: { type: 'boolean' },
      },
    }));
  } catch (error) {
    throw new UsageError(errorMessage(error));
  }
  return emulatorOptions({
    ...values,
    stepMs: values['step-ms'],
    pingMs: values['ping-ms'],
    minClientVersion: values['min-client-version'],
    deprecatedBelow: values['deprecated-below'],
  });
}

/**
 * Starts the emulator, prints its base URL (first line) and a summary, and serves until SIGINT or
 * SIGTERM, then closes and exits the process (0).
 */
export async function runEmulator(options: EmulatorOptions): Promise<void> {
  const emulator = await startEmulator(options);
  const step = options.stepMs ?? 50;
  process.stdout.write(
    `${emulator.url}\n` +
      `Arkor cloud-api emulator: token ${emulator.token}, scope ${emulator.orgSlug}/${emulator.projectSlug}, ${step} ms/step\n` +
      `  ARKOR_CLOUD_API_URL=${emulator.url}  edge: ${emulator.edgeUrl('<slug>')}  control: ${emulator.url}/_emulator/stats\n`,
  );
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`arkor emulator: close failed: ${String(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

async function main(): Promise<void> {
  let options: EmulatorOptions;
  try {
    options = parseCommandLine(process.argv.slice(2));
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`arkor emulator: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  await runEmulator(options);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`arkor emulator: ${errorMessage(error)}\n`);
    process.exit(1);
  });
}
