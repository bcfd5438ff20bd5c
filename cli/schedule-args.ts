/**
 * The `schedule <sub>` and `list` commands, from the values commander parsed: the command objects
 * and the checks commander cannot express (exactly one of `--cron`/`--every`, cron fields, time
 * zones, durations, ISO times, `--start` before `--end`), so a bad value is a usage error (exit 2)
 * before anything connects.
 */
import type { OverlapPolicy, ScheduleTiming } from '../service/schedules.js';
import { DURATION_EXAMPLES, durationTextMs } from '../contract/duration.js';
import { UsageError } from './errors.js';

export const ScheduleSubcommand = {
  Create: 'create',
  Update: 'update',
  List: 'list',
  Describe: 'describe',
  Pause: 'pause',
  Unpause: 'unpause',
  Trigger: 'trigger',
  Backfill: 'backfill',
  Delete: 'delete',
} as const;
export type ScheduleSubcommand = (typeof ScheduleSubcommand)[keyof typeof ScheduleSubcommand];

/** The flag values of `schedule create` / `schedule update`, as commander parsed them. */
export interface ScheduleSpecValues {
  config: string;
  cron?: string[] | undefined;
  every?: string | undefined;
  timezone?: string | undefined;
  overlap?: OverlapPolicy | undefined;
  catchupWindow?: string | undefined;
  pauseOnFailure?: boolean | undefined;
  note?: string | undefined;
  update?: boolean | undefined;
}

interface ScheduleSpecCommand {
  scheduleId: string;
  configPath: string;
  timing: ScheduleTiming;
  overlap: OverlapPolicy;
  catchupWindow: string;
  pauseOnFailure: boolean;
  note?: string;
  json: boolean;
}

export type ScheduleCommand =
  | (ScheduleSpecCommand & {
      kind: 'schedule-create';
      /** `create --update`: update an existing schedule instead of failing. */
      upsert: boolean;
    })
  | (ScheduleSpecCommand & { kind: 'schedule-update' })
  | { kind: 'schedule-list'; json: boolean }
  | { kind: 'schedule-describe'; scheduleId: string; json: boolean }
  | { kind: 'schedule-pause' | 'schedule-unpause'; scheduleId: string; note?: string }
  | { kind: 'schedule-trigger'; scheduleId: string; overlap?: OverlapPolicy }
  | { kind: 'schedule-backfill'; scheduleId: string; start: Date; end: Date; overlap?: OverlapPolicy }
  | { kind: 'schedule-delete'; scheduleId: string };

export interface ListCommand {
  kind: 'list';
  phase?: string;
  model?: string;
  schedule?: string;
  limit: number;
  json: boolean;
}

export const DEFAULT_LIST_LIMIT = 20;

/** A schedule id: letters, digits, `.`, `_`, `-` (commander argument parser). */
export function parseScheduleId(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(value)) {
    throw new UsageError(`invalid schedule id "${value}" (letters, digits, ".", "_", "-")`);
  }
  return value;
}

/** `schedule create|update <id> --config <file> (--cron ... | --every ...) [policies]`. */
export function scheduleSpecCommand(
  sub: 'create' | 'update',
  scheduleId: string,
  values: ScheduleSpecValues,
  json: boolean,
): ScheduleCommand {
  const note = values.note?.trim();
  const common: ScheduleSpecCommand = {
    scheduleId,
    configPath: values.config,
    timing: parseTiming(sub, values),
    overlap: values.overlap ?? 'skip',
    catchupWindow: parseDuration('--catchup-window', values.catchupWindow ?? '1h'),
    pauseOnFailure: values.pauseOnFailure ?? false,
    ...(note ? { note } : {}),
    json,
  };
  return sub === 'create'
    ? { kind: 'schedule-create', ...common, upsert: values.update ?? false }
    : { kind: 'schedule-update', ...common };
}

/** `schedule backfill <id> --start <ISO> --end <ISO>`. */
export function backfillWindow(startText: string, endText: string): { start: Date; end: Date } {
  const start = parseTime('--start', startText);
  const end = parseTime('--end', endText);
  if (start.getTime() >= end.getTime()) throw new UsageError('--start must be before --end');
  return { start, end };
}

/** A `list` filter value: non-empty, no quotes or backslashes (it goes into a visibility query). */
export function parseListFilter(flag: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed === '' || /['"\\]/.test(trimmed))
    throw new UsageError(`--${flag} must be a non-empty value without quotes or backslashes`);
  return trimmed;
}

/** `--limit`: a whole number from 1 to 1000. */
export function parseListLimit(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 1000) {
    throw new UsageError(`--limit must be a whole number from 1 to 1000 (got "${value}")`);
  }
  return Number(value);
}

function parseTiming(sub: string, values: ScheduleSpecValues): ScheduleTiming {
  const cron = values.cron?.length ? values.cron.map((expression) => expression.trim()) : undefined;
  const every = values.every;
  if ((cron === undefined) === (every === undefined))
    throw new UsageError(`"schedule ${sub}" requires exactly one of --cron "<expr>" or --every <duration>`);
  if (cron?.some((expression) => expression === '')) throw new UsageError('--cron must not be empty');
  if (cron?.some((expression) => expression.split(/\s+/).length < 5 && !expression.startsWith('@'))) {
    throw new UsageError(
      '--cron needs 5 fields ("minute hour day-of-month month day-of-week") or an @-shorthand such as @daily',
    );
  }
  const timezone = values.timezone?.trim();
  if (timezone !== undefined && !isTimeZone(timezone))
    throw new UsageError(`--timezone "${values.timezone}" is not an IANA time zone (e.g. Europe/Berlin)`);
  return {
    ...(cron ? { cron } : {}),
    ...(every !== undefined ? { every: parseDuration('--every', every) } : {}),
    ...(timezone ? { timezone } : {}),
  };
}

/** A duration flag (`30m`, `1h`, `1 day`); returned as written. */
export function parseDuration(flag: string, value: string): string {
  if (durationTextMs(value) === undefined)
    throw new UsageError(`${flag} must be a duration such as ${DURATION_EXAMPLES} (got "${value}")`);
  return value;
}

function parseTime(flag: string, value: string): Date {
  // Date.parse accepts many shapes; demand an ISO date so "yesterday" is not read as something.
  const date = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)
    ? new Date(value)
    : new Date(Number.NaN);
  if (Number.isNaN(date.getTime()))
    throw new UsageError(`${flag} must be an ISO time such as 2025-06-01T02:00:00Z (got "${value}")`);
  return date;
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
