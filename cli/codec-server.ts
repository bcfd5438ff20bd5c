/**
 * `arkor-temporal codec-server`: Temporal's remote codec HTTP protocol over the payload
 * encryption of `codec/encryption.ts`, so that the Temporal Web UI ("Codec Server" endpoint) and
 * the Temporal CLI (`--codec-endpoint`) show an encrypted run's payloads in clear, while the keys
 * stay with this process (ARKOR_PAYLOAD_KEY).
 *
 * The protocol: `POST …/encode` and `POST …/decode` (only the last path segment counts) with a
 * body `{"payloads": [Payload, …]}` in protobuf JSON (bytes as base64), answered in the same
 * shape; an `X-Namespace` header names the namespace. Invalid JSON or a payload that does not
 * decode is 400. Browsers call it cross-origin from the Web UI: only the configured origins get
 * CORS headers (with credentials, for the UI's "include cross-origin credentials"), and a request
 * from any other origin is refused (403), preflight included. With an `Authorization` value
 * configured (ARKOR_CODEC_AUTH), every encode/decode must carry exactly it (else 401).
 */
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { encryptionCodecFromEnv } from '../codec/encryption.js';
import { errorMessage } from '../contract/errors.js';
import type { CliIo } from './context.js';
import { UsageError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import { oneLine } from './format.js';

const { Payload: PayloadMessage } = proto.temporal.api.common.v1;

export const DEFAULT_CODEC_PORT = 8888;
export const DEFAULT_CODEC_HOST = '127.0.0.1';
/** The dev server's Web UI, under both loopback names a browser may use for it. */
export const DEFAULT_UI_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'] as const;
/** Largest request body accepted (Temporal's own limit on a payload is 2 MiB). */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

const ALLOWED_HEADERS = 'Authorization, Content-Type, X-Namespace';

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Origins (`scheme://host[:port]`) whose pages may call the server: the Web UI's. */
  origins: readonly string[];
  /** The exact `Authorization` header every encode/decode must carry; undefined: none needed. */
  authorization?: string;
  /** One line per refused or failed request. */
  log?: (line: string) => void;
  maxBodyBytes?: number;
}

/** A body that is not the protocol's. */
class BadRequest extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** `scheme://host[:port]`, as a browser sends it in `Origin`; throws `UsageError` for anything else. */
export function parseOrigin(value: string): string {
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`invalid origin "${value}": expected scheme://host[:port], e.g. http://localhost:8233`);
  }
  if (!['http:', 'https:'].includes(url.protocol) || url.origin === 'null' || !/^https?:\/\/[^/]+\/?$/.test(text))
    throw new UsageError(`invalid origin "${value}": expected scheme://host[:port] without a path`);
  return url.origin;
}

/** The payloads of a protocol body, as protobuf messages. */
export function payloadsFromJson(body: unknown): Payload[] {
  const payloads = (body as { payloads?: unknown } | null)?.payloads;
  if (typeof body !== 'object' || body === null || !Array.isArray(payloads))
    throw new BadRequest('the body must be {"payloads": [...]}');
  return payloads.map((payload, index) => {
    if (typeof payload !== 'object' || payload === null) throw new BadRequest(`payloads[${index}] is not an object`);
    try {
      return PayloadMessage.fromObject(payload as Record<string, unknown>);
    } catch (error) {
      throw new BadRequest(`payloads[${index}]: ${errorMessage(error)}`);
    }
  });
}

/** Payloads as the protocol's JSON (bytes as base64). */
export function payloadsToJson(payloads: readonly Payload[]): { payloads: unknown[] } {
  return {
    payloads: payloads.map((payload) =>
      PayloadMessage.toObject(PayloadMessage.fromObject(payload as Record<string, unknown>), { bytes: String }),
    ),
  };
}

