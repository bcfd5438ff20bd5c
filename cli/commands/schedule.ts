/** `schedule <sub>`: create, update, inspect and operate retraining schedules. */
import {
  ScheduleAlreadyExistsError,
  type ScheduleInfo,
  type ScheduleListEntry,
  type ScheduledAction,
} from '../../service/schedules.js';
import type { TrainingRunInput } from '../../contract/input.js';
import type { ScheduleCommand } from '../schedule-args.js';
import type { CommandContext, ScheduleOps } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { formatDuration } from '../format.js';

/** `input` is the validated config of `create`/`update` (loaded before connecting), else undefined. */
export async function runSchedule(
  ctx: CommandContext,
  command: ScheduleCommand,
  input: TrainingRunInput | undefined,
): Promise<ExitCode> {
  const { io } = ctx;
  const schedules = requireSchedules(ctx);
  switch (command.kind) {
    case 'schedule-create':
    case 'schedule-update': {
      if (input === undefined) throw new Error('config not loaded');
      const options = {
        overlap: command.overlap,
        catchupWindow: command.catchupWindow,
        pauseOnFailure: command.pauseOnFailure,
        ...(command.note ? { note: command.note } : {}),
      };
      let updated = command.kind === 'schedule-update';
      if (updated) {
        await schedules.update(command.scheduleId, input, command.timing, options);
      } else {
        try {
          await schedules.create(command.scheduleId, input, command.timing, options);
        } catch (error) {
          // Only `--update` turns an existing id into an update; otherwise it is an error.
          if (!(error instanceof ScheduleAlreadyExistsError) || !(command.kind === 'schedule-create' && command.upsert))
            throw error;
          await schedules.update(command.scheduleId, input, command.timing, options);
          updated = true;
        }
      }
      io.stdout(
        command.json
          ? `${JSON.stringify({ scheduleId: command.scheduleId, updated })}\n`
          : `${updated ? 'updated' : 'created'} schedule ${command.scheduleId}\n`,
      );
      return ExitCode.Ok;
    }
    case 'schedule-list': {
      const entries = await schedules.list();
      io.stdout(command.json ? `${JSON.stringify(entries)}\n` : formatScheduleList(entries));
      return ExitCode.Ok;
    }
    case 'schedule-describe': {
      const info = await schedules.describe(command.scheduleId);
      io.stdout(command.json ? `${JSON.stringify(info)}\n` : formatScheduleInfo(info));
      return ExitCode.Ok;
    }
    case 'schedule-pause':
      await schedules.pause(command.scheduleId, command.note);
      io.stdout(`paused schedule ${command.scheduleId}\n`);
      return ExitCode.Ok;
    case 'schedule-unpause':
      await schedules.unpause(command.scheduleId, command.note);
      io.stdout(`unpaused schedule ${command.scheduleId}\n`);
      return ExitCode.Ok;
    case 'schedule-trigger':
      await schedules.trigger(command.scheduleId, command.overlap);
      io.stdout(`triggered schedule ${command.scheduleId} (the overlap policy decides whether a run starts)\n`);
      return ExitCode.Ok;
    case 'schedule-backfill':
      await schedules.backfill(command.scheduleId, {
        start: command.start,
        end: command.end,
        ...(command.overlap ? { overlap: command.overlap } : {}),
      });
      io.stdout(
        `backfill requested for schedule ${command.scheduleId}: ${command.start.toISOString()} to ${command.end.toISOString()}\n`,
      );
      return ExitCode.Ok;
    case 'schedule-delete':
      await schedules.delete(command.scheduleId);
      io.stdout(`deleted schedule ${command.scheduleId} (runs it started go on)\n`);
      return ExitCode.Ok;
  }
}

function requireSchedules(ctx: CommandContext): ScheduleOps {
  if (!ctx.schedules) throw new Error('schedules are not available with this connection');
  return ctx.schedules;
}

/** One line per schedule: id, state, next due time, latest run. */
export function formatScheduleList(entries: readonly ScheduleListEntry[]): string {
  if (entries.length === 0) return 'no schedules\n';
  const rows = entries.map((entry) => [
    entry.scheduleId,
    entry.paused ? 'paused' : 'active',
    entry.nextActionTimes[0]?.toISOString() ?? '–',
    entry.recentActions.at(-1)?.workflowId ?? '–',
  ]);
  return table(['SCHEDULE', 'STATE', 'NEXT RUN', 'LATEST RUN'], rows);
}

/** The `describe` view, one `key value` row per line like `status`. */
export function formatScheduleInfo(info: ScheduleInfo): string {
  const rows: Array<[string, string]> = [
    ['schedule', info.scheduleId],
    ['state', info.paused ? 'paused' : 'active'],
  ];
  if (info.note) rows.push(['note', info.note]);
  rows.push(['spec', describeTiming(info)]);
  rows.push(['overlap', info.overlap ?? 'skip']);
  rows.push(['catch-up window', formatDuration(info.catchupWindowMs / 1000)]);
  rows.push(['pause on failure', info.pauseOnFailure ? 'yes' : 'no']);
  if (info.input) rows.push(['run', `${info.input.trainer.name} (${info.input.trainer.model})`]);
  if (info.taskQueue) rows.push(['task queue', info.taskQueue]);
  rows.push([
    'actions',
    `${info.numActionsTaken} taken, ${info.numActionsSkippedOverlap} skipped (overlap), ${info.numActionsMissedCatchupWindow} missed (catch-up window)`,
  ]);
  rows.push(['running', info.runningActions.map((action) => action.workflowId).join(', ') || '–']);
  rows.push(['recent', info.recentActions.map(describeAction).join(', ') || '–']);
  rows.push([
    'next',
    info.nextActionTimes
      .slice(0, 3)
      .map((time) => time.toISOString())
      .join(', ') || '–',
  ]);
  rows.push(['created', info.createdAt.toISOString()]);
  if (info.lastUpdatedAt) rows.push(['updated', info.lastUpdatedAt.toISOString()]);
  const width = Math.max(...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${key.padEnd(width)}  ${value}\n`).join('');
}

function describeTiming(info: ScheduleInfo): string {
  const zone = info.timing?.timezone ?? info.timezone;
  const suffix = zone ? ` (${zone})` : '';
  if (info.timing?.cron) return `cron ${info.timing.cron.map((expression) => `"${expression}"`).join(', ')}${suffix}`;
  if (info.timing?.every) return `every ${info.timing.every}`;
  if (info.intervalsMs.length > 0) return `every ${info.intervalsMs.map((ms) => formatDuration(ms / 1000)).join(', ')}`;
  return `calendar${suffix}`;
}

function describeAction(action: ScheduledAction): string {
  return action.scheduledAt ? `${action.workflowId} (due ${action.scheduledAt.toISOString()})` : action.workflowId;
}

/** A left-aligned table with a header row. */
export function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `${cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join('  ')
      .trimEnd()}\n`;
  return [line(header), ...rows.map(line)].join('');
}
