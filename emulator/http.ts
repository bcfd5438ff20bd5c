/**
 * JSON and error helpers shared by every emulator route: reading bodies, answering JSON, and the
 * `HttpError` that handlers throw to answer `{ error, ...extra }` with a status.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';

/** A handler-level failure that the router turns into `status` + JSON `{ error, ...extra }`. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** Largest request body the emulator reads (1 MiB); anything bigger is a 413. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Writes `body` as JSON with `status` (and optional extra headers) and ends the response. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Answers 204 with no body. */
export function sendNoContent(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}

/** Reads the whole request body as text (rejects with a 413 `HttpError` past `MAX_BODY_BYTES`). */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'request body too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads the body as JSON. An empty body reads as `undefined`; invalid JSON is a 400. */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readText(req);
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, 'invalid JSON body');
  }
}

/** Formats the first zod issue as `<field path>: <message>` so a 400 names the field. */
export function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid body';
  const path = issue.path.map(String).join('.');
  return path === '' ? issue.message : `${path}: ${issue.message}`;
}

/** Validates `value` against `schema`, throwing a 400 `HttpError` that names the offending field. */
export function parseOr400<T>(schema: z.ZodType<T>, value: unknown, what = 'body'): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new HttpError(400, `invalid ${what}: ${describeZodError(result.error)}`);
  return result.data;
}

/**
 * Resolves after `ms`, or early (without rejecting) when `signal` aborts. Used for injected
 * delays that must not outlive a closed connection or a closed emulator.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
