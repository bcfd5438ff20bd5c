// Run by scripts/check-package.ts inside the consumer directory (node_modules read-only): a dev
// server and the emulator from `arkor-temporal/testing`, a worker from `npx arkor-temporal worker`,
// and a run from `npx arkor-temporal start --wait --json`. Exits non-zero unless the run completed
// and the callbacks ran exactly as expected.
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { emulatorWorkerEnv, startDevServer, startTestEmulator } from 'arkor-temporal/testing';

const server = await startDevServer();
const emulator = await startTestEmulator({ stepMs: 5 });
const callbackLog = join(mkdtempSync(join(tmpdir(), 'arkor-callbacks-')), 'calls.log');
const env = {
  ...process.env,
  ...emulatorWorkerEnv(emulator),
  TEMPORAL_ADDRESS: server.address,
  TEMPORAL_NAMESPACE: server.namespace,
  TEMPORAL_TASK_QUEUE: 'package-check',
  ARKOR_KEY_STORE_DIR: join(tmpdir(), `arkor-keys-${process.pid}`),
  CALLBACK_LOG: callbackLog,
};
const worker = spawn('npx', ['arkor-temporal', 'worker', '--callbacks', './my-callbacks.js'], {
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let failure;
try {
  await new Promise((resolve, reject) => {
    let output = '';
    worker.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('worker ready')) resolve(undefined);
    });
    worker.on('exit', (code) => reject(new Error(`the worker exited (${code}) before it was ready:\n${output}`)));
  });
  const { stdout } = await promisify(execFile)(
    'npx',
    ['arkor-temporal', 'start', '--config', 'train.json', '--wait', '--json'],
    { env, timeout: 180_000 },
  );
  const result = JSON.parse(stdout.trim().split('\n').at(-1));
  if (result.outcome !== 'completed') throw new Error(`the run did not complete: ${stdout}`);
  const calls = readFileSync(callbackLog, 'utf8').trim().split('\n');
  const jobId = calls[0]?.split(' ')[1];
  const expected = [`started ${jobId}`, 'checkpoint 4', 'checkpoint 8', 'checkpoint 12', `completed ${jobId}`];
  if (JSON.stringify(calls) !== JSON.stringify(expected)) {
    throw new Error(`callbacks ran as\n${calls.join('\n')}\nexpected\n${expected.join('\n')}`);
  }
  console.log(`  run ${result.workflowId ?? ''} completed; callbacks: ${calls.length} calls, in order, once each`);

  // Tracing's interceptors are an optional peer, not installed here: a worker asked to trace
  // refuses to start, naming the package, instead of tracing nothing.
  const traced = await promisify(execFile)('npx', ['arkor-temporal', 'worker', '--callbacks', './my-callbacks.js'], {
    env: { ...env, OTEL_TRACES_EXPORTER: 'console' },
    timeout: 60_000,
  }).then(
    () => ({ code: 0, stderr: '' }),
    (error) => ({ code: error.code, stderr: String(error.stderr) }),
  );
  if (traced.code === 0 || !traced.stderr.includes('@temporalio/interceptors-opentelemetry')) {
    throw new Error(`a worker asked to trace without the interceptors package: exit ${traced.code}\n${traced.stderr}`);
  }
  console.log(`  without the tracing package, a traced worker refuses: ${traced.stderr.trim().split('\n')[0]}`);
} catch (error) {
  failure = error;
} finally {
  worker.kill('SIGTERM');
  await emulator.close();
  await server.close();
}
if (failure) {
  console.error(failure instanceof Error ? failure.message : failure);
  process.exit(1);
}
