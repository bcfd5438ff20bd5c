/**
 * The command line in-process: parsing (commander), help, version, suggestions, choices, configs
 * (JSON with `$schema`, TypeScript with defineTrainingRun, unknown fields), and `runCli` against
 * fake connectors. No server: the tests that need one are in cli*.test.ts files of their own.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parseCliArgs } from '../cli/program.js';
import { loadRunConfig, parseRunConfig } from '../cli/config.js';
import type { ServiceConnector } from '../cli/connect.js';
import { resolveTaskQueue } from '../cli/connect.js';
import type { CliIo, RunService } from '../cli/context.js';
import { ConfigError, UsageError } from '../cli/errors.js';
import { ExitCode } from '../cli/exit-codes.js';
import { runCli } from '../cli/main.js';
import { webUiRunUrl } from '../cli/remote.js';
import { closestMatch, levenshtein } from '../cli/suggest.js';
import type { TrainingRunInput } from '../contract/input.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'cli-args-'));

function writeFile(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function capture(): { io: CliIo; out: string[]; err: string[]; stdout(): string; stderr(): string } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (t) => out.push(t), stderr: (t) => err.push(t), stdoutIsTty: false, stderrIsTty: false },
    out,
    err,
    stdout: () => out.join(''),
    stderr: () => err.join(''),
  };
}

const neverConnect: ServiceConnector = () => Promise.reject(new Error('must not connect'));

/** Runs the CLI in-process with a connector that refuses; returns the exit code and the output. */
async function cli(argv: string[], connect: ServiceConnector = neverConnect) {
  const run = capture();
  const code = await runCli(argv, { io: run.io, connect, env: {} });
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}

/** A connector whose service records the input `start` receives and answers `started`. */
function recordingStart(): { connect: ServiceConnector; inputs: TrainingRunInput[] } {
  const inputs: TrainingRunInput[] = [];
  const service = {
    start: (input: TrainingRunInput, options: { workflowId?: string }) => {
      inputs.push(input);
      return Promise.resolve({ workflowId: options.workflowId ?? 'w-1', attached: false });
    },
  } as unknown as RunService;
  return {
    inputs,
    connect: () => Promise.resolve({ service, namespace: 'ml', close: () => Promise.resolve() }),
  };
}

