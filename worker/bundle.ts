/**
 * Bundles the workflow code once and reuses the bundle while the sources are unchanged.
 *
 * Webpack-bundling the workflows takes seconds on a small machine; every worker process and every
 * test file would otherwise pay it again. The cache key is a hash of everything the bundle is
 * built from, so a stale bundle can never be loaded.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** The module whose exports are the workflows. */
export const workflowsPath = join(root, 'workflows', 'index.ts');

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

async function bundleKey(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [...(await sourceFiles(join(root, 'workflows'))), join(root, 'package-lock.json')]) {
    hash.update(file.slice(root.length)).update('\0');
    if (existsSync(file)) hash.update(await readFile(file));
  }
  return hash.digest('hex').slice(0, 16);
}

/** Returns the path of a bundle of the current workflow code, building it when needed. */
export async function workflowBundlePath(): Promise<string> {
  const dir = join(root, 'node_modules', '.cache', 'arkor-temporal');
  const path = join(dir, `workflows-${await bundleKey()}.js`);
  if (existsSync(path)) return path;
  const { code } = await bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  await mkdir(dir, { recursive: true });
  // Written under a unique name then renamed: concurrent builders never expose a partial file.
  const staging = `${path}.${process.pid}.tmp`;
  await writeFile(staging, code);
  await rename(staging, path);
  return path;
}

const noop = (): void => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
