/**
 * Connects the CLI to Temporal: envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TLS, profiles) with the command line's connection flags layered over it, and a short connect
 * timeout so that a missing server is reported in seconds. Failures become a
 * `TemporalConnectionError` that names the address, and never the API key or other settings.
 */
import { createConnection } from 'node:net';
import { isGrpcServiceError, type Client } from '@temporalio/client';
import { clientOn, lazyConnection, loadTemporalSettings, type ConnectionOverrides } from '../service/connection.js';
import { listRuns } from '../service/runs.js';
import { ScheduleService } from '../service/schedules.js';
import { TrainingService } from '../service/training-service.js';
import { workflowPollers } from '../service/workers.js';
import { DeploymentService } from '../service/deployments.js';
import { DEFAULT_TASK_QUEUE } from '../contract/task-queues.js';
import type { DeploymentOps, RunLister, RunService, ScheduleOps } from './context.js';
import { ConnectionProblem, TemporalConnectionError } from './errors.js';
import { oneLine } from './format.js';
import type { WorkerProbe } from './worker-check.js';
import { errorMessage } from '../contract/errors.js';

/** Default of `--client-connect-timeout`: how long the CLI waits for the server to answer at all. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;

export interface ConnectedService {
  service: RunService;
  schedules?: ScheduleOps;
  listRuns?: RunLister;
  workers?: WorkerProbe;
  /** The client itself, for what the service API does not cover (the run report reads histories). */
  client?: Client;
  deployments?: DeploymentOps;
  /** The namespace connected to (for Web UI links); default `default`. */
  namespace?: string;
  /** Closes the connection so the process can exit. */
  close(): Promise<void>;
}

/** Opens a Temporal connection. Injectable so tests can run commands against a fake service. */
export type ServiceConnector = (taskQueue: string, overrides: ConnectionOverrides) => Promise<ConnectedService>;

/** `--task-queue`, else TEMPORAL_TASK_QUEUE, else `arkor-training`. */
export function resolveTaskQueue(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? (env.TEMPORAL_TASK_QUEUE?.trim() || DEFAULT_TASK_QUEUE);
}

const START_SERVER_HINT =
  'Start a local one with `npx arkor-temporal server` (or `npm run temporal:dev`), or point --address / TEMPORAL_ADDRESS at yours';

/** gRPC status codes the connection step tells apart. */
const GrpcStatus = { Unavailable: 14, PermissionDenied: 7, Unauthenticated: 16 } as const;

export const connectService: ServiceConnector = async (taskQueue, overrides) => {
  const connectTimeoutMs = overrides.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  let settings;
  try {
    settings = loadTemporalSettings({ ...overrides, connectTimeoutMs });
  } catch (error) {
    throw new TemporalConnectionError(
      `cannot load the Temporal connection settings (--profile, --config-file, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE, TEMPORAL_*): ${message(error)}`,
      ConnectionProblem.Settings,
    );
  }
  let client: Client;
  try {
    const connection = lazyConnection(settings);
    const connecting = connection.ensureConnected();
    // A closed port answers a plain TCP connect at once, where gRPC would retry until the timeout.
    const refused = await refusedAt(settings.address, connectTimeoutMs);
    if (refused !== undefined) {
      connecting.catch(() => undefined);
      await connection.close();
      throw new TemporalConnectionError(
        `no Temporal server at ${settings.address} (${refused}). ${START_SERVER_HINT}`,
        ConnectionProblem.Unreachable,
      );
    }
    await connecting;
    client = clientOn(connection, settings);
  } catch (error) {
    if (error instanceof TemporalConnectionError) throw error;
    const where = `Temporal at ${settings.address} (namespace ${settings.namespace})`;
    const problem = connectProblem(error);
    if (problem === ConnectionProblem.Settings)
      throw new TemporalConnectionError(`cannot connect to ${where}: ${message(error)}`, problem);
    if (problem === ConnectionProblem.Refused)
      throw new TemporalConnectionError(
        `${where} refused the connection (check --api-key / TEMPORAL_API_KEY and the TLS settings): ${message(error)}`,
        problem,
      );
    throw new TemporalConnectionError(
      `no Temporal server answered at ${settings.address} within ${formatSeconds(connectTimeoutMs)} (${message(error)}). ${START_SERVER_HINT}`,
      problem,
    );
  }
  return {
    service: new TrainingService(client, { taskQueue }),
    schedules: new ScheduleService(client, { taskQueue }),
    listRuns: (filter, options) => listRuns(client, filter, options),
    workers: {
      describeRun: async (workflowId) => {
        const description = await client.workflow.getHandle(workflowId).describe();
        return { taskQueue: description.taskQueue, running: description.status.name === 'RUNNING' };
      },
      pollers: (queue) => workflowPollers(client, queue),
    },
    client,
    deployments: (deploymentName) => new DeploymentService(client, { deploymentName }),
    namespace: settings.namespace,
    close: () => client.connection.close(),
  };
};

/**
 * Why a TCP connection to `address` is refused (`ECONNREFUSED`, an unknown host, ...), or undefined
 * when it opens, times out, or cannot be tried directly (not `host:port`, or a gRPC proxy is set).
 */
export async function refusedAt(address: string, timeoutMs: number): Promise<string | undefined> {
  const proxied = ['grpc_proxy', 'https_proxy', 'http_proxy'].some(
    (name) => process.env[name] || process.env[name.toUpperCase()],
  );
  const match = /^(?:\[([^\]]+)\]|([^:/\s]+)):(\d+)$/.exec(address);
  if (proxied || !match) return undefined;
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: timeoutMs });
    const done = (reason: string | undefined) => {
      socket.destroy();
      resolve(reason);
    };
    socket.once('connect', () => done(undefined));
    socket.once('timeout', () => done(undefined));
    socket.once('error', (error: NodeJS.ErrnoException) =>
      done(REFUSALS.has(error.code ?? '') ? (REFUSAL_TEXT[error.code ?? ''] ?? error.code) : undefined),
    );
  });
}

/** Socket errors that mean nothing listens there (rather than a slow network). */
const REFUSALS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const REFUSAL_TEXT: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'unknown host',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
};

/** Why `Connection.connect` failed: bad settings, a refusal, or (anything else) no server. */
function connectProblem(error: unknown): ConnectionProblem {
  // An address that is not `host:port`, a certificate file that cannot be read.
  if (error instanceof TypeError || (error as NodeJS.ErrnoException).code === 'ENOENT')
    return ConnectionProblem.Settings;
  const grpc = isGrpcServiceError(error)
    ? error
    : isGrpcServiceError((error as Error).cause)
      ? (error as Error).cause
      : undefined;
  const code = grpc && isGrpcServiceError(grpc) ? Number(grpc.code) : undefined;
  if (code === GrpcStatus.Unauthenticated || code === GrpcStatus.PermissionDenied) return ConnectionProblem.Refused;
  return ConnectionProblem.Unreachable;
}

/** Whether an error met while running a command means the server went away. */
export function isServerUnavailable(error: unknown): boolean {
  return isGrpcServiceError(error) && Number(error.code) === GrpcStatus.Unavailable;
}

function formatSeconds(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))} s`;
}

function message(error: unknown): string {
  return oneLine(errorMessage(error));
}
