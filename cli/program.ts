/**
 * The command line, declared with commander: every command, its arguments, flags, choices, help
 * and examples. Parsing only builds a typed `Command` (nothing connects or starts here); commander
 * prints help, the version and usage errors, with "did you mean" suggestions for unknown commands
 * and flags.
 */
import { Command as Program, CommanderError, InvalidArgumentError, Option } from 'commander';
import { OVERLAP_POLICIES, type OverlapPolicy } from '../service/overlap-policy.js';
import type { ConnectionOverrides } from '../service/connection.js';
import { RunPhase } from '../contract/status.js';
import { durationTextMs } from '../contract/duration.js';
import { UsageError } from './errors.js';
import { ExitCode } from './exit-codes.js';
import {
  backfillWindow,
  DEFAULT_LIST_LIMIT,
  parseListFilter,
  parseListLimit,
  parseScheduleId,
  scheduleSpecCommand,
  type ListCommand,
  type ScheduleCommand,
  type ScheduleSpecValues,
} from './schedule-args.js';
import { packageVersion, PACKAGE_NAME } from './version.js';
import type { CodecServerCommand } from './codec-server.js';
import { deploymentNameProblem } from '../contract/deployments.js';

/** The raw flags of `emulator`, checked by `emulator/main.ts` (`emulatorOptions`). */
export interface EmulatorFlags {
  port?: string;
  token?: string;
  org?: string;
  project?: string;
  stepMs?: string;
  pingMs?: string;
  seed?: string;
  minClientVersion?: string;
  deprecatedBelow?: string;
  verbose?: boolean;
}

export type Command =
  | { kind: 'start'; configPath: string; workflowId?: string; watch: boolean; wait: boolean; json: boolean }
  | { kind: 'status'; workflowId: string; json: boolean }
  | { kind: 'watch'; workflowId: string; json: boolean }
  | { kind: 'stop'; workflowId: string; reason: string }
  | { kind: 'cancel'; workflowId: string }
  | { kind: 'approve'; workflowId: string; by?: string; reason?: string }
  | { kind: 'reject'; workflowId: string; by?: string; reason: string }
  | ScheduleCommand
  | ListCommand
  | { kind: 'worker'; callbacks?: string; scorers?: string; preconditions?: string }
  | { kind: 'emulator'; flags: EmulatorFlags }
  | { kind: 'dev'; configPath?: string }
  | { kind: 'server'; port?: number; uiPort?: number; dbFilename?: string }
  | { kind: 'schema' }
  | ReportCommand
  | CodecServerCommand
  | DeployCommand;

/** `deploy <sub>`: the worker deployment's versions and routing. `deployment` undefined: as ARKOR_DEPLOYMENT_NAME says. */
export type DeployCommand =
  | { kind: 'deploy-status'; deployment?: string; json: boolean }
  | { kind: 'deploy-set-current'; buildId: string; deployment?: string }
  | { kind: 'deploy-ramp'; buildId: string; percent: number; deployment?: string }
  | { kind: 'deploy-unramp'; deployment?: string };

/** `report <workflow-id>`: a run report from the run's history (cli/commands/report.ts). */
export interface ReportCommand {
  kind: 'report';
  workflowId: string;
  /** Where to write the HTML page / the loss chart alone. */
  html?: string;
  svg?: string;
  json: boolean;
}

/** The parsed command line. */
export interface CliArgs {
  command: Command;
  /** `--task-queue`; undefined when not given (the environment or the default applies). */
  taskQueue?: string;
  /** The connection flags given (undefined ones: as envconfig says). */
  connection: ConnectionOverrides;
}

/** What parsing came to: a command to run, or an exit code (help, version, a usage error, all printed). */
export type ParseOutcome = { kind: 'run'; args: CliArgs } | { kind: 'exit'; code: ExitCode };

export interface ParseOutput {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/** The flags every command that reaches Temporal takes, as commander names their values. */
interface ConnectionFlagValues {
  address?: string;
  namespace?: string;
  apiKey?: string;
  tls?: boolean;
  tlsCertPath?: string;
  tlsKeyPath?: string;
  tlsCaPath?: string;
  tlsServerName?: string;
  profile?: string;
  env?: string;
  configFile?: string;
  clientConnectTimeout?: number;
  taskQueue?: string;
}

const HELP_HINT = `(run "${PACKAGE_NAME} --help", or "${PACKAGE_NAME} <command> --help", for usage)`;

/** Parses `argv` (without the node and script paths), printing help, version and usage errors. */
export function parseCommandLine(argv: readonly string[], output: ParseOutput): ParseOutcome {
  let parsed: CliArgs | undefined;
  const program = buildProgram(output, (args) => (parsed = args));
  if (argv.length === 0) {
    program.outputHelp();
    return { kind: 'exit', code: ExitCode.Ok };
  }
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return { kind: 'exit', code: exitCodeOf(error) };
    if (error instanceof UsageError) {
      output.stderr(`error: ${error.message}\n${HELP_HINT}\n`);
      return { kind: 'exit', code: ExitCode.Usage };
    }
    throw error;
  }
  // Every command has an action; only a bare group (`schedule`) gets here, and commander printed its help.
  return parsed ? { kind: 'run', args: parsed } : { kind: 'exit', code: ExitCode.Usage };
}

