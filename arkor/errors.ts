import { ARKOR_CLIENT_HEADER } from './version.js';

/** Longest raw (non-JSON) error body copied into an error message. */
const MAX_RAW_MESSAGE_CHARS = 500;

/**
 * A non-2xx answer of the Arkor cloud-api (or of a deployment edge).
 *
 * `message` follows docs/arkor-protocol.md §10.1: the body's `error` field, else the raw body text (first 500
 * characters), else `cloud-api <status>`. A 426 always carries an upgrade hint (§10.2).
 */
export class CloudApiError extends Error {
  override readonly name = 'CloudApiError';
  /** HTTP status of the response. */
  readonly status: number;
  /** The parsed JSON body, or the raw text when it was not JSON; absent when the body was empty. */
  readonly body?: unknown;
  /** `Retry-After` of the response in milliseconds (delta-seconds or HTTP-date), when present. */
  readonly retryAfterMs?: number;

  constructor(status: number, message: string, options: { body?: unknown; retryAfterMs?: number } = {}) {
    super(message);
    this.status = status;
    if (options.body !== undefined) this.body = options.body;
    if (options.retryAfterMs !== undefined) this.retryAfterMs = options.retryAfterMs;
  }
}

/** Missing or unusable Arkor configuration (credentials, scope, URLs). The message says what to set. */
export class ArkorConfigError extends Error {
  override readonly name = 'ArkorConfigError';
}

/**
 * A successful (2xx) response whose body is not what the protocol promises (not JSON, or a
 * required field missing). Deliberately not a {@link CloudApiError}: retrying will not help.
 */
export class ArkorResponseError extends Error {
  override readonly name = 'ArkorResponseError';
}

/**
 * The job event stream failed more consecutive times than `maxAttempts` allows (docs/arkor-protocol.md §6.3).
 * `cause` is the last failure.
 */
export class StreamGaveUpError extends Error {
  override readonly name = 'StreamGaveUpError';
  /** Number of consecutive failures, including the last one. */
  readonly failures: number;

  constructor(failures: number, cause: unknown) {
    super(`Trainer SSE stream failed ${failures} consecutive times; giving up.`, { cause });
    this.failures = failures;
  }
}

/**
 * The job's stream answered 404 `notFoundOpens` times in a row after it had already delivered
 * events: the job existed and is gone (deleted), which no reconnect will change. `cause` is the
 * last 404.
 */
export class JobGoneError extends Error {
  override readonly name = 'JobGoneError';

  constructor(
    readonly jobId: string,
    readonly notFoundOpens: number,
    cause: unknown,
  ) {
    super(
      `Job ${jobId} no longer exists: its event stream answered 404 ${notFoundOpens} times in a row after delivering events`,
      { cause },
    );
  }
}

/** The event stream delivered no bytes (nor response headers) for `idleTimeoutMs`. Transient. */
export class StreamIdleTimeoutError extends Error {
  override readonly name = 'StreamIdleTimeoutError';
  readonly idleTimeoutMs: number;

  constructor(idleTimeoutMs: number) {
    super(`SSE stream delivered no bytes for ${idleTimeoutMs} ms; reconnecting`);
    this.idleTimeoutMs = idleTimeoutMs;
  }
}

/** The event stream ended cleanly without any progress frame (docs/arkor-protocol.md §6.1 step 4). Transient. */
export class StreamClosedError extends Error {
  override readonly name = 'StreamClosedError';

  constructor() {
    super('SSE stream closed without emitting any frame');
  }
}

/**
 * Statuses that end a job event stream at once instead of reconnecting (docs/arkor-protocol.md §6.2):
 * 401/403 (auth), 410 (stream gone), 426 (client upgrade required).
 */
export function isPermanentStreamStatus(status: number): boolean {
  return status === 401 || status === 403 || status === 410 || status === 426;
}

/**
 * Whether a non-stream request that failed with `status` may succeed when retried:
 * 408, 425, 429 and every 5xx are transient; every other status (notably all other 4xx) is
 * permanent. The SDK itself never retries these routes; this is for our activities' retry policy.
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * Parses a `Retry-After` header (delta-seconds or HTTP-date) into milliseconds from `now`.
 * Returns undefined when absent or unparseable; a date in the past yields 0.
 */
export function parseRetryAfterMs(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

function recordOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The `error` field of a JSON error body: a string, or an OpenAI-style `{ message }` object. */
function errorFieldOf(body: unknown): string | undefined {
  const error = recordOf(body)?.error;
  if (typeof error === 'string' && error !== '') return error;
  const message = recordOf(error)?.message;
  return typeof message === 'string' && message !== '' ? message : undefined;
}

/** The upgrade hint of a 426 (docs/arkor-protocol.md §10.2), from the version gate's body when it has one. */
export function upgradeMessage(body: unknown): string {
  const record = recordOf(body);
  const upgrade =
    typeof record?.upgrade === 'string' && record.upgrade !== '' ? record.upgrade : 'npm install -g arkor@latest';
  const ours =
    `This client identifies itself as "X-Arkor-Client: ${ARKOR_CLIENT_HEADER}" (arkor/version.ts); ` +
    'move it to a supported SDK version after checking the protocol for changes.';
  if (record?.reason === 'missing' || record?.reason === 'malformed') {
    return `Arkor cloud-api rejected the request (426 Upgrade Required): the X-Arkor-Client header was ${record.reason}. ${ours}`;
  }
  const current = typeof record?.currentVersion === 'string' ? record.currentVersion : undefined;
  const range = typeof record?.supportedRange === 'string' ? record.supportedRange : undefined;
  if (current !== undefined || range !== undefined) {
    return (
      `Arkor SDK ${current ?? 'version'} is no longer supported by the cloud-api` +
      `${range !== undefined ? ` (supported: ${range})` : ''}; upgrade with \`${upgrade}\`. ${ours}`
    );
  }
  return `Arkor SDK is no longer supported by the cloud-api (426 Upgrade Required); upgrade with \`${upgrade}\`. ${ours}`;
}

/**
 * Builds a {@link CloudApiError} from a status, the raw body text and the response headers.
 * `redact` (e.g. removing the bearer token) is applied to the message.
 */
export function cloudApiErrorFromBody(
  status: number,
  text: string,
  headers: Headers | undefined,
  redact: (message: string) => string = (message) => message,
): CloudApiError {
  let body: unknown;
  if (text !== '') {
    try {
      body = JSON.parse(text) as unknown;
    } catch {
      body = text;
    }
  }
  let message: string;
  if (status === 426) message = upgradeMessage(body);
  else {
    const trimmed = text.trim();
    message = errorFieldOf(body) ?? (trimmed !== '' ? trimmed.slice(0, MAX_RAW_MESSAGE_CHARS) : `cloud-api ${status}`);
  }
  const retryAfterMs = parseRetryAfterMs(headers?.get('retry-after') ?? null);
  return new CloudApiError(status, redact(message), {
    ...(body !== undefined ? { body } : {}),
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/** Reads a non-2xx response's body (never throws on a broken body) and builds the error. */
export async function cloudApiErrorFromResponse(
  response: Response,
  redact?: (message: string) => string,
): Promise<CloudApiError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // A body that cannot be read still yields an error with the status.
  }
  return cloudApiErrorFromBody(response.status, text, response.headers, redact);
}
