import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseCliArgs } from '../cli/args.js';
import { parseRunConfig } from '../cli/config.js';
import type { ServiceConnector } from '../cli/connect.js';
import { resolveTaskQueue } from '../cli/connect.js';
import type { CliIo, RunService } from '../cli/context.js';
import { ConfigError, UsageError } from '../cli/errors.js';
import { runCli } from '../cli/main.js';

describe('parseCliArgs', () => {
  it('parses each command with its flags and the global task queue', () => {
    assert.deepEqual(parseCliArgs(['--task-queue', 'q1', 'start', '--config', 'a.json', '--wait', '--json']), {
      command: { kind: 'start', configPath: 'a.json', watch: false, wait: true, json: true },
      taskQueue: 'q1',
    });
    assert.deepEqual(parseCliArgs(['start', '--config=a.json', '--workflow-id', 'w', '--watch']).command, {
      kind: 'start',
      configPath: 'a.json',
      workflowId: 'w',
      watch: true,
      wait: false,
      json: false,
    });
    assert.deepEqual(parseCliArgs(['status', 'w', '--json']).command, { kind: 'status', workflowId: 'w', json: true });
    assert.deepEqual(parseCliArgs(['watch', 'w']).command, { kind: 'watch', workflowId: 'w' });
    assert.deepEqual(parseCliArgs(['stop', 'w', '--reason', 'too slow']).command, {
      kind: 'stop',
      workflowId: 'w',
      reason: 'too slow',
    });
    assert.deepEqual(parseCliArgs(['cancel', 'w', '--task-queue', 'q']), {
      command: { kind: 'cancel', workflowId: 'w' },
      taskQueue: 'q',
    });
  });
  it('gives help for no arguments, help and --help', () => {
    for (const argv of [[], ['help'], ['--help'], ['status', '-h']])
      assert.deepEqual(parseCliArgs(argv).command, { kind: 'help' });
  });
  it('rejects unknown commands, unknown or foreign flags, and missing or extra arguments', () => {
    const cases: Array<[string[], RegExp]> = [
      [['train'], /unknown command "train"/],
      [['status', 'w', '--verbose'], /Unknown option '--verbose'/],
      [['status', 'w', '--reason', 'x'], /"status" does not take --reason/],
      [['stop', 'w'], /"stop" requires --reason/],
      [['stop', 'w', '--reason', '  '], /"stop" requires --reason/],
      [['start'], /"start" requires --config/],
      [['start', 'a.json'], /"start" takes no arguments/],
      [['start', '--config'], /argument missing/],
      [['watch'], /"watch" requires a <workflow-id>/],
      [['cancel', 'a', 'b'], /unexpected argument "b"/],
    ];
    for (const [argv, message] of cases)
      assert.throws(
        () => parseCliArgs(argv),
        (error: unknown) => error instanceof UsageError && message.test(error.message),
        argv.join(' '),
      );
  });
  it('takes the task queue from the flag, then TEMPORAL_TASK_QUEUE, then the default', () => {
    assert.equal(resolveTaskQueue('flag', { TEMPORAL_TASK_QUEUE: 'env' }), 'flag');
    assert.equal(resolveTaskQueue(undefined, { TEMPORAL_TASK_QUEUE: 'env' }), 'env');
    assert.equal(resolveTaskQueue(undefined, {}), 'arkor-training');
  });
});

describe('parseRunConfig', () => {
  it('names every invalid field', () => {
    const text = JSON.stringify({
      trainer: { name: '', model: 'gpt', dataset: { type: 'huggingface', name: 'd' }, maxSteps: -1 },
    });
    assert.throws(
      () => parseRunConfig(text, 'x.json'),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.issues.length === 3 &&
        ['trainer.name:', 'trainer.model:', 'trainer.maxSteps:'].every((field, index) =>
          error.issues[index]?.startsWith(field),
        ),
    );
  });
  it('rejects text that is not JSON', () => {
    assert.throws(() => parseRunConfig('{ nope', 'x.json'), /config x.json is not valid JSON/);
  });
});

describe('runCli', () => {
  function capture(): { io: CliIo; out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    return {
      io: { stdout: (t) => out.push(t), stderr: (t) => err.push(t), stdoutIsTty: false, stderrIsTty: false },
      out,
      err,
    };
  }
  const neverConnect: ServiceConnector = () => Promise.reject(new Error('must not connect'));

  it('prints usage on stdout for --help and on stderr with exit 2 for a usage error', async () => {
    const help = capture();
    assert.equal(await runCli(['--help'], { io: help.io, connect: neverConnect }), 0);
    assert.match(help.out.join(''), /^Usage: client <command>/);
    const bad = capture();
    assert.equal(await runCli(['frobnicate'], { io: bad.io, connect: neverConnect }), 2);
    assert.deepEqual(bad.out, []);
    assert.match(bad.err.join(''), /unknown command "frobnicate"[\s\S]*Usage: client/);
  });

  it('rejects an invalid config with exit 2 before connecting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-args-'));
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({ trainer: { name: 'x', model: 'nope', dataset: { type: 'blob', url: 'ftp://x' } } }),
    );
    const run = capture();
    assert.equal(await runCli(['start', '--config', file], { io: run.io, connect: neverConnect }), 2);
    assert.match(run.err.join(''), /trainer\.model: must be one of the supported models/);
    assert.match(run.err.join(''), /trainer\.dataset\.url:/);
    const missing = capture();
    assert.equal(
      await runCli(['start', '--config', join(dir, 'missing.json')], { io: missing.io, connect: neverConnect }),
      2,
    );
    assert.match(missing.err.join(''), /cannot read config .*missing\.json \(ENOENT\)/);
  });

  it('reports a connection failure in one line with exit 1', async () => {
    const run = capture();
    const code = await runCli(['status', 'w'], { io: run.io, connect: neverConnect });
    assert.equal(code, 1);
    assert.deepEqual(run.err, ['error: must not connect\n']);
  });

  it('passes the task queue to the connector and closes the connection', async () => {
    let queue: string | undefined;
    let closed = false;
    const service = {
      stop: (id: string, reason: string) => {
        assert.deepEqual([id, reason], ['w', 'why']);
        return Promise.resolve({ effect: 'stopping', phase: 'running' });
      },
    } as unknown as RunService;
    const connect: ServiceConnector = (taskQueue) => {
      queue = taskQueue;
      return Promise.resolve({ service, close: () => Promise.resolve(void (closed = true)) });
    };
    const run = capture();
    assert.equal(
      await runCli(['stop', 'w', '--reason', 'why'], { io: run.io, connect, env: { TEMPORAL_TASK_QUEUE: 'from-env' } }),
      0,
    );
    assert.equal(queue, 'from-env');
    assert.equal(closed, true);
    assert.deepEqual(run.out, [
      'stop requested for run w: why\nstopping: the backend job is being cancelled (phase running)\n',
    ]);
  });
});
