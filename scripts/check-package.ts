/**
 * `npm run check:package`: the package as a backend team gets it. Builds and packs the tarball,
 * checks what it holds (publint, arethetypeswrong, no tests, benchmarks or fixtures), installs
 * it into a fresh directory outside the repository, type-checks a consumer under strict settings
 * (`exactOptionalPropertyTypes`, a plain ES2022 lib), imports the service entry from plain
 * `node` (without loading the worker), and then, with `node_modules` read-only, runs
 * `npx arkor-temporal worker --callbacks ./my-callbacks.js` against a dev server and the
 * emulator and completes a run started with `npx arkor-temporal start --config train.json --wait --json`.
 *
 * Needs the npm registry (or its cache) for the peer dependencies; exits non-zero on any failure.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const fixtures = join(root, 'test', 'package');
const keep = process.argv.includes('--keep');

function step(what: string): () => void {
  const started = Date.now();
  console.log(`▶ ${what}`);
  return () => console.log(`  ✓ ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  try {
    return execFileSync(command, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed:\n${failed.stdout ?? ''}${failed.stderr ?? failed.message}`);
  }
}

/** The first line of every error `tsc` reports (empty when it passes). */
function typeCheckErrors(cwd: string): string[] {
  try {
    execFileSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return [];
  } catch (error) {
    const output = (error as { stdout?: string }).stdout ?? '';
    return output.split('\n').filter((line) => /^\S.*\(\d+,\d+\): error TS/.test(line));
  }
}

const work = mkdtempSync(join(tmpdir(), 'arkor-temporal-package-'));
const children: ChildProcess[] = [];
try {
  let done = step('npm run build');
  run('npm', ['run', '-s', 'build'], root);
  done();

  done = step('npm pack: what the tarball holds');
  const [packed] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], root)) as Array<{
    filename: string;
    files: Array<{ path: string }>;
    size: number;
    unpackedSize: number;
  }>;
  if (!packed) throw new Error('npm pack produced nothing');
  const tarball = join(work, packed.filename);
  const stray = packed.files
    .map((file) => file.path)
    .filter((path) => /^(test|bench|examples)\/|fixtures|\.test\./.test(path));
  if (stray.length > 0) throw new Error(`the tarball holds files it must not: ${stray.join(', ')}`);
  for (const needed of [
    'dist/workflow-bundle.js',
    'dist/cli/main.js',
    'dist/service/index.d.ts',
    'schema/training-run.schema.json',
  ]) {
    if (!packed.files.some((file) => file.path === needed)) throw new Error(`the tarball lacks ${needed}`);
  }
  console.log(
    `  ${packed.files.length} files, ${(packed.size / 1024).toFixed(0)} KiB packed, ${(packed.unpackedSize / 1024).toFixed(0)} KiB unpacked`,
  );
  done();

  done = step('publint and arethetypeswrong');
  run('npx', ['publint', '--strict', tarball], root);
  run('npx', ['attw', tarball, '--profile', 'esm-only', '--format', 'table-flipped'], root);
  done();

  const app = join(work, 'app');
  done = step(`install into ${app}`);
  execFileSync('mkdir', ['-p', app]);
  writeFileSync(
    join(app, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2),
  );
  const { devDependencies } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      tarball,
      `typescript@${devDependencies.typescript}`,
      `@types/node@${devDependencies['@types/node']}`,
      // Optional peer: the testing entry starts the dev server for the end-to-end step.
      `@temporalio/testing@${devDependencies['@temporalio/testing']}`,
    ],
    app,
  );
  const copies = (name: string): string[] =>
    run('npm', ['ls', name, '--all', '--parseable'], app).trim().split('\n').filter(Boolean);
  for (const name of ['@temporalio/client', '@temporalio/common', '@temporalio/workflow', '@temporalio/worker']) {
    const found = copies(name);
    if (found.length !== 1) throw new Error(`expected one copy of ${name}, found:\n${found.join('\n')}`);
  }
  // An optional peer (it pins one exact SDK version): a service that does not trace never gets it.
  const tracingCopies = copies('@temporalio/interceptors-opentelemetry');
  if (tracingCopies.length > 0)
    throw new Error(`the tracing interceptors were installed:\n${tracingCopies.join('\n')}`);
  done();

  done = step('type-check a consumer: strict, exactOptionalPropertyTypes, lib ES2022');
  copyFileSync(join(fixtures, 'consumer.ts'), join(app, 'consumer.ts'));
  copyFileSync(join(fixtures, 'tsconfig.consumer.json'), join(app, 'tsconfig.json'));
  // skipLibCheck is off so that our declarations are checked under the consumer's settings. The
  // Temporal SDK's own declarations have errors under exactOptionalPropertyTypes (and its `ms`
  // import has no types under NodeNext): those are counted, not ours to fix.
  const errors = typeCheckErrors(app);
  const ours = errors.filter(
    (error) => error.startsWith('consumer.ts') || error.includes('node_modules/arkor-temporal/'),
  );
  if (ours.length > 0) throw new Error(`the consumer does not type-check:\n${ours.join('\n')}`);
  console.log(`  no errors in the consumer or our declarations (${errors.length} inside other packages' declarations)`);
  done();

  done = step('import the service entry from plain node');
  const probe = run(
    'node',
    ['--input-type=module', '-e', readFileSync(join(fixtures, 'import-service.mjs'), 'utf8')],
    app,
  );
  const loaded = JSON.parse(probe) as { exports: string[]; workerLoaded: boolean; ms: number; rssMiB: number };
  if (loaded.workerLoaded) throw new Error('importing arkor-temporal loaded @temporalio/worker');
  for (const name of ['connectClient', 'TrainingService', 'ScheduleService', 'listRuns', 'defineTrainingRun']) {
    if (!loaded.exports.includes(name)) throw new Error(`arkor-temporal does not export ${name}`);
  }
  console.log(`  ${loaded.exports.length} exports, ${loaded.ms} ms, ${loaded.rssMiB} MiB RSS, worker not loaded`);
  done();

  done = step('a run end to end from the installed package, node_modules read-only');
  for (const file of ['my-callbacks.js', 'train.json', 'run-e2e.mjs'])
    copyFileSync(join(fixtures, file), join(app, file));
  execFileSync('chmod', ['-R', 'a-w', join(app, 'node_modules')]);
  const e2e = spawn('node', ['run-e2e.mjs'], { cwd: app, stdio: 'inherit' });
  children.push(e2e);
  const code = await new Promise<number | null>((resolveExit) => e2e.on('exit', resolveExit));
  if (code !== 0) throw new Error(`the end-to-end run failed (exit ${code})`);
  done();
  console.log('package check passed');
} finally {
  for (const child of children) child.kill('SIGTERM');
  if (keep) console.log(`kept ${work}`);
  else {
    execFileSync('chmod', ['-R', 'u+w', work]);
    rmSync(work, { recursive: true, force: true });
  }
}
