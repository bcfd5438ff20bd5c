/**
 * Worker Versioning for the workers of one process (README "Deploys"): they poll as one version
 * (a build id) of a worker deployment, and every workflow they run is PINNED to it — a run stays
 * on the version it started on, and moves to the deployment's current version when it continues
 * as new (workflows/versioning.ts). New runs start on the current version, which
 * `arkor-temporal deploy set-current` / `ramp` change; a worker changes it only as
 * `becomeCurrent` says.
 */
import type { WorkerDeploymentVersion } from '@temporalio/common';
import type { WorkerDeploymentOptions } from '@temporalio/worker';
import proto from '@temporalio/proto';

type WorkflowService = proto.temporal.api.workflowservice.v1.WorkflowService;
const { TaskQueueKind, TaskQueueType } = proto.temporal.api.enums.v1;

/**
 * When a worker makes its version the deployment's current one: `fresh` only when the deployment
 * has never had a current or ramping version (its first deploy; after that, routing is always an
 * operator's decision), `always` at every start (development: the code being edited takes the new
 * runs), `never`.
 */
export type BecomeCurrent = 'fresh' | 'always' | 'never';
export const BECOME_CURRENT_CHOICES: readonly BecomeCurrent[] = ['fresh', 'always', 'never'];

/** The version a process's workers poll as. */
export interface WorkerVersioning {
  /** The worker deployment (one per fleet: every worker of the fleet, both queues, shares it). */
  deploymentName: string;
  /** This code's version in it (`workflowBuildId()` by default in `createWorker`). */
  buildId: string;
  /** Default `fresh`. */
  becomeCurrent?: BecomeCurrent;
}

/** The SDK options of a versioned worker: every workflow it runs is PINNED. */
export function workerDeploymentOptions(versioning: WorkerVersioning): WorkerDeploymentOptions {
  return {
    useWorkerVersioning: true,
    version: { deploymentName: versioning.deploymentName, buildId: versioning.buildId },
    defaultVersioningBehavior: 'PINNED',
  };
}

/** Where a version stands once its workers poll (`TrainingWorkers.ready()`). */
export interface VersionReadiness {
  version: WorkerDeploymentVersion;
  /** The deployment's current build id: where new runs start (undefined: none, they wait for one). */
  currentBuildId: string | undefined;
  /** Whether this start made the version current. */
  madeCurrent: boolean;
  /** What kept the version from registering or from becoming current as asked, in a sentence. */
  problem?: string;
}

/** A task queue the version must list before it is ready, and of which kind of tasks. */
export interface PolledQueue {
  name: string;
  kind: 'workflow' | 'activity';
}

export interface RegisterOptions {
  service: WorkflowService;
  namespace: string;
  versioning: WorkerVersioning;
  /** The queues and task kinds this process polls: the version is registered once it lists them all. */
  polled: readonly PolledQueue[];
  /** Whether this process runs the workflows (only then may it make its version current). */
  runsWorkflows: boolean;
  /** Recorded by the server as who changed the routing. */
  identity: string;
  /** True once the workers are shutting down: stop waiting. */
  stopped: () => boolean;
  /** How long to wait for the server to list the version. Default 60 s. */
  timeoutMs?: number;
}

/** How long after its poller shows a queue is usually registered with the version. */
const REGISTRATION_MS = 1000;

/** gRPC status codes told apart here. */
const Grpc = { NotFound: 5, Unavailable: 14 } as const;

/**
 * Waits until the server lists the version with every queue this process polls (its first polls
 * register it), then makes it current as `becomeCurrent` says. Never throws: what went wrong is
 * the readiness's `problem`.
 */