/** Help and version end the program successfully; every other commander ending is a usage error. */
function exitCodeOf(error: CommanderError): ExitCode {
  if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return ExitCode.Ok;
  if (error.code === 'commander.help' && error.exitCode === 0) return ExitCode.Ok;
  return ExitCode.Usage;
}

/** The whole command tree; `done` receives the parsed command from the action that ran. */
export function buildProgram(output: ParseOutput, done: (args: CliArgs) => void): Program {
  const program = new Program(PACKAGE_NAME)
    .description('Start, follow and manage Arkor fine-tuning runs on Temporal; run its worker and local services.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .configureOutput({
      writeOut: output.stdout,
      writeErr: output.stderr,
      outputError: (text, write) => write(text),
    })
    .exitOverride()
    .showSuggestionAfterError(true)
    .showHelpAfterError(HELP_HINT)
    .enablePositionalOptions()
    .configureHelp({ sortSubcommands: false, showGlobalOptions: false })
    .commandsGroup('Runs:');
  // Connection flags may also come before the command, as in the Temporal CLI.
  addConnectionOptions(program, { hidden: true });
  program.addHelpText('after', PROGRAM_EPILOGUE);

  /** Parses the command line into `args`, merging connection flags given before and after the command. */
  const finish = (command: Command, cmd: Program): void => {
    const values = cmd.optsWithGlobals<ConnectionFlagValues>();
    done({
      command,
      ...(values.taskQueue === undefined ? {} : { taskQueue: values.taskQueue }),
      connection: connectionOf(values),
    });
  };

  const start = program
    .command('start')
    .summary('validate a run config and start a training run')
    .description(
      'Validate a run config and start a training run. A workflow id that was used before attaches to that run ' +
        'instead of starting another one.',
    )
    .requiredOption(
      '-c, --config <file>',
      'the run config: JSON, or a .ts/.js module exporting defineTrainingRun({...})',
    )
    .option(
      '-w, --workflow-id <id>',
      "the run's workflow id (default train-<name>-<random>); reusing one attaches",
      nonEmpty,
    )
    .option('--watch', 'show progress until the run ends, then the outcome (exit code as for --wait)')
    .option('--wait', 'wait for the run to end; exit 0 if it completed or stopped, 1 if it failed or was cancelled');
  addOutputOptions(start, 'with --wait/--watch: the RunResult; otherwise {"workflowId","attached","webUrl"}');
  addConnectionOptions(start);
  start
    .addHelpText(
      'after',
      examples([
        'start --config examples/train.json --watch',
        'start --config train.ts --workflow-id nightly-2025-06-01 --wait --json',
        'start --config examples/train.json --address temporal.internal:7233 --namespace ml',
      ]),
    )
    .action((options: { config: string; workflowId?: string; watch?: boolean; wait?: boolean }, cmd: Program) =>
      finish(
        {
          kind: 'start',
          configPath: options.config,
          ...(options.workflowId === undefined ? {} : { workflowId: options.workflowId }),
          watch: options.watch ?? false,
          wait: options.wait ?? false,
          json: isJson(cmd),
        },
        cmd,
      ),
    );

  const status = program
    .command('status')
    .summary("a run's live status")
    .description("Show a run's live status: phase, step, losses, checkpoints, stop reason, errors, Web UI link.")
    .argument('<workflow-id>', "the run's workflow id", nonEmpty);
  addOutputOptions(status, 'the RunStatus object');
  addConnectionOptions(status);
  status
    .addHelpText('after', examples(['status nightly-2025-06-01', 'status nightly-2025-06-01 --json | jq .phase']))
    .action((workflowId: string, _options: unknown, cmd: Program) =>
      finish({ kind: 'status', workflowId, json: isJson(cmd) }, cmd),
    );

  const watch = program
    .command('watch')
    .summary("follow a run's progress until it ends")
    .description("Follow a run's progress until it ends, then print its outcome.")
    .argument('<workflow-id>', "the run's workflow id", nonEmpty);
  addOutputOptions(watch, 'one JSON object per line: progress, checkpoint, and a last outcome line');
  addConnectionOptions(watch);
  watch
    .addHelpText('after', examples(['watch nightly-2025-06-01', 'watch nightly-2025-06-01 --json | jq -c .step']))
    .action((workflowId: string, _options: unknown, cmd: Program) =>
      finish({ kind: 'watch', workflowId, json: isJson(cmd) }, cmd),
    );

  const stop = program
    .command('stop')
    .summary('stop a run early (the run ends "stopped")')
    .description('Stop a run early: the backend job is cancelled and the run ends "stopped".')
    .argument('<workflow-id>', "the run's workflow id", nonEmpty)
    .requiredOption('-r, --reason <text>', "why (kept in the run's status and result)", nonEmpty);
  addConnectionOptions(stop);
  stop
    .addHelpText('after', examples(['stop nightly-2025-06-01 --reason "loss looks fine"']))
    .action((workflowId: string, options: { reason: string }, cmd: Program) =>
      finish({ kind: 'stop', workflowId, reason: options.reason }, cmd),
    );

  const cancel = program
    .command('cancel')
    .summary('cancel a run (the run ends "cancelled")')
    .description('Cancel the workflow: the backend job is cancelled and the run ends "cancelled".')
    .argument('<workflow-id>', "the run's workflow id", nonEmpty);
  addConnectionOptions(cancel);
  cancel
    .addHelpText('after', examples(['cancel nightly-2025-06-01']))
    .action((workflowId: string, _options: unknown, cmd: Program) => finish({ kind: 'cancel', workflowId }, cmd));

  for (const decision of ['approve', 'reject'] as const) {
    const decide = program
      .command(decision)
      .summary(`${decision} the promotion of a run waiting for approval`)
      .description(
        `${decision === 'approve' ? 'Approve' : 'Reject'} the promotion of a run waiting for approval ` +
          '(exit 1 if it is not waiting).',
      )
      .argument('<workflow-id>', "the run's workflow id", nonEmpty)
      .option('--by <name>', 'who decides (recorded in the status)', trimmed);
    if (decision === 'reject') decide.requiredOption('-r, --reason <text>', 'why', nonEmpty);
    else decide.option('-r, --reason <text>', 'why', trimmed);
    addConnectionOptions(decide);
    decide
      .addHelpText(
        'after',
        examples(
          decision === 'approve'
            ? ['approve nightly-2025-06-01 --by alice']
            : ['reject nightly-2025-06-01 --reason "gate passed but answers are off" --by alice'],
        ),
      )
      .action((workflowId: string, options: { by?: string; reason?: string }, cmd: Program) => {
        const by = options.by ? { by: options.by } : {};
        if (decision === 'approve') {
          finish({ kind: 'approve', workflowId, ...by, ...(options.reason ? { reason: options.reason } : {}) }, cmd);
        } else {
          finish({ kind: 'reject', workflowId, ...by, reason: options.reason ?? '' }, cmd);
        }
      });
  }

  const list = program
    .command('list')
    .summary('recent runs, newest first')
    .description(
      'Recent runs, newest first: workflow id, phase, job, model, best score, promotion (the last two need a worker).',
    )
    .addOption(new Option('--phase <phase>', 'only runs in this phase').choices(Object.values(RunPhase)))
    .option('--model <model>', 'only runs of this base model', (value: string) =>
      commanderParse(() => parseListFilter('model', value)),
    )
    .option('--schedule <id>', 'only runs started by this schedule', (value: string) =>
      commanderParse(() => parseListFilter('schedule', value)),
    )
    .option('--limit <n>', `at most this many runs, 1 to 1000 (default ${DEFAULT_LIST_LIMIT})`, (value: string) =>
      commanderParse(() => parseListLimit(value)),
    );
  addOutputOptions(list, 'an array of run summaries');
  addConnectionOptions(list);
  list
    .addHelpText('after', examples(['list --phase running', 'list --schedule nightly --limit 5 --json']))
    .action((options: { phase?: string; model?: string; schedule?: string; limit?: number }, cmd: Program) =>
      finish(
        {
          kind: 'list',
          ...(options.phase ? { phase: options.phase } : {}),
          ...(options.model ? { model: options.model } : {}),
          ...(options.schedule ? { schedule: options.schedule } : {}),
          limit: options.limit ?? DEFAULT_LIST_LIMIT,
          json: isJson(cmd),
        },
        cmd,
      ),
    );

  addScheduleCommands(program, finish);
  addDeployCommands(program, finish);

  const worker = program
    .command('worker')
    .helpGroup('Local processes:')
    .summary('run a worker')
    .description(
      'Run a worker: polls the task queue, runs the workflows and their activities, until SIGTERM/SIGINT. ' +
        'Settings from the environment as for `npm run worker` (README, "The worker"); the flags win.',
    )
    .option('--callbacks <module>', 'module exporting callback sets (ARKOR_CALLBACKS_MODULE)', nonEmpty)
    .option('--scorers <module>', 'module exporting scorer functions (ARKOR_SCORERS_MODULE)', nonEmpty)
    .option(
      '--preconditions <module>',
      'module exporting precondition functions (ARKOR_PRECONDITIONS_MODULE)',
      nonEmpty,
    );
  addConnectionOptions(worker, {
    taskQueueHelp: 'the task queue to poll (TEMPORAL_TASK_QUEUE; default arkor-training)',
  });
  worker
    .addHelpText(
      'after',
      examples([
        'worker',
        'worker --task-queue arkor-dev --callbacks ./callbacks.ts --scorers examples/scorers.ts',
        'worker --address my-ns.a1b2c.tmprl.cloud:7233 --namespace my-ns.a1b2c --api-key "$TEMPORAL_API_KEY"',
      ]),
    )
    .action((options: { callbacks?: string; scorers?: string; preconditions?: string }, cmd: Program) =>
      finish(
        {
          kind: 'worker',
          ...(options.callbacks ? { callbacks: options.callbacks } : {}),
          ...(options.scorers ? { scorers: options.scorers } : {}),
          ...(options.preconditions ? { preconditions: options.preconditions } : {}),
        },
        cmd,
      ),
    );

  const dev = program
    .command('dev')
    .helpGroup('Local processes:')
    .summary('a whole training run locally: dev server, emulator, worker, progress')
    .description(
      'One command for a whole training run: starts what is not running (the Temporal dev server, the Arkor ' +
        'emulator unless ARKOR_CLOUD_API_URL is set, a worker), runs the config with live progress, then keeps ' +
        'everything up until Ctrl-C (with CI=true: exits, 0 if the run completed).',
    )
    .argument('[config]', 'the run config (default examples/train.json)');
  addConnectionOptions(dev, {
    taskQueueHelp: "its worker's task queue (TEMPORAL_TASK_QUEUE; default arkor-dev)",
    addressHelp: 'a Temporal server to use instead of starting the dev server (TEMPORAL_ADDRESS)',
  });
  dev
    .addHelpText('after', examples(['dev', 'dev path/to/train.ts', 'CI=true arkor-temporal dev']))
    .action((configPath: string | undefined, _options: unknown, cmd: Program) =>
      finish({ kind: 'dev', ...(configPath ? { configPath } : {}) }, cmd),
    );

  program
    .command('server')
    .helpGroup('Local processes:')
    .summary('run the local Temporal dev server with its Web UI')
    .description(
      'Run the local Temporal dev server (the Temporal CLI, located or built once), persistent, with its Web UI ' +
        'and the search attributes registered. Ctrl-C stops it.',
    )
    .option('--port <port>', 'gRPC port (TEMPORAL_DEV_PORT; default 7233)', port)
    .option('--ui-port <port>', 'Web UI port (TEMPORAL_DEV_UI_PORT; default 8233)', port)
    .option('--db-filename <file>', 'the database file (default .data/temporal.db)', nonEmpty)
    .addHelpText('after', examples(['server', 'server --port 7234 --ui-port 8234 --db-filename /tmp/temporal.db']))
    .action((options: { port?: number; uiPort?: number; dbFilename?: string }, cmd: Program) =>
      finish({ kind: 'server', ...options }, cmd),
    );

  program
    .command('emulator')
    .helpGroup('Local processes:')
    .summary('run the local Arkor cloud-api emulator')
    .description(
      'Run the local Arkor cloud-api emulator. Prints its base URL as the first line of stdout (scripts read it).',
    )
    .option('--port <port>', 'port to listen on (default 0: any free port)')
    .option('--token <token>', 'the bearer token it accepts (default emulator-token)')
    .option('--org <slug>', 'organization slug (default local-org)')
    .option('--project <slug>', 'project slug (default local-project)')
    .option('--step-ms <ms>', 'milliseconds per training step (default 50)')
    .option('--ping-ms <ms>', 'interval of stream pings (default 15000)')
    .option('--seed <n>', 'seed of the simulated losses')
    .option('--min-client-version <semver>', 'answer 426 to older clients')
    .option('--deprecated-below <semver>', 'warn clients older than this')
    .option('--verbose', 'log every request')
    .addHelpText('after', examples(['emulator --port 4000 --step-ms 20']))
    .action((flags: EmulatorFlags, cmd: Program) => finish({ kind: 'emulator', flags }, cmd));

  program
    .command('schema')
    .helpGroup('Local processes:')
    .summary('print the JSON Schema of a run config')
    .description(
      'Print the JSON Schema of a run config (point a config\'s "$schema" at schema/training-run.schema.json ' +
        'for completion and checks in an editor).',
    )
    .addHelpText('after', examples(['schema > training-run.schema.json']))
    .action((_options: unknown, cmd: Program) => finish({ kind: 'schema' }, cmd));

  addReportCommands(program, finish);
  return program;
}