describe('parseCliArgs', () => {
  it('parses each command with its flags, the task queue and connection flags before or after the command', () => {
    assert.deepEqual(parseCliArgs(['--task-queue', 'q1', 'start', '--config', 'a.json', '--wait', '--json']), {
      command: { kind: 'start', configPath: 'a.json', watch: false, wait: true, json: true },
      taskQueue: 'q1',
      connection: {},
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
    assert.deepEqual(parseCliArgs(['status', 'w', '-o', 'json']).command, {
      kind: 'status',
      workflowId: 'w',
      json: true,
    });
    assert.deepEqual(parseCliArgs(['watch', 'w']).command, { kind: 'watch', workflowId: 'w', json: false });
    assert.deepEqual(parseCliArgs(['watch', 'w', '--json']).command, { kind: 'watch', workflowId: 'w', json: true });
    assert.deepEqual(parseCliArgs(['stop', 'w', '--reason', 'too slow']).command, {
      kind: 'stop',
      workflowId: 'w',
      reason: 'too slow',
    });
    assert.deepEqual(parseCliArgs(['cancel', 'w', '--task-queue', 'q']), {
      command: { kind: 'cancel', workflowId: 'w' },
      taskQueue: 'q',
      connection: {},
    });
    assert.deepEqual(
      parseCliArgs([
        '--address',
        'before:7233',
        'status',
        'w',
        '--namespace',
        'ml',
        '--api-key',
        'k',
        '--tls-cert-path',
        'c.pem',
        '--tls-key-path',
        'k.pem',
        '--tls-ca-path',
        'ca.pem',
        '--tls-server-name',
        'srv',
        '--env',
        'prod',
        '--config-file',
        't.toml',
        '--client-connect-timeout',
        '5s',
      ]).connection,
      {
        address: 'before:7233',
        namespace: 'ml',
        apiKey: 'k',
        tlsCertPath: 'c.pem',
        tlsKeyPath: 'k.pem',
        tlsCaPath: 'ca.pem',
        tlsServerName: 'srv',
        profile: 'prod',
        configFile: 't.toml',
        connectTimeoutMs: 5000,
      },
    );
    assert.deepEqual(parseCliArgs(['status', 'w', '--address', 'a:1', '--no-tls']).connection, {
      address: 'a:1',
      tls: false,
    });
    assert.deepEqual(parseCliArgs(['worker', '--callbacks', 'cb.ts', '--scorers', 's.ts', '--task-queue', 'q']), {
      command: { kind: 'worker', callbacks: 'cb.ts', scorers: 's.ts' },
      taskQueue: 'q',
      connection: {},
    });
    assert.deepEqual(parseCliArgs(['dev', 'train.ts']).command, { kind: 'dev', configPath: 'train.ts' });
    assert.deepEqual(parseCliArgs(['server', '--port', '7234', '--ui-port', '8234']).command, {
      kind: 'server',
      port: 7234,
      uiPort: 8234,
    });
    assert.deepEqual(parseCliArgs(['emulator', '--step-ms', '5']).command, {
      kind: 'emulator',
      flags: { stepMs: '5' },
    });
    assert.deepEqual(parseCliArgs(['schema']).command, { kind: 'schema' });
  });

  it('rejects unknown commands and flags, invalid choices, missing and extra arguments', () => {
    const cases: Array<[string[], RegExp]> = [
      [['train'], /unknown command 'train'/],
      [['status', 'w', '--verbose'], /unknown option '--verbose'/],
      [['status', 'w', '--reason', 'x'], /unknown option '--reason'/],
      [['stop', 'w'], /required option '-r, --reason <text>' not specified/],
      [['stop', 'w', '--reason', '  '], /--reason <text>' argument ' {2}' is invalid\. must not be empty/],
      [['start'], /required option '-c, --config <file>' not specified/],
      [['start', '--config'], /option '-c, --config <file>' argument missing/],
      [['watch'], /missing required argument 'workflow-id'/],
      [['status', ' '], /invalid for argument 'workflow-id'\. must not be empty/],
      [['cancel', 'a', 'b'], /too many arguments for 'cancel'/],
      [['status', 'w', '--output', 'yaml'], /argument 'yaml' is invalid\. Allowed choices are text, json\./],
      [['status', 'w', '--json', '--output', 'text'], /option '--json' cannot be used with option '-o, --output/],
      [['status', 'w', '--env', 'a', '--profile', 'b'], /--env a and --profile b disagree/],
      [['status', 'w', '--client-connect-timeout', 'soon'], /argument 'soon' is invalid\. must be a duration/],
      [['server', '--port', '99999'], /must be a port number/],
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

describe('help, version and suggestions', () => {
  it('prints the program help on stdout for no arguments, --help and help, listing every command', async () => {
    for (const argv of [[], ['--help'], ['help']]) {
      const run = await cli(argv);
      assert.equal(run.code, ExitCode.Ok, argv.join(' '));
      assert.equal(run.stderr, '');
      assert.match(run.stdout, /^Usage: arkor-temporal \[options\] \[command\]/);
      for (const command of [
        'start',
        'status',
        'watch',
        'stop',
        'cancel',
        'approve',
        'reject',
        'list',
        'schedule',
        'deploy',
      ])
        assert.match(run.stdout, new RegExp(`^  ${command} `, 'm'), command);
      for (const command of ['worker', 'dev', 'server', 'emulator', 'schema'])
        assert.match(run.stdout, new RegExp(`^  ${command}\\b`, 'm'), command);
      assert.match(run.stdout, /Exit codes: 0 .* 3 no Temporal server reachable, 4 no worker/s);
    }
  });

  it('gives every command its own --help, with examples', async () => {
    const commands = [
      ['start'],
      ['status'],
      ['watch'],
      ['stop'],
      ['cancel'],
      ['approve'],
      ['reject'],
      ['list'],
      ['schedule'],
      ['schedule', 'create'],
      ['schedule', 'backfill'],
      ['deploy'],
      ['deploy', 'status'],
      ['deploy', 'set-current'],
      ['deploy', 'ramp'],
      ['deploy', 'unramp'],
      ['worker'],
      ['dev'],
      ['server'],
      ['emulator'],
      ['schema'],
    ];
    for (const command of commands) {
      const run = await cli([...command, '--help']);
      assert.equal(run.code, ExitCode.Ok, command.join(' '));
      assert.match(run.stdout, new RegExp(`^Usage: arkor-temporal ${command.join(' ')} `), command.join(' '));
      assert.match(run.stdout, new RegExp(`\\nExamples:\\n  \\$ arkor-temporal ${command[0]}`), command.join(' '));
    }
    const start = await cli(['help', 'start']);
    assert.match(start.stdout, /--config <file>/);
    assert.match(start.stdout, /Temporal connection:\n {2}--task-queue <name>[\s\S]*--address <host:port>/);
    const worker = await cli(['worker', '--help']);
    for (const flag of ['--callbacks <module>', '--scorers <module>', '--preconditions <module>', '--api-key <key>'])
      assert.ok(worker.stdout.includes(flag), flag);
  });

  it('prints the version of package.json', async () => {
    const { readFile } = await import('node:fs/promises');
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const run = await cli([flag]);
      assert.equal(run.code, ExitCode.Ok);
      assert.equal(run.stdout, `${version}\n`);
    }
  });

  it('suggests the command or flag meant, with exit 2 and nothing on stdout', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['stauts', 'w'], /^error: unknown command 'stauts'\n\(Did you mean status\?\)\n/],
      [['schedule', 'craete', 'x'], /^error: unknown command 'craete'\n\(Did you mean create\?\)\n/],
      [['status', 'w', '--jsno'], /^error: unknown option '--jsno'\n\(Did you mean --json\?\)\n/],
      [['start', '--config', 'a.json', '--workflowid', 'w'], /\(Did you mean --workflow-id\?\)/],
      [['status', 'w', '--adress', 'x:1'], /\(Did you mean --address\?\)/],
      [['worker', '--callback', 'cb.ts'], /\(Did you mean --callbacks\?\)/],
    ];
    for (const [argv, message] of cases) {
      const run = await cli(argv);
      assert.equal(run.code, ExitCode.Usage, argv.join(' '));
      assert.equal(run.stdout, '');
      assert.match(run.stderr, message, argv.join(' '));
      assert.match(run.stderr, /arkor-temporal --help/);
    }
  });

  it('validates choices: overlap policies, phases, output formats', async () => {
    const overlap = await cli(['schedule', 'trigger', 'nightly', '--overlap', 'never']);
    assert.equal(overlap.code, ExitCode.Usage);
    assert.match(
      overlap.stderr,
      /^error: option '--overlap <policy>' argument 'never' is invalid\. Allowed choices are skip, buffer-one, buffer-all, cancel-other, terminate-other, allow-all\.\n/,
    );
    const phase = await cli(['list', '--phase', 'runing']);
    assert.equal(phase.code, ExitCode.Usage);
    assert.match(phase.stderr, /argument 'runing' is invalid\. Allowed choices are submitting, queued, running,/);
    const output = await cli(['watch', 'w', '--output', 'jsonl']);
    assert.equal(output.code, ExitCode.Usage);
    assert.match(output.stderr, /argument 'jsonl' is invalid\. Allowed choices are text, json\./);
  });

  it('finds close names by edit distance, ignoring case, "_" and "-"', () => {
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(levenshtein('', 'abc'), 3);
    assert.equal(closestMatch('maxStep', ['maxSteps', 'batchSize']), 'maxSteps');
    assert.equal(closestMatch('learning_rate', ['learningRate', 'warmupSteps']), 'learningRate');
    assert.equal(closestMatch('zzz', ['trainer', 'budget']), undefined);
  });
});

describe('run configs', () => {
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

  it('suggests the field meant for an unknown one, at any depth, with exit 2', async () => {
    const file = writeFile(
      'typos.json',
      JSON.stringify({
        trainer: {
          name: 'x',
          model: 'unsloth/gemma-4-E4B-it',
          dataset: { type: 'huggingface', name: 'd', splt: 'train' },
          maxStep: 10,
          learning_rate: 0.001,
        },
        earlyStoping: { nonFiniteLoss: true },
        callbacks: { onFailure: 'continue', retry: { maxAttempts: 3 } },
        frobnicate: 1,
      }),
    );
    const run = await cli(['start', '--config', file]);
    assert.equal(run.code, ExitCode.Usage);
    assert.equal(run.stdout, '');
    for (const line of [
      '  - trainer.dataset.splt: unknown field (did you mean "split"?)',
      '  - trainer.maxStep: unknown field (did you mean "maxSteps"?)',
      '  - trainer.learning_rate: unknown field (did you mean "learningRate"?)',
      '  - earlyStoping: unknown field (did you mean "earlyStopping"?)',
      '  - callbacks.retry.maxAttempts: unknown field (did you mean "maximumAttempts"?)',
      '  - frobnicate: unknown field',
    ])
      assert.ok(run.stderr.split('\n').includes(line), `${line}\n---\n${run.stderr}`);
    assert.match(run.stderr, /^error: config .*typos\.json is invalid\n/);
  });

  it('accepts a "$schema" key and drops it; a non-string one is an error', async () => {
    const value = {
      $schema: '../schema/training-run.schema.json',
      trainer: { name: 'x', model: 'unsloth/gemma-4-E4B-it', dataset: { type: 'huggingface', name: 'd' } },
    };
    const { connect, inputs } = recordingStart();
    const run = await cli(['start', '--config', writeFile('schema.json', JSON.stringify(value))], connect);
    assert.equal(run.code, ExitCode.Ok, run.stderr);
    const { $schema: _dropped, ...expected } = value;
    assert.deepEqual(inputs, [expected]);
    assert.throws(
      () => parseRunConfig(JSON.stringify({ ...value, $schema: 1 }), 'bad.json'),
      (error: unknown) => error instanceof ConfigError && error.issues.includes('$schema: unknown field'),
    );
    // The example config carries one for editors.
    assert.equal(
      ((await import('node:fs')).readFileSync(join(root, 'examples/train.json'), 'utf8').match(/"\$schema"/g) ?? [])
        .length,
      1,
    );
  });

  it('loads a .ts config whose default export is defineTrainingRun({...}), the same as its JSON twin', async () => {
    assert.deepEqual(
      await loadRunConfig(join(root, 'examples/train.ts')),
      await loadRunConfig(join(root, 'examples/train.json')),
    );
    const file = writeFile(
      'train.ts',
      `import { defineTrainingRun } from ${JSON.stringify(join(root, 'service/define-training-run.js'))};\n` +
        `const steps: number = 12;\n` +
        `export default defineTrainingRun({\n` +
        `  trainer: { name: 'ts-config', model: 'unsloth/gemma-4-E4B-it', dataset: { type: 'huggingface', name: 'd' }, maxSteps: steps },\n` +
        `  budget: { maxWallTime: '5m' },\n` +
        `});\n`,
    );
    const { connect, inputs } = recordingStart();
    const run = await cli(['start', '--config', file, '--workflow-id', 'ts-1'], connect);
    assert.equal(run.code, ExitCode.Ok, run.stderr);
    assert.equal(inputs[0]?.trainer.name, 'ts-config');
    assert.equal(inputs[0]?.trainer.maxSteps, 12);
    assert.deepEqual(inputs[0]?.budget, { maxWallTime: '5m' });
    // The link names the connector's namespace.
    assert.equal(run.stdout, 'started run ts-1\nTemporal Web UI: http://localhost:8233/namespaces/ml/workflows/ts-1\n');
  });

  it('reports a module config that does not load, has no default export, or is invalid, with exit 2', async () => {
    const broken = writeFile('broken.ts', 'export default {{;\n');
    const none = writeFile('none.mjs', 'export const config = {};\n');
    const invalid = writeFile('invalid.mjs', "export default { trainer: { name: 'x' }, budgett: {} };\n");
    const cases: Array<[string, RegExp]> = [
      [broken, /^error: cannot load config .*broken\.ts: /],
      [
        none,
        /^error: config .*none\.mjs has no default export: write `export default defineTrainingRun\(\{ \.\.\. \}\)`/,
      ],
      [
        invalid,
        /^error: config .*invalid\.mjs is invalid\n[\s\S]*- budgett: unknown field \(did you mean "budget"\?\)/,
      ],
      [join(dir, 'missing.ts'), /^error: cannot read config .*missing\.ts \(ENOENT\)/],
      [join(dir, 'missing.json'), /^error: cannot read config .*missing\.json \(ENOENT\)/],
    ];
    for (const [file, message] of cases) {
      const run = await cli(['start', '--config', file]);
      assert.equal(run.code, ExitCode.Usage, file);
      assert.match(run.stderr, message, file);
    }
  });
});

describe('runCli', () => {
  it('rejects an invalid config with exit 2 before connecting', async () => {
    const file = writeFile(
      'bad.json',
      JSON.stringify({ trainer: { name: 'x', model: 'nope', dataset: { type: 'blob', url: 'ftp://x' } } }),
    );
    const run = await cli(['start', '--config', file]);
    assert.equal(run.code, ExitCode.Usage);
    assert.match(run.stderr, /trainer\.model: must be one of the supported models/);
    assert.match(run.stderr, /trainer\.dataset\.url:/);
  });

  it('reports a failure to connect in one line with exit 1', async () => {
    const run = await cli(['status', 'w']);
    assert.equal(run.code, ExitCode.Failure);
    assert.equal(run.stderr, 'error: must not connect\n');
  });

  it('passes the task queue and the connection flags to the connector and closes the connection', async () => {
    let given: unknown;
    let closed = false;
    const service = {
      stop: (id: string, reason: string) => {
        assert.deepEqual([id, reason], ['w', 'why']);
        return Promise.resolve({ effect: 'stopping', phase: 'running' });
      },
    } as unknown as RunService;
    const connect: ServiceConnector = (taskQueue, overrides) => {
      given = { taskQueue, overrides };
      return Promise.resolve({ service, close: () => Promise.resolve(void (closed = true)) });
    };
    const run = capture();
    assert.equal(
      await runCli(['stop', 'w', '--reason', 'why', '--address', 'a:7233', '-n', 'ml'], {
        io: run.io,
        connect,
        env: { TEMPORAL_TASK_QUEUE: 'from-env' },
      }),
      0,
    );
    assert.deepEqual(given, { taskQueue: 'from-env', overrides: { address: 'a:7233', namespace: 'ml' } });
    assert.equal(closed, true);
    assert.deepEqual(run.out, [
      'stop requested for run w: why\nstopping: the backend job is being cancelled (phase running)\n',
    ]);
  });

  it('refuses connection flags for the commands that do not connect', async () => {
    for (const argv of [
      ['--address', 'a:1', 'schema'],
      ['--task-queue', 'q', 'emulator'],
    ]) {
      const run = await cli(argv);
      assert.equal(run.code, ExitCode.Usage, argv.join(' '));
      assert.match(run.stderr, /takes no Temporal connection flags/);
    }
  });

  it('prints the JSON Schema of a run config', async () => {
    const run = await cli(['schema']);
    assert.equal(run.code, ExitCode.Ok);
    const schema = JSON.parse(run.stdout) as { properties: Record<string, unknown>; required: string[] };
    assert.deepEqual(schema.required, ['trainer']);
    assert.ok('$schema' in schema.properties && 'trainer' in schema.properties && !('resume' in schema.properties));
  });

  it('links a run in the Web UI from ARKOR_TEMPORAL_UI_URL, per namespace; an empty setting turns links off', () => {
    assert.equal(webUiRunUrl({}, 'default', 'a b'), 'http://localhost:8233/namespaces/default/workflows/a%20b');
    assert.equal(
      webUiRunUrl({ ARKOR_TEMPORAL_UI_URL: 'https://cloud.temporal.io/' }, 'ml.a1b2c', 'nightly'),
      'https://cloud.temporal.io/namespaces/ml.a1b2c/workflows/nightly',
    );
    assert.equal(webUiRunUrl({ ARKOR_TEMPORAL_UI_URL: '' }, 'default', 'w'), undefined);
  });
});