export async function registerVersion(options: RegisterOptions): Promise<VersionReadiness> {
  const { service, namespace, versioning, identity } = options;
  const version = { deploymentName: versioning.deploymentName, buildId: versioning.buildId };
  const policy = versioning.becomeCurrent ?? 'fresh';
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  const readiness = (currentBuildId: string | undefined, extra: Partial<VersionReadiness> = {}): VersionReadiness => ({
    version,
    currentBuildId,
    madeCurrent: false,
    ...extra,
  });

  // The version lists a queue once the server registered the queue's first poll, shortly after
  // the poller shows. Asking for the version before is answered "not found", and the server logs
  // that as an error: ask once pollers show, a moment later.
  let polled = false;
  for (;;) {
    if (options.stopped())
      return readiness(undefined, { problem: 'the workers stopped before the version registered' });
    try {
      if (!polled && (await polledAll(options))) {
        polled = true;
        await new Promise((resolve) => setTimeout(resolve, REGISTRATION_MS));
      }
      if (polled && (await listsAll(options))) break;
    } catch (error) {
      if (!isRetryable(error))
        return readiness(undefined, { problem: `the server did not describe the version: ${messageOf(error)}` });
    }
    if (Date.now() > deadline)
      return readiness(undefined, {
        problem: `the server did not list the version with its task queues within ${Math.round((options.timeoutMs ?? 60_000) / 1000)} s`,
      });
    await new Promise((resolve) => setTimeout(resolve, 200));
  }

  let deployment = await describeDeployment(service, namespace, versioning.deploymentName);
  const wanted =
    options.runsWorkflows &&
    deployment.currentBuildId !== versioning.buildId &&
    (policy === 'always' || (policy === 'fresh' && deployment.fresh));
  if (!wanted) return readiness(deployment.currentBuildId);
  try {
    await service.setWorkerDeploymentCurrentVersion({
      namespace,
      deploymentName: versioning.deploymentName,
      buildId: versioning.buildId,
      // Two workers of a fresh deployment starting at once: one of them wins, the other is told.
      conflictToken: deployment.conflictToken,
      identity,
    });
    return readiness(versioning.buildId, { madeCurrent: true });
  } catch (error) {
    deployment = await describeDeployment(service, namespace, versioning.deploymentName).catch(() => deployment);
    // Another worker of the same version got there first.
    if (deployment.currentBuildId === versioning.buildId) return readiness(versioning.buildId);
    return readiness(deployment.currentBuildId, {
      problem: `making the version current failed: ${messageOf(error)}`,
    });
  }
}

/** Whether every queue this process polls has a poller of the version, as the server saw it. */
async function polledAll(options: RegisterOptions): Promise<boolean> {
  const { deploymentName, buildId } = options.versioning;
  for (const queue of options.polled) {
    const { pollers } = await options.service.describeTaskQueue({
      namespace: options.namespace,
      taskQueue: { name: queue.name, kind: TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
      taskQueueType: queueType(queue.kind),
    });
    const polling = pollers.some(
      (poller) =>
        poller.deploymentOptions?.deploymentName === deploymentName && poller.deploymentOptions.buildId === buildId,
    );
    if (!polling) return false;
  }
  return true;
}

/** Whether the version lists every queue this process polls. */
async function listsAll(options: RegisterOptions): Promise<boolean> {
  const { workerDeploymentVersionInfo: info } = await options.service.describeWorkerDeploymentVersion({
    namespace: options.namespace,
    deploymentVersion: { deploymentName: options.versioning.deploymentName, buildId: options.versioning.buildId },
  });
  const listed = new Set((info?.taskQueueInfos ?? []).map((queue) => `${queue.type ?? 0}:${queue.name ?? ''}`));
  return options.polled.every((queue) => listed.has(`${queueType(queue.kind)}:${queue.name}`));
}

interface DeploymentRouting {
  currentBuildId: string | undefined;
  /** Never had a current or ramping version. */
  fresh: boolean;
  conflictToken: Uint8Array | undefined;
}

async function describeDeployment(
  service: WorkflowService,
  namespace: string,
  deploymentName: string,
): Promise<DeploymentRouting> {
  const response = await service.describeWorkerDeployment({ namespace, deploymentName });
  const routing = response.workerDeploymentInfo?.routingConfig;
  return {
    currentBuildId: routing?.currentDeploymentVersion?.buildId || undefined,
    fresh: !routing?.currentVersionChangedTime && !routing?.rampingVersionChangedTime,
    conflictToken: response.conflictToken ?? undefined,
  };
}

function queueType(kind: PolledQueue['kind']): number {
  return kind === 'workflow' ? TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW : TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY;
}

/** Not registered yet, or the server is busy starting: ask again. */
function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return code === Grpc.NotFound || code === Grpc.Unavailable;
}

function messageOf(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
}

/** One line for logs: where the version stands and, when new runs do not reach it, what to do. */
export function describeReadiness(readiness: VersionReadiness): string {
  const { version, currentBuildId } = readiness;
  const id = `${version.deploymentName}:${version.buildId}`;
  if (readiness.problem) return `version ${id}: ${readiness.problem}`;
  if (currentBuildId === version.buildId)
    return `version ${id} is current${readiness.madeCurrent ? ' (made current by this worker)' : ''}`;
  const setCurrent = `arkor-temporal deploy set-current ${version.buildId} --deployment ${version.deploymentName}`;
  return currentBuildId === undefined
    ? `version ${id} is not current, and the deployment has no current version: new runs wait until \`${setCurrent}\``
    : `version ${id} is not current (${currentBuildId} is): it runs the runs pinned to it and gets new runs after \`${setCurrent}\` (or a ramp)`;
}
