/**
 * A webhook receiver on 127.0.0.1 for tests and benchmarks: it records every request and can be told to fail.
 *
 * ```ts
 * const receiver = await startWebhookReceiver();
 * t.after(() => receiver.close());
 * receiver.respondWith(500, { times: 2 });   // the next two requests get 500, then 200 again
 * await receiver.down();                     // connections refused until up()
 * await receiver.up();                       // listening again, same port and url
 * receiver.requests[0]?.body;                // parsed JSON of the first request
 * ```
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One request the receiver got (recorded even when answered with an error status). */
export interface ReceivedRequest {
  method: string;
  /** Path and query, e.g. `/hooks/team`. */
  path: string;
  /** Lower-case header names, as Node gives them. */
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON, or undefined when empty or not JSON. */
  body: unknown;
  rawBody: string;
  /** The status it was answered with. */
  status: number;
}

/** How the receiver answers the next requests (`respondWith`). */
export interface RespondOptions {
  /** How many of the next requests get this answer. Default 1. */
  times?: number;
  /** Wait this long before answering (for timeout tests). Default 0. */
  delayMs?: number;
  /** Response body. Default `{"error":"status <n>"}` for errors, `ok` for 2xx. */
  body?: string;
  headers?: Record<string, string>;
}

/** A running receiver (`startWebhookReceiver`). */
export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>` without trailing slash; every path and method is accepted. */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: ReceivedRequest[];
  /** Answers the next `times` requests with `status` (queued after earlier instructions). */
  respondWith(status: number, options?: RespondOptions): void;
  /** Stops listening and drops open connections: requests fail with a connection error until `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** Resolves once `count` requests have been recorded (rejects after `timeoutMs`, default 5 s). */
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Closes the server and its connections. Idempotent. */
  close(): Promise<void>;
}

interface Instruction {
  status: number;
  remaining: number;
  delayMs: number;
  body: string | undefined;
  headers: Record<string, string>;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Starts a receiver on a free port of 127.0.0.1. Answers 200 `ok` unless told otherwise. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const requests: ReceivedRequest[] = [];
  const instructions: Instruction[] = [];
  const sockets = new Set<Socket>();
  const waiters = new Set<() => void>();

  function nextAnswer(): Omit<Instruction, 'remaining'> {
    const first = instructions[0];
    if (first === undefined) return { status: 200, delayMs: 0, body: undefined, headers: {} };
    first.remaining -= 1;
    if (first.remaining <= 0) instructions.shift();
    return first;
  }

  function answer(
    res: ServerResponse,
    status: number,
    body: string | undefined,
    headers: Record<string, string>,
  ): void {
    const text = body ?? (status >= 200 && status < 300 ? 'ok' : JSON.stringify({ error: `status ${status}` }));
    res.writeHead(status, { 'Content-Type': text.startsWith('{') ? 'application/json' : 'text/plain', ...headers });
    res.end(text);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks).toString('utf8');
      const { status, delayMs, body, headers } = nextAnswer();
      requests.push({
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        body: parseJson(rawBody),
        rawBody,
        status,
      });
      for (const wake of waiters) wake();
      if (delayMs > 0) setTimeout(() => answer(res, status, body, headers), delayMs).unref();
      else answer(res, status, body, headers);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  const port = await listen(server, 0);
  let listening = true;
  let closed = false;

  async function stop(): Promise<void> {
    if (!listening) return;
    listening = false;
    const done = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await done;
  }

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    respondWith(status, options = {}) {
      instructions.push({
        status,
        remaining: options.times ?? 1,
        delayMs: options.delayMs ?? 0,
        body: options.body,
        headers: options.headers ?? {},
      });
    },
    down: stop,
    async up() {
      if (listening || closed) return;
      await listen(server, port);
      listening = true;
    },
    waitForRequests(count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          if (requests.length < count) return false;
          waiters.delete(wake);
          clearTimeout(timer);
          resolve(requests.slice());
          return true;
        };
        const wake = (): void => void check();
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(new Error(`webhook receiver: expected ${count} requests, got ${requests.length}`));
        }, timeoutMs);
        waiters.add(wake);
        check();
      });
    },
    async close() {
      closed = true;
      await stop();
    },
  };
}
