/**
 * Helpers for the backend-fault tests (test/fault-routes.test.ts): the transient fault kinds,
 * a client with a short request timeout, request-count deltas, and arming route faults on a
 * job's own paths as soon as the job exists (route faults match exact paths, and a job's id is
 * only known once it is created).
 */
import { ArkorClient } from '../../arkor/index.js';
import type { RouteFault } from '../../emulator/index.js';
import type { Harness } from './harness.js';

/** Total timeout of ordinary requests of the fault tests' worker. */
export const FAULT_REQUEST_TIMEOUT_MS = 1_500;
/** Stream idle watchdog of the fault tests' worker (covers a stream open that never answers). */
export const FAULT_STREAM_IDLE_MS = 2_000;
/** Delay of a "slow" route fault: longer than both of the above; then the request is served normally. */
export const SLOW_MS = 3_000;

/** A transient fault kind: the route fault it arms (`times: 1`), without method and path. */
export interface TransientFault {
  /** Short id, used in run names and deployment slugs. */
  id: string;
  name: string;
  fault: Omit<RouteFault, 'method' | 'path'>;
}

/** The transient faults every route is put through. */
export const TRANSIENT_FAULTS: readonly TransientFault[] = [
  { id: '503', name: '503', fault: { status: 503, times: 1 } },
  { id: '429-ra', name: '429 with Retry-After', fault: { status: 429, retryAfterSeconds: 1, times: 1 } },
  { id: '429', name: '429 without Retry-After', fault: { status: 429, times: 1 } },
  { id: 'reset', name: 'connection reset', fault: { status: 'reset', times: 1 } },
  { id: 'slow', name: 'slower than the request timeout', fault: { delayMs: SLOW_MS, times: 1 } },
];

/** True for the fault that answers late but normally (the server acts on the request). */
export function isSlow(fault: TransientFault): boolean {
  return fault.fault.status === undefined;
}

/** A client like the harness's, with the short request timeout the fault tests rely on. */
export function shortTimeoutClient(h: Harness): ArkorClient {
  return new ArkorClient({
    baseUrl: h.emulator.url,
    token: h.emulator.token,
    scope: { orgSlug: h.emulator.orgSlug, projectSlug: h.emulator.projectSlug },
    deploymentUrlTemplate: h.emulator.deploymentUrlTemplate,
    requestTimeoutMs: FAULT_REQUEST_TIMEOUT_MS,
  });
}

/** Requests per route template (`METHOD /template`) since `before`. */
export function requestsSince(h: Harness, before: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [route, count] of Object.entries(h.emulator.stats().requests)) {
    const d = count - (before[route] ?? 0);
    if (d !== 0) delta[route] = d;
  }
  return delta;
}

/**
 * Waits (polling the in-process emulator every few ms) for the first job whose name starts with
 * `namePrefix + ' '` (our submit appends the run marker), then arms `faults(jobId)` at once.
 * Give the run something slow to do before it calls the armed paths (e.g. a `pingOnly` first
 * stream connection).
 */
export async function armWhenCreated(
  h: Harness,
  namePrefix: string,
  faults: (jobId: string) => RouteFault[],
  timeoutMs = 30_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = h.emulator.stats().jobs.find((j) => j.name.startsWith(`${namePrefix} `));
    if (job) {
      for (const fault of faults(job.id)) h.emulator.addRouteFault(fault);
      return job.id;
    }
    if (Date.now() > deadline) throw new Error(`no job named ${namePrefix} was created`);
    await new Promise((resolve) => setTimeout(resolve, 3));
  }
}

/** Jobs created for the run named `namePrefix` (the run marker follows the name). */
export function jobsNamed(h: Harness, namePrefix: string): string[] {
  return h.emulator
    .stats()
    .jobs.filter((j) => j.name.startsWith(`${namePrefix} `))
    .map((j) => j.id);
}
