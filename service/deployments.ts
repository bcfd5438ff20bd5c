/**
 * Worker deployments as an operator sees them (README "Deploys"): which version of the workers
 * new runs start on (current, and ramping), and how many runs are still pinned to each version
 * (its workers must keep running until that is zero). A wrapper of the server's Worker
 * Deployment APIs and of visibility; `arkor-temporal deploy` prints it.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { buildIdProblem, DEFAULT_DEPLOYMENT_NAME, deploymentNameProblem } from '../contract/deployments.js';

const { VersionDrainageStatus, WorkerDeploymentVersionStatus } = proto.temporal.api.enums.v1;
type Timestamp = proto.google.protobuf.ITimestamp;

/** A version's role: where new runs go (`current`, `ramping`), and for the others whether runs are still pinned to it. */
export type VersionStatus = 'current' | 'ramping' | 'draining' | 'drained' | 'inactive' | 'unknown';

/** One version of a deployment. */
export interface DeploymentVersionView {
  buildId: string;
  status: VersionStatus;
  /**
   * Open runs pinned to the version (visibility: `BuildIds = 'pinned:<deployment>:<build id>'`), the
   * training runs and their notification workflows alike: its workers must run until this is 0.
   */
  pinnedRunning: number;
  /** The server's drainage check of a version that stopped being current or ramping (refreshed periodically). */
  drainage?: 'draining' | 'drained';
  createdAt?: Date;
  currentSince?: Date;
  rampingSince?: Date;
  /** When the server last counted its pinned runs for `drainage`. */
  drainageCheckedAt?: Date;
}

/** A deployment: where new runs go, and every version with its pinned runs. */
export interface DeploymentView {
  name: string;
  /** The build id new runs start on; undefined: none (new runs wait, or go to unversioned workers). */
  currentBuildId?: string;
  /** The version taking `percent` % of new runs (and of continue-as-new moves) instead. */
  ramping?: { buildId: string; percent: number };
  /** Newest first. */
  versions: DeploymentVersionView[];
}

/** The server does not know the deployment: no versioned worker of it has polled yet. */
export class DeploymentNotFoundError extends Error {
  override readonly name = 'DeploymentNotFoundError';
  constructor(readonly deploymentName: string) {
    super(`no worker deployment named ${deploymentName} (no versioned worker of it has polled this namespace)`);
  }
}

/** The deployment has no version of that build id: no worker of it has polled. */
export class DeploymentVersionNotFoundError extends Error {
  override readonly name = 'DeploymentVersionNotFoundError';
  constructor(
    readonly deploymentName: string,
    readonly buildId: string,
  ) {
    super(`deployment ${deploymentName} has no version ${buildId} (no worker of that build id has polled)`);
  }
}

/** A deployment name or build id that cannot be one, or a percentage outside 0–100. */
export class InvalidDeploymentArgumentError extends Error {
  override readonly name = 'InvalidDeploymentArgumentError';
}

export interface DeploymentServiceOptions {
  /** The worker deployment. Default `arkor-temporal` (the workers' ARKOR_DEPLOYMENT_NAME default). */
  deploymentName?: string;
  /** Who makes the changes, in the deployment's records. Default `arkor-temporal deploy`. */
  identity?: string;
}

/** gRPC NOT_FOUND. */
const NOT_FOUND = 5;

export class DeploymentService {
  readonly deploymentName: string;
  private readonly identity: string;

  constructor(
    private readonly client: Client,
    options: DeploymentServiceOptions = {},
  ) {
    this.deploymentName = options.deploymentName ?? DEFAULT_DEPLOYMENT_NAME;
    const problem = deploymentNameProblem(this.deploymentName);
    if (problem) throw new InvalidDeploymentArgumentError(`deployment name ${problem}`);
    this.identity = options.identity ?? 'arkor-temporal deploy';
  }

  private get namespace(): string {
    return this.client.options.namespace;
  }

  /** The deployment's routing and versions, each with its count of open pinned runs. */
  async describe(): Promise<DeploymentView> {
    const info = (await this.describeRaw()).workerDeploymentInfo;
    const routing = info?.routingConfig;
    const currentBuildId = routing?.currentDeploymentVersion?.buildId || undefined;
    const rampingBuildId = routing?.rampingDeploymentVersion?.buildId || undefined;
    const versions = await Promise.all(
      (info?.versionSummaries ?? []).map(async (summary): Promise<DeploymentVersionView> => {
        const buildId = summary.deploymentVersion?.buildId ?? '';
        const drainage = drainageOf(summary.drainageInfo?.status ?? summary.drainageStatus);
        return {
          buildId,
          status: statusOf(summary.status, buildId, currentBuildId, rampingBuildId, drainage),
          pinnedRunning: await this.countPinnedRunning(buildId),
          ...(drainage ? { drainage } : {}),
          ...dates({
            createdAt: summary.createTime,
            currentSince: summary.currentSinceTime,
            rampingSince: summary.rampingSinceTime,
            drainageCheckedAt: summary.drainageInfo?.lastCheckedTime,
          }),
        };
      }),
    );
    versions.sort((a, b) => (b.createdAt?.getTime() ?? 0) - (a.createdAt?.getTime() ?? 0));
    return {
      name: this.deploymentName,
      ...(currentBuildId ? { currentBuildId } : {}),
      ...(rampingBuildId
        ? { ramping: { buildId: rampingBuildId, percent: routing?.rampingVersionPercentage ?? 0 } }
        : {}),
      versions,
    };
  }

