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

Global options:
  --task-queue <name>   task queue of the workers (default: $TEMPORAL_TASK_QUEUE, else arkor-training)
  -h, --help            show this help

Temporal connection: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS and profile
settings (@temporalio/envconfig). Default address localhost:7233.

Exit codes: 0 success, 1 run failed/cancelled or Temporal error, 2 usage or config error.
See docs/cli.md.
`;
