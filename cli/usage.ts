/** The usage text printed by `--help`, by no arguments, and (on stderr) after a usage error. */
export const USAGE = `Usage: client <command> [options]

Commands:
  start --config <file> [--workflow-id <id>] [--watch] [--wait] [--json]
      Validate the JSON run config and start a training run. A workflow id that was used
      before attaches to that run instead of starting another one.
        --watch   show progress until the run ends (exit code as for --wait)
        --wait    wait for the run to end; exit 0 if completed or stopped, 1 if failed or cancelled
        --json    print JSON on stdout only (with --wait/--watch: the run's result; otherwise
                  {"workflowId", "attached"}); human messages go to stderr
  status <workflow-id> [--json]
      Show the run's live status (phase, step, losses, checkpoints, stop reason, errors).
  watch <workflow-id>
      Follow a run's progress until it ends, then print its outcome.
  stop <workflow-id> --reason <text>
      Stop a run early: the backend job is cancelled and the run ends "stopped".
  cancel <workflow-id>
      Cancel the workflow: the backend job is cancelled and the run ends "cancelled".
  approve <workflow-id> [--by <name>] [--reason <text>]
  reject <workflow-id> --reason <text> [--by <name>]
      Decide the promotion of a run waiting for approval (exit 1 if it is not waiting).
  list [--phase <phase>] [--model <model>] [--schedule <id>] [--limit <n>] [--json]
      Recent runs (newest first, default 20): workflow id, phase, job, model, best score,
      promotion. Best score and promotion need a worker to answer the status query.

Schedules (Temporal Schedules that start runs of a config):
  schedule create <id> --config <file> (--cron "<expr>" | --every <duration>) [--timezone <tz>]
                  [--overlap <policy>] [--catchup-window <duration>] [--pause-on-failure]
                  [--note <text>] [--update] [--json]
      Create a schedule (exit 1 if <id> exists, unless --update: then it is updated).
        --cron            cron expression, repeatable ("0 3 * * *"); --every: 30m, 1h, 1d
        --timezone        IANA zone for --cron (default UTC)
        --overlap         skip (default), buffer-one, buffer-all, cancel-other,
                          terminate-other, allow-all: what a due run does while one is running
        --catchup-window  how late a missed run may still start (default 1h)
        --pause-on-failure  pause the schedule when a run it started fails
  schedule update <id> ...as create
      Replace the config, spec and policies of an existing schedule (its paused state stays).
  schedule list [--json]
  schedule describe <id> [--json]
      Spec, policies, state, running and recent runs, next run times.
  schedule pause <id> [--note <text>]
  schedule unpause <id> [--note <text>]
  schedule trigger <id> [--overlap <policy>]
      Start a run now, under the schedule's overlap policy unless --overlap is given.
  schedule backfill <id> --start <ISO time> --end <ISO time> [--overlap <policy>]
      Take the runs the spec had due in that window.
  schedule delete <id>
      Delete the schedule; runs it started go on.

Global options:
  --task-queue <name>   task queue of the workers (default: $TEMPORAL_TASK_QUEUE, else arkor-training)
  -h, --help            show this help

Temporal connection: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS and profile
settings (@temporalio/envconfig). Default address localhost:7233.

Exit codes: 0 success, 1 run failed/cancelled or Temporal error, 2 usage or config error.
See docs/cli.md.
`;
