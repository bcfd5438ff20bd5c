/**
 * The `schedule <sub>` and `list` command lines, from the flags `args.ts` already parsed: each
 * subcommand's own flags, its `<schedule-id>`, and the values (policies, durations, ISO times)
 * checked here so a bad one is a usage error (exit 2) before anything connects.
 */
import { OVERLAP_POLICIES, type OverlapPolicy, type ScheduleTiming } from '../service/schedules.js';
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

/** The flag values `args.ts` hands over (parseArgs output for the schedule and list flags). */
export interface ScheduleFlagValues {
  config?: string | undefined;
  cron?: string[] | undefined;
  every?: string | undefined;
  timezone?: string | undefined;
  overlap?: string | undefined;
  'catchup-window'?: string | undefined;
  'pause-on-failure'?: boolean | undefined;
  update?: boolean | undefined;
  note?: string | undefined;
  start?: string | undefined;
  end?: string | undefined;
  json?: boolean | undefined;
  phase?: string | undefined;
  model?: string | undefined;
  schedule?: string | undefined;
  limit?: string | undefined;
}
type FlagName = keyof ScheduleFlagValues;

export type ScheduleCommand =
  | {
      kind: 'schedule-create';
      scheduleId: string;
      configPath: string;
      timing: ScheduleTiming;
      overlap: OverlapPolicy;
      catchupWindow: string;
      pauseOnFailure: boolean;
      note?: string;
      /** `create --update`: update an existing schedule instead of failing. */
      upsert: boolean;
      json: boolean;
    }
  | {
      kind: 'schedule-update';
      scheduleId: string;
      configPath: string;
      timing: ScheduleTiming;
      overlap: OverlapPolicy;
      catchupWindow: string;
      pauseOnFailure: boolean;
      note?: string;
      json: boolean;
    }
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

const SPEC_FLAGS: readonly FlagName[] = [
  'config',
  'cron',
  'every',
  'timezone',
  'overlap',
  'catchup-window',
  'pause-on-failure',
  'note',
  'json',
];

/** The flags each schedule subcommand takes. */
export const SCHEDULE_FLAGS: Record<ScheduleSubcommand, readonly FlagName[]> = {
  create: [...SPEC_FLAGS, 'update'],
  update: SPEC_FLAGS,
  list: ['json'],
  describe: ['json'],
  pause: ['note'],
  unpause: ['note'],
  trigger: ['overlap'],
  backfill: ['start', 'end', 'overlap'],
  delete: [],
};

/** Every flag some schedule subcommand takes (what `args.ts` lets through for `schedule`). */
export const ALL_SCHEDULE_FLAGS: readonly FlagName[] = [...new Set(Object.values(SCHEDULE_FLAGS).flat())];

export const LIST_FLAGS: readonly FlagName[] = ['phase', 'model', 'schedule', 'limit', 'json'];

const DEFAULT_LIST_LIMIT = 20;

function isSubcommand(value: string): value is ScheduleSubcommand {
  return Object.hasOwn(SCHEDULE_FLAGS, value);
}

