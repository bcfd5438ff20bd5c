import type { z } from 'zod';
import { ArkorResponseError, cloudApiErrorFromResponse } from './errors.js';
import {
  decodeResponse,
  envelopes,
  type ChatRequest,
  type CreateDeploymentRequest,
  type CreatedDeploymentKey,
  type CreateJobRequest,
  type Deployment,
  type DeploymentKey,
  type EdgeChatRequest,
  type Me,
  type Project,
  type TrainingJob,
  type UpdateDeploymentRequest,
} from './schemas.js';
import { tracedFetch, type RoutedFetch } from './traced-fetch.js';
import { ARKOR_CLIENT_HEADER, ARKOR_SDK_VERSION } from './version.js';

/** The org/project a request is scoped to (docs/arkor-protocol.md §2.4). */
export interface ArkorScope {
  orgSlug: string;
  projectSlug: string;
}

/** A deprecation notice taken from response headers (docs/arkor-protocol.md §10.3). */
export interface DeprecationNotice {
  /** Our SDK version as sent in `X-Arkor-Client`. */
  sdkVersion: string;
  message: string;
  /** The `Sunset` header verbatim, or null. */
  sunset: string | null;
}

/** Everything needed to talk to the cloud-api. Contains the bearer token: never log it. */
export interface ArkorConnection {
  /** Cloud-api base URL without trailing slash, e.g. `https://api.arkor.ai`. */
  baseUrl: string;
  /** Bearer token (anonymous token, OAuth access token or a service token). */
  token: string;
  scope: ArkorScope;
  /** Fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Total timeout of ordinary requests in ms (headers and body). Default 30000. Not applied to the event stream. */
  requestTimeoutMs?: number;
  /** Deployment edge base URL; `{slug}` is replaced by the deployment slug. Default `https://{slug}.arkor.app/v1`. */
  deploymentUrlTemplate?: string;
  /** Called with each deprecation notice (latest wins); a throwing handler never fails the request. */
  onDeprecation?: (notice: DeprecationNotice) => void;
}

/** Per-call options of the routes returning a raw `Response`. */
export interface RawRequestOptions {
  signal?: AbortSignal;
  /**
   * Total timeout in ms, covering the body too (the body is read after the call returns).
   * Default: the connection's `requestTimeoutMs`; `0` disables it.
   */
  timeoutMs?: number;
}

/** Default of {@link ArkorConnection.requestTimeoutMs}. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Default of {@link ArkorConnection.deploymentUrlTemplate}. */
export const DEFAULT_DEPLOYMENT_URL_TEMPLATE = 'https://{slug}.arkor.app/v1';

type ScopeKind = 'project' | 'org' | 'none';

interface RequestSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Path below the base URL, ids already encoded. */
  path: string;
  /**
   * The route, ids as `:params` (`GET /v1/jobs/:id`): the request's span name, so that traces
   * group by route rather than by job.
   */
  route: string;
  scope: ScopeKind;
  /** Overrides the org of an `org`-scoped route. */
  orgSlug?: string;
  body?: unknown;
  signal?: AbortSignal;
  /** Total timeout; 0 = none. */
  timeoutMs: number;
  headers?: Record<string, string>;
}

const enc = encodeURIComponent;

/**
 * Typed client of the Arkor cloud-api routes (docs/arkor-protocol.md §3) for one org/project scope.
 *
 * Every request carries `Authorization: Bearer`, `X-Arkor-Client` and the scope as query
 * parameters. Non-2xx answers throw {@link CloudApiError}; 2xx bodies that do not match the
 * protocol throw {@link ArkorResponseError}. Nothing is retried here: job creation is not
 * idempotent, so retries are the caller's decision.
 */
export class ArkorClient {
  readonly baseUrl: string;
  readonly scope: Readonly<ArkorScope>;
  private readonly token: string;
  private readonly fetchImpl: RoutedFetch;
  private readonly requestTimeoutMs: number;
  private readonly deploymentUrlTemplate: string;
  private readonly onDeprecation: ((notice: DeprecationNotice) => void) | undefined;
  private latestDeprecation: DeprecationNotice | undefined;

