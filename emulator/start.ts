/** Assembles and starts an emulator in this process (`startEmulator`). */
import type { AddressInfo } from 'node:net';
import type { z } from 'zod';
import { Accounts, accountRoutes } from './accounts.js';
import { BehaviourBook } from './behaviours.js';
import { chatRoute } from './chat.js';
import type { ControlOps } from './control.js';
import { behaviourTargetSchema, controlRoutes, jobBehaviourSchema, routeFaultSchema } from './control.js';
import { Lifecycle, resolveOptions } from './context.js';
import { DeploymentStore, deploymentRoutes, edgeRoute } from './deployments.js';
import { describeZodError } from './http.js';
import { jobRoutes } from './job-routes.js';
import { JobStore } from './jobs.js';
import { RouteFaults } from './route-faults.js';
import { createEmulatorServer } from './server.js';
import { eventStreamRoute } from './stream.js';
import type { BehaviourTarget, EmulatorOptions, EmulatorStats, JobBehaviour, RouteFault } from './types.js';
import { VersionGate } from './version-gate.js';

/** A running emulator. */
export interface Emulator {
  /** Base URL, `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** The bearer token of the default identity (also the control API token). */
  readonly token: string;
  readonly orgSlug: string;
  readonly projectSlug: string;
  /** Base URL of a deployment's public OpenAI-compatible edge: `${url}/_edge/${slug}/v1`. */
  edgeUrl(slug: string): string;
  /** The same as a client's `deploymentUrlTemplate` (`{slug}` stands for the deployment's slug). */
  readonly deploymentUrlTemplate: string;
  /**
   * Sets (merges into) the behaviour of a target: later fields replace earlier ones. Throws
   * `UnknownJobError` for an unknown job id, `InvalidControlInputError` for an invalid plan.
   */
  setBehaviour(target: BehaviourTarget, behaviour: JobBehaviour): void;
  addRouteFault(fault: RouteFault): void;
  /**
   * Clears route faults, pending behaviours (`nextJob`, `nameContains`, `allJobs`) and the
   * remaining connection faults (`streamConnections`, `notVisibleForOpens`) of existing jobs.
   * Training outcomes already attached to jobs (`failAtStep`, quality, ...) stay.
   */
  clearFaults(): void;
  stats(): EmulatorStats;
  /** Stops training timers, ends open streams, destroys open sockets and closes the server. */
  close(): Promise<void>;
}

/** Thrown by `startEmulator` for unusable options. */
export class EmulatorOptionsError extends Error {
  override readonly name = 'EmulatorOptionsError';
}

/** Thrown by the in-process control methods for a behaviour, target or fault that is not valid. */
export class InvalidControlInputError extends Error {
  override readonly name = 'InvalidControlInputError';
}

function validated<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidControlInputError(`invalid ${what}: ${describeZodError(result.error)}`);
  return result.data;
}

/** Starts an emulator on 127.0.0.1 (see `EmulatorOptions` for the defaults). */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const o = resolveOptions(options);
  if (!(o.stepMs > 0) || !Number.isFinite(o.stepMs)) throw new EmulatorOptionsError('stepMs must be a positive number');
  if (!(o.pingIntervalMs > 0) || !Number.isFinite(o.pingIntervalMs)) {
    throw new EmulatorOptionsError('pingIntervalMs must be a positive number');
  }
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65_535)
    throw new EmulatorOptionsError('port must be 0-65535');
  const gate = new VersionGate(o.minClientVersion, o.deprecatedBelowVersion);

  const lifecycle = new Lifecycle();
  const accounts = new Accounts(o);
  const jobs = new JobStore({ stepMs: o.stepMs, seed: o.seed });
  const behaviours = new BehaviourBook();
  const deployments = new DeploymentStore(jobs);
  const faults = new RouteFaults();
  const requestCounts = new Map<string, number>();

  const ops: ControlOps = {
    setBehaviour(target, behaviour) {
      switch (target.kind) {
        case 'nextJob':
          behaviours.setNextJob(behaviour);
          return;
        case 'allJobs':
          behaviours.setAllJobs(behaviour);
          return;
        case 'nameContains':
          behaviours.setNameContains(target.text, behaviour);
          return;
        case 'jobId':
          jobs.mergeBehaviour(target.jobId, behaviour);
          return;
      }
    },
    addRouteFault(fault) {
      faults.add(fault);
    },
    clearFaults() {
      faults.clear();
      behaviours.clear();
      jobs.clearConnectionFaults();
    },
    stats() {
      return {
        jobs: jobs.all().map((r) => ({
          id: r.job.id,
          name: r.job.name,
          status: r.job.status,
          createdAt: r.job.createdAt,
          cancelsAccepted: r.cancelsAccepted,
          cancelsRejected: r.cancelsRejected,
          streamOpens: [...r.streamOpens],
          eventCount: r.history.length,
          step: r.step,
        })),
        requests: Object.fromEntries(requestCounts),
      };
    },
  };

  const server = createEmulatorServer({
    token: o.token,
    verbose: o.verbose,
    accounts,
    gate,
    faults,
    lifecycle,
    requestCounts,
    routes: [
      ...accountRoutes(accounts),
      ...jobRoutes({ accounts, jobs, behaviours }),
      eventStreamRoute({ accounts, jobs, lifecycle, pingIntervalMs: o.pingIntervalMs }),
      chatRoute({ accounts, jobs, seed: o.seed }),
      ...deploymentRoutes({ accounts, deployments }),
      edgeRoute({ deployments, seed: o.seed }),
      ...controlRoutes(ops),
    ],
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  let closing: Promise<void> | undefined;
  return {
    url,
    token: o.token,
    orgSlug: o.orgSlug,
    projectSlug: o.projectSlug,
    edgeUrl: (slug) => `${url}/_edge/${encodeURIComponent(slug)}/v1`,
    deploymentUrlTemplate: `${url}/_edge/{slug}/v1`,
    // Validated like the control API, so an in-process typo fails as loudly as one over HTTP.
    setBehaviour: (target, behaviour) =>
      ops.setBehaviour(
        validated(behaviourTargetSchema, target, 'target'),
        validated(jobBehaviourSchema, behaviour, 'behaviour'),
      ),
    addRouteFault: (fault) => ops.addRouteFault(validated(routeFaultSchema, fault, 'route fault')),
    clearFaults: () => ops.clearFaults(),
    stats: () => ops.stats(),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        jobs.stop();
        server.close((error) => (error ? reject(error) : resolve()));
        lifecycle.closeAll();
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