/** `schedule <sub> [<id>] [flags]`; `given` are the flags present on the command line. */
export function parseScheduleCommand(
  rest: readonly string[],
  values: ScheduleFlagValues,
  given: readonly string[],
): ScheduleCommand {
  const [sub, ...positionals] = rest;
  if (sub === undefined)
    throw new UsageError(`"schedule" requires a subcommand: ${Object.values(ScheduleSubcommand).join(', ')}`);
  if (!isSubcommand(sub)) throw new UsageError(`unknown schedule subcommand "${sub}"`);
  const allowed = new Set<string>(SCHEDULE_FLAGS[sub]);
  for (const flag of given) {
    if (!allowed.has(flag)) throw new UsageError(`"schedule ${sub}" does not take --${flag}`);
  }
  const json = values.json ?? false;
  if (sub === 'list') {
    if (positionals.length > 0)
      throw new UsageError(`"schedule list" takes no arguments (got "${positionals.join(' ')}")`);
    return { kind: 'schedule-list', json };
  }
  const [scheduleId, ...extra] = positionals;
  if (scheduleId === undefined || scheduleId.trim() === '')
    throw new UsageError(`"schedule ${sub}" requires a <schedule-id>`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra.join(' ')}"`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(scheduleId)) {
    throw new UsageError(`invalid schedule id "${scheduleId}" (letters, digits, ".", "_", "-")`);
  }
  const note = values.note?.trim();
  const overlap = values.overlap === undefined ? undefined : parseOverlap(values.overlap);

  switch (sub) {
    case 'create':
    case 'update': {
      const configPath = values.config;
      if (configPath === undefined || configPath === '')
        throw new UsageError(`"schedule ${sub}" requires --config <file>`);
      const common = {
        scheduleId,
        configPath,
        timing: parseTiming(sub, values),
        overlap: overlap ?? 'skip',
        catchupWindow: parseDuration('--catchup-window', values['catchup-window'] ?? '1h'),
        pauseOnFailure: values['pause-on-failure'] ?? false,
        ...(note ? { note } : {}),
        json,
      };
      return sub === 'create'
        ? { kind: 'schedule-create', ...common, upsert: values.update ?? false }
        : { kind: 'schedule-update', ...common };
    }
    case 'describe':
      return { kind: 'schedule-describe', scheduleId, json };
    case 'pause':
    case 'unpause':
      return { kind: `schedule-${sub}`, scheduleId, ...(note ? { note } : {}) };
    case 'trigger':
      return { kind: 'schedule-trigger', scheduleId, ...(overlap ? { overlap } : {}) };
    case 'backfill': {
      const start = parseTime('--start', values.start);
      const end = parseTime('--end', values.end);
      if (start.getTime() >= end.getTime()) throw new UsageError('--start must be before --end');
      return { kind: 'schedule-backfill', scheduleId, start, end, ...(overlap ? { overlap } : {}) };
    }
    case 'delete':
      return { kind: 'schedule-delete', scheduleId };
  }
}

/** `list [--phase p] [--model m] [--schedule id] [--limit n] [--json]`. */
export function parseListCommand(rest: readonly string[], values: ScheduleFlagValues): ListCommand {
  if (rest.length > 0) throw new UsageError(`"list" takes no arguments (got "${rest.join(' ')}")`);
  const filters: Pick<ListCommand, 'phase' | 'model' | 'schedule'> = {};
  for (const key of ['phase', 'model', 'schedule'] as const) {
    const value = values[key]?.trim();
    if (value === undefined) continue;
    if (value === '' || /['"\\]/.test(value))
      throw new UsageError(`--${key} must be a non-empty value without quotes or backslashes`);
    filters[key] = value;
  }
  let limit = DEFAULT_LIST_LIMIT;
  if (values.limit !== undefined) {
    if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1 || Number(values.limit) > 1000) {
      throw new UsageError(`--limit must be a whole number from 1 to 1000 (got "${values.limit}")`);
    }
    limit = Number(values.limit);
  }
  return { kind: 'list', ...filters, limit, json: values.json ?? false };
}

function parseTiming(sub: string, values: ScheduleFlagValues): ScheduleTiming {
  const cron = values.cron?.map((expression) => expression.trim());
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

function parseOverlap(value: string): OverlapPolicy {
  const policy = OVERLAP_POLICIES.find((candidate) => candidate === value);
  if (policy === undefined)
    throw new UsageError(`--overlap must be one of ${OVERLAP_POLICIES.join(', ')} (got "${value}")`);
  return policy;
}

function parseDuration(flag: string, value: string): string {
  if (durationTextMs(value) === undefined)
    throw new UsageError(`${flag} must be a duration such as ${DURATION_EXAMPLES} (got "${value}")`);
  return value;
}

function parseTime(flag: string, value: string | undefined): Date {
  if (value === undefined) throw new UsageError(`"schedule backfill" requires ${flag} <ISO time>`);
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
