/**
 * The command line's diagnostics under ARKOR_LOG_FORMAT and ARKOR_LOG_LEVEL (README "Logs"):
 * what a command writes to stderr — `error: …`, `warning: …`, progress when stdout is JSON — is
 * left as it is by default; with `json` each line becomes a JSON record (`error:` lines at
 * level error, `warning:` at warn, the rest at info) and progress is never redrawn in place.
 * The level drops records below it (as text: `warning:` lines under `error`). What a command
 * prints on stdout, its result, is never touched.
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
  const emit = (line: string): void => {
    const { level, message } = levelOf(line);
    if (!levelEnabled(level, settings.level)) return;
    if (settings.format === 'text') io.stderr(`${line}\n`);
    else io.stderr(`${jsonLogLine({ time: new Date(), level, message, meta: { component: 'cli' } })}\n`);
  };
  return {
    ...io,
    ...(settings.format === 'json' ? { stderrIsTty: false } : {}),
    stderr: (text) => {
      pending += text;
      for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
        const line = pending.slice(0, newline).replace(/\r/g, '');
        pending = pending.slice(newline + 1);
        if (line.trim() !== '') emit(line);
      }
    },
  };
}

function levelOf(line: string): { level: LogLevelName; message: string } {
  const match = /^(error|warning): /.exec(line);
  if (!match) return { level: 'INFO', message: line };
  return { level: match[1] === 'error' ? 'ERROR' : 'WARN', message: line.slice(match[0].length) };
}
