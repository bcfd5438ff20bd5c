/**
 * The next version of the workflows, for deploy tests: a copy of `workflows/` and `contract/` whose
 * lifecycle issues one command more than the current code — an upsert of a memo naming the
 * variant, at the start of every run (continued runs included) — bundled as a worker loads it.
 * Replaying a history of the current code on it would fail (a different command sequence), so a
 * run that moved between versions mid-run would show a failed workflow task; and the memo tells
 * which code ran a run.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode } from '@temporalio/worker';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The memo key the variant writes its name under. */
export const CODE_VARIANT_MEMO = 'arkorTestCodeVariant';

/** Bundles the variant named `name`; returns the bundle's code (the SDK's `workflowBundle: { code }`). */
export async function buildWorkflowVariant(name: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'arkor-workflow-variant-'));
  try {
    for (const folder of ['workflows', 'contract']) cpSync(join(root, folder), join(dir, folder), { recursive: true });
    const file = join(dir, 'workflows', 'training-run.ts');
    const source = readFileSync(file, 'utf8');
    const anchor = '    upsertSearchAttributes([{ key: ArkorModel, value: this.input.trainer.model }]);\n';
    const importAnchor = '  upsertSearchAttributes,\n';
    if (!source.includes(anchor) || !source.includes(importAnchor))
      throw new Error('workflows/training-run.ts changed: update the anchors of test/support/workflow-variant.ts');
    writeFileSync(
      file,
      source
        .replace(importAnchor, `${importAnchor}  upsertMemo,\n`)
        .replace(anchor, `${anchor}    upsertMemo({ ${CODE_VARIANT_MEMO}: ${JSON.stringify(name)} });\n`),
    );
    const noop = (): void => undefined;
    const { code } = await bundleWorkflowCode({
      workflowsPath: join(dir, 'workflows', 'index.ts'),
      logger: { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop },
      // The copy lives outside the repository: its packages come from the repository's.
      webpackConfigHook: (config) => ({
        ...config,
        resolve: { ...config.resolve, modules: [join(root, 'node_modules'), 'node_modules'] },
      }),
    });
    return code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
