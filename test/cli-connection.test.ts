/**
 * The CLI when something it needs is missing, as users meet it (client.ts in a child process): no
 * Temporal server at the address, or a server but no worker polling the run's task queue. Each
 * says what is missing and how to start it, with an exit code of its own. How soon is measured,
 * not asserted (docs/cli.md): here the messages show the prompt paths were taken (a refused
 * connection noticed, the connect timeout given, the task queue's pollers asked), not a timeout.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ExitCode } from '../cli/exit-codes.js';
import type { WatchJsonLine } from '../cli/progress-renderer.js';
import type { RunResult } from '../contract/result.js';
import { freePort } from '../testing/free-port.js';
import type { TestWorker } from '../testing/worker.js';
import { startHarness, trainingInput, type Harness } from './support/harness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const configDir = mkdtempSync(join(tmpdir(), 'arkor-cli-connection-'));

function writeConfig(name: string, value: unknown): string {
  const file = join(configDir, `${name}.json`);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

interface LiveClient {
  stdout(): string;
  stderr(): string;
  /** Resolves once stderr matches `pattern`; rejects after `timeoutMs` or if the client exits first. */
  stderrMatches(pattern: RegExp, timeoutMs: number): Promise<void>;
  exited: Promise<{ code: number | null }>;
  kill(): void;
}

/** `client.ts <args>` in a child process, its output readable while it runs. */
function spawnClient(args: string[], env: NodeJS.ProcessEnv): LiveClient {
  const clean = { ...process.env };
  for (const name of Object.keys(clean)) if (name.startsWith('TEMPORAL_')) delete clean[name];
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'client.ts'), ...args], {
    cwd: root,
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null }>((done) => child.once('close', (code) => done({ code })));
  return {
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill: () => void child.kill('SIGKILL'),
    stderrMatches: (pattern, timeoutMs) =>
      new Promise((done, fail) => {
        const check = () => {
          if (pattern.test(stderr)) {
            clearInterval(timer);
            done();
          } else if (Date.now() - started > timeoutMs || child.exitCode !== null) {
            clearInterval(timer);
            fail(new Error(`stderr did not match ${pattern} within ${timeoutMs} ms:\n${stderr}\n${stdout}`));
          }
        };
        const timer = setInterval(check, 25);
      }),
  };
}

async function runToEnd(args: string[], env: NodeJS.ProcessEnv = {}) {
  const client = spawnClient(args, env);
  const { code } = await client.exited;
  return { code, stdout: client.stdout(), stderr: client.stderr() };
}

describe('no Temporal server at the address', () => {
  const config = writeConfig('no-server', trainingInput({ trainer: { name: 'no-server' } }));
  let closedPort: number;
  let silent: Server;
  let silentPort: number;
  const sockets = new Set<Socket>();

  before(async () => {
    closedPort = await freePort();
    // Accepts TCP connections and never speaks gRPC: only the connect timeout ends the wait.
    silent = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
    });
    await new Promise<void>((done) => silent.listen(0, '127.0.0.1', done));
    const address = silent.address();
    silentPort = typeof address === 'object' && address ? address.port : 0;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((done) => silent.close(done));
  });

  const noServer = (address: string) =>
    new RegExp(
      `^error: no Temporal server at ${address.replace(/\./g, '\\.')} \\(connection refused\\)\\. ` +
        'Start a local one with `npx arkor-temporal server` \\(or `npm run temporal:dev`\\), ' +
        'or point --address / TEMPORAL_ADDRESS at yours\\n$',
    );

  it('says so in one line, with exit code 3: status, start --wait, --address or TEMPORAL_ADDRESS', async () => {
    const address = `127.0.0.1:${closedPort}`;
    for (const [args, env] of [
      [['status', 'some-run', '--address', address], {}],
      [['--address', address, 'watch', 'some-run'], {}],
      [['start', '--config', config, '--wait', '--json'], { TEMPORAL_ADDRESS: address }],
    ] as const) {
      const run = await runToEnd([...args], env);
      assert.equal(run.code, ExitCode.NoServer, `${args.join(' ')}\n${run.stderr}`);
      assert.equal(run.stdout, '');
      assert.match(run.stderr, noServer(address));
    }
  });

  it('a server that never answers: exit 3 after the connect timeout (--client-connect-timeout)', async () => {
    const address = `127.0.0.1:${silentPort}`;
    const run = await runToEnd(['status', 'some-run', '--address', address, '--client-connect-timeout', '1s']);
    assert.equal(run.code, ExitCode.NoServer, run.stderr);
    assert.match(
      run.stderr,
      new RegExp(
        `^error: no Temporal server answered at 127\\.0\\.0\\.1:${silentPort} within 1 s \\(.+\\)\\. Start a local one`,
      ),
    );
    assert.equal(run.stderr.split('\n').length, 2, 'one line');
  });

  it('an address that is not host:port is a usage error (exit 2), not a missing server', async () => {
    const run = await runToEnd(['status', 'some-run', '--address', 'not a host::']);
    assert.equal(run.code, ExitCode.Usage);
    assert.match(
      run.stderr,
      /^error: cannot connect to Temporal at not a host:: \(namespace default\): Invalid address/,
    );
  });
});

