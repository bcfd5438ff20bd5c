/**
 * The worker's stop requests (worker/shutdown.ts) and the npm launcher watch
 * (worker/launcher-watch.ts), without Temporal: test/fault-shutdown-signals.test.ts runs them
 * in real worker processes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { brokenLink, launcherChain, type ProcReader } from '../worker/launcher-watch.js';
import { handleShutdownRequests } from '../worker/shutdown.js';

/** A process table: pid → parent and npm script. */
function table(
  entries: Record<number, { ppid: number; script?: string }>,
): ProcReader & { set(pid: number, entry?: { ppid: number; script?: string }): void } {
  const rows = new Map(Object.entries(entries).map(([pid, entry]) => [Number(pid), entry]));
  return {
    parentOf: (pid) => rows.get(pid)?.ppid,
    npmScriptOf: (pid) => rows.get(pid)?.script,
    set(pid, entry) {
      if (entry) rows.set(pid, entry);
      else rows.delete(pid);
    },
  };
}

describe('the npm launcher chain', () => {
  // `npx tsx worker.ts` inside `npm test`: npm (an outer script's) → sh → tsx → node.
  const npx = () =>
    table({
      10: { ppid: 5, script: 'test' },
      11: { ppid: 10, script: 'npx' },
      12: { ppid: 11, script: 'npx' },
      13: { ppid: 12, script: 'npx' },
    });

  it('runs from the worker up to the npm process, through the shell and the tsx CLI', () => {
    assert.deepEqual(launcherChain(13, npx()), [
      { pid: 13, ppid: 12 },
      { pid: 12, ppid: 11 },
      { pid: 11, ppid: 10 },
    ]);
  });

  it('is the worker alone below an npm that exec-ed it, and nothing outside npm', () => {
    assert.deepEqual(launcherChain(21, table({ 20: { ppid: 1 }, 21: { ppid: 20, script: 'worker' } })), [
      { pid: 21, ppid: 20 },
    ]);
    assert.deepEqual(launcherChain(21, table({ 20: { ppid: 1 }, 21: { ppid: 20 } })), []);
    // npm as PID 1: its end ends the namespace anyway.
    assert.deepEqual(launcherChain(7, table({ 7: { ppid: 1, script: 'worker' } })), [{ pid: 7, ppid: 1 }]);
  });

  it('breaks when a launcher dies: the shell npm signalled, or npm itself', () => {
    const procs = npx();
    const chain = launcherChain(13, procs);
    assert.equal(brokenLink(chain, procs), undefined);
    // npm forwarded SIGTERM to the shell, which died: the tsx CLI is re-parented.
    procs.set(11);
    procs.set(12, { ppid: 1, script: 'npx' });
    assert.deepEqual(brokenLink(chain, procs), { pid: 12, ppid: 11 });

    const killedNpm = npx();
    killedNpm.set(10);
    killedNpm.set(11, { ppid: 1, script: 'npx' });
    assert.deepEqual(brokenLink(chain, killedNpm), { pid: 11, ppid: 10 });
  });
});

describe('stop requests', () => {
  it('the first signal stops the worker; repeated ones are logged, not fatal; an overrun exits', async () => {
    const lines: string[] = [];
    const exits: number[] = [];
    let stops = 0;
    const requests = handleShutdownRequests({
      graceMs: 100,
      exitMarginMs: 100,
      watchLauncher: false,
      log: (line) => lines.push(line),
      exit: (code) => exits.push(code),
    });
    try {
      requests.onRequest(() => stops++);
      const request = () => requests.request;
      assert.equal(request(), undefined);
      // Real signals, delivered to this process: without a listener SIGUSR2 would end it.
      process.kill(process.pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 50));
      process.kill(process.pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(stops, 1);
      assert.equal(request()?.reason, 'SIGUSR2');
      assert.match(lines[0] ?? '', /^worker stopping \(SIGUSR2\)/);
      assert.match(lines[1] ?? '', /SIGUSR2 while stopping/);
      // A stop asked for after the request runs at once.
      requests.onRequest(() => stops++);
      assert.equal(stops, 2);
      assert.deepEqual(exits, []);
      await new Promise((r) => setTimeout(r, 250));
      assert.deepEqual(exits, [1], 'still up after grace + margin: exit 1');
    } finally {
      requests.dispose();
    }
  });
});