/** `report` (a run's report from its history) and `codec-server` (the Web UI's remote codec). */
function addReportCommands(program: Program, finish: (command: Command, cmd: Program) => void): void {
  const report = program
    .command('report')
    .helpGroup('Runs:')
    .summary("a run's report: loss curves, checkpoints, gate, promotion, timeline (HTML or SVG)")
    .description(
      "Write a run's report, read from its workflow history (no worker needed; an encrypted run needs " +
        'ARKOR_PAYLOAD_KEY): the loss and eval-loss curves, checkpoints and their scores against the base model, ' +
        'the gate, the promotion, the timeline of phases and how the run ended. --html writes a self-contained ' +
        'page, --svg the loss chart alone, --json prints the report data.',
    )
    .argument('<workflow-id>', "the run's workflow id", nonEmpty)
    .option('--html <file>', 'write the report as one self-contained HTML page', nonEmpty)
    .option('--svg <file>', 'write the loss chart alone as SVG', nonEmpty);
  addOutputOptions(report, 'the report data on stdout (RunReport in cli/report/model.ts)');
  addConnectionOptions(report);
  report
    .addHelpText(
      'after',
      examples([
        'report nightly-2025-06-01 --html report.html',
        'report nightly-2025-06-01 --svg loss.svg --html report.html',
        'report nightly-2025-06-01 --json | jq .status.gate',
      ]),
    )
    .action((workflowId: string, options: { html?: string; svg?: string }, cmd: Program) => {
      const json = isJson(cmd);
      if (!options.html && !options.svg && !json)
        throw new UsageError('report needs --html <file>, --svg <file> or --json');
      finish(
        {
          kind: 'report',
          workflowId,
          ...(options.html === undefined ? {} : { html: options.html }),
          ...(options.svg === undefined ? {} : { svg: options.svg }),
          json,
        },
        cmd,
      );
    });

  program
    .command('codec-server')
    .helpGroup('Local processes:')
    .summary("serve Temporal's remote codec for the Web UI and the Temporal CLI (ARKOR_PAYLOAD_KEY)")
    .description(
      "Serve Temporal's remote codec protocol (POST /encode, /decode) with the payload key of ARKOR_PAYLOAD_KEY, so " +
        'that the Web UI ("Codec Server" endpoint) and `temporal --codec-endpoint` show encrypted runs in clear. ' +
        'CORS admits the Web UI origins only; with ARKOR_CODEC_AUTH set, requests must carry that exact ' +
        'Authorization header. Prints its endpoint first; runs until Ctrl-C.',
    )
    .option('--port <port>', 'port to listen on (default 8888; 0: any free port)', (value: string) =>
      value === '0' ? 0 : port(value),
    )
    .option('--host <address>', 'address to listen on (default 127.0.0.1: this machine only)', nonEmpty)
    .option(
      '--ui-origin <origin>',
      'a Web UI origin allowed by CORS, repeatable (ARKOR_CODEC_CORS_ORIGINS, comma-separated; ' +
        'default http://localhost:8233 and http://127.0.0.1:8233)',
      collect,
    )
    .addHelpText(
      'after',
      examples([
        'codec-server',
        'codec-server --port 8081 --ui-origin https://temporal.internal.example',
        'codec-server --port 0   # any free port; the endpoint is the first line printed',
      ]),
    )
    .action((options: { port?: number; host?: string; uiOrigin?: string[] }, cmd: Program) =>
      finish(
        {
          kind: 'codec-server',
          ...(options.port === undefined ? {} : { port: options.port }),
          ...(options.host === undefined ? {} : { host: options.host }),
          ...(options.uiOrigin === undefined ? {} : { uiOrigins: options.uiOrigin }),
        },
        cmd,
      ),
    );
}

