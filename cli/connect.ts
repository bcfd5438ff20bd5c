/**
 * Connects the CLI to Temporal through envconfig (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
 * TEMPORAL_API_KEY, TLS, profiles) and builds the run service on the chosen task queue.
 * Failures become a `TemporalConnectionError` that names the address and TEMPORAL_ADDRESS, and
 * never the API key or other settings.
 */
import { connectClient, loadTemporalSettings } from '../service/connection.js';
import { listRuns } from '../service/runs.js';
import { ScheduleService } from '../service/schedules.js';
import { TrainingService } from '../service/training-service.js';
import { DEFAULT_TASK_QUEUE } from '../contract/task-queues.js';
import type { RunLister, RunService, ScheduleOps } from './context.js';
import { TemporalConnectionError } from './errors.js';
import { oneLine } from './format.js';
import { errorMessage } from '../contract/errors.js';

export interface ConnectedService {
  service: RunService;
  schedules?: ScheduleOps;
  listRuns?: RunLister;
  /** Closes the connection so the process can exit. */
  close(): Promise<void>;
}

/** Opens a Temporal connection. Injectable so tests can run commands against a fake service. */
export type ServiceConnector = (taskQueue: string) => Promise<ConnectedService>;

/** `--task-queue`, else TEMPORAL_TASK_QUEUE, else `arkor-training`. */
export function resolveTaskQueue(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  return flag ?? (env.TEMPORAL_TASK_QUEUE?.trim() || DEFAULT_TASK_QUEUE);
}

export const connectService: ServiceConnector = async (taskQueue) => {
  let settings;
  try {
    settings = loadTemporalSettings();
  } catch (error) {
    throw new TemporalConnectionError(
      `cannot load the Temporal connection settings (TEMPORAL_ADDRESS, TEMPORAL_PROFILE, TEMPORAL_CONFIG_FILE): ${message(error)}`,
    );
  }
  try {
    const client = await connectClient(settings);
    return {
      service: new TrainingService(client, { taskQueue }),
      schedules: new ScheduleService(client, { taskQueue }),
      listRuns: (filter, options) => listRuns(client, filter, options),
      close: () => client.connection.close(),
    };
  } catch (error) {
    throw new TemporalConnectionError(
      `cannot connect to Temporal at ${settings.address} (namespace ${settings.namespace}; set TEMPORAL_ADDRESS): ${message(error)}`,
    );
  }
};

function message(error: unknown): string {
  return oneLine(errorMessage(error));
}
