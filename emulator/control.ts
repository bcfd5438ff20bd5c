/**
 * The control API (`/_emulator/*`): zod schemas of the control plans, the routes that apply them
 * to a running emulator, and `connectEmulator`, an HTTP client for an emulator in a child process.
 */
import { z } from 'zod';
import type { RequestContext, Route } from './context.js';
import { HttpError, parseOr400, readJson, sendJson } from './http.js';
import { UnknownJobError } from './jobs.js';
import type { BehaviourTarget, EmulatorStats, JobBehaviour, RouteFault, StreamConnectionFault } from './types.js';

const nonNegInt = z.number().int().nonnegative();
const status = z.number().int().min(100).max(599);

/** Schema of `StreamConnectionFault`. */
export const streamConnectionFaultSchema: z.ZodType<StreamConnectionFault> = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('status'),
    status,
    retryAfterSeconds: nonNegInt.optional(),
    error: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal('drop'), afterFrames: nonNegInt, mode: z.enum(['clean', 'reset']) }),
  z.strictObject({ kind: z.literal('pingOnly'), pings: nonNegInt, intervalMs: z.number().positive().optional() }),
  z.strictObject({ kind: z.literal('garbage') }),
  z.strictObject({ kind: z.literal('stall') }),
  z.strictObject({ kind: z.literal('empty') }),
  z.strictObject({ kind: z.literal('raw'), body: z.string() }),
  z.strictObject({ kind: z.literal('slow'), ms: z.number().nonnegative() }),
]);

const quality = z.number().min(0).max(1);

/** Schema of `JobBehaviour` (strict, so a misspelt field is a 400 rather than silently ignored). */
export const jobBehaviourSchema: z.ZodType<JobBehaviour> = z.strictObject({
  streamConnections: z.array(streamConnectionFaultSchema).optional(),
  notVisibleForOpens: nonNegInt.optional(),
  loseCreateResponse: z.boolean().optional(),
  failAtStep: z.strictObject({ step: z.number().int().positive(), error: z.string() }).optional(),
  nanLossFromStep: z.number().int().positive().optional(),
  finalQuality: quality.optional(),
  regressFromStep: z.strictObject({ step: nonNegInt, quality }).optional(),
  queueMs: z.number().nonnegative().optional(),
});

/** Schema of `BehaviourTarget`. */
export const behaviourTargetSchema: z.ZodType<BehaviourTarget> = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('nextJob') }),
  z.strictObject({ kind: z.literal('jobId'), jobId: z.string().min(1) }),
  z.strictObject({ kind: z.literal('nameContains'), text: z.string().min(1) }),
  z.strictObject({ kind: z.literal('allJobs') }),
]);

/** Schema of `RouteFault`. */
export const routeFaultSchema: z.ZodType<RouteFault> = z
  .strictObject({
    method: z.string().min(1),
    path: z.string().startsWith('/'),
    status: z.union([status, z.literal('reset')]).optional(),
    retryAfterSeconds: nonNegInt.optional(),
    times: z.number().int().positive().optional(),
    delayMs: z.number().nonnegative().optional(),
  })
  .refine((fault) => fault.status !== undefined || fault.delayMs !== undefined, {
    message: 'a fault needs a status, a delayMs (a slow but served request), or both',
    path: ['status'],
  });

const setBehaviourBodySchema = z.strictObject({ target: behaviourTargetSchema, behaviour: jobBehaviourSchema });

/** The operations the control API exposes, implemented by the running emulator. */
export interface ControlOps {
  setBehaviour(target: BehaviourTarget, behaviour: JobBehaviour): void;
  addRouteFault(fault: RouteFault): void;
  clearFaults(): void;
  stats(): EmulatorStats;
}

/** Control routes; they need the emulator's own token and skip the version gate. */
export function controlRoutes(ops: ControlOps): Route[] {
  return [
    {
      method: 'POST',
      template: '/_emulator/behaviours',
      auth: 'control',
      async handle(ctx: RequestContext) {
        const body = parseOr400(setBehaviourBodySchema, await readJson(ctx.req));
        try {
          ops.setBehaviour(body.target, body.behaviour);
        } catch (error) {
          if (error instanceof UnknownJobError) throw new HttpError(404, error.message);
          throw error;
        }
        sendJson(ctx.res, 200, { ok: true });
      },
    },
    {
      method: 'POST',
      template: '/_emulator/route-faults',
      auth: 'control',
      async handle(ctx: RequestContext) {
        ops.addRouteFault(parseOr400(routeFaultSchema, await readJson(ctx.req)));
        sendJson(ctx.res, 200, { ok: true });
      },
    },
    {
      method: 'DELETE',
      template: '/_emulator/faults',
      auth: 'control',
      handle(ctx: RequestContext) {
        ops.clearFaults();
        sendJson(ctx.res, 200, { ok: true });
      },
    },
    {
      method: 'GET',
      template: '/_emulator/stats',
      auth: 'control',
      handle(ctx: RequestContext) {
        sendJson(ctx.res, 200, ops.stats());
      },
    },
  ];
}

/** The control operations of an emulator reached over HTTP. */
export interface EmulatorControl {
  setBehaviour(target: BehaviourTarget, behaviour: JobBehaviour): Promise<void>;
  addRouteFault(fault: RouteFault): Promise<void>;
  clearFaults(): Promise<void>;
  stats(): Promise<EmulatorStats>;
}

/** A control request answered with a non-2xx status. */
export class EmulatorControlError extends Error {
  override readonly name = 'EmulatorControlError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Connects to the control API of an emulator at `url` (its base URL) with its bearer `token`.
 * Every method rejects with `EmulatorControlError` on a non-2xx answer.
 */
export function connectEmulator(url: string, token: string): EmulatorControl {
  const base = url.replace(/\/+$/, '');
  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) {
      let message = text || `emulator control ${res.status}`;
      try {
        const parsed = JSON.parse(text) as { error?: unknown };
        if (typeof parsed.error === 'string') message = parsed.error;
      } catch {
        // Not JSON: keep the raw text as the message.
      }
      throw new EmulatorControlError(res.status, message);
    }
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }
  return {
    async setBehaviour(target, behaviour) {
      await call('POST', '/_emulator/behaviours', { target, behaviour });
    },
    async addRouteFault(fault) {
      await call('POST', '/_emulator/route-faults', fault);
    },
    async clearFaults() {
      await call('DELETE', '/_emulator/faults');
    },
    async stats() {
      return (await call('GET', '/_emulator/stats')) as EmulatorStats;
    },
  };
}
