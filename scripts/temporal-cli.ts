/**
 * Locates the Temporal CLI (which embeds the dev server): `TEMPORAL_CLI_PATH`, our cached build, a
 * `temporal` on PATH, or else a build, once per machine, from the Go module proxy at a pinned
 * version. The build lives in a cache outside the repository so that a fresh clone reuses it and
 * nothing built is ever committed.
 *
 * Run directly (`npm run temporal:install`) it prints the path of the binary.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { errorMessage } from '../contract/errors.js';

/** The pinned CLI version: v1.5.1 has no `replace` directives, so `go install` works. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const MODULE = 'github.com/temporalio/cli/cmd/temporal';

/** Thrown when the CLI is neither present nor buildable; the message says what to install. */
export class TemporalCliUnavailableError extends Error {
  override readonly name = 'TemporalCliUnavailableError';
}

/** `$XDG_CACHE_HOME/arkor-temporal/temporal-cli-<version>` (default `~/.cache/...`). */
export function temporalCliCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const cacheRoot = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cacheRoot, 'arkor-temporal', `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

function findGo(env: NodeJS.ProcessEnv): string | undefined {
  const candidates = (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, 'go'));
  // CI shells do not always source the profile that puts the Go toolchain on PATH.
  candidates.push('/usr/local/go/bin/go');
  return candidates.find((path) => existsSync(path));
}

/** A `temporal` binary found on PATH that runs, with what its `--version` printed. */
export interface TemporalOnPath {
  path: string;
  version: string;
}

/**
 * The first `temporal` on PATH that runs (`temporal --version` exits 0), or undefined. One that is
 * there but does not run is reported on stderr and skipped.
 */
export function temporalCliOnPath(env: NodeJS.ProcessEnv = process.env): TemporalOnPath | undefined {
  const candidates = (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, process.platform === 'win32' ? 'temporal.exe' : 'temporal'));
  for (const path of new Set(candidates)) {
    if (!existsSync(path)) continue;
    const run = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 15_000, env });
    const version = `${run.stdout ?? ''}`.trim().split('\n')[0] ?? '';
    if (run.status === 0 && version !== '') return { path, version };
    process.stderr.write(
      `Ignoring ${path}: \`${path} --version\` failed (${run.error?.message ?? run.signal ?? `exit ${run.status}`}).\n`,
    );
  }
  return undefined;
}

/**
 * The path of a usable `temporal` binary: `TEMPORAL_CLI_PATH` when set, else the cached build,
 * else a `temporal` on PATH that runs (its version is reported on stderr), else a fresh build
 * (about five minutes on two cores the first time; progress goes to stderr).
 */
export async function ensureTemporalCli(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const explicit = env.TEMPORAL_CLI_PATH;
  if (explicit) {
    if (!existsSync(explicit)) {
      throw new TemporalCliUnavailableError(`TEMPORAL_CLI_PATH is set to ${explicit}, but no file is there.`);
    }
    return explicit;
  }
  const dir = temporalCliCacheDir(env);
  const binary = join(dir, 'temporal');
  if (existsSync(binary)) return binary;

  const onPath = temporalCliOnPath(env);
  if (onPath) {
    process.stderr.write(
      `Using the Temporal CLI on PATH: ${onPath.path} (${onPath.version}; this project pins ${TEMPORAL_CLI_VERSION}).\n`,
    );
    return onPath.path;
  }

  const go = findGo(env);
  if (!go) {
    throw new TemporalCliUnavailableError(
      `The Temporal CLI ${TEMPORAL_CLI_VERSION} is not installed and Go is not available to build it.\n` +
        `Install the Temporal CLI (https://docs.temporal.io/cli#install) so that \`temporal\` is on PATH, ` +
        `install Go 1.23 or newer (https://go.dev/doc/install) and run \`npm run temporal:install\`, ` +
        `or point TEMPORAL_CLI_PATH at an existing \`temporal\` binary.`,
    );
  }

  await mkdir(dir, { recursive: true });
  // Build into a private folder and rename, so a concurrent caller never sees a half-written file.
  const staging = await mkdtemp(join(dir, '.build-'));
  process.stderr.write(
    `Building the Temporal CLI ${TEMPORAL_CLI_VERSION} with ${go} (first time only; a few minutes)...\n`,
  );
  const started = Date.now();
  try {
    await run(go, ['install', `${MODULE}@${TEMPORAL_CLI_VERSION}`], {
      ...env,
      GOBIN: staging,
      GOFLAGS: [env.GOFLAGS, '-trimpath'].filter(Boolean).join(' '),
    });
    await rename(join(staging, 'temporal'), binary);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  process.stderr.write(`Built ${binary} in ${Math.round((Date.now() - started) / 1000)} s.\n`);
  return binary;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new TemporalCliUnavailableError(`\`${command} ${args.join(' ')}\` failed (${signal ?? `exit ${code}`}).`),
        );
    });
  });
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  ensureTemporalCli().then(
    (path) => console.log(path),
    (error: unknown) => {
      console.error(errorMessage(error));
      process.exit(1);
    },
  );
}
