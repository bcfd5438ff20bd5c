/**
 * Types shared by the emulator's route modules: resolved options, the route table entry, the
 * per-request context, and the lifecycle that lets `close()` end long-lived work.
 */
import { setMaxListeners } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EmulatorOptions } from './types.js';

/** `EmulatorOptions` with every default applied. */
export interface ResolvedOptions {
  port: number;
  token: string;
  orgSlug: string;
  projectSlug: string;
  stepMs: number;
  pingIntervalMs: number;
  minClientVersion: string;
  deprecatedBelowVersion: string | undefined;
  seed: number;
  verbose: boolean;
}

/** Default values of `EmulatorOptions` (documented on the interface). */
export const DEFAULT_OPTIONS = {
  port: 0,
  token: 'emulator-token',
  orgSlug: 'local-org',
  projectSlug: 'local-project',
  stepMs: 50,
  pingIntervalMs: 15_000,
  minClientVersion: '0.0.1',
  seed: 1,
  verbose: false,
} as const;

/** Applies defaults to `options` (undefined fields take the default). */
export function resolveOptions(options: EmulatorOptions = {}): ResolvedOptions {
  return {
    port: options.port ?? DEFAULT_OPTIONS.port,
    token: options.token ?? DEFAULT_OPTIONS.token,
    orgSlug: options.orgSlug ?? DEFAULT_OPTIONS.orgSlug,
    projectSlug: options.projectSlug ?? DEFAULT_OPTIONS.projectSlug,
    stepMs: options.stepMs ?? DEFAULT_OPTIONS.stepMs,
    pingIntervalMs: options.pingIntervalMs ?? DEFAULT_OPTIONS.pingIntervalMs,
    minClientVersion: options.minClientVersion ?? DEFAULT_OPTIONS.minClientVersion,
    deprecatedBelowVersion: options.deprecatedBelowVersion,
    seed: options.seed ?? DEFAULT_OPTIONS.seed,
    verbose: options.verbose ?? DEFAULT_OPTIONS.verbose,
  };
}

/** An organisation. */
export interface Org {
  id: string;
  slug: string;
  name: string;
}

/** A project (the `Project` shape of docs/arkor-protocol.md §3.3). */
export interface Project {
  id: string;
  slug: string;
  name: string;
  orgId: string;
}

/** Who a bearer token belongs to. */
export interface Principal {
  token: string;
  userId: string;
  email?: string;
  /** Set for identities minted by `POST /v1/auth/anonymous`. */
  anonymousId?: string;
  orgIds: Set<string>;
}

/** A resolved `orgSlug` + `projectSlug` scope the principal is a member of. */
export interface Scope {
  org: Org;
  project: Project;
}

/**
 * Who may call a route: `public` (version gate only), `user` (gate + bearer token), `control`
 * (the emulator's own token, no gate) and `edge` (deployment edge, its own key check).
 */
export type RouteAuth = 'public' | 'user' | 'control' | 'edge';

/** What a route handler receives. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** Decoded `:name` segments of the route template. */
  params: Record<string, string>;
  /** The authenticated principal on `user` routes. */
  principal: Principal | undefined;
  /** Aborts when the client goes away or the emulator closes. */
  signal: AbortSignal;
}

/** One entry of the route table. */
export interface Route {
  method: string;
  /** Path template, e.g. `/v1/jobs/:id/cancel`; also the key of `stats().requests`. */
  template: string;
  auth: RouteAuth;
  handle(ctx: RequestContext): Promise<void> | void;
}

/** Long-lived work (streams, timers) registers a cleanup here so `close()` can end it. */
export class Lifecycle {
  private readonly controller = new AbortController();
  private readonly cleanups = new Set<() => void>();

  constructor() {
    // Every in-flight request listens on this signal; hundreds at once are normal, not a leak.
    setMaxListeners(0, this.controller.signal);
  }

  /** Aborts once `close()` starts. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Registers `cleanup`; returns a function that unregisters it (call it when the work ends). */
  track(cleanup: () => void): () => void {
    this.cleanups.add(cleanup);
    return () => this.cleanups.delete(cleanup);
  }

  /** Runs every registered cleanup once and aborts `signal`. */
  closeAll(): void {
    this.controller.abort();
    for (const cleanup of [...this.cleanups]) cleanup();
    this.cleanups.clear();
  }
}

/** Returns the principal of a `user` route (the router guarantees it; this keeps types honest). */
export function requirePrincipal(ctx: RequestContext): Principal {
  if (!ctx.principal) throw new Error('route declared as user but no principal was resolved');
  return ctx.principal;
}