describe('a server but no worker polling the task queue', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness();
  });
  after(async () => h?.close());

  const env = () => ({
    TEMPORAL_ADDRESS: h.temporal.address,
    TEMPORAL_NAMESPACE: h.temporal.namespace,
    TEMPORAL_TASK_QUEUE: h.taskQueue,
  });
  const hint = () =>
    `no worker is polling task queue ${h.taskQueue}; start one with \`npx arkor-temporal worker --task-queue ${h.taskQueue}\` ` +
    `(or \`TEMPORAL_TASK_QUEUE=${h.taskQueue} npm run worker\`)`;
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

  it('start warns, status fails with exit 4, start --wait and watch --json say so and go on once a worker polls', async () => {
    const config = writeConfig(
      'no-worker',
      trainingInput({ trainer: { name: 'no-worker', maxSteps: 400, loggingSteps: 1, evalSteps: 100, saveSteps: 100 } }),
    );
    const started = await runToEnd(['start', '--config', config, '--workflow-id', 'nw-1'], env());
    assert.equal(started.code, ExitCode.Ok, started.stderr);
    assert.equal(started.stderr, `warning: ${hint()}; the run will wait until one does\n`);
    assert.match(
      started.stdout,
      /^started run nw-1\nTemporal Web UI: http:\/\/localhost:8233\/namespaces\/default\/workflows\/nw-1\n$/,
    );

    const status = await runToEnd(['status', 'nw-1'], env());
    assert.equal(status.code, ExitCode.NoWorker, status.stderr);
    assert.equal(status.stdout, '');
    assert.equal(status.stderr, `error: cannot read the status of run nw-1: ${hint()}\n`);

    // A run started on another queue is checked on its own queue, not the CLI's.
    const other = await runToEnd(['status', 'nw-1', '--task-queue', 'elsewhere'], env());
    assert.equal(other.code, ExitCode.NoWorker);
    assert.match(other.stderr, new RegExp(escape(`--task-queue ${h.taskQueue}`)));

    let worker: TestWorker | undefined;
    const waiting = spawnClient(['start', '--config', config, '--workflow-id', 'nw-2', '--wait', '--json'], env());
    const watching = spawnClient(['watch', 'nw-1', '--json'], env());
    try {
      await waiting.stderrMatches(new RegExp(escape(`warning: ${hint()}; the run waits until one does\n`)), 30_000);
      await watching.stderrMatches(
        new RegExp(escape(`${hint()}; waiting for one (the run goes on once a worker polls)\n`)),
        30_000,
      );
      assert.equal(watching.stdout(), '', 'no progress line before a worker answers');

      worker = await h.startWorker();
      const [waited, watched] = await Promise.all([waiting.exited, watching.exited]);
      assert.equal(waited.code, ExitCode.Ok, waiting.stderr());
      assert.equal((JSON.parse(waiting.stdout()) as RunResult).outcome, 'completed');
      assert.equal(watched.code, ExitCode.Ok, watching.stderr());

      const lines = watching
        .stdout()
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as WatchJsonLine);
      const progress = lines.filter((line) => line.type === 'progress');
      assert.ok(progress.length >= 2, watching.stdout());
      for (const line of progress) {
        assert.deepEqual(Object.keys(line).sort(), [
          'bestLoss',
          'etaSeconds',
          'evalLoss',
          'loss',
          'maxSteps',
          'phase',
          'step',
          'time',
          'type',
          'workflowId',
        ]);
        assert.equal(line.workflowId, 'nw-1');
        assert.equal(line.maxSteps, 400);
      }
      const steps = progress.map((line) => line.step);
      assert.deepEqual(
        steps,
        [...steps].sort((a, b) => a - b),
        'steps only go forward',
      );
      assert.deepEqual(
        lines.filter((line) => line.type === 'checkpoint').map((line) => line.step),
        [100, 200, 300, 400],
      );
      const last = lines.at(-1);
      assert.equal(last?.type, 'outcome');
      assert.equal(last.type === 'outcome' && last.outcome, 'completed');
      assert.equal(last.type === 'outcome' && (last.result as RunResult).status.step, 400);
      assert.equal(lines.filter((line) => line.type === 'outcome').length, 1);
    } finally {
      waiting.kill();
      watching.kill();
    }

    const answered = await runToEnd(['status', 'nw-1'], env());
    assert.equal(answered.code, ExitCode.Ok, answered.stderr);
    assert.match(answered.stdout, /^web ui +http:\/\/localhost:8233\/namespaces\/default\/workflows\/nw-1$/m);

    // A finished run's status is in its result: read with no worker left (after a deploy, the
    // version it ran on may have none, ever again), even while the server still lists the
    // stopped worker's pollers.
    await worker?.stop();
    const finished = await runToEnd(['status', 'nw-1', '--json'], env());
    assert.equal(finished.code, ExitCode.Ok, finished.stderr);
    const recorded = JSON.parse(finished.stdout) as RunResult['status'];
    assert.equal(recorded.phase, 'completed');
    assert.equal(recorded.step, 400);
    assert.deepEqual(
      recorded.checkpoints.map((checkpoint) => checkpoint.step),
      [100, 200, 300, 400],
    );
  });
});