/** `schedule <sub>`: Temporal Schedules that start runs of a config. */
function addScheduleCommands(program: Program, finish: (command: Command, cmd: Program) => void): void {
  const schedule = program
    .command('schedule')
    .summary('Temporal Schedules that start runs of a config')
    .description('Create, inspect and operate Temporal Schedules that start runs of a config.')
    .addHelpText(
      'after',
      examples([
        'schedule create nightly --config examples/train.json --cron "0 3 * * *" --timezone Europe/Berlin',
        'schedule describe nightly',
        'schedule trigger nightly',
      ]),
    );
  const scheduleId = ['<schedule-id>', 'the schedule id (letters, digits, ".", "_", "-")', scheduleIdArgument] as const;

  for (const sub of ['create', 'update'] as const) {
    const command = schedule
      .command(sub)
      .description(
        sub === 'create'
          ? 'Create a schedule (exit 1 if the id exists, unless --update: then it is updated).'
          : 'Replace the config, spec and policies of an existing schedule (its paused state stays).',
      )
      .argument(...scheduleId)
      .requiredOption('-c, --config <file>', 'the run config (JSON or a .ts/.js module)')
      .option('--cron <expr>', 'a cron expression, repeatable ("0 3 * * *", @daily)', collect)
      .option('--every <duration>', 'a fixed interval instead: 30m, 1h, 1d')
      .option('--timezone <tz>', 'IANA time zone for --cron (default UTC)')
      .addOption(
        new Option('--overlap <policy>', 'what a due run does while one is running (default skip)').choices(
          OVERLAP_POLICIES,
        ),
      )
      .option('--catchup-window <duration>', 'how late a missed run may still start (default 1h)')
      .option('--pause-on-failure', 'pause the schedule when a run it started fails')
      .option('--note <text>', 'a note kept with the schedule');
    if (sub === 'create') command.option('--update', 'update the schedule if the id exists');
    addOutputOptions(command, '{"scheduleId","updated"}');
    addConnectionOptions(command);
    command
      .addHelpText(
        'after',
        examples([
          `schedule ${sub} nightly --config examples/train.json --cron "0 3 * * *" --timezone Europe/Berlin`,
          `schedule ${sub} hourly --config examples/train.json --every 1h --overlap buffer-one`,
        ]),
      )
      .action((id: string, options: ScheduleSpecValues, cmd: Program) =>
        finish(scheduleSpecCommand(sub, id, options, isJson(cmd)), cmd),
      );
  }

  const listSchedules = schedule.command('list').description('Every schedule: id, state, next run, latest run.');
  addOutputOptions(listSchedules, 'an array of schedules');
  addConnectionOptions(listSchedules);
  listSchedules
    .addHelpText('after', examples(['schedule list', 'schedule list --json']))
    .action((_options: unknown, cmd: Program) => finish({ kind: 'schedule-list', json: isJson(cmd) }, cmd));

  const describe = schedule
    .command('describe')
    .description('Spec, policies, state, running and recent runs, next run times.')
    .argument(...scheduleId);
  addOutputOptions(describe, 'the schedule description');
  addConnectionOptions(describe);
  describe
    .addHelpText('after', examples(['schedule describe nightly']))
    .action((id: string, _options: unknown, cmd: Program) =>
      finish({ kind: 'schedule-describe', scheduleId: id, json: isJson(cmd) }, cmd),
    );

  for (const sub of ['pause', 'unpause'] as const) {
    const command = schedule
      .command(sub)
      .description(sub === 'pause' ? 'Stop the runs due by the spec.' : 'Resume the runs due by the spec.')
      .argument(...scheduleId)
      .option('--note <text>', 'a note kept with the schedule', trimmed);
    addConnectionOptions(command);
    command
      .addHelpText('after', examples([`schedule ${sub} nightly --note "dataset migration"`]))
      .action((id: string, options: { note?: string }, cmd: Program) =>
        finish({ kind: `schedule-${sub}`, scheduleId: id, ...(options.note ? { note: options.note } : {}) }, cmd),
      );
  }

  const overlapOption = () =>
    new Option('--overlap <policy>', "overlap policy for this request (default: the schedule's)").choices(
      OVERLAP_POLICIES,
    );
  const trigger = schedule
    .command('trigger')
    .description("Start a run now, under the schedule's overlap policy unless --overlap is given.")
    .argument(...scheduleId)
    .addOption(overlapOption());
  addConnectionOptions(trigger);
  trigger
    .addHelpText('after', examples(['schedule trigger nightly', 'schedule trigger nightly --overlap allow-all']))
    .action((id: string, options: { overlap?: OverlapPolicy }, cmd: Program) =>
      finish(
        { kind: 'schedule-trigger', scheduleId: id, ...(options.overlap ? { overlap: options.overlap } : {}) },
        cmd,
      ),
    );

  const backfill = schedule
    .command('backfill')
    .description('Take the runs the spec had due in a past window.')
    .argument(...scheduleId)
    .requiredOption('--start <ISO time>', 'start of the window, e.g. 2025-06-01T00:00:00Z')
    .requiredOption('--end <ISO time>', 'end of the window')
    .addOption(overlapOption());
  addConnectionOptions(backfill);
  backfill
    .addHelpText(
      'after',
      examples(['schedule backfill nightly --start 2025-06-01T00:00:00Z --end 2025-06-03T00:00:00Z']),
    )
    .action((id: string, options: { start: string; end: string; overlap?: OverlapPolicy }, cmd: Program) =>
      finish(
        {
          kind: 'schedule-backfill',
          scheduleId: id,
          ...backfillWindow(options.start, options.end),
          ...(options.overlap ? { overlap: options.overlap } : {}),
        },
        cmd,
      ),
    );

  const remove = schedule
    .command('delete')
    .description('Delete the schedule; runs it started go on.')
    .argument(...scheduleId);
  addConnectionOptions(remove);
  remove
    .addHelpText('after', examples(['schedule delete nightly']))
    .action((id: string, _options: unknown, cmd: Program) => finish({ kind: 'schedule-delete', scheduleId: id }, cmd));
}

