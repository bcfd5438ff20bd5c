/**
 * Issue 7, item 1: the Temporal server restarts mid-run. The dev server runs with its persistent
 * database (SQLite file) on a fixed loopback port, is stopped while the stream is delivering,
 * and started again on the same file and port. Worker and client reconnect by themselves; the
 * run must continue with no event lost and none dispatched twice.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { devServerArgs } from '../scripts/dev-server.js';
import { ensureTemporalCli } from '../scripts/temporal-cli.js';
import {
  eventually,
  expectedEventKeys,
  startHarness,
  trainingInput,
  type EventPlan,
  type Harness,
} from './support/harness.js';
import { freePort } from '../testing/free-port.js';

/** One dev-server process on the database file and ports given. */
class PersistentDevServer {
  private child: ChildProcess | undefined;
  private output = '';

  constructor(
    private readonly binary: string,
    private readonly args: string[],
    readonly address: string,
  ) {}

  async start(): Promise<void> {
    const child = spawn(this.binary, this.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    await eventually(
      async () => {
        if (child.exitCode !== null)
          throw new Error(`the dev server exited (${child.exitCode}):\n${this.output.slice(-2000)}`);
        const connection = await Connection.connect({ address: this.address, connectTimeout: 500 }).catch(
          () => undefined,
        );
        if (!connection) return undefined;
        try {
          await connection.workflowService.getSystemInfo({});
          return true;
        } catch {
          return undefined;
        } finally {
          await connection.close();
        }
      },
      60_000,
      'the dev server to answer',
    );
  }

  /** Stops the server (SIGTERM: a restart; SIGKILL: a crash) and waits until the process is gone. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    const killTimer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(killTimer);
  }
}

describe('a Temporal server restart mid-run', () => {
  let server: PersistentDevServer;
  let h: Harness;
  let dataDir: string;
  const previousAddress = process.env.TEMPORAL_ADDRESS;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'arkor-temporal-restart-'));
    const port = await freePort();
    const uiPort = await freePort();
    server = new PersistentDevServer(
      await ensureTemporalCli(),
      devServerArgs({ port, uiPort, dbFile: join(dataDir, 'temporal.db') }),
      `127.0.0.1:${port}`,
    );
    await server.start();
    // The harness uses a server at TEMPORAL_ADDRESS instead of starting its own.
    process.env.TEMPORAL_ADDRESS = server.address;
    // 25 ms steps: the 400-step job trains for 10 s, across the restart.
    h = await startHarness({ stepMs: 25 });
  });
  after(async () => {
    if (previousAddress === undefined) delete process.env.TEMPORAL_ADDRESS;
    else process.env.TEMPORAL_ADDRESS = previousAddress;
    await h?.close();
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function runAcross(how: 'SIGTERM' | 'SIGKILL', name: string): Promise<void> {
    const plan: EventPlan = { maxSteps: 400, loggingSteps: 1, evalSteps: 50, saveSteps: 100 };
    const worker = await h.spawnWorker();
    const { workflowId } = await h.service.start(trainingInput({ trainer: { name, ...plan }, heartbeatTimeout: '5s' }));
    const jobId = await eventually(async () => (await h.service.status(workflowId)).jobId, 30_000, 'the job id');
    await eventually(() => (h.recordsOf(jobId).length >= 20 ? true : undefined), 30_000, 'the first events');

    await server.stop(how);
    const deliveredWhileDown = h.recordsOf(jobId).length;
    // Training goes on meanwhile: the events of these seconds must arrive after the restart.
    await sleep(3_000);
    const stepWhenRestarted = h.emulator.stats().jobs.find((j) => j.id === jobId)?.step ?? 0;
    await server.start();
    console.log(
      `[server-restart] ${how}: down for 3 s at ${deliveredWhileDown} delivered callbacks; the job was at step ${stepWhenRestarted} on restart`,
    );

    const result = await h.service.outcome(workflowId);
    assert.equal(result.outcome, 'completed');
    assert.equal(result.jobId, jobId);
    assert.equal(h.emulator.stats().jobs.filter((j) => j.name.startsWith(`${name} `)).length, 1);

    const records = h.recordsOf(jobId);
    assert.deepEqual(
      [...new Set(records.map((r) => r.key))].sort(),
      expectedEventKeys(jobId, plan).sort(),
      'every event, and only those',
    );
    // The workflow dispatched each event once: a repeated invocation can only be a retry of an
    // activity whose completion the stopped server never received.
    const firstAttempts = records.filter((r) => r.attempt === 1).map((r) => `${r.callback}:${r.key}`);
    assert.equal(new Set(firstAttempts).size, firstAttempts.length, 'no event dispatched twice');
    console.log(
      `[server-restart] ${how}: ${records.length} callback invocations for ${new Set(records.map((r) => r.key)).size} events`,
    );

    const status = await h.service.status(workflowId);
    assert.equal(status.step, plan.maxSteps);
    assert.equal(status.phase, 'completed');
    await worker.kill();
  }
  it('a restart (SIGTERM): the run continues, every event delivered, none dispatched twice, one job', () =>
    runAcross('SIGTERM', 'server-restart'));

  it('a crash (SIGKILL): the same, from what the database had committed', () => runAcross('SIGKILL', 'server-crash'));
});
