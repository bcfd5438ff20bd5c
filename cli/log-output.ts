/**
 * The command line's diagnostics under ARKOR_LOG_FORMAT and ARKOR_LOG_LEVEL (README "Logs"):
 * what a command writes to stderr — `error: …`, `warning: …`, progress when stdout is JSON — is
 * left as it is by default; with `json` each message — a line and the indented lines under it —
 * becomes a JSON record (`error:` at level error, `warning:` at warn, the rest at info) and
 * progress is never redrawn in place. The level drops messages below it (as text too: with
 * `error`, only `error:` messages remain). What a command prints on stdout, its result, is never
 * touched.
 */
import {
  jsonLogLine,
  levelEnabled,
  logSettingsFromEnv,
  type LogLevelName,
  type LogSettings,
} from '../service/logging.js';
import type { CliIo } from './context.js';

/** `io` with its stderr written as `env`'s log settings say. */
export function withLogSettings(io: CliIo, env: NodeJS.ProcessEnv = process.env): CliIo {
  let settings: LogSettings;
  try {
    settings = logSettingsFromEnv(env);
  } catch (error) {
    io.stderr(`warning: ${(error as Error).message}; logging as text\n`);
    return io;
  }
  if (settings.format === 'text' && settings.level !== 'ERROR') return io;
  let pending = '';
  /** The record being gathered: a line and the indented lines that continue it (`  - field: …`). */
  let record: string[] = [];
  const flush = (): void => {
    const [first, ...rest] = record;
    record = [];
    if (first === undefined) return;
    const { level, message } = levelOf(first);
    if (!levelEnabled(level, settings.level)) return;
    if (settings.format === 'text') io.stderr([first, ...rest].map((line) => `${line}\n`).join(''));
    else {
      const text = [message, ...rest].join('\n');
      io.stderr(`${jsonLogLine({ time: new Date(), level, message: text, meta: { component: 'cli' } })}\n`);
    }
  };
  return {
    ...io,
    ...(settings.format === 'json' ? { stderrIsTty: false } : {}),
    stderr: (text) => {
      pending += text;
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
        const line = pending.slice(0, newline).replace(/\r/g, '');
        pending = pending.slice(newline + 1);
        if (line.trim() === '') continue;
        if (!/^\s/.test(line)) flush();
        record.push(line);
      }
      // A command writes a message in one piece: what it wrote is a whole record.
      if (pending === '') flush();
    },
  };
}

function levelOf(line: string): { level: LogLevelName; message: string } {
  const match = /^(error|warning): /.exec(line);
  if (!match) return { level: 'INFO', message: line };
  return { level: match[1] === 'error' ? 'ERROR' : 'WARN', message: line.slice(match[0].length) };
}
