/** What every command gets: the run service and where to write. */
import type { Client } from '@temporalio/client';
import type { ListRunsFilter, ListRunsOptions, RunSummary } from '../service/runs.js';
import type { ScheduleService } from '../service/schedules.js';
import type { DeploymentService } from '../service/deployments.js';
import type { TrainingService } from '../service/training-service.js';
import type { WorkerProbe } from './worker-check.js';

/** The part of `TrainingService` the CLI uses (a narrow type so tests can pass a fake). */
export type RunService = Pick<
  TrainingService,
  'start' | 'status' | 'recordedStatus' | 'stop' | 'cancel' | 'outcome' | 'decide'
>;

/** The schedule operations the `schedule` commands use. */
export type ScheduleOps = Pick<
  ScheduleService,
  'create' | 'update' | 'list' | 'describe' | 'pause' | 'unpause' | 'trigger' | 'backfill' | 'delete'
>;

/** A worker deployment's operations (`service/deployments.ts`), for the deployment named. */
export type DeploymentOps = (
  deploymentName: string,
) => Pick<DeploymentService, 'describe' | 'setCurrent' | 'ramp' | 'unramp'>;

/** Lists runs from visibility (`service/runs.ts` `listRuns`, bound to a client). */
export type RunLister = (filter: ListRunsFilter, options?: ListRunsOptions) => Promise<RunSummary[]>;

/** The process streams, abstracted so commands can be run in-process by tests. */
export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Whether stdout is a terminal (progress is redrawn in place only then). */
  stdoutIsTty: boolean;
  /** Whether stderr is a terminal (used when stdout is reserved for JSON). */
  stderrIsTty: boolean;
  /** Terminal width, when known. */
  columns?: number;
}

export interface CommandContext {
  service: RunService;
  io: CliIo;
  /** Absent when the connector provides no schedule service (test fakes). */
  schedules?: ScheduleOps;
  /** Absent when the connector provides no run listing (test fakes). */
  listRuns?: RunLister;
  /** Absent when the connector cannot ask about workers (test fakes): no worker checks then. */
  workers?: WorkerProbe;
  /** The Temporal client; absent for test fakes (the run report needs it to read histories). */
  client?: Client;
  /** Absent when the connector provides no worker deployments (test fakes). */
  deployments?: DeploymentOps;
  /** The task queue runs are started on (`--task-queue`, TEMPORAL_TASK_QUEUE, `arkor-training`). */
  taskQueue: string;
  /** The run's page in the Temporal Web UI; undefined when links are turned off. */
  runUrl(workflowId: string): string | undefined;
}