function sameSecret(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(request: IncomingMessage, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new BadRequest(`the body is larger than ${limit} bytes`, 413);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The codec server's request handler (not listening; see `startCodecServer`). */
export function createCodecServer(options: CodecServerOptions): Server {
  const origins = new Set(options.origins);
  const log = options.log ?? (() => undefined);
  const limit = options.maxBodyBytes ?? MAX_BODY_BYTES;

  const send = (response: ServerResponse, status: number, body?: unknown): void => {
    if (body === undefined) {
      response.writeHead(status).end();
      return;
    }
    const text = JSON.stringify(body);
    response.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
    response.end(text);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const method = request.method ?? 'GET';
    const path = new URL(request.url ?? '/', 'http://codec.invalid').pathname;
    const namespace = request.headers['x-namespace'];
    const where = `${method} ${path}${typeof namespace === 'string' ? ` (namespace ${namespace})` : ''}`;
    response.setHeader('Vary', 'Origin');
    response.setHeader('Cache-Control', 'no-store');

    const origin = request.headers.origin;
    if (origin !== undefined) {
      if (!origins.has(origin)) {
        log(`refused ${where} from origin ${origin}: not an allowed origin (--ui-origin)`);
        send(response, 403, { error: `origin ${origin} is not allowed` });
        return;
      }
      response.setHeader('Access-Control-Allow-Origin', origin);
      response.setHeader('Access-Control-Allow-Credentials', 'true');
    }

    if (method === 'OPTIONS') {
      response.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      response.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      response.setHeader('Access-Control-Max-Age', '600');
      // A page on a public address calling this loopback server (Chrome's Private Network Access).
      if (origin !== undefined && request.headers['access-control-request-private-network'] === 'true')
        response.setHeader('Access-Control-Allow-Private-Network', 'true');
      response.setHeader('Allow', 'POST, OPTIONS');
      send(response, 204);
      return;
    }

    const action = path.split('/').filter(Boolean).at(-1);
    if (action !== 'encode' && action !== 'decode') {
      send(response, 404, { error: 'the codec server answers POST …/encode and POST …/decode' });
      return;
    }
    if (method !== 'POST') {
      response.setHeader('Allow', 'POST, OPTIONS');
      send(response, 405, { error: `${action} takes POST` });
      return;
    }
    if (options.authorization !== undefined && !sameSecret(request.headers.authorization, options.authorization)) {
      log(`refused ${where}: ${request.headers.authorization === undefined ? 'no' : 'a wrong'} Authorization header`);
      response.setHeader('WWW-Authenticate', 'Bearer');
      send(response, 401, { error: 'unauthorized' });
      return;
    }

    try {
      let body: unknown;
      const text = await readBody(request, limit);
      try {
        body = JSON.parse(text);
      } catch {
        throw new BadRequest('the body is not JSON');
      }
      const payloads = payloadsFromJson(body);
      const converted =
        action === 'encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
      send(response, 200, payloadsToJson(converted));
    } catch (error) {
      const status = error instanceof BadRequest ? error.status : 400;
      const message = oneLine(errorMessage(error));
      log(`failed ${where}: ${message}`);
      send(response, status, { error: message });
    }
  };

  return createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      log(`failed ${request.method ?? ''} ${request.url ?? ''}: ${oneLine(errorMessage(error))}`);
      if (!response.headersSent) send(response, 500, { error: 'internal error' });
      else response.destroy();
    });
  });
}

export interface StartedCodecServer {
  /** `http://host:port`, the endpoint to give the Web UI and `temporal --codec-endpoint`. */
  url: string;
  close(): Promise<void>;
}

/** Starts the server on `host:port` (port 0: any free port). */
export async function startCodecServer(
  options: CodecServerOptions & { host: string; port: number },
): Promise<StartedCodecServer> {
  const server = createCodecServer(options);
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolveListen();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      }),
  };
}

/** The parsed `codec-server` command. */
export interface CodecServerCommand {
  kind: 'codec-server';
  port?: number;
  host?: string;
  /** `--ui-origin` values given (else ARKOR_CODEC_CORS_ORIGINS, else the dev server's UI). */
  uiOrigins?: string[];
}

/** Env variables of the codec server. */
export const CODEC_ENV = { origins: 'ARKOR_CODEC_CORS_ORIGINS', auth: 'ARKOR_CODEC_AUTH' } as const;

/**
 * Runs the codec server until SIGINT/SIGTERM. Prints its endpoint as the first line of stdout.
 * Without a key (ARKOR_PAYLOAD_KEY) it does not start: exit 1.
 */
export async function runCodecServer(
  command: CodecServerCommand,
  deps: { io: CliIo; env: NodeJS.ProcessEnv },
): Promise<ExitCode> {
  const { io, env } = deps;
  let origins: string[];
  let codec: PayloadCodec | undefined;
  try {
    const given = command.uiOrigins ?? env[CODEC_ENV.origins]?.split(',').filter((origin) => origin.trim() !== '');
    origins = given && given.length > 0 ? given.map(parseOrigin) : [...DEFAULT_UI_ORIGINS];
  } catch (error) {
    io.stderr(`error: ${errorMessage(error)}\n`);
    return ExitCode.Usage;
  }
  try {
    codec = encryptionCodecFromEnv(env);
  } catch (error) {
    io.stderr(`error: ${oneLine(errorMessage(error))}\n`);
    return ExitCode.Failure;
  }
  if (!codec) {
    io.stderr('error: ARKOR_PAYLOAD_KEY is not set: the codec server needs the key(s) the workers encrypt with\n');
    return ExitCode.Failure;
  }
  const authorization = env[CODEC_ENV.auth]?.trim() || undefined;
  let server: StartedCodecServer;
  try {
    server = await startCodecServer({
      codec,
      origins,
      ...(authorization ? { authorization } : {}),
      log: (line) => io.stderr(`codec-server: ${line}\n`),
      host: command.host ?? DEFAULT_CODEC_HOST,
      port: command.port ?? DEFAULT_CODEC_PORT,
    });
  } catch (error) {
    io.stderr(`error: cannot start the codec server: ${oneLine(errorMessage(error))}\n`);
    return ExitCode.Failure;
  }
  io.stdout(
    `${server.url}\n` +
      `codec server: POST ${server.url}/decode and /encode; CORS for ${origins.join(', ')}; ` +
      `${authorization ? `Authorization required (${CODEC_ENV.auth})` : 'no Authorization required'}\n` +
      `  Web UI: set the Codec Server endpoint to ${server.url}; CLI: temporal … --codec-endpoint ${server.url}\n`,
  );
  await new Promise<void>((resolveStop) => {
    const stop = (): void => resolveStop();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  return ExitCode.Ok;
}
