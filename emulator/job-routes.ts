/** Job routes J1–J4 (create, list, get, cancel) of docs/arkor-protocol.md §3.1. */
import { z } from 'zod';
import type { Accounts } from './accounts.js';
import type { BehaviourBook } from './behaviours.js';
import type { RequestContext, Route } from './context.js';
import { requirePrincipal } from './context.js';
import { HttpError, parseOr400, readJson, sendJson } from './http.js';
import type { JobRecord, JobStore } from './jobs.js';

// Loose like the real server: any object with `model` and `datasetSource` passes (docs/arkor-protocol.md §4).
const createJobSchema = z
  .object({
    name: z.string().min(1),
    config: z.object({ model: z.string().min(1), datasetSource: z.object({}).loose() }).loose(),
  })
  .loose();

/** The J2 `events` array: stored payloads (a non-finite loss becomes `null` in this JSON view). */
function eventPayloads(record: JobRecord): Array<Record<string, unknown>> {
  return record.history.filter((e) => e.event !== 'end').map((e) => e.payload);
}

/** Looks up `:id` in the request scope or throws 404. */
export function jobInScope(accounts: Accounts, jobs: JobStore, ctx: RequestContext): JobRecord {
  const scope = accounts.projectScope(requirePrincipal(ctx), ctx.url);
  const record = jobs.find(scope.project.id, ctx.params.id ?? '');
  if (!record) throw new HttpError(404, 'not found');
  return record;
}

/** Routes J1–J4. */
export function jobRoutes(deps: { accounts: Accounts; jobs: JobStore; behaviours: BehaviourBook }): Route[] {
  const { accounts, jobs, behaviours } = deps;
  return [
    {
      method: 'POST',
      template: '/v1/jobs',
      auth: 'user',
      async handle(ctx: RequestContext) {
        const scope = accounts.projectScope(requirePrincipal(ctx), ctx.url);
        const raw = await readJson(ctx.req);
        const body = parseOr400(createJobSchema, raw);
        // Echo the config exactly as sent, not zod's copy of it.
        const config = (raw as { config: Record<string, unknown> }).config;
        const record = jobs.create(scope, body.name, config, behaviours.forNewJob(body.name));
        if (record.behaviour.loseCreateResponse) {
          // The job exists and trains; the client only sees its connection die.
          ctx.req.socket.destroy();
          return;
        }
        sendJson(ctx.res, 201, { job: record.job });
      },
    },
    {
      method: 'GET',
      template: '/v1/jobs',
      auth: 'user',
      handle(ctx: RequestContext) {
        const scope = accounts.projectScope(requirePrincipal(ctx), ctx.url);
        sendJson(ctx.res, 200, { jobs: jobs.list(scope.project.id).map((r) => r.job) });
      },
    },
    {
      method: 'GET',
      template: '/v1/jobs/:id',
      auth: 'user',
      handle(ctx: RequestContext) {
        const record = jobInScope(accounts, jobs, ctx);
        sendJson(ctx.res, 200, { job: record.job, events: eventPayloads(record) });
      },
    },
    {
      method: 'POST',
      template: '/v1/jobs/:id/cancel',
      auth: 'user',
      handle(ctx: RequestContext) {
        const record = jobInScope(accounts, jobs, ctx);
        const outcome = jobs.cancel(record);
        if (!outcome.ok) {
          throw new HttpError(
            409,
            outcome.status === 'cancelled' ? 'already cancelled' : `job is already ${outcome.status}`,
          );
        }
        sendJson(ctx.res, 200, { ok: true });
      },
    },
  ];
}
