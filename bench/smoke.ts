/**
 * Smoke: every benchmark at its smallest size, one after the other, each in its own process (a
 * script owns its dev server and emulator). Asserts nothing about speed, only that each script
 * ran to its end and exited 0, so that CI notices a benchmark that no longer runs.
 */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const tsx = resolve(root, 'node_modules/.bin/tsx');

/** Each script with the smallest flags that still go through all of its phases. */
const scripts: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['latency', ['--quick', '--runs', '1', '--steps', '100', '--floor', '10']],
  ['throughput', ['--seconds', '1', '--rates', '500', '--concurrent', '2', '--concurrent-rates', '100']],
  ['history', ['--steps', '1000', '--save-steps', '100', '--slow-steps', '20']],
  ['recovery', ['--kills', '1', '--steps', '600']],
  ['concurrency', ['--n', '3', '--steps', '20']],
  ['cold-start', ['--quick']],
];

/** One script's failure: its name, its exit, and the tail of its output. */
export class BenchSmokeError extends Error {
  override readonly name = 'BenchSmokeError';
}

function run(script: string, flags: readonly string[]): Promise<{ code: number | null; output: string; ms: number }> {
  const startedAt = Date.now();
  return new Promise((resolveRun, reject) => {
    const child = spawn(tsx, [resolve(root, 'bench', `${script}.ts`), ...flags], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code, output, ms: Date.now() - startedAt }));
  });
}

const failures: string[] = [];
for (const [script, flags] of scripts) {
  const { code, output, ms } = await run(script, flags);
  console.log(`bench:smoke ${script} ${flags.join(' ')}: exit ${code} in ${(ms / 1000).toFixed(1)} s`);
  if (code !== 0) {
    failures.push(script);
    console.error(output);
  }
}
if (failures.length > 0) throw new BenchSmokeError(`benchmarks that did not finish: ${failures.join(', ')}`);
console.log('bench:smoke: every benchmark finished');
