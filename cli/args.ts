/**
 * Turns argv into a typed command with `node:util` `parseArgs`, rejecting unknown commands,
 * unknown flags, flags another command owns, missing and extra arguments.
 */
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import {
  ALL_SCHEDULE_FLAGS,
  LIST_FLAGS,
  parseListCommand,
  parseScheduleCommand,
  type ListCommand,
  type ScheduleCommand,
} from './schedule-args.js';
import { errorMessage } from '../contract/errors.js';

export const CommandName = {
  Start: 'start',
  Status: 'status',
  Watch: 'watch',
  Stop: 'stop',
  Cancel: 'cancel',
  Approve: 'approve',
  Reject: 'reject',
  Schedule: 'schedule',
  List: 'list',
} as const;
export type CommandName = (typeof CommandName)[keyof typeof CommandName];

export type Command =
  | { kind: 'help' }
  | { kind: 'start'; configPath: string; workflowId?: string; watch: boolean; wait: boolean; json: boolean }
  | { kind: 'status'; workflowId: string; json: boolean }
  | { kind: 'watch'; workflowId: string }
  | { kind: 'stop'; workflowId: string; reason: string }
  | { kind: 'cancel'; workflowId: string }
  | { kind: 'approve'; workflowId: string; by?: string; reason?: string }
  | { kind: 'reject'; workflowId: string; by?: string; reason: string }
  | ScheduleCommand
  | ListCommand;

/** The parsed command line. */
export interface CliArgs {
  command: Command;
  /** `--task-queue`; undefined when not given (the environment or the default applies). */
  taskQueue?: string;
}

const options = {
  help: { type: 'boolean', short: 'h' },
  'task-queue': { type: 'string' },
  config: { type: 'string' },
  'workflow-id': { type: 'string' },
  watch: { type: 'boolean' },
  wait: { type: 'boolean' },
  json: { type: 'boolean' },
  reason: { type: 'string' },
  by: { type: 'string' },
  cron: { type: 'string', multiple: true },
  every: { type: 'string' },
  timezone: { type: 'string' },
  overlap: { type: 'string' },
  'catchup-window': { type: 'string' },
  'pause-on-failure': { type: 'boolean' },
  update: { type: 'boolean' },
  note: { type: 'string' },
  start: { type: 'string' },
  end: { type: 'string' },
  phase: { type: 'string' },
  model: { type: 'string' },
  schedule: { type: 'string' },
  limit: { type: 'string' },
} as const;
type OptionName = keyof typeof options;

const GLOBAL_OPTIONS: readonly OptionName[] = ['help', 'task-queue'];

/** The flags each command accepts besides the global ones. */
const COMMAND_OPTIONS: Record<CommandName, readonly OptionName[]> = {
  start: ['config', 'workflow-id', 'watch', 'wait', 'json'],
  status: ['json'],
  watch: [],
  stop: ['reason'],
  cancel: [],
  approve: ['by', 'reason'],
  reject: ['by', 'reason'],
  // Each subcommand's own flags are checked in schedule-args.ts.
  schedule: ALL_SCHEDULE_FLAGS,
  list: LIST_FLAGS,
};

function isCommandName(value: string): value is CommandName {
  return Object.hasOwn(COMMAND_OPTIONS, value);
}

/** Parses `argv` (without the node and script paths). Throws `UsageError`. */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true });
  } catch (error) {
    // parseArgs reports unknown flags and missing values as TypeErrors with readable messages.
    throw new UsageError(errorMessage(error));
  }
  const { values, positionals } = parsed;
  const taskQueue = values['task-queue'];
  if (taskQueue !== undefined && taskQueue.trim() === '') throw new UsageError('--task-queue must not be empty');
  const global = taskQueue === undefined ? {} : { taskQueue };

  const [name, ...rest] = positionals;
  if (values.help || name === undefined || name === 'help') return { command: { kind: 'help' }, ...global };
  if (!isCommandName(name)) throw new UsageError(`unknown command "${name}"`);

  const allowed = new Set<OptionName>([...GLOBAL_OPTIONS, ...COMMAND_OPTIONS[name]]);
  for (const key of Object.keys(values) as OptionName[]) {
    if (!allowed.has(key)) throw new UsageError(`"${name}" does not take --${key}`);
  }

  if (name === 'schedule') {
    const given = Object.keys(values).filter((key) => !(GLOBAL_OPTIONS as readonly string[]).includes(key));
    return { command: parseScheduleCommand(rest, values, given), ...global };
  }
  if (name === 'list') return { command: parseListCommand(rest, values), ...global };

  if (name === 'start') {
    if (rest.length > 0)
      throw new UsageError(`"start" takes no arguments (got "${rest.join(' ')}"); use --config <file>`);
    const configPath = values.config;
    if (configPath === undefined || configPath === '') throw new UsageError('"start" requires --config <file>');
    const workflowId = values['workflow-id'];
    if (workflowId !== undefined && workflowId.trim() === '') throw new UsageError('--workflow-id must not be empty');
    return {
      command: {
        kind: 'start',
        configPath,
        ...(workflowId === undefined ? {} : { workflowId }),
        watch: values.watch ?? false,
        wait: values.wait ?? false,
        json: values.json ?? false,
      },
      ...global,
    };
  }

  const [workflowId, ...extra] = rest;
  if (workflowId === undefined || workflowId.trim() === '') throw new UsageError(`"${name}" requires a <workflow-id>`);
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra.join(' ')}"`);
  switch (name) {
    case 'status':
      return { command: { kind: 'status', workflowId, json: values.json ?? false }, ...global };
    case 'watch':
      return { command: { kind: 'watch', workflowId }, ...global };
    case 'cancel':
      return { command: { kind: 'cancel', workflowId }, ...global };
    case 'approve': {
      const by = values.by?.trim();
      const reason = values.reason?.trim();
      return {
        command: { kind: 'approve', workflowId, ...(by ? { by } : {}), ...(reason ? { reason } : {}) },
        ...global,
      };
    }
    case 'reject': {
      const by = values.by?.trim();
      const reason = values.reason?.trim();
      if (!reason) throw new UsageError('"reject" requires --reason <text>');
      return { command: { kind: 'reject', workflowId, ...(by ? { by } : {}), reason }, ...global };
    }
    case 'stop': {
      const reason = values.reason?.trim();
      if (!reason) throw new UsageError('"stop" requires --reason <text>');
      return { command: { kind: 'stop', workflowId, reason }, ...global };
    }
  }
}
