/**
 * The CLI as users and scripts run it: `client.ts` in a child process against a real dev server,
 * the emulator and a real worker. What it says when the server or a worker is missing:
 * cli-connection.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { RunResult } from '../contract/result.js';
import type { RunStatus } from '../contract/status.js';
import { eventually, runClient, startHarness, trainingInput, type Harness } from './support/harness.js';
import type { WatchJsonLine } from '../cli/progress-renderer.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const configDir = mkdtempSync(join(tmpdir(), 'arkor-cli-'));

function writeConfig(name: string, value: unknown): string {
  const file = join(configDir, `${name}.json`);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

describe('the CLI against the dev server, the emulator and a worker', () => {
  let h: Harness;

  before(async () => {
    h = await startHarness();
    await h.startWorker();
  });
  after(async () => h?.close());

  const shortRun = () => writeConfig('short', trainingInput({ trainer: { name: 'cli-short', maxSteps: 30 } }));
  const longRun = (name: string) =>
    writeConfig(
      name,
      trainingInput({ trainer: { name, maxSteps: 2000, loggingSteps: 1, evalSteps: 100, saveSteps: 500 } }),
    );

  it('start --wait --json prints one JSON result and exits 0; the same workflow id attaches', async () => {
    const config = shortRun();
    const first = await runClient(h, ['start', '--config', config, '--workflow-id', 'cli-once', '--wait', '--json']);
    assert.equal(first.code, 0, first.stderr);
    const result = JSON.parse(first.stdout) as RunResult;
    assert.equal(result.outcome, 'completed');
    assert.equal(result.workflowId, 'cli-once');
    assert.equal(result.status.step, 30);
    assert.match(first.stderr, /^started run cli-once$/m);

    const again = await runClient(h, ['start', '--config', config, '--workflow-id', 'cli-once'], {
      ARKOR_TEMPORAL_UI_URL: 'https://temporal.example.com/',
    });
    assert.equal(again.code, 0, again.stderr);
    assert.equal(
      again.stdout,
      'attached to existing run cli-once (no new run started)\n' +
        `Temporal Web UI: https://temporal.example.com/namespaces/${h.temporal.namespace}/workflows/cli-once\n`,
    );
    const againJson = await runClient(h, ['start', '--config', config, '--workflow-id', 'cli-once', '--json']);
    assert.deepEqual(JSON.parse(againJson.stdout), {
      workflowId: 'cli-once',
      attached: true,
      webUrl: `http://localhost:8233/namespaces/${h.temporal.namespace}/workflows/cli-once`,
    });
    assert.equal(h.emulator.stats().jobs.length, 1);
  });

  it('status --json prints the status query; status prints it for people', async () => {
    const json = await runClient(h, ['status', 'cli-once', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const status = JSON.parse(json.stdout) as RunStatus;
    assert.equal(status.phase, 'completed');
    assert.equal(status.step, 30);
    assert.equal(status.workflowId, 'cli-once');

    const text = await runClient(h, ['status', 'cli-once']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^phase +completed$/m);
    assert.match(text.stdout, /^step +30\/30$/m);
    assert.match(text.stdout, new RegExp(`^job +${status.jobId}$`, 'm'));
    assert.match(
      text.stdout,
      new RegExp(`^web ui +http://localhost:8233/namespaces/${h.temporal.namespace}/workflows/cli-once$`, 'm'),
    );
  });

  it('start --config train.ts runs a TypeScript config whose default export is defineTrainingRun({...})', async () => {
    const file = join(configDir, 'train.ts');
    writeFileSync(
      file,
      `import { defineTrainingRun } from ${JSON.stringify(join(root, 'service/define-training-run.js'))};\n` +
        `export default defineTrainingRun(${JSON.stringify(trainingInput({ trainer: { name: 'cli-ts', maxSteps: 12 } }))});\n`,
    );
    const run = await runClient(h, ['start', '--config', file, '--workflow-id', 'cli-ts', '--wait', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout) as RunResult;
    assert.equal(result.outcome, 'completed');
    assert.equal(result.status.name, 'cli-ts');
    assert.equal(result.status.step, 12);
  });

  it('rejects an invalid config with exit 2, naming each field, and starts nothing', async () => {
    const jobsBefore = h.emulator.stats().jobs.length;
    const config = writeConfig('invalid', {
      trainer: { name: 'bad', model: 'gpt-2', dataset: { type: 'huggingface', name: 'd' }, maxSteps: 0 },
      earlyStopping: { lossCeiling: { value: 'high' } },
    });
    const run = await runClient(h, ['start', '--config', config, '--workflow-id', 'cli-invalid', '--wait', '--json']);
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /trainer\.model: must be one of the supported models/);
    assert.match(run.stderr, /trainer\.maxSteps:/);
    assert.match(run.stderr, /earlyStopping\.lossCeiling\.value:/);
    await assert.rejects(h.temporal.client.workflow.getHandle('cli-invalid').describe(), WorkflowNotFoundError);
    assert.equal(h.emulator.stats().jobs.length, jobsBefore);
  });

  it('stop --reason ends a running run stopped and cancels the backend job', async () => {
    const started = await runClient(h, ['start', '--config', longRun('cli-stop'), '--workflow-id', 'cli-stop'], {
      ARKOR_TEMPORAL_UI_URL: '',
    });
    assert.equal(started.stdout, 'started run cli-stop\n');
    assert.equal(started.stderr, '', 'a worker polls: no warning');
    await eventually(
      async () => ((await h.service.status('cli-stop')).step > 5 ? true : undefined),
      20_000,
      'training to run',
    );

    const stop = await runClient(h, ['stop', 'cli-stop', '--reason', 'enough for today']);
    assert.equal(stop.code, 0, stop.stderr);
    const result = await h.service.outcome('cli-stop');
    assert.equal(result.outcome, 'stopped');
    assert.equal(result.stop?.reason, 'enough for today');
    assert.ok(result.status.step < 2000);
    const job = h.emulator.stats().jobs.find((entry) => entry.id === result.jobId);
    assert.equal(job?.status, 'cancelled');
  });

  it('cancel ends a waited run cancelled, and start --wait exits 1', async () => {
    const waiting = runClient(h, [
      'start',
      '--config',
      longRun('cli-cancel'),
      '--workflow-id',
      'cli-cancel',
      '--wait',
      '--json',
    ]);
    await eventually(
      async () =>
        (await h.service.status('cli-cancel').catch(() => undefined))?.phase === 'running' ? true : undefined,
      20_000,
      'training to run',
    );
    const cancel = await runClient(h, ['cancel', 'cli-cancel']);
    assert.equal(cancel.code, 0, cancel.stderr);
    const run = await waiting;
    assert.equal(run.code, 1, run.stderr);
    const result = JSON.parse(run.stdout) as RunResult;
    assert.equal(result.outcome, 'cancelled');
    const job = h.emulator.stats().jobs.find((entry) => entry.id === result.jobId);
    assert.equal(job?.status, 'cancelled');
  });

  /** Progress lines of a non-TTY watch: `<phase> [bar] <n>% step <s>/<max> loss <l> ...`. */
  function progressLines(stdout: string, maxSteps: number): string[] {
    const pattern = new RegExp(`^\\w+ +\\[[█░]{20}\\] +\\d+% +step \\d+/${maxSteps} +loss `);
    return stdout.split('\n').filter((line) => pattern.test(line));
  }

  it('watch prints a progress line per change, checkpoints and the outcome when not a TTY', async () => {
    const { workflowId } = await h.service.start(
      // Long enough (10 s) that the client, started after the run, sees several changes even on a busy machine.
      trainingInput({
        trainer: { name: 'cli-watch', maxSteps: 2000, loggingSteps: 1, evalSteps: 100, saveSteps: 500 },
      }),
      { workflowId: 'cli-watch' },
    );
    const run = await runClient(h, ['watch', workflowId]);
    assert.equal(run.code, 0, run.stderr);
    assert.ok(!run.stdout.includes('\r') && !run.stdout.includes('\x1b'), 'no terminal control codes in a log');
    const lines = run.stdout.trimEnd().split('\n');
    const progress = progressLines(run.stdout, 2000);
    assert.ok(progress.length >= 3, run.stdout);
    assert.equal(new Set(progress).size, progress.length, 'one line per change');
    const steps = progress.map((line) => Number(/step (\d+)\//.exec(line)?.[1]));
    assert.deepEqual(
      steps,
      [...steps].sort((a, b) => a - b),
      'steps only go forward',
    );
    assert.ok(
      progress.slice(0, -1).some((line) => /^running .*ETA \d+:\d\d$/.test(line)),
      'an ETA while running',
    );
    assert.match(progress.at(-1)!, /^completed +\[█{20}\] +100% +step 2000\/2000 +loss [\d.]+ +[▁▂▃▄▅▆▇█]{24}$/);
    for (const step of [500, 1000, 1500]) {
      assert.equal(
        lines.filter((line) => line.startsWith(`checkpoint saved: step ${step} (`)).length,
        1,
        `checkpoint ${step}`,
      );
    }
    assert.match(
      lines.at(-1)!,
      /^run cli-watch completed \(job \S+\) at step 2000\/2000, best loss [\d.]+ @ step \d+, \d+ artifacts?$/,
    );
  });

  it('watch --json prints one JSON object per change, checkpoints, and the outcome last', async () => {
    await h.service.start(
      // Long enough (7.5 s) that the client, started after the run, sees several changes even on a busy
      // machine: a shorter run flaked under CI load, the client attaching only after the end.
      trainingInput({
        trainer: { name: 'cli-watch-json', maxSteps: 1500, loggingSteps: 1, evalSteps: 100, saveSteps: 500 },
      }),
      { workflowId: 'cli-watch-json' },
    );
    const run = await runClient(h, ['watch', 'cli-watch-json', '--json']);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as WatchJsonLine);
    const progress = lines.filter((line) => line.type === 'progress');
    assert.ok(progress.length >= 2, run.stdout);
    assert.equal(
      new Set(progress.map((line) => `${line.phase}|${line.step}|${line.loss}|${line.evalLoss}`)).size,
      progress.length,
    );
    for (const line of lines) {
      assert.equal(line.workflowId, 'cli-watch-json');
      assert.ok(!Number.isNaN(Date.parse(line.time)));
    }
    assert.deepEqual(
      lines.filter((line) => line.type === 'checkpoint').map((line) => [line.step, line.artifactCount > 0]),
      [
        [500, true],
        [1000, true],
        [1500, true],
      ],
    );
    const finalProgress = progress.at(-1);
    assert.equal(finalProgress?.phase, 'completed');
    assert.equal(finalProgress?.step, 1500);
    assert.equal(finalProgress?.etaSeconds, null);
    const last = lines.at(-1);
    assert.ok(last?.type === 'outcome');
    assert.equal(last.outcome, 'completed');
    assert.equal((last.result as RunResult).status.step, 1500);
  });

  it('start --watch follows the run it started from the first step', async () => {
    const config = writeConfig(
      'watched',
      trainingInput({ trainer: { name: 'cli-start-watch', maxSteps: 300, saveSteps: 100 } }),
    );
    const run = await runClient(h, ['start', '--config', config, '--workflow-id', 'cli-start-watch', '--watch']);
    assert.equal(run.code, 0, run.stderr);
    const lines = run.stdout.trimEnd().split('\n');
    assert.equal(lines[0], 'started run cli-start-watch');
    assert.ok(progressLines(run.stdout, 300).length >= 2, run.stdout);
    assert.match(lines.at(-1)!, /^run cli-start-watch completed /);
  });

  it('names the address in one line when the connection settings cannot be used; an unknown run is exit 1', async () => {
    const run = await runClient(h, ['status', 'anything'], { TEMPORAL_ADDRESS: 'not a host::' });
    assert.equal(run.code, 2);
    assert.equal(run.stdout, '');
    assert.match(run.stderr, /^error: cannot connect to Temporal at not a host:: .*Invalid address.*\n$/);
    assert.equal(run.stderr.split('\n').length, 2);

    const unknown = await runClient(h, ['status', 'no-such-run']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no-such-run/);
  });
});
