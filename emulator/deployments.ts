/**
 * Deployments ("endpoints") and their keys, routes E1–E5 and K1–K3 (docs/arkor-protocol.md §9), and the
 * public OpenAI-compatible edge `POST /_edge/:slug/v1/chat/completions` that stands in for
 * `https://<slug>.arkor.app/v1/chat/completions`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Accounts } from './accounts.js';
import type { ChatBody, ModelTarget } from './chat.js';
import { adapterRefSchema, baseModelTarget, resolveAdapter, writeCompletion } from './chat.js';
import type { RequestContext, Route, Scope } from './context.js';
import { requirePrincipal } from './context.js';
import { HttpError, describeZodError, parseOr400, readJson, sendJson, sendNoContent } from './http.js';
import type { JobStore } from './jobs.js';

/** Labels a deployment slug may not take (they would shadow service hosts). */
export const RESERVED_SLUGS: ReadonlySet<string> = new Set(['www', 'api', 'admin', 'app', 'status', 'docs']);
const SLUG_RE = /^[a-z0-9][a-z0-9-]*[a-z0-9]$/;
/** Retention when a create request names none. */
const DEFAULT_RETENTION = { mode: 'days', days: 7 } as const;
/** Plaintext key prefix; the display `prefix` is the first `KEY_PREFIX_LENGTH` characters. */
export const KEY_PLAINTEXT_PREFIX = 'ark_live_';
export const KEY_PREFIX_LENGTH = 17;

const targetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('adapter'), adapter: adapterRefSchema }).loose(),
  z.object({ kind: z.literal('base_model'), baseModel: z.string().min(1) }).loose(),
]);
type DeploymentTarget = z.infer<typeof targetSchema>;

const retentionModeSchema = z.enum(['unlimited', 'disabled', 'days']);
type RetentionMode = z.infer<typeof retentionModeSchema>;
const retentionDaysSchema = z.number().int().positive();

const createSchema = z
  .object({
    slug: z.string(),
    target: targetSchema,
    authMode: z.enum(['none', 'fixed_api_key']),
    runRetentionMode: retentionModeSchema.optional(),
    runRetentionDays: retentionDaysSchema.optional(),
  })
  .loose();

const updateSchema = z
  .object({
    slug: z.string().optional(),
    target: targetSchema.optional(),
    authMode: z.enum(['none', 'fixed_api_key']).optional(),
    enabled: z.boolean().optional(),
    runRetentionMode: retentionModeSchema.optional(),
    runRetentionDays: retentionDaysSchema.optional(),
  })
  .loose();

const keyCreateSchema = z.object({ label: z.string().trim().min(1).max(80) }).loose();

/** The Deployment wire object (docs/arkor-protocol.md §9.2). */
export interface Deployment {
  id: string;
  slug: string;
  orgId: string;
  projectId: string;
  target: DeploymentTarget;
  authMode: 'none' | 'fixed_api_key';
  urlFormat: 'openai_compat';
  enabled: boolean;
  customDomain: null;
  runRetentionMode: RetentionMode;
  /** Present only when `runRetentionMode` is `days`. */
  runRetentionDays?: number;
  createdAt: string;
  updatedAt: string;
}