  constructor(connection: ArkorConnection) {
    this.baseUrl = connection.baseUrl.replace(/\/$/, '');
    this.scope = Object.freeze({ ...connection.scope });
    this.token = connection.token;
    // A span per request when the process traces (README "Tracing"); a no-op otherwise.
    this.fetchImpl = tracedFetch(connection.fetch ?? globalThis.fetch);
    this.requestTimeoutMs = connection.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.deploymentUrlTemplate = (connection.deploymentUrlTemplate ?? DEFAULT_DEPLOYMENT_URL_TEMPLATE).replace(
      /\/+$/,
      '',
    );
    this.onDeprecation = connection.onDeprecation;
  }

  /** The latest deprecation notice seen on any response, if any. */
  get deprecation(): DeprecationNotice | undefined {
    return this.latestDeprecation;
  }

  // ---- jobs ---------------------------------------------------------------------------------

  /** `POST /v1/jobs`. Not idempotent: a retried call creates a second job. */
  async createJob(request: CreateJobRequest, options: { signal?: AbortSignal } = {}): Promise<TrainingJob> {
    const body = await this.json(envelopes.job, 'POST /v1/jobs', {
      method: 'POST',
      path: '/v1/jobs',
      scope: 'project',
      body: request,
      ...this.timed(options),
    });
    return body.job;
  }

  /** `GET /v1/jobs/:id`; `events` is the stored history as loose objects (`[]` when absent). */
  async getJob(
    jobId: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<{ job: TrainingJob; events: unknown[] }> {
    const body = await this.json(envelopes.jobWithEvents, 'GET /v1/jobs/:id', {
      method: 'GET',
      path: `/v1/jobs/${enc(jobId)}`,
      scope: 'project',
      ...this.timed(options),
    });
    return { job: body.job, events: body.events ?? [] };
  }

  /** `GET /v1/jobs`: every job of the project (no pagination is known). */
  async listJobs(options: { signal?: AbortSignal } = {}): Promise<TrainingJob[]> {
    const body = await this.json(envelopes.jobs, 'GET /v1/jobs', {
      method: 'GET',
      path: '/v1/jobs',
      scope: 'project',
      ...this.timed(options),
    });
    return body.jobs;
  }

  /** `POST /v1/jobs/:id/cancel`. Resolves on any 2xx; a job already terminal throws `CloudApiError` 409. */
  async cancelJob(jobId: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.send(
      {
        method: 'POST',
        path: `/v1/jobs/${enc(jobId)}/cancel`,
        route: 'POST /v1/jobs/:id/cancel',
        scope: 'project',
        ...this.timed(options),
      },
      true,
    );
  }

  /**
   * Opens `GET /v1/jobs/:id/events/stream` and returns the raw 2xx response (body unread).
   * Sends `Last-Event-ID` only when `lastEventId` is non-empty. No timeout is applied: callers
   * must watch the stream themselves (see `followJobEvents`). Non-2xx throws `CloudApiError`
   * with `retryAfterMs` from `Retry-After`.
   */
  async openJobEvents(jobId: string, options: { lastEventId?: string; signal?: AbortSignal } = {}): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (options.lastEventId !== undefined && options.lastEventId !== '') headers['Last-Event-ID'] = options.lastEventId;
    return this.send(
      {
        method: 'GET',
        path: `/v1/jobs/${enc(jobId)}/events/stream`,
        route: 'GET /v1/jobs/:id/events/stream',
        scope: 'project',
        headers,
        timeoutMs: 0,
        ...(options.signal !== undefined ? { signal: options.signal } : {}),
      },
      false,
    );
  }

  // ---- inference ----------------------------------------------------------------------------

