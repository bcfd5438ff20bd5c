/** Test helper: plain-fetch calls against an emulator, with the headers a well-behaved client sends. */

/** The `X-Arkor-Client` value tests send (the SDK version our client conforms to). */
export const CLIENT_HEADER = 'arkor/0.0.3-alpha.1';

/** Minimal view of an emulator for the helper (in-process or child process). */
export interface Target {
  url: string;
  token: string;
  orgSlug: string;
  projectSlug: string;
}

/** A fetch with auth, client header and scope applied unless overridden. */
export interface ApiCall {
  (
    method: string,
    path: string,
    init?: { body?: unknown; headers?: Record<string, string>; scope?: boolean; signal?: AbortSignal },
  ): Promise<Response>;
  /** Same, then `res.json()`, asserting nothing. */
  json<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T; res: Response }>;
}

/** Builds an `ApiCall` bound to `target`. Paths may contain a query; the scope is appended. */
export function api(target: Target): ApiCall {
  const call = (async (method, path, init = {}) => {
    const scope =
      init.scope === false
        ? ''
        : `orgSlug=${encodeURIComponent(target.orgSlug)}&projectSlug=${encodeURIComponent(target.projectSlug)}`;
    const sep = path.includes('?') ? '&' : '?';
    const headers: Record<string, string> = {
      Authorization: `Bearer ${target.token}`,
      'X-Arkor-Client': CLIENT_HEADER,
      ...(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...init.headers,
    };
    return fetch(`${target.url}${path}${scope ? sep + scope : ''}`, {
      method,
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: init.signal,
    });
  }) as ApiCall;
  call.json = async <T>(method: string, path: string, body?: unknown) => {
    const res = await call(method, path, { body });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? undefined : JSON.parse(text)) as T, res };
  };
  return call;
}

/** A job config small enough for fast tests. */
export function jobConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: 'unsloth/gemma-4-E4B-it', datasetSource: { type: 'huggingface', name: 'org/data' }, ...extra };
}

/** Polls `check` every 5 ms until it returns a value other than undefined (or throws after `timeoutMs`). */
export async function waitFor<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}