interface StoredKey {
  id: string;
  label: string;
  prefix: string;
  plaintext: string;
  enabled: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

/** Validates a slug: 400 for the grammar and reserved labels. */
export function checkSlug(slug: string): void {
  if (slug.length < 2 || slug.length > 50) throw new HttpError(400, 'invalid body: slug: must be 2-50 characters');
  if (!SLUG_RE.test(slug)) {
    throw new HttpError(400, 'invalid body: slug: must match ^[a-z0-9][a-z0-9-]*[a-z0-9]$');
  }
  if (RESERVED_SLUGS.has(slug)) throw new HttpError(400, `invalid body: slug: "${slug}" is reserved`);
}

/** Applies the retention rules: both omitted → days/7; `days` needs days; other modes forbid them. */
function resolveRetention(
  mode: RetentionMode | undefined,
  days: number | undefined,
  previous: { mode: RetentionMode; days: number | undefined } | undefined,
): { mode: RetentionMode; days: number | undefined } {
  if (mode === undefined && days === undefined) return previous ?? { ...DEFAULT_RETENTION };
  const effective = mode ?? (previous?.mode === 'days' || previous === undefined ? 'days' : previous.mode);
  if (effective === 'days') {
    const d = days ?? (previous?.mode === 'days' ? previous.days : undefined);
    if (d === undefined)
      throw new HttpError(400, 'invalid body: runRetentionDays: required when runRetentionMode is "days"');
    return { mode: 'days', days: d };
  }
  if (days !== undefined) {
    throw new HttpError(400, `invalid body: runRetentionDays: not allowed when runRetentionMode is "${effective}"`);
  }
  return { mode: effective, days: undefined };
}

function mintKeyPlaintext(): string {
  return `${KEY_PLAINTEXT_PREFIX}${randomBytes(24).toString('hex')}`;
}

function publicKey(key: StoredKey): Omit<StoredKey, 'plaintext'> {
  return {
    id: key.id,
    label: key.label,
    prefix: key.prefix,
    enabled: key.enabled,
    createdAt: key.createdAt,
    lastUsedAt: key.lastUsedAt,
  };
}

/** Deployment and key store. */
export class DeploymentStore {
  private readonly deployments = new Map<string, Deployment>();
  private readonly keys = new Map<string, StoredKey[]>();

  constructor(private readonly jobs: JobStore) {}

  /** The deployment `id` within `scope`, or 404. */
  get(scope: Scope, id: string): Deployment {
    const d = this.deployments.get(id);
    if (!d || d.projectId !== scope.project.id) throw new HttpError(404, 'not found');
    return d;
  }

  list(scope: Scope): Deployment[] {
    return [...this.deployments.values()].filter((d) => d.projectId === scope.project.id);
  }

  bySlug(slug: string): Deployment | undefined {
    return [...this.deployments.values()].find((d) => d.slug === slug);
  }

  /**
   * Checks a target. Decision where the protocol is silent (docs/arkor-protocol.md §11 D11): an unknown job is 404 (the documented
   * "job not found in scope"); the final adapter of a job that is not completed, or a checkpoint
   * that was never saved, is 422 `bad adapter` like inference, so a promotion can never point a
   * public URL at an adapter that cannot answer.
   */
  private checkTarget(scope: Scope, target: DeploymentTarget): void {
    if (target.kind !== 'adapter') return;
    if (!this.jobs.find(scope.project.id, target.adapter.jobId)) throw new HttpError(404, 'job not found');
    resolveAdapter(this.jobs, scope.project.id, target.adapter);
  }

  create(scope: Scope, body: z.infer<typeof createSchema>): Deployment {
    checkSlug(body.slug);
    // Slugs are global (they are hostnames); a disabled deployment keeps its slug.
    if (this.bySlug(body.slug)) throw new HttpError(409, 'Deployment slug is already taken');
    this.checkTarget(scope, body.target);
    const retention = resolveRetention(body.runRetentionMode, body.runRetentionDays, undefined);
    const now = new Date().toISOString();
    const d: Deployment = {
      id: randomUUID(),
      slug: body.slug,
      orgId: scope.org.id,
      projectId: scope.project.id,
      target: body.target,
      authMode: body.authMode,
      urlFormat: 'openai_compat',
      enabled: true,
      customDomain: null,
      runRetentionMode: retention.mode,
      ...(retention.days === undefined ? {} : { runRetentionDays: retention.days }),
      createdAt: now,
      updatedAt: now,
    };
    this.deployments.set(d.id, d);
    this.keys.set(d.id, []);
    return d;
  }

  update(scope: Scope, id: string, body: z.infer<typeof updateSchema>): Deployment {
    const current = this.get(scope, id);
    if (body.slug !== undefined && body.slug !== current.slug)
      throw new HttpError(400, 'invalid body: slug: is immutable');
    if (body.target) this.checkTarget(scope, body.target);
    const retention = resolveRetention(body.runRetentionMode, body.runRetentionDays, {
      mode: current.runRetentionMode,
      days: current.runRetentionDays,
    });
    const next: Deployment = {
      ...current,
      target: body.target ?? current.target,
      authMode: body.authMode ?? current.authMode,
      enabled: body.enabled ?? current.enabled,
      runRetentionMode: retention.mode,
      updatedAt: new Date().toISOString(),
    };
    delete next.runRetentionDays;
    if (retention.days !== undefined) next.runRetentionDays = retention.days;
    this.deployments.set(id, next);
    return next;
  }

