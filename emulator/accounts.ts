/**
 * Identities, orgs and projects of the emulator, the scope check every project route runs, and
 * the identity routes A1, A2, M1, P1, P2 (docs/arkor-protocol.md §3.1).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Org, Principal, Project, RequestContext, Route, Scope } from './context.js';
import { requirePrincipal } from './context.js';
import { HttpError, parseOr400, readJson, sendJson } from './http.js';

/** 403 message for a scope the token is not a member of. */
export const FORBIDDEN_SCOPE = 'forbidden: not a member of org/project';

const anonymousBodySchema = z.object({ kind: z.enum(['cli', 'web']).default('cli') }).loose();

const projectBodySchema = z
  .object({
    name: z.string().min(1).max(200),
    slug: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[a-z0-9-]+$/, 'must contain only a-z, 0-9 and -'),
  })
  .loose();

/** Token, org and project store. */
export class Accounts {
  private readonly principals = new Map<string, Principal>();
  private readonly orgs = new Map<string, Org>();
  private readonly projects = new Map<string, Project[]>();

  constructor(defaults: { token: string; orgSlug: string; projectSlug: string }) {
    const org = this.addOrg(defaults.orgSlug, defaults.orgSlug);
    this.addProject(org, defaults.projectSlug, defaults.projectSlug);
    this.principals.set(defaults.token, {
      token: defaults.token,
      userId: 'user-emulator',
      email: 'emulator@localhost',
      orgIds: new Set([org.id]),
    });
  }

  /** The principal of an `Authorization: Bearer <token>` header, if the token is known. */
  authenticate(header: string | undefined): Principal | undefined {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    return m?.[1] === undefined ? undefined : this.principals.get(m[1]);
  }

  /** Mints an anonymous identity with its own personal org (route A1). */
  mintAnonymous(): { principal: Principal; org: Org } {
    const anonymousId = randomUUID();
    const org = this.addOrg(`anon-${randomBytes(4).toString('hex')}`, 'Personal (anonymous)');
    const principal: Principal = {
      token: `anon_${randomBytes(24).toString('hex')}`,
      userId: `anon-user-${anonymousId}`,
      anonymousId,
      orgIds: new Set([org.id]),
    };
    this.principals.set(principal.token, principal);
    return { principal, org };
  }

  /** Orgs the principal belongs to. */
  orgsOf(principal: Principal): Org[] {
    return [...this.orgs.values()].filter((org) => principal.orgIds.has(org.id));
  }

  /** Resolves `orgSlug` from the query: 400 when absent, 403 when not a member. */
  orgScope(principal: Principal, url: URL): Org {
    const orgSlug = url.searchParams.get('orgSlug');
    if (!orgSlug) throw new HttpError(400, 'orgSlug query parameter is required');
    const org = this.orgs.get(orgSlug);
    if (!org || !principal.orgIds.has(org.id)) throw new HttpError(403, FORBIDDEN_SCOPE);
    return org;
  }

  /** Resolves `orgSlug` + `projectSlug`: 400 when either is absent, 403 when not a member. */
  projectScope(principal: Principal, url: URL): Scope {
    const projectSlug = url.searchParams.get('projectSlug');
    if (!url.searchParams.get('orgSlug')) throw new HttpError(400, 'orgSlug query parameter is required');
    if (!projectSlug) throw new HttpError(400, 'projectSlug query parameter is required');
    const org = this.orgScope(principal, url);
    const project = this.projects.get(org.id)?.find((p) => p.slug === projectSlug);
    if (!project) throw new HttpError(403, FORBIDDEN_SCOPE);
    return { org, project };
  }

  /** Projects of an org, in creation order. */
  listProjects(org: Org): Project[] {
    return [...(this.projects.get(org.id) ?? [])];
  }

  /** Creates a project; 409 when the slug is taken in that org. */
  createProject(org: Org, name: string, slug: string): Project {
    if (this.projects.get(org.id)?.some((p) => p.slug === slug)) {
      throw new HttpError(409, 'project slug is already taken');
    }
    return this.addProject(org, name, slug);
  }

  private addOrg(slug: string, name: string): Org {
    const org: Org = { id: randomUUID(), slug, name };
    this.orgs.set(slug, org);
    this.projects.set(org.id, []);
    return org;
  }

  private addProject(org: Org, name: string, slug: string): Project {
    const project: Project = { id: randomUUID(), slug, name, orgId: org.id };
    this.projects.get(org.id)?.push(project);
    return project;
  }
}

/** Routes A1, A2, M1, P1, P2. */
export function accountRoutes(accounts: Accounts): Route[] {
  return [
    {
      method: 'POST',
      template: '/v1/auth/anonymous',
      auth: 'public',
      async handle(ctx: RequestContext) {
        const body = parseOr400(anonymousBodySchema, (await readJson(ctx.req)) ?? {});
        const { principal, org } = accounts.mintAnonymous();
        sendJson(ctx.res, 200, {
          token: principal.token,
          anonymousId: principal.anonymousId,
          kind: body.kind,
          personalOrg: { slug: org.slug, id: org.id, name: org.name },
        });
      },
    },
    {
      method: 'GET',
      template: '/v1/auth/cli/config',
      auth: 'public',
      handle(ctx: RequestContext) {
        // The emulator has no OAuth provider: the three nullable fields say so.
        sendJson(ctx.res, 200, { auth0Domain: null, clientId: null, audience: null, callbackPorts: [] });
      },
    },
    {
      method: 'GET',
      template: '/v1/me',
      auth: 'user',
      handle(ctx: RequestContext) {
        const principal = requirePrincipal(ctx);
        const user: Record<string, unknown> = { id: principal.userId };
        if (principal.email !== undefined) user.email = principal.email;
        if (principal.anonymousId !== undefined) user.anonymousId = principal.anonymousId;
        sendJson(ctx.res, 200, { user, orgs: accounts.orgsOf(principal) });
      },
    },
    {
      method: 'GET',
      template: '/v1/projects',
      auth: 'user',
      handle(ctx: RequestContext) {
        const org = accounts.orgScope(requirePrincipal(ctx), ctx.url);
        sendJson(ctx.res, 200, { org, projects: accounts.listProjects(org) });
      },
    },
    {
      method: 'POST',
      template: '/v1/projects',
      auth: 'user',
      async handle(ctx: RequestContext) {
        const org = accounts.orgScope(requirePrincipal(ctx), ctx.url);
        const body = parseOr400(projectBodySchema, await readJson(ctx.req));
        sendJson(ctx.res, 201, { project: accounts.createProject(org, body.name, body.slug) });
      },
    },
  ];
}
