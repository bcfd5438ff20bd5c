/**
 * The arkor-temporal command-line client: `start`, `status`, `watch`, `stop`, `cancel`.
 * See docs/cli.md; the commands live in cli/.
 */
import { runCli } from './cli/main.js';

process.exitCode = await runCli(process.argv.slice(2), {
  io: {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stdoutIsTty: process.stdout.isTTY === true,
    stderrIsTty: process.stderr.isTTY === true,
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
  },
});
