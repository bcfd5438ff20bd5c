/**
 * The emulator's HTTP server: routing by template, route faults, the version gate and bearer
 * auth in front of the route handlers, request counting, and error-to-JSON mapping.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Accounts } from './accounts.js';
import type { Lifecycle, Principal, RequestContext, Route } from './context.js';
import { HttpError, sendJson, sleep } from './http.js';
import type { RouteFaults } from './route-faults.js';
import type { VersionGate } from './version-gate.js';

/** Prefix of the control API, which route faults never touch (so faults can always be cleared). */
export const CONTROL_PREFIX = '/_emulator/';

interface CompiledRoute {
  route: Route;
  pattern: RegExp;
  names: string[];
}

function compile(route: Route): CompiledRoute {
  const names: string[] = [];
  const source = route.template
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      names.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { route, pattern: new RegExp(`^${source}$`), names };
}

/** Finds the route for `method` + raw `pathname` and decodes its parameters. */
class Router {
  private readonly compiled: CompiledRoute[];

  constructor(routes: Route[]) {
    this.compiled = routes.map(compile);
  }

  match(method: string, pathname: string): { route: Route; params: Record<string, string> } | undefined {
    for (const c of this.compiled) {
      if (c.route.method !== method) continue;
      const m = c.pattern.exec(pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      c.names.forEach((name, i) => {
        const raw = m[i + 1] ?? '';
        try {
          params[name] = decodeURIComponent(raw);
        } catch {
          throw new HttpError(400, `malformed path segment: ${raw}`);
        }
      });
      return { route: c.route, params };
    }
    return undefined;
  }
}

/** What the server needs from the emulator. */
export interface ServerDeps {
  token: string;
  verbose: boolean;
  accounts: Accounts;
  gate: VersionGate;
  faults: RouteFaults;
  lifecycle: Lifecycle;
  routes: Route[];
  /** Incremented per request under `METHOD template` (or `METHOD (unmatched)`). */
  requestCounts: Map<string, number>;
}

function bearer(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}

function clientHeader(req: IncomingMessage): string | undefined {
  const value = req.headers['x-arkor-client'];
  return Array.isArray(value) ? value[0] : value;
}

/** Builds the (not yet listening) HTTP server. */
export function createEmulatorServer(deps: ServerDeps): Server {
  const router = new Router(deps.routes);

  async function dispatch(req: IncomingMessage, res: ServerResponse, url: URL, signal: AbortSignal): Promise<void> {
    const method = req.method ?? 'GET';
    const matched = router.match(method, url.pathname);
    const key = matched ? `${method} ${matched.route.template}` : `${method} (unmatched)`;
    deps.requestCounts.set(key, (deps.requestCounts.get(key) ?? 0) + 1);

    if (!url.pathname.startsWith(CONTROL_PREFIX)) {
      const fault = deps.faults.take(method, url.pathname);
      if (fault) {
        if (fault.delayMs) await sleep(fault.delayMs, signal);
        if (fault.status === 'reset') {
          req.socket.destroy();
          return;
        }
        if (fault.status !== undefined) {
          const headers: Record<string, string> =
            fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
          throw new HttpError(fault.status, `injected fault ${fault.status}`, {}, headers);
        }
      }
    }

    const versioned = url.pathname === '/v1' || url.pathname.startsWith('/v1/');
    if (versioned) {
      // The gate runs before auth, like the real server: an outdated client learns that first.
      const decision = deps.gate.check(clientHeader(req));
      if (decision.kind === 'reject') {
        sendJson(res, 426, decision.body);
        return;
      }
      for (const [name, value] of Object.entries(decision.deprecationHeaders)) res.setHeader(name, value);
    }
    if (!matched) throw new HttpError(404, 'not found');

    let principal: Principal | undefined;
    if (matched.route.auth === 'user') {
      principal = deps.accounts.authenticate(req.headers.authorization);
      if (!principal) throw new HttpError(401, 'unauthorized');
    } else if (matched.route.auth === 'control' && bearer(req) !== deps.token) {
      throw new HttpError(401, 'unauthorized');
    }
    const ctx: RequestContext = { req, res, url, params: matched.params, principal, signal };
    await matched.route.handle(ctx);
  }

  return createServer((req, res) => {
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    // One signal per request: aborted when the client leaves or the emulator closes. (Built by
    // hand rather than with AbortSignal.any, whose per-call registrations on the long-lived
    // lifecycle signal pile up under benchmark request rates.)
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    if (deps.lifecycle.signal.aborted) controller.abort();
    else deps.lifecycle.signal.addEventListener('abort', abort, { once: true });
    res.on('close', () => {
      deps.lifecycle.signal.removeEventListener('abort', abort);
      controller.abort();
    });
    const signal = controller.signal;
    if (deps.verbose) {
      res.on('close', () => {
        const ms = (performance.now() - started).toFixed(1);
        process.stderr.write(`[emulator] ${req.method ?? '?'} ${req.url ?? ''} -> ${res.statusCode} (${ms} ms)\n`);
      });
    }
    dispatch(req, res, url, signal).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) {
        // Too late for a status: cut the connection so the client sees a failure, not a short body.
        res.destroy();
        return;
      }
      if (error instanceof HttpError) {
        sendJson(res, error.status, { error: error.message, ...error.extra }, error.headers);
        return;
      }
      process.stderr.write(`[emulator] internal error on ${req.method ?? '?'} ${url.pathname}: ${String(error)}\n`);
      sendJson(res, 500, { error: 'internal error' });
    });
  });
}
