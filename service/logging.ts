/**
 * Structured logs, shared by the worker and the command line (README "Logs"): ARKOR_LOG_FORMAT
 * (`text`, the default, or `json`: one JSON object a line) and ARKOR_LOG_LEVEL (`trace`, `debug`,
 * `info`, the default, `warn`, `error`).
 *
 * A JSON record carries `time`, `level`, `msg`, then what locates it — `component` (workflow,
 * activity, worker, core), `workflowId`, `runId`, `jobId`, `activity` — from the SDK's log
 * attributes, then the record's own fields. Values of fields named like a secret (`token`,
 * `secret`, `password`, `apiKey`, `authorization`, `plaintext`, `cookie`) are written as
 * `[redacted]`: secrets are kept out of logs where they are produced, and this is the net below.
 */
import { z } from 'zod';

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevelName = (typeof LOG_LEVELS)[number];
export type LogFormat = 'text' | 'json';

/** An empty variable means unset. */
const unsetIfEmpty = (value: unknown): unknown => (value === '' ? undefined : value);

/** The variables' schemas, for the worker's settings (worker/config.ts) and the command line. */
export const logEnvShape = {
  ARKOR_LOG_FORMAT: z.preprocess(unsetIfEmpty, z.enum(['text', 'json']).default('text')),
  ARKOR_LOG_LEVEL: z.preprocess(
    (value) => (typeof value === 'string' && value !== '' ? value.toUpperCase() : undefined),
    z.enum(LOG_LEVELS, { message: 'must be one of trace, debug, info, warn, error' }).default('INFO'),
  ),
};

export interface LogSettings {
  format: LogFormat;
  level: LogLevelName;
}

/** The log settings of `env`; throws naming each bad variable. */
export function logSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LogSettings {
  const parsed = z.object(logEnvShape).safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid log settings: ${problems.join('; ')}`);
  }
  return { format: parsed.data.ARKOR_LOG_FORMAT, level: parsed.data.ARKOR_LOG_LEVEL };
}

/** Whether a record at `level` passes the threshold `threshold`. */
export function levelEnabled(level: LogLevelName, threshold: LogLevelName): boolean {
  return LOG_LEVELS.indexOf(level) >= LOG_LEVELS.indexOf(threshold);
}

export interface LogRecord {
  time: Date;
  level: LogLevelName;
  message: string;
  meta?: Record<string, unknown> | undefined;
}

/** SDK attributes renamed in a record (an activity's `workflowRunId` is its run's `runId`). */
const RENAMED: Record<string, string> = {
  sdkComponent: 'component',
  workflowRunId: 'runId',
  activityType: 'activity',
};
/** SDK attributes left out: noise, or opaque to a reader. */
const DROPPED = new Set(['taskToken', 'isLocal']);
/** The fields that lead a record, in this order. */
const LEADING = ['component', 'workflowId', 'runId', 'jobId', 'activity'] as const;
const SECRET_NAMES = ['token', 'secret', 'password', 'apikey', 'authorization', 'plaintext', 'cookie'];
const MAX_DEPTH = 12;

/** One JSON line (without the newline) for a record. */
export function jsonLogLine(record: LogRecord): string {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(record.meta ?? {})) {
    if (DROPPED.has(key) || value === undefined) continue;
    fields[RENAMED[key] ?? key] = value;
  }
  const line: Record<string, unknown> = {
    time: record.time.toISOString(),
    level: record.level.toLowerCase(),
    msg: record.message,
  };
  for (const key of LEADING) if (key in fields) line[key] = fields[key];
  for (const [key, value] of Object.entries(fields)) if (!(key in line)) line[key] = value;
  return JSON.stringify(printable(line, true));
}

function isSecretName(key: string): boolean {
  const name = key.toLowerCase().replace(/[-_]/g, '');
  return SECRET_NAMES.some((secret) => name.endsWith(secret));
}

/**
 * A copy of `value` that is safe to print: fields named like a secret redacted, byte arrays as
 * their length (a key held as bytes), maps as objects, no cycles, bounded depth. With `json`,
 * errors become `{ type, message, stack, cause }` and non-finite numbers strings; without, errors
 * stay errors (a text logger prints them with their stack).
 */
export function printable(value: unknown, json = false): unknown {
  return walk(value, 0, new WeakSet(), json);
}

function walk(value: unknown, depth: number, seen: WeakSet<object>, json: boolean): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return json && !Number.isFinite(value) ? String(value) : value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function' || typeof value === 'symbol' || value === undefined) return undefined;
  if (value instanceof Uint8Array || value instanceof ArrayBuffer) return `[${value.byteLength} bytes]`;
  if (value instanceof Date) return json ? value.toISOString() : value;
  if (seen.has(value)) return '[circular]';
  if (depth >= MAX_DEPTH) return '[…]';
  seen.add(value);
  try {
    if (value instanceof Error) {
      if (!json) return value;
      return {
        type: value.name,
        message: value.message,
        ...(value.stack ? { stack: value.stack } : {}),
        ...(value.cause === undefined ? {} : { cause: walk(value.cause, depth + 1, seen, json) }),
      };
    }
    if (Array.isArray(value) || value instanceof Set) {
      return [...(value as Iterable<unknown>)].map((item) => walk(item, depth + 1, seen, json) ?? null);
    }
    const entries: Array<[string, unknown]> =
      value instanceof Map
        ? [...(value as Map<unknown, unknown>).entries()].map(([key, child]) => [String(key), child])
        : Object.entries(value);
    const copy: Record<string, unknown> = {};
    for (const [key, child] of entries) {
      if (isSecretName(key)) copy[key] = '[redacted]';
      else {
        const converted = walk(child, depth + 1, seen, json);
        if (converted !== undefined) copy[key] = converted;
      }
    }
    return copy;
  } finally {
    seen.delete(value);
  }
}
