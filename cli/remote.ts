/**
 * The commands that talk to Temporal: validate the config, connect (cli/connect.ts), run the
 * command, close, and map every ending to an exit code. Loaded by cli/main.ts only for these
 * commands, so that help, `--version` and usage errors do not wait for the Temporal client to load.
 */
import { ScheduleNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import type { CliArgs, Command } from './program.js';
import { loadRunConfig } from './config.js';
import { connectService, isServerUnavailable, resolveTaskQueue } from './connect.js';
import type { CommandContext } from './context.js';
import { ConfigError, ConnectionProblem, NoWorkerError, TemporalConnectionError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { oneLine } from './format.js';
import type { CliDeps } from './main.js';
import { runCancel } from './commands/cancel.js';
import { runStart } from './commands/start.js';
import { runStatus } from './commands/status.js';
import { runStop } from './commands/stop.js';
import { runDecide } from './commands/decide.js';
import { runWatch } from './commands/watch.js';
import { runList } from './commands/list.js';
import { runSchedule } from './commands/schedule.js';
import { runReport } from './commands/report.js';
import { runDeploy } from './commands/deploy.js';
import {
  DeploymentNotFoundError,
  DeploymentVersionNotFoundError,
  InvalidDeploymentArgumentError,
} from '../service/deployments.js';
import { DEFAULT_DEPLOYMENT_NAME } from '../contract/deployments.js';
import { InvalidRunFilterError } from '../service/runs.js';
import { InvalidScheduleError } from '../service/schedules.js';
import { InvalidTrainingInputError } from '../contract/input.js';
import type { TrainingRunInput } from '../contract/input.js';
import { errorMessage } from '../contract/errors.js';

/** Default base URL of the Temporal Web UI (the dev server's), for run links. */
export const DEFAULT_TEMPORAL_UI_URL = 'http://localhost:8233';

export type RemoteCommand = Exclude<
  Command,
  { kind: 'schema' | 'worker' | 'dev' | 'server' | 'emulator' | 'codec-server' }
>;

/** Runs a command that talks to Temporal. */
export async function runRemote(command: RemoteCommand, args: CliArgs, deps: CliDeps): Promise<ExitCode> {
  const { io } = deps;
  const env = deps.env ?? process.env;
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

  const taskQueue = resolveTaskQueue(args.taskQueue, env);
  let connected;
  try {
    connected = await (deps.connect ?? connectService)(taskQueue, args.connection);
  } catch (error) {
    io.stderr(`error: ${describeError(error)}\n`);
    return exitCodeOfError(error);
  }
  const namespace = connected.namespace ?? 'default';
  const ctx: CommandContext = {
    service: connected.service,
    io,
    taskQueue,
    runUrl: (workflowId) => webUiRunUrl(env, namespace, workflowId),
    ...(connected.schedules ? { schedules: connected.schedules } : {}),
    ...(connected.listRuns ? { listRuns: connected.listRuns } : {}),
    ...(connected.workers ? { workers: connected.workers } : {}),
    ...(connected.client ? { client: connected.client } : {}),
    ...(connected.deployments ? { deployments: connected.deployments } : {}),
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
        return await runWatch(ctx, command.workflowId, command.json);
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
      case 'report':
        return await runReport(ctx, command);
      case 'deploy-status':
      case 'deploy-set-current':
      case 'deploy-ramp':
      case 'deploy-unramp':
        return await runDeploy(ctx, command, resolveDeploymentName(command.deployment, env));
      default:
        return await runSchedule(ctx, command, input);
    }
  } catch (error) {
    io.stderr(`error: ${describeError(error)}\n`);
    return exitCodeOfError(error);
  } finally {
    await connected.close().catch(() => undefined);
  }
}

/** The exit code for an error that ended a command (see exit-codes.ts). */
function exitCodeOfError(error: unknown): ExitCode {
  if (error instanceof TemporalConnectionError) {
    if (error.problem === ConnectionProblem.Settings) return ExitCode.Usage;
    if (error.problem === ConnectionProblem.Refused) return ExitCode.Failure;
    return ExitCode.NoServer;
  }
  if (error instanceof NoWorkerError) return ExitCode.NoWorker;
  if (isServerUnavailable(error)) return ExitCode.NoServer;
  // Values the server-side validation rejects are the caller's mistake, as a bad flag is.
  if (
    error instanceof InvalidScheduleError ||
    error instanceof InvalidRunFilterError ||
    error instanceof InvalidTrainingInputError ||
    error instanceof InvalidDeploymentArgumentError
  )
    return ExitCode.Usage;
  return ExitCode.Failure;
}

/** One line for any failure, naming the address when the server could not be reached. */
export function describeError(error: unknown): string {
  if (error instanceof TemporalConnectionError || error instanceof NoWorkerError) return error.message;
  if (error instanceof WorkflowNotFoundError) return `no run with workflow id ${error.workflowId}`;
  if (error instanceof DeploymentNotFoundError || error instanceof DeploymentVersionNotFoundError) return error.message;
  if (error instanceof ScheduleNotFoundError) return `no schedule with id ${error.scheduleId}`;
  const text = oneLine(errorMessage(error));
  // The server went away after the connection was made.
  if (isServerUnavailable(error))
    return `Temporal became unavailable (check that the server runs, and --address / TEMPORAL_ADDRESS): ${text}`;
  return text;
}

/** `--deployment`, else ARKOR_DEPLOYMENT_NAME (the workers' setting), else `arkor-temporal`. */
export function resolveDeploymentName(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? (env.ARKOR_DEPLOYMENT_NAME?.trim() || DEFAULT_DEPLOYMENT_NAME);
}

/**
 * The run's page in the Temporal Web UI: `ARKOR_TEMPORAL_UI_URL` (default the dev server's
 * http://localhost:8233) + `/namespaces/<ns>/workflows/<id>`. An empty variable turns links off.
 */
export function webUiRunUrl(env: NodeJS.ProcessEnv, namespace: string, workflowId: string): string | undefined {
  const base = (env.ARKOR_TEMPORAL_UI_URL ?? DEFAULT_TEMPORAL_UI_URL).trim().replace(/\/+$/, '');
  if (base === '') return undefined;
  return `${base}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}
