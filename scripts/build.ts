/**
 * `npm run build`: the package in `dist/`. Compiles the sources with declarations, then bundles
 * the compiled workflows into `dist/workflow-bundle.js`, so that an installed worker loads a
 * prebuilt bundle and never runs webpack under `node_modules`.
 */
import { execFileSync } from 'node:child_process';
import { chmod, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as BundleModule from '../worker/bundle.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

function step(what: string): () => void {
  const started = Date.now();
  process.stdout.write(`${what}…`);
  return () => process.stdout.write(` ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

await rm(dist, { recursive: true, force: true });

let done = step('compiling (tsc -p tsconfig.build.json)');
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
done();

done = step('bundling the workflows');
// The compiled bundle module locates itself in dist/ and bundles dist/workflows/index.js.
const bundle = (await import(join(dist, 'worker', 'bundle.js'))) as typeof BundleModule;
await writeFile(join(dist, bundle.PREBUILT_BUNDLE_FILE), await bundle.buildWorkflowBundle());
done();

await chmod(join(dist, 'cli', 'main.js'), 0o755).catch(() => undefined);
console.log(`built ${dist}`);