  /**
   * `POST /v1/inference/chat` with the body forwarded verbatim. Returns the raw 2xx response
   * (JSON completion or SSE chunks; read it with `readChatText`). Non-2xx throws `CloudApiError`.
   */
  async chat(body: ChatRequest, options: RawRequestOptions = {}): Promise<Response> {
    return this.send(
      {
        method: 'POST',
        path: '/v1/inference/chat',
        route: 'POST /v1/inference/chat',
        scope: 'project',
        body,
        ...this.timed(options),
      },
      false,
    );
  }

  /**
   * OpenAI chat completions against a deployment's public edge (`deploymentUrlTemplate` +
   * `/chat/completions`), authenticated with a deployment key (never the cloud-api token).
   * Returns the raw 2xx response; non-2xx throws `CloudApiError` (e.g. 401 for a revoked key,
   * 404 for a disabled or deleted deployment).
   */
  async edgeChat(
    slug: string,
    apiKey: string | undefined,
    body: EdgeChatRequest,
    options: RawRequestOptions = {},
  ): Promise<Response> {
    const url = `${this.deploymentUrlTemplate.split('{slug}').join(enc(slug))}/chat/completions`;
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (apiKey !== undefined && apiKey !== '') headers.Authorization = `Bearer ${apiKey}`;
    const { signal, cleanup } = this.signalFor(this.timed(options));
    try {
      const response = await this.fetchImpl(
        url,
        { method: 'POST', headers, body: JSON.stringify(body), ...(signal ? { signal } : {}) },
        // The edge's own path, with the slug left as a parameter.
        `POST ${this.deploymentUrlTemplate.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '')}/chat/completions`,
      );
      if (!response.ok) {
        throw await cloudApiErrorFromResponse(response, (message) =>
          redactSecret(redactSecret(message, this.token), apiKey),
        );
      }
      return response;
    } finally {
      cleanup();
    }
  }

  // ---- deployments --------------------------------------------------------------------------

  /** `GET /v1/endpoints`. */
  async listDeployments(options: { signal?: AbortSignal } = {}): Promise<Deployment[]> {
    const body = await this.json(envelopes.deployments, 'GET /v1/endpoints', {
      method: 'GET',
      path: '/v1/endpoints',
      scope: 'project',
      ...this.timed(options),
    });
    return body.deployments;
  }

  /** `POST /v1/endpoints` (409 when the slug is taken). */
  async createDeployment(
    request: CreateDeploymentRequest,
    options: { signal?: AbortSignal } = {},
  ): Promise<Deployment> {
    const body = await this.json(envelopes.deployment, 'POST /v1/endpoints', {
      method: 'POST',
      path: '/v1/endpoints',
      scope: 'project',
      body: request,
      ...this.timed(options),
    });
    return body.deployment;
  }

  /** `GET /v1/endpoints/:id`. */
  async getDeployment(deploymentId: string, options: { signal?: AbortSignal } = {}): Promise<Deployment> {
    const body = await this.json(envelopes.deployment, 'GET /v1/endpoints/:id', {
      method: 'GET',
      path: `/v1/endpoints/${enc(deploymentId)}`,
      scope: 'project',
      ...this.timed(options),
    });
    return body.deployment;
  }

  /** `PATCH /v1/endpoints/:id` with the partial body sent exactly as given. */
  async updateDeployment(
    deploymentId: string,
    patch: UpdateDeploymentRequest,
    options: { signal?: AbortSignal } = {},
  ): Promise<Deployment> {
    const body = await this.json(envelopes.deployment, 'PATCH /v1/endpoints/:id', {
      method: 'PATCH',
      path: `/v1/endpoints/${enc(deploymentId)}`,
      scope: 'project',
      body: patch,
      ...this.timed(options),
    });
    return body.deployment;
  }

  /** `DELETE /v1/endpoints/:id` (cascades to its keys). */
  async deleteDeployment(deploymentId: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.send(
      {
        method: 'DELETE',
        path: `/v1/endpoints/${enc(deploymentId)}`,
        route: 'DELETE /v1/endpoints/:id',
        scope: 'project',
        ...this.timed(options),
      },
      true,
    );
  }

