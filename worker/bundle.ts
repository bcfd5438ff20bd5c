/**
 * The workflow bundle a worker loads: prebuilt when running from the package, otherwise built
 * once and reused while the sources are unchanged.
 *
 * The package ships `dist/workflow-bundle.js` (written by `npm run build`), so a worker installed
 * under a read-only `node_modules` never runs the bundler (which also skips `.ts` there). From the
 * repository, webpack-bundling the workflows takes seconds on a small machine, and every worker
 * process and test file would pay it again: the bundle is cached under a hash of everything it
 * is built from, so a stale bundle can never be loaded.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';
import { packageVersion } from '../cli/version.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Running compiled (from `dist/`) rather than from the TypeScript sources. */
const compiled = import.meta.url.endsWith('.js');
const sourceExtension = compiled ? '.js' : '.ts';
/** The module whose exports are the workflows. */
export const workflowsPath = join(root, 'workflows', `index${sourceExtension}`);
/**
 * The workflow interceptors (worker/workflow-interceptors.ts: OpenTelemetry's), in every bundle:
 * whether their spans go anywhere is the worker's choice at run time (its `exporter` sink), so
 * one prebuilt bundle serves traced and untraced workers. Referenced by path: workflows/ never
 * imports them.
 */
export const workflowInterceptorModules = [join(root, 'worker', `workflow-interceptors${sourceExtension}`)];
/** Where `npm run build` writes the bundle, next to the compiled code. */
export const PREBUILT_BUNDLE_FILE = 'workflow-bundle.js';

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(sourceExtension))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** A hash of the workflow code and everything it imports (the contract, the interceptors, the lockfile). */
export async function workflowSourceHash(): Promise<string> {
  const hash = createHash('sha256');
  const files = [
    ...(await sourceFiles(join(root, 'workflows'))),
    ...(await sourceFiles(join(root, 'contract'))),
    ...workflowInterceptorModules,
    join(root, 'package-lock.json'),
  ];
  for (const file of files) {
    hash.update(file.slice(root.length)).update('\0');
    if (existsSync(file)) hash.update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/**
 * The build id of this code's workers (Worker Versioning, README "Deploys"): the package version
 * and a hash of the workflow code they run — of the prebuilt bundle when the package has one, else
 * of its sources (`workflowSourceHash`). Code that schedules the same commands keeps its build id
 * across deploys of anything else (callbacks, activities, settings); a change to the workflows,
 * the contract or the lockfile makes a new version.
 */
export async function workflowBuildId(): Promise<string> {
  const prebuilt = join(root, PREBUILT_BUNDLE_FILE);
  const hash =
    compiled && existsSync(prebuilt)
      ? createHash('sha256')
          .update(await readFile(prebuilt))
          .digest('hex')
          .slice(0, 16)
      : await workflowSourceHash();
  return `${packageVersion(root)}-${hash}`;
}

/** Bundles the workflow code (quietly) into one file's text. */
export async function buildWorkflowBundle(): Promise<string> {
  const { code } = await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules, logger: quietLogger });
  return code;
}

/** Returns the path of a bundle of the current workflow code, building it when needed. */
export async function workflowBundlePath(): Promise<string> {
  const prebuilt = join(root, PREBUILT_BUNDLE_FILE);
  if (compiled && existsSync(prebuilt)) return prebuilt;
  const dir = compiled ? join(tmpdir(), 'arkor-temporal') : join(root, 'node_modules', '.cache', 'arkor-temporal');
  const path = join(dir, `workflows-${await workflowSourceHash()}.js`);
  if (existsSync(path)) return path;
  const code = await buildWorkflowBundle();
  await mkdir(dir, { recursive: true });
  // Written under a unique name then renamed: concurrent builders never expose a partial file.
  const staging = `${path}.${process.pid}.tmp`;
  await writeFile(staging, code);
  await rename(staging, path);
  return path;
}

const noop = (): void => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
