#!/usr/bin/env node
/**
 * The `arkor-temporal` command (the package's `bin`, and `npm run client` in the repository):
 * wires the process's streams to the CLI. See docs/cli.md; the commands live in cli/.
 */
import { runCli } from './main.js';

process.exitCode = await runCli(process.argv.slice(2), {
  io: {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    stdoutIsTty: process.stdout.isTTY === true,
    stderrIsTty: process.stderr.isTTY === true,
    ...(process.stdout.columns ? { columns: process.stdout.columns } : {}),
  },
});