/** `deploy <sub>`: which version of the workers new runs start on, and which versions still have runs. */
function addDeployCommands(program: Program, finish: (command: Command, cmd: Program) => void): void {
  const deploy = program
    .command('deploy')
    .helpGroup('Deploys:')
    .summary("the workers' versions: where new runs start, what is still pinned where")
    .description(
      'Worker Versioning (README "Deploys"): every run is pinned to the version of the workers it started on and ' +
        'moves to the current version at its next continue-as-new. Show the versions and their pinned runs, make ' +
        'a version current, or ramp it.',
    )
    .addHelpText(
      'after',
      examples(['deploy status', 'deploy set-current 0.2.0-3f9a1c2b7d4e5f60', 'deploy ramp 0.2.0-3f9a1c2b7d4e5f60 10']),
    );
  const deploymentOption = (command: Program): Program =>
    command.option(
      '--deployment <name>',
      'the worker deployment (ARKOR_DEPLOYMENT_NAME; default arkor-temporal)',
      (value: string) => commanderParse(() => parseDeploymentName(value)),
    );
  const deploymentOf = (options: { deployment?: string }) =>
    options.deployment === undefined ? {} : { deployment: options.deployment };
  const buildIdArgument = [
    '<build-id>',
    "the version's build id (the workers' ready line prints it)",
    nonEmpty,
  ] as const;

  const status = deploymentOption(
    deploy
      .command('status')
      .summary('versions, where new runs start, pinned runs per version')
      .description(
        'The current and ramping versions, and per version its open pinned runs: a version that is neither ' +
          'current nor ramping and has none left can have its workers stopped.',
      ),
  );
  addOutputOptions(status, 'the deployment: currentBuildId, ramping, versions with pinnedRunning');
  addConnectionOptions(status);
  status
    .addHelpText('after', examples(['deploy status', 'deploy status --deployment arkor-eu --json']))
    .action((options: { deployment?: string }, cmd: Program) =>
      finish({ kind: 'deploy-status', ...deploymentOf(options), json: isJson(cmd) }, cmd),
    );

  const setCurrent = deploymentOption(
    deploy
      .command('set-current')
      .summary('make a version current')
      .description(
        'Make a version current: new runs start on it, runs of other versions move to it at their next ' +
          'continue-as-new; runs pinned to other versions finish there. Its workers must already poll.',
      )
      .argument(...buildIdArgument),
  );
  addConnectionOptions(setCurrent);
  setCurrent
    .addHelpText('after', examples(['deploy set-current 0.2.0-3f9a1c2b7d4e5f60']))
    .action((buildId: string, options: { deployment?: string }, cmd: Program) =>
      finish({ kind: 'deploy-set-current', buildId, ...deploymentOf(options) }, cmd),
    );

  const ramp = deploymentOption(
    deploy
      .command('ramp')
      .summary('send a percentage of new runs to a version')
      .description(
        'Send a percentage of new runs (and of continue-as-new moves) to a version instead of the current one; ' +
          '`set-current` of that version ends the ramp, `unramp` abandons it.',
      )
      .argument(...buildIdArgument)
      .argument('<percent>', 'from 0 to 100', (value: string) => commanderParse(() => parsePercent(value))),
  );
  addConnectionOptions(ramp);
  ramp
    .addHelpText('after', examples(['deploy ramp 0.2.0-3f9a1c2b7d4e5f60 10']))
    .action((buildId: string, percent: number, options: { deployment?: string }, cmd: Program) =>
      finish({ kind: 'deploy-ramp', buildId, percent, ...deploymentOf(options) }, cmd),
    );

  const unramp = deploymentOption(
    deploy
      .command('unramp')
      .summary('end a ramp')
      .description('End a ramp: every new run starts on the current version again.'),
  );
  addConnectionOptions(unramp);
  unramp
    .addHelpText('after', examples(['deploy unramp']))
    .action((options: { deployment?: string }, cmd: Program) =>
      finish({ kind: 'deploy-unramp', ...deploymentOf(options) }, cmd),
    );
}