  /** `GET /v1/endpoints/:id/keys` (never includes plaintexts). */
  async listDeploymentKeys(deploymentId: string, options: { signal?: AbortSignal } = {}): Promise<DeploymentKey[]> {
    const body = await this.json(envelopes.keys, 'GET /v1/endpoints/:id/keys', {
      method: 'GET',
      path: `/v1/endpoints/${enc(deploymentId)}/keys`,
      scope: 'project',
      ...this.timed(options),
    });
    return body.keys;
  }

  /** `POST /v1/endpoints/:id/keys`; the returned `plaintext` is shown only this once. */
  async createDeploymentKey(
    deploymentId: string,
    request: { label: string },
    options: { signal?: AbortSignal } = {},
  ): Promise<CreatedDeploymentKey> {
    const body = await this.json(envelopes.key, 'POST /v1/endpoints/:id/keys', {
      method: 'POST',
      path: `/v1/endpoints/${enc(deploymentId)}/keys`,
      scope: 'project',
      body: request,
      ...this.timed(options),
    });
    return body.key;
  }

  /** `DELETE /v1/endpoints/:id/keys/:keyId` (the key stays listed with `enabled: false`). */
  async revokeDeploymentKey(
    deploymentId: string,
    keyId: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    await this.send(
      {
        method: 'DELETE',
        path: `/v1/endpoints/${enc(deploymentId)}/keys/${enc(keyId)}`,
        route: 'DELETE /v1/endpoints/:id/keys/:keyId',
        scope: 'project',
        ...this.timed(options),
      },
      true,
    );
  }

  // ---- projects and identity ----------------------------------------------------------------

  /** `GET /v1/projects?orgSlug=` for `orgSlug` (default: this client's org). */
  async listProjects(options: { orgSlug?: string; signal?: AbortSignal } = {}): Promise<Project[]> {
    const body = await this.json(envelopes.projects, 'GET /v1/projects', {
      method: 'GET',
      path: '/v1/projects',
      scope: 'org',
      ...this.orgOf(options),
      ...this.timed(options),
    });
    return body.projects;
  }

  /** `POST /v1/projects?orgSlug=` (409 when the slug is taken). */
  async createProject(
    request: { name: string; slug: string },
    options: { orgSlug?: string; signal?: AbortSignal } = {},
  ): Promise<Project> {
    const body = await this.json(envelopes.project, 'POST /v1/projects', {
      method: 'POST',
      path: '/v1/projects',
      scope: 'org',
      body: request,
      ...this.orgOf(options),
      ...this.timed(options),
    });
    return body.project;
  }

  /** `GET /v1/me`: the token's user and orgs. */
  async me(options: { signal?: AbortSignal } = {}): Promise<Me> {
    return this.json(envelopes.me, 'GET /v1/me', {
      method: 'GET',
      path: '/v1/me',
      scope: 'none',
      ...this.timed(options),
    });
  }

  // ---- plumbing -----------------------------------------------------------------------------

  private orgOf(options: { orgSlug?: string }): { orgSlug?: string } {
    return options.orgSlug !== undefined ? { orgSlug: options.orgSlug } : {};
  }

  private timed(options: RawRequestOptions): { signal?: AbortSignal; timeoutMs: number } {
    return {
      timeoutMs: options.timeoutMs ?? this.requestTimeoutMs,
      ...(options.signal !== undefined ? { signal: options.signal } : {}),
    };
  }

