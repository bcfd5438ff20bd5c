/**
 * The CLI's top level: parse, validate the config, connect, run the command, and map every
 * ending to an exit code (0 ok, 1 run failed/cancelled or Temporal error, 2 usage/config error).
 */
import { isGrpcServiceError, ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { parseCliArgs, type Command } from './args.js';
import { loadRunConfig } from './config.js';
import { connectService, resolveTaskQueue, type ServiceConnector } from './connect.js';
import type { CliIo, CommandContext } from './context.js';
import { ConfigError, TemporalConnectionError, UsageError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { oneLine } from './format.js';
import { USAGE } from './usage.js';
import { runCancel } from './commands/cancel.js';
import { runStart } from './commands/start.js';
import { runStatus } from './commands/status.js';
import { runStop } from './commands/stop.js';
import { runDecide } from './commands/decide.js';
import { runWatch } from './commands/watch.js';
import { runList } from './commands/list.js';
import { runSchedule } from './commands/schedule.js';
import { InvalidRunFilterError } from '../service/runs.js';
import { InvalidScheduleError } from '../service/schedules.js';
import { InvalidTrainingInputError } from '../contract/input.js';
import type { TrainingRunInput } from '../contract/input.js';
import { errorMessage } from '../contract/errors.js';

export interface CliDeps {
  io: CliIo;
  /** Used for TEMPORAL_TASK_QUEUE; the connection itself reads envconfig. Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Default: a real Temporal connection through envconfig. */
  connect?: ServiceConnector;
}

/** Runs the CLI on `argv` (without node and the script) and returns the exit code. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<ExitCode> {
  const { io } = deps;
  let command: Command;
  let taskQueue: string | undefined;
  try {
    ({ command, taskQueue } = parseCliArgs(argv));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr(`error: ${error.message}\n\n${USAGE}`);
    return ExitCode.Usage;
  }
  if (command.kind === 'help') {
    io.stdout(USAGE);
    return ExitCode.Ok;
  }

  let input: TrainingRunInput | undefined;
  if (command.kind === 'start' || command.kind === 'schedule-create' || command.kind === 'schedule-update') {
    try {
      input = await loadRunConfig(command.configPath);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      io.stderr(`error: ${error.message}${error.issues.map((issue) => `\n  - ${issue}`).join('')}\n`);
      return ExitCode.Usage;
    }
  }

  let connected;
  try {
    connected = await (deps.connect ?? connectService)(resolveTaskQueue(taskQueue, deps.env ?? process.env));
  } catch (error) {
    io.stderr(`error: ${describeError(error)}\n`);
    return ExitCode.Failure;
  }
  const ctx: CommandContext = {
    service: connected.service,
    io,
    ...(connected.schedules ? { schedules: connected.schedules } : {}),
    ...(connected.listRuns ? { listRuns: connected.listRuns } : {}),
  };
  try {
    switch (command.kind) {
      case 'start':
        // Loaded above for every start; the check narrows the type.
        if (input === undefined) throw new Error('config not loaded');
        return await runStart(ctx, input, command);
      case 'status':
        return await runStatus(ctx, command.workflowId, command.json);
      case 'watch':
        return await runWatch(ctx, command.workflowId);
      case 'stop':
        return await runStop(ctx, command.workflowId, command.reason);
      case 'cancel':
        return await runCancel(ctx, command.workflowId);
      case 'approve':
      case 'reject':
        return await runDecide(ctx, command.workflowId, {
          approved: command.kind === 'approve',
          ...(command.by ? { by: command.by } : {}),
          ...(command.reason ? { reason: command.reason } : {}),
        });
      case 'list':
        return await runList(ctx, command);
      default:
        return await runSchedule(ctx, command, input);
    }
  } catch (error) {
    io.stderr(`error: ${describeError(error)}\n`);
    // Values the server-side validation rejects are the caller's mistake, as a bad flag is.
    if (
      error instanceof InvalidScheduleError ||
      error instanceof InvalidRunFilterError ||
      error instanceof InvalidTrainingInputError
    )
      return ExitCode.Usage;
    return ExitCode.Failure;
  } finally {
    await connected.close().catch(() => undefined);
  }
}

/** gRPC status code UNAVAILABLE. */
const GRPC_UNAVAILABLE = 14;

/** One line for any failure, naming TEMPORAL_ADDRESS when the server could not be reached. */
export function describeError(error: unknown): string {
  if (error instanceof TemporalConnectionError) return error.message;
  if (error instanceof WorkflowNotFoundError) return `no run with workflow id ${error.workflowId}`;
  if (error instanceof ScheduleNotFoundError) return `no schedule with id ${error.scheduleId}`;
  const text = oneLine(errorMessage(error));
  // The server went away after the connection was made.
  if (isGrpcServiceError(error) && Number(error.code) === GRPC_UNAVAILABLE)
    return `Temporal is unavailable (check TEMPORAL_ADDRESS): ${text}`;
  return text;
}
