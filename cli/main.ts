#!/usr/bin/env node
/**
 * `arkor-temporal`, the command line: parse (cli/program.ts), then run the command — those that
 * talk to Temporal in cli/remote.ts — and map every ending to an exit code (cli/exit-codes.ts). `client.ts` (`npm run
 * client`) calls `runCli`; run directly (the package's `bin`), this module is the program itself.
 * The local commands (`worker`, `dev`, `server`, `emulator`) load their modules only when run.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { ConnectionOverrides } from '../service/connection.js';
import { parseCommandLine, type CliArgs, type Command } from './program.js';
import type { ServiceConnector } from './connect.js';
import type { CliIo } from './context.js';
import { ExitCode } from './exit-codes.js';
import { withLogSettings } from './log-output.js';
import { oneLine } from './format.js';
import { errorMessage } from '../contract/errors.js';

export interface CliDeps {
  io: CliIo;
  /** TEMPORAL_TASK_QUEUE and ARKOR_TEMPORAL_UI_URL; the connection itself reads envconfig. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Default: a real Temporal connection through envconfig and the connection flags. */
  connect?: ServiceConnector;
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<ExitCode> {
  const { io } = deps;
  const parsed = parseCommandLine(argv, io);
  if (parsed.kind === 'exit') return parsed.code;
  const { command } = parsed.args;
  // Connection flags given before the command reach every command; these do not connect.
  if (
    (command.kind === 'schema' ||
      command.kind === 'server' ||
      command.kind === 'emulator' ||
      command.kind === 'codec-server') &&
    (parsed.args.taskQueue !== undefined || Object.keys(parsed.args.connection).length > 0)
  ) {
    io.stderr(`error: "${command.kind}" takes no Temporal connection flags (--address, --task-queue, ...)\n`);
    return ExitCode.Usage;
  }
  switch (command.kind) {
    case 'schema': {
      const { trainingRunJsonSchemaText } = await import('./schema.js');
      io.stdout(trainingRunJsonSchemaText());
      return ExitCode.Ok;
    }
    case 'worker':
    case 'dev':
    case 'server':
    case 'emulator':
      return runLocal(command, parsed.args, io);
    case 'codec-server': {
      const { runCodecServer } = await import('./codec-server.js');
      return runCodecServer(command, { io, env: deps.env ?? process.env });
    }
    default: {
      // The Temporal client and the commands load only now: help and usage errors come at once.
      const { runRemote } = await import('./remote.js');
      return runRemote(command, parsed.args, deps);
    }
  }
}

/**
 * The commands that run a process of their own; they return only when it is done (most exit the
 * process themselves). A failure to start is one line on stderr, exit 1.
 */
async function runLocal(
  command: Extract<Command, { kind: 'worker' | 'dev' | 'server' | 'emulator' }>,
  args: CliArgs,
  io: CliIo,
): Promise<ExitCode> {
  const connection: ConnectionOverrides = args.connection;
  const taskQueue = args.taskQueue === undefined ? {} : { taskQueue: args.taskQueue };
  try {
    switch (command.kind) {
      case 'worker': {
        const { runWorkerProcess } = await import('../worker/process.js');
        await runWorkerProcess({
          connection,
          ...taskQueue,
          ...(command.callbacks ? { callbacksModule: command.callbacks } : {}),
          ...(command.scorers ? { scorersModule: command.scorers } : {}),
          ...(command.preconditions ? { preconditionsModule: command.preconditions } : {}),
        });
        return ExitCode.Ok;
      }
      case 'dev': {
        const { runDev } = await import('../scripts/dev.js');
        return await runDev({
          connection,
          ...taskQueue,
          ...(command.configPath ? { configPath: command.configPath } : {}),
        });
      }
      case 'server': {
        const { runDevServer } = await import('../scripts/dev-server.js');
        return await runDevServer(command);
      }
      case 'emulator': {
        const { emulatorOptions, runEmulator, UsageError: EmulatorUsageError } = await import('../emulator/main.js');
        let options;
        try {
          options = emulatorOptions(command.flags);
        } catch (error) {
          if (!(error instanceof EmulatorUsageError)) throw error;
          io.stderr(`error: ${error.message}\n`);
          return ExitCode.Usage;
        }
        await runEmulator(options);
        // It serves until a signal, on which it closes and exits the process itself.
        return await new Promise<never>(() => undefined);
      }
    }
  } catch (error) {
    io.stderr(`error: ${oneLine(errorMessage(error))}\n`);
    return ExitCode.Failure;
  }
}

/** The process's own streams. */
export function processIo(): CliIo {
  // Diagnostics as ARKOR_LOG_FORMAT and ARKOR_LOG_LEVEL say (cli/log-output.ts).
  return withLogSettings({
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stdoutIsTty: process.stdout.isTTY === true,
    stderrIsTty: process.stderr.isTTY === true,
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
  });
}

/** Whether this module is the program (`node cli/main.js`, or the package's bin symlink to it). */
function invokedDirectly(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return pathToFileURL(realpathSync(script)).href === import.meta.url;
  } catch {
    return false;
  }
}

/**
 * The program: runs the CLI on the process's arguments and exits with its code once stdout and
 * stderr are flushed, so that nothing a command leaves behind (a gRPC reconnect timer after a
 * refused connection) keeps the process up.
 */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  const code = await runCli(argv, { io: processIo() });
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
}

if (invokedDirectly()) await main();
