import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { freePort } from './support/free-port.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

describe('npm run dev', () => {
  it('starts a dev server, the emulator and a worker, runs the demo to the end with CI=true, and exits 0', async () => {
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
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((done) => child.once('exit', (exitCode) => done(exitCode)));
    assert.equal(code, 0, `exit ${code}\n${stdout}\n${stderr}`);
    assert.match(stderr, /starting the dev server/);
    assert.match(stderr, /Arkor: emulator at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(stdout, /checkpoint saved: step 20/);
    assert.match(stdout, /checkpoint saved: step 40 \(2 artifacts\), score 1\.000/);
    assert.match(stdout, /completed .*step 60\/60/);
    assert.match(stdout, /gate passed: score 1\.000 reaches the minimum 0\.75/);
    assert.match(stdout, /promoted to support-bot-demo \(created\)/);
    assert.match(stderr, /Temporal Web UI: http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/dev-support-bot-demo-/);
  });
});
