/**
 * Cold start of the command line and of the package's entry points: each command run afresh,
 * `--runs` times (default 7), wall time (median and fastest) and peak RSS. Compares the compiled
 * `arkor-temporal` (dist/, built when missing), the same program through tsx (`npm run client`
 * without npm's own start-up), and the Temporal CLI; `status` asks a dev server about a workflow
 * id that does not exist (connect, one RPC, the error), so no worker is needed.
 *
 *   npm run bench:cold-start [-- --runs 7 --quick]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureTemporalCli } from '../scripts/temporal-cli.js';
import { startDevServer } from '../testing/index.js';
import { parseArgs } from './support/args.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = parseArgs();
const runs = args.quick ? 2 : args.number('runs', 7);

if (!existsSync(join(root, 'dist', 'cli', 'main.js'))) {
  console.log('building dist/ (npm run build)…');
  execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
}

interface Sample {
  ms: number;
  rssKiB: number;
}

/** One run of `command`, timed by GNU time's peak RSS and our own wall clock. */
function once(command: string, commandArgs: string[]): Sample {
  const started = performance.now();
  const result = spawnSync('/usr/bin/time', ['-f', '%M', command, ...commandArgs], { cwd: root, encoding: 'utf8' });
  const ms = performance.now() - started;
  const rssKiB = Number(result.stderr.trim().split('\n').at(-1));
  return { ms, rssKiB: Number.isFinite(rssKiB) ? rssKiB : Number.NaN };
}

function measure(command: string, commandArgs: string[]): { medianMs: number; minMs: number; rssMiB: number } {
  once(command, commandArgs); // warms the file cache
  const samples = Array.from({ length: runs }, () => once(command, commandArgs)).sort((a, b) => a.ms - b.ms);
  const median = samples[Math.floor(samples.length / 2)] ?? { ms: Number.NaN, rssKiB: Number.NaN };
  return {
    medianMs: Math.round(median.ms),
    minMs: Math.round(samples[0]?.ms ?? Number.NaN),
    rssMiB: Math.round(Math.max(...samples.map((sample) => sample.rssKiB)) / 1024),
  };
}

const server = await startDevServer();
try {
  const node = process.execPath;
  const tsx = join(root, 'node_modules', '.bin', 'tsx');
  const temporal = await ensureTemporalCli();
  const at = ['--address', server.address];
  const importEntry = (entry: string): string[] => [
    '--input-type=module',
    '-e',
    `await import(${JSON.stringify(entry)})`,
  ];
  const rows: Array<[string, ReturnType<typeof measure>]> = [
    ['arkor-temporal --version (compiled)', measure(node, [join(root, 'dist/cli/main.js'), '--version'])],
    [
      'arkor-temporal status <id> (compiled)',
      measure(node, [join(root, 'dist/cli/main.js'), 'status', 'absent', ...at]),
    ],
    ['status <id> through tsx (npm run client)', measure(tsx, [join(root, 'client.ts'), 'status', 'absent', ...at])],
    ['temporal workflow describe -w <id>', measure(temporal, ['workflow', 'describe', '-w', 'absent', ...at])],
    ['import arkor-temporal (service entry)', measure(node, importEntry(join(root, 'dist/service/index.js')))],
    ['import @temporalio/client alone', measure(node, importEntry('@temporalio/client'))],
    ['import arkor-temporal/worker', measure(node, importEntry(join(root, 'dist/worker/index.js')))],
  ];
  console.log(`\ncold start, ${runs} runs each (median / fastest wall time, peak RSS)\n`);
  console.log('| command | median | fastest | RSS |\n| --- | --- | --- | --- |');
  for (const [name, row] of rows) console.log(`| ${name} | ${row.medianMs} ms | ${row.minMs} ms | ${row.rssMiB} MiB |`);
} finally {
  await server.close();
}