  /** Deletes a deployment and (cascade) its keys; the slug becomes free again. */
  remove(scope: Scope, id: string): void {
    this.get(scope, id);
    this.deployments.delete(id);
    this.keys.delete(id);
  }

  listKeys(scope: Scope, id: string): Array<Omit<StoredKey, 'plaintext'>> {
    this.get(scope, id);
    return (this.keys.get(id) ?? []).map(publicKey);
  }

  createKey(scope: Scope, id: string, label: string): StoredKey {
    this.get(scope, id);
    const plaintext = mintKeyPlaintext();
    const key: StoredKey = {
      id: randomUUID(),
      label,
      prefix: plaintext.slice(0, KEY_PREFIX_LENGTH),
      plaintext,
      enabled: true,
      createdAt: new Date().toISOString(),
      lastUsedAt: null,
    };
    this.keys.get(id)?.push(key);
    return key;
  }

  /** Revokes a key: it stays listed with `enabled: false`. */
  revokeKey(scope: Scope, id: string, keyId: string): void {
    this.get(scope, id);
    const key = this.keys.get(id)?.find((k) => k.id === keyId);
    if (!key) throw new HttpError(404, 'not found');
    key.enabled = false;
  }

  /** Whether `plaintext` is an enabled key of deployment `id` (and marks it used). */
  acceptKey(id: string, plaintext: string): boolean {
    const key = this.keys.get(id)?.find((k) => k.plaintext === plaintext && k.enabled);
    if (key) key.lastUsedAt = new Date().toISOString();
    return key !== undefined;
  }