  /**
   * Makes `buildId` the current version: new runs start on it, and runs of other versions move to
   * it at their next continue-as-new. A ramp of that version ends. Its workers must be polling
   * every task queue the current version's poll (the server refuses otherwise). Returns the
   * previous current build id.
   */
  async setCurrent(buildId: string): Promise<{ previousBuildId?: string }> {
    checkBuildId(buildId);
    const { conflictToken } = await this.describeRaw();
    const response = await this.versionCall(buildId, () =>
      this.client.workflowService.setWorkerDeploymentCurrentVersion({
        namespace: this.namespace,
        deploymentName: this.deploymentName,
        buildId,
        conflictToken,
        identity: this.identity,
      }),
    );
    const previous = response.previousDeploymentVersion?.buildId;
    return previous ? { previousBuildId: previous } : {};
  }

  /**
   * Sends `percent` % of new runs (and of continue-as-new moves) to `buildId` instead of the current
   * version; the rest go on starting on the current one. `set-current` ends the ramp.
   */
  async ramp(buildId: string, percent: number): Promise<void> {
    checkBuildId(buildId);
    if (!Number.isFinite(percent) || percent < 0 || percent > 100)
      throw new InvalidDeploymentArgumentError(`the ramp percentage must be between 0 and 100, not ${percent}`);
    await this.setRamping(buildId, percent);
  }

  /** Ends the ramp: every new run starts on the current version again. */
  async unramp(): Promise<void> {
    await this.setRamping('', 0);
  }

  private async setRamping(buildId: string, percentage: number): Promise<void> {
    const { conflictToken } = await this.describeRaw();
    await this.versionCall(buildId, () =>
      this.client.workflowService.setWorkerDeploymentRampingVersion({
        namespace: this.namespace,
        deploymentName: this.deploymentName,
        buildId,
        percentage,
        conflictToken,
        identity: this.identity,
      }),
    );
  }

  /** A call about a version of a deployment that exists: "not found" is about the version. */
  private async versionCall<T>(buildId: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if ((error as { code?: unknown }).code === NOT_FOUND)
        throw new DeploymentVersionNotFoundError(this.deploymentName, buildId);
      throw error;
    }
  }

  private async describeRaw(): Promise<proto.temporal.api.workflowservice.v1.DescribeWorkerDeploymentResponse> {
    try {
      return await this.client.workflowService.describeWorkerDeployment({
        namespace: this.namespace,
        deploymentName: this.deploymentName,
      });
    } catch (error) {
      if ((error as { code?: unknown }).code === NOT_FOUND) throw new DeploymentNotFoundError(this.deploymentName);
      throw error;
    }
  }

  /** Open workflow runs pinned to the version: what the server's own drainage check counts. */
  private async countPinnedRunning(buildId: string): Promise<number> {
    const response = await this.client.workflowService.countWorkflowExecutions({
      namespace: this.namespace,
      query: pinnedRunningQuery(this.deploymentName, buildId),
    });
    return Number(response.count ?? 0);
  }
}

/** The visibility query of the open runs pinned to a version. */
export function pinnedRunningQuery(deploymentName: string, buildId: string): string {
  const value = `pinned:${deploymentName}:${buildId}`.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  return `BuildIds = '${value}' AND ExecutionStatus = 'Running'`;
}

function checkBuildId(buildId: string): void {
  const problem = buildIdProblem(buildId);
  if (problem) throw new InvalidDeploymentArgumentError(`build id ${problem}`);
}

function drainageOf(status: number | null | undefined): DeploymentVersionView['drainage'] {
  if (status === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINING) return 'draining';
  if (status === VersionDrainageStatus.VERSION_DRAINAGE_STATUS_DRAINED) return 'drained';
  return undefined;
}

function statusOf(
  status: number | null | undefined,
  buildId: string,
  currentBuildId: string | undefined,
  rampingBuildId: string | undefined,
  drainage: DeploymentVersionView['drainage'],
): VersionStatus {
  // The routing config is the authority on current and ramping; the summary's status may lag it.
  if (buildId === currentBuildId) return 'current';
  if (buildId === rampingBuildId) return 'ramping';
  switch (status) {
    case WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINING:
      return 'draining';
    case WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_DRAINED:
      return 'drained';
    case WorkerDeploymentVersionStatus.WORKER_DEPLOYMENT_VERSION_STATUS_INACTIVE:
      return 'inactive';
    default:
      return drainage ?? 'unknown';
  }
}

function dates<K extends string>(values: Record<K, Timestamp | null | undefined>): Partial<Record<K, Date>> {
  const out: Partial<Record<K, Date>> = {};
  for (const [key, value] of Object.entries(values) as Array<[K, Timestamp | null | undefined]>) {
    if (value?.seconds == null) continue;
    out[key] = new Date(Number(value.seconds) * 1000 + Math.floor((value.nanos ?? 0) / 1e6));
  }
  return out;
}
