import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { freePort } from '../testing/free-port.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs `npm run dev` (scripts/dev.ts) on fresh ports and data with CI=true, to its exit. */
async function runDev(
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env = { ...process.env };
  for (const name of ['TEMPORAL_ADDRESS', 'TEMPORAL_NAMESPACE', 'ARKOR_CLOUD_API_URL', 'ARKOR_TOKEN']) delete env[name];
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'scripts', 'dev.ts')], {
    cwd: root,
    env: {
      ...env,
      CI: 'true',
      TEMPORAL_DEV_PORT: String(await freePort()),
      TEMPORAL_DEV_UI_PORT: String(await freePort()),
      ARKOR_DEV_DATA_DIR: mkdtempSync(join(tmpdir(), 'arkor-dev-')),
      DEV_STEP_MS: '5',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((done) => child.once('exit', (exitCode) => done(exitCode)));
  return { code, stdout, stderr };
}

describe('npm run dev', () => {
  it('starts a dev server, the emulator and a worker, runs the demo to the end with CI=true, and exits 0', async () => {
    const { code, stdout, stderr } = await runDev();
    assert.equal(code, 0, `exit ${code}\n${stdout}\n${stderr}`);
    assert.match(stderr, /starting the dev server/);
    assert.match(stderr, /Arkor: emulator at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(stdout, /checkpoint saved: step 20/);
    assert.match(stdout, /checkpoint saved: step 40 \(2 artifacts\), score 1\.000/);
    assert.match(stdout, /completed .*step 60\/60/);
    assert.match(stdout, /gate passed: score 1\.000 reaches the minimum 0\.75/);
    assert.match(stdout, /promoted to support-bot-demo \(created\)/);
    assert.match(
      stderr,
      /Temporal Web UI: http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/dev-support-bot-demo-/,
    );
  });

  // The worker's wiring (worker/deps.ts): a module the worker would load and refuse, dev loads and
  // refuses too, instead of running without it.
  for (const [variable, module, message] of [
    [
      'ARKOR_SCORERS_MODULE',
      'test/fixtures/scorers/bad-export.ts',
      /Export "threshold" of test\/fixtures\/scorers\/bad-export\.ts is not a scorer function/,
    ],
    [
      'ARKOR_PRECONDITIONS_MODULE',
      'test/fixtures/preconditions/missing.ts',
      /Cannot load the preconditions module test\/fixtures\/preconditions\/missing\.ts/,
    ],
  ] as const) {
    it(`loads ${variable} like the worker: a bad module stops it with the reason`, async () => {
      const { code, stdout, stderr } = await runDev({ [variable]: module });
      assert.equal(code, 1, `exit ${code}\n${stdout}\n${stderr}`);
      assert.match(stderr, message);
      assert.doesNotMatch(stderr, /Run: /);
    });
  }
});