  /**
   * The caller's signal combined with the total timeout. The timer is a plain setTimeout we can
   * clear, so a finished request leaves no timer behind (AbortSignal.timeout cannot be cleared).
   */
  private signalFor(spec: { signal?: AbortSignal; timeoutMs: number }): {
    signal: AbortSignal | undefined;
    cleanup: () => void;
  } {
    if (spec.timeoutMs <= 0 || !Number.isFinite(spec.timeoutMs))
      return { signal: spec.signal, cleanup: () => undefined };
    const timeout = new AbortController();
    const timer = setTimeout(() => {
      timeout.abort(new DOMException(`Arkor request timed out after ${spec.timeoutMs} ms`, 'TimeoutError'));
    }, spec.timeoutMs);
    timer.unref();
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout.signal]) : timeout.signal;
    return { signal, cleanup: () => clearTimeout(timer) };
  }

  private urlFor(spec: RequestSpec): string {
    let query = '';
    if (spec.scope === 'project')
      query = `?orgSlug=${enc(this.scope.orgSlug)}&projectSlug=${enc(this.scope.projectSlug)}`;
    else if (spec.scope === 'org') query = `?orgSlug=${enc(spec.orgSlug ?? this.scope.orgSlug)}`;
    return `${this.baseUrl}${spec.path}${query}`;
  }

  /**
   * Sends one request and returns the 2xx response. With `consume`, the body is read (and
   * discarded) before the timeout is released; otherwise the caller owns the body and a total
   * timeout keeps running until it fires (its timer is unref'd).
   */
  private async send(spec: RequestSpec, consume: boolean): Promise<Response> {
    const headers: Record<string, string> = {
      Authorization: `Bearer ${this.token}`,
      'X-Arkor-Client': ARKOR_CLIENT_HEADER,
      ...spec.headers,
    };
    let body: string | undefined;
    if (spec.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(spec.body);
    }
    const { signal, cleanup } = this.signalFor(spec);
    let owned = false;
    try {
      const response = await this.fetchImpl(
        this.urlFor(spec),
        {
          method: spec.method,
          headers,
          ...(body !== undefined ? { body } : {}),
          ...(signal ? { signal } : {}),
        },
        spec.route,
      );
      this.recordDeprecation(response.headers);
      if (!response.ok) throw await cloudApiErrorFromResponse(response, (message) => redactSecret(message, this.token));
      if (consume) await response.arrayBuffer();
      else owned = true;
      return response;
    } finally {
      // A raw response's body is still being read by the caller: its timeout must stay armed.
      if (!owned) cleanup();
    }
  }

  private async json<T>(schema: z.ZodType<T>, route: string, spec: Omit<RequestSpec, 'route'>): Promise<T> {
    const { signal, cleanup } = this.signalFor(spec);
    try {
      const response = await this.send({ ...spec, route, timeoutMs: 0, ...(signal ? { signal } : {}) }, false);
      const text = await response.text();
      let value: unknown;
      try {
        value = JSON.parse(text) as unknown;
      } catch {
        throw new ArkorResponseError(`Unexpected response from ${route}: body is not JSON (status ${response.status})`);
      }
      return decodeResponse(schema, value, route);
    } finally {
      cleanup();
    }
  }

  private recordDeprecation(headers: Headers): void {
    const notice = deprecationFromHeaders(headers);
    if (notice === undefined) return;
    this.latestDeprecation = notice;
    if (this.onDeprecation === undefined) return;
    try {
      const result: unknown = this.onDeprecation(notice);
      // A handler that returns a rejected promise must not surface as an unhandled rejection.
      if (result instanceof Promise) result.catch(() => undefined);
    } catch {
      // Deprecation reporting is advisory; it never fails the request.
    }
  }
}

/** Reads a deprecation notice from response headers (docs/arkor-protocol.md §10.3), if `Deprecation: true`. */
export function deprecationFromHeaders(headers: Headers): DeprecationNotice | undefined {
  if (headers.get('deprecation') !== 'true') return undefined;
  const warning = headers.get('warning');
  const match = warning === null ? null : /^\d{3}\s+-\s+"(.+)"\s*$/.exec(warning);
  const message =
    match?.[1] ?? (warning !== null && warning !== '' ? warning : `Arkor SDK ${ARKOR_SDK_VERSION} is deprecated`);
  return { sdkVersion: ARKOR_SDK_VERSION, message, sunset: headers.get('sunset') };
}

function redactSecret(message: string, secret: string | undefined): string {
  return secret !== undefined && secret !== '' ? message.split(secret).join('[redacted]') : message;
}