  /** The model a deployment answers with. */
  targetModel(d: Deployment): ModelTarget {
    return d.target.kind === 'base_model'
      ? baseModelTarget(d.target.baseModel)
      : resolveAdapter(this.jobs, d.projectId, d.target.adapter);
  }
}

/** Routes E1–E5 and K1–K3. */
export function deploymentRoutes(deps: { accounts: Accounts; deployments: DeploymentStore }): Route[] {
  const { accounts, deployments } = deps;
  const scopeOf = (ctx: RequestContext): Scope => accounts.projectScope(requirePrincipal(ctx), ctx.url);
  const id = (ctx: RequestContext): string => ctx.params.id ?? '';
  return [
    {
      method: 'GET',
      template: '/v1/endpoints',
      auth: 'user',
      handle(ctx) {
        sendJson(ctx.res, 200, { deployments: deployments.list(scopeOf(ctx)) });
      },
    },
    {
      method: 'POST',
      template: '/v1/endpoints',
      auth: 'user',
      async handle(ctx) {
        const scope = scopeOf(ctx);
        const body = parseOr400(createSchema, await readJson(ctx.req));
        sendJson(ctx.res, 201, { deployment: deployments.create(scope, body) });
      },
    },
    {
      method: 'GET',
      template: '/v1/endpoints/:id',
      auth: 'user',
      handle(ctx) {
        sendJson(ctx.res, 200, { deployment: deployments.get(scopeOf(ctx), id(ctx)) });
      },
    },
    {
      method: 'PATCH',
      template: '/v1/endpoints/:id',
      auth: 'user',
      async handle(ctx) {
        const scope = scopeOf(ctx);
        deployments.get(scope, id(ctx));
        const body = parseOr400(updateSchema, await readJson(ctx.req));
        sendJson(ctx.res, 200, { deployment: deployments.update(scope, id(ctx), body) });
      },
    },
    {
      method: 'DELETE',
      template: '/v1/endpoints/:id',
      auth: 'user',
      handle(ctx) {
        deployments.remove(scopeOf(ctx), id(ctx));
        sendNoContent(ctx.res);
      },
    },
    {
      method: 'GET',
      template: '/v1/endpoints/:id/keys',
      auth: 'user',
      handle(ctx) {
        sendJson(ctx.res, 200, { keys: deployments.listKeys(scopeOf(ctx), id(ctx)) });
      },
    },
    {
      method: 'POST',
      template: '/v1/endpoints/:id/keys',
      auth: 'user',
      async handle(ctx) {
        const scope = scopeOf(ctx);
        deployments.get(scope, id(ctx));
        const body = parseOr400(keyCreateSchema, await readJson(ctx.req));
        const key = deployments.createKey(scope, id(ctx), body.label);
        sendJson(ctx.res, 201, {
          key: { id: key.id, label: key.label, plaintext: key.plaintext, prefix: key.prefix, createdAt: key.createdAt },
        });
      },
    },
    {
      method: 'DELETE',
      template: '/v1/endpoints/:id/keys/:keyId',
      auth: 'user',
      handle(ctx) {
        deployments.revokeKey(scopeOf(ctx), id(ctx), ctx.params.keyId ?? '');
        sendNoContent(ctx.res);
      },
    },
  ];
}

/** The OpenAI request body at the edge (snake_case); `model` is accepted and ignored. */
const edgeBodySchema = z
  .object({
    model: z.string().optional(),
    messages: z.array(z.object({ role: z.string().min(1) }).loose()).min(1),
    stream: z.boolean().optional(),
    max_tokens: z.number().int().positive().optional(),
    response_format: z
      .object({
        type: z.enum(['text', 'json_object', 'json_schema']),
        json_schema: z
          .object({ schema: z.record(z.string(), z.unknown()).optional() })
          .loose()
          .optional(),
      })
      .loose()
      .optional(),
  })
  .loose();

/** An OpenAI-style error body (`{ error: { message, type, code } }`), as the public edge speaks OpenAI. */
function sendEdgeError(ctx: RequestContext, status: number, message: string, code: string): void {
  const type = status === 401 ? 'authentication_error' : status === 404 ? 'not_found_error' : 'invalid_request_error';
  sendJson(ctx.res, status, { error: { message, type, code } });
}

/** The edge route of every deployment. */
export function edgeRoute(deps: { deployments: DeploymentStore; seed: number }): Route {
  const { deployments, seed } = deps;
  return {
    method: 'POST',
    template: '/_edge/:slug/v1/chat/completions',
    auth: 'edge',
    async handle(ctx) {
      const d = deployments.bySlug(ctx.params.slug ?? '');
      if (!d || !d.enabled) {
        sendEdgeError(ctx, 404, 'deployment not found', 'deployment_not_found');
        return;
      }
      if (d.authMode === 'fixed_api_key') {
        const bearer = /^Bearer\s+(\S+)\s*$/i.exec(ctx.req.headers.authorization ?? '')?.[1];
        const headerKey = ctx.req.headers['x-api-key'];
        const presented = bearer ?? (typeof headerKey === 'string' ? headerKey : undefined);
        if (presented === undefined || !deployments.acceptKey(d.id, presented)) {
          sendEdgeError(ctx, 401, 'invalid or missing API key', 'invalid_api_key');
          return;
        }
      }
      let raw: unknown;
      try {
        raw = await readJson(ctx.req);
      } catch (error) {
        if (error instanceof HttpError) {
          sendEdgeError(ctx, error.status, error.message, 'invalid_request');
          return;
        }
        throw error;
      }
      const parsed = edgeBodySchema.safeParse(raw);
      if (!parsed.success) {
        sendEdgeError(ctx, 400, `invalid body: ${describeZodError(parsed.error)}`, 'invalid_request');
        return;
      }
      const body = parsed.data;
      const chat: ChatBody = {
        messages: body.messages,
        stream: body.stream,
        maxTokens: body.max_tokens,
        responseFormat: body.response_format,
      };
      let target: ModelTarget;
      try {
        target = deployments.targetModel(d);
      } catch (error) {
        if (error instanceof HttpError) {
          sendEdgeError(ctx, 503, 'deployment target is not servable', 'target_unavailable');
          return;
        }
        throw error;
      }
      writeCompletion(ctx.res, chat, target, seed, body.stream === true);
    },
  };
}