function parseDeploymentName(value: string): string {
  const name = value.trim();
  const problem = deploymentNameProblem(name);
  if (problem) throw new UsageError(`a deployment name ${problem}.`);
  return name;
}

function parsePercent(value: string): number {
  const percent = Number(value);
  if (value.trim() === '' || !Number.isFinite(percent) || percent < 0 || percent > 100)
    throw new UsageError('must be a number from 0 to 100.');
  return percent;
}

/** `-o, --output text|json` and its shorthand `--json`. */
function addOutputOptions(command: Program, jsonMeans: string): void {
  command
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(new Option('--json', `same as --output json: ${jsonMeans}`).conflicts('output'));
}

function isJson(command: Program): boolean {
  const options = command.opts<{ output?: string; json?: boolean }>();
  return options.json === true || options.output === 'json';
}

/**
 * The Temporal connection flags, named as in the Temporal CLI, and `--task-queue`. Each given flag
 * wins over the TEMPORAL_* variables and the envconfig profile.
 */
function addConnectionOptions(
  command: Program,
  options: { hidden?: boolean; taskQueueHelp?: string; addressHelp?: string } = {},
): void {
  const add = (option: Option) =>
    command.addOption(options.hidden ? option.hideHelp() : option.helpGroup('Temporal connection:'));
  add(
    new Option(
      '--task-queue <name>',
      options.taskQueueHelp ?? "the workers' task queue (TEMPORAL_TASK_QUEUE; default arkor-training)",
    ).argParser(nonEmpty),
  );
  add(
    new Option(
      '--address <host:port>',
      options.addressHelp ?? 'Temporal gRPC endpoint (TEMPORAL_ADDRESS; default localhost:7233)',
    ),
  );
  add(new Option('-n, --namespace <namespace>', 'Temporal namespace (TEMPORAL_NAMESPACE; default "default")'));
  add(new Option('--api-key <key>', 'API key, e.g. for Temporal Cloud (TEMPORAL_API_KEY; turns TLS on)'));
  add(new Option('--tls', 'use TLS (TEMPORAL_TLS); implied by --api-key and the other --tls-* flags'));
  add(new Option('--no-tls', 'no TLS, whatever the profile says'));
  add(new Option('--tls-cert-path <file>', 'client certificate for mTLS (TEMPORAL_TLS_CLIENT_CERT_PATH)'));
  add(new Option('--tls-key-path <file>', 'client private key for mTLS (TEMPORAL_TLS_CLIENT_KEY_PATH)'));
  add(new Option('--tls-ca-path <file>', 'server CA certificate (TEMPORAL_TLS_SERVER_CA_CERT_PATH)'));
  add(new Option('--tls-server-name <name>', 'override the TLS server name (TEMPORAL_TLS_SERVER_NAME)'));
  add(new Option('--profile <name>', 'envconfig profile of the config file (TEMPORAL_PROFILE; default "default")'));
  add(new Option('--env <name>', "the same as --profile (the Temporal CLI's name for the environment)"));
  add(
    new Option(
      '--config-file <file>',
      'envconfig TOML file (TEMPORAL_CONFIG_FILE; default ~/.config/temporalio/temporal.toml)',
    ),
  );
  add(
    new Option(
      '--client-connect-timeout <duration>',
      'how long to wait for the server to answer (default 2s)',
    ).argParser((value: string) => {
      const ms = durationTextMs(value);
      if (ms === undefined) throw new InvalidArgumentError('must be a duration such as 500ms, 2s or 1m.');
      return ms;
    }),
  );
}

function connectionOf(values: ConnectionFlagValues): ConnectionOverrides {
  if (values.env !== undefined && values.profile !== undefined && values.env !== values.profile)
    throw new UsageError(`--env ${values.env} and --profile ${values.profile} disagree (they name the same thing)`);
  const profile = values.profile ?? values.env;
  const entries: Array<[keyof ConnectionOverrides, string | number | boolean | undefined]> = [
    ['address', values.address],
    ['namespace', values.namespace],
    ['apiKey', values.apiKey],
    ['tls', values.tls],
    ['tlsCertPath', values.tlsCertPath],
    ['tlsKeyPath', values.tlsKeyPath],
    ['tlsCaPath', values.tlsCaPath],
    ['tlsServerName', values.tlsServerName],
    ['profile', profile],
    ['configFile', values.configFile],
    ['connectTimeoutMs', values.clientConnectTimeout],
  ];
  return Object.fromEntries(entries.filter(([, value]) => value !== undefined));
}

const PROGRAM_EPILOGUE = `
Connection (commands that reach Temporal): --address, --namespace, --api-key, --tls*, --profile,
--config-file, as in the Temporal CLI, over TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
TEMPORAL_TLS_*, TEMPORAL_PROFILE and TEMPORAL_CONFIG_FILE (@temporalio/envconfig); a flag wins.
Web UI links: ARKOR_TEMPORAL_UI_URL (default http://localhost:8233; empty: no links).

Exit codes: 0 ok (a waited run completed or stopped), 1 the run failed or was cancelled, or another
error, 2 usage or config error, 3 no Temporal server reachable, 4 no worker polls the run's task queue.
See docs/cli.md.
`;

function examples(lines: readonly string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${PACKAGE_NAME} ${line}`).join('\n')}\n`;
}

/** A repeatable flag's values. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function nonEmpty(value: string): string {
  const text = value.trim();
  if (text === '') throw new InvalidArgumentError('must not be empty.');
  return text;
}

function trimmed(value: string): string {
  return value.trim();
}

function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65_535) throw new InvalidArgumentError('must be a port number, 1 to 65535.');
  return n;
}

function scheduleIdArgument(value: string): string {
  return commanderParse(() => parseScheduleId(value));
}

/** Runs a checker that throws `UsageError`, as a commander argument parser (which names the flag). */
function commanderParse<T>(check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof UsageError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

/**
 * Parses without printing, for tests and tools: help, the version and usage errors throw a
 * `UsageError` whose message is what commander would have printed on stderr (without the hint).
 */
export function parseCliArgs(argv: readonly string[]): CliArgs {
  let printed = '';
  const outcome = parseCommandLine(argv, { stdout: () => undefined, stderr: (text) => (printed += text) });
  if (outcome.kind === 'run') return outcome.args;
  throw new UsageError(
    printed
      .replace(HELP_HINT, '')
      .replace(/^error: /, '')
      .trim() || `exit ${outcome.code}`,
  );
}
