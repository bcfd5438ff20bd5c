/**
 * The training metrics a worker serves in Prometheus format beside the SDK's `temporal_*` ones
 * (README "Metrics"): every name, kind and label, in one catalogue that the code emits from and
 * the Grafana dashboard is checked against (`docs/grafana/arkor-training.json`).
 *
 * Two sources. The workflow reports what its status says (step, loss, backlog, scores, events
 * received and dispatched, outcomes) through the worker's `arkorMetrics` sink, once per
 * activation and never while replaying; the worker turns each report into metrics with the
 * labels its settings choose (a per-run `workflow_id` label is opt-in: ARKOR_METRICS_RUN_LABEL).
 * Activities record what only they see (events read from Arkor, reconnects, failed callback
 * calls) through their context's metric meter.
 *
 * Every metric also has the SDK's labels: `namespace` and `taskQueue` (and `activityType` for
 * the activities' metrics). Counters have no `_total` suffix (the SDK's exporter adds none).
 */
import type { Sink, Sinks } from '@temporalio/workflow';

export type MetricKind = 'counter' | 'gauge' | 'histogram';

export interface MetricDefinition {
  readonly name: string;
  readonly kind: MetricKind;
  readonly valueType: 'int' | 'float';
  readonly description: string;
  /** Labels of our own, beside the SDK's (see {@link SDK_LABELS}). */
  readonly labels: readonly string[];
  /** Who records it: the workflow (through the sink) or an activity. */
  readonly source: 'workflow' | 'activity';
  /** Gauges that take the opt-in per-run label (`workflow_id`). */
  readonly perRun?: boolean;
  /** Histogram bucket boundaries, when the SDK's latency buckets do not fit. */
  readonly buckets?: readonly number[];
}

/** The labels the SDK adds to every metric it records for a worker, by source. */
export const SDK_LABELS = {
  workflow: ['namespace', 'taskQueue'],
  activity: ['namespace', 'taskQueue', 'activityType'],
} as const;

/** The per-run label (ARKOR_METRICS_RUN_LABEL=workflow_id). */
export const RUN_LABEL = 'workflow_id';

const SCORE_BUCKETS = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1] as const;

export const TrainingMetric = {
  step: {
    name: 'arkor_training_step',
    kind: 'gauge',
    valueType: 'int',
    description: 'Latest step of a run (its last dispatched log or checkpoint event)',
    labels: ['model'],
    source: 'workflow',
    perRun: true,
  },
  maxSteps: {
    name: 'arkor_training_max_steps',
    kind: 'gauge',
    valueType: 'int',
    description: 'Step budget of a run (budget.maxSteps or trainer.maxSteps)',
    labels: ['model'],
    source: 'workflow',
    perRun: true,
  },
  loss: {
    name: 'arkor_training_loss',
    kind: 'gauge',
    valueType: 'float',
    description: 'Latest training loss of a run (NaN for a non-finite loss)',
    labels: ['model'],
    source: 'workflow',
    perRun: true,
  },
  bestLoss: {
    name: 'arkor_training_best_loss',
    kind: 'gauge',
    valueType: 'float',
    description: 'Lowest finite training loss of a run so far',
    labels: ['model'],
    source: 'workflow',
    perRun: true,
  },
  evalLoss: {
    name: 'arkor_training_eval_loss',
    kind: 'gauge',
    valueType: 'float',
    description: 'Latest evaluation loss of a run',
    labels: ['model'],
    source: 'workflow',
    perRun: true,
  },
  backlog: {
    name: 'arkor_run_backlog_events',
    kind: 'gauge',
    valueType: 'int',
    description: 'Events a run has received and not yet dispatched to its callbacks',
    labels: ['model'],
    source: 'workflow',
    perRun: true,
  },
  checkpointScore: {
    name: 'arkor_checkpoint_score',
    kind: 'histogram',
    valueType: 'float',
    description: 'Smoke-test scores of checkpoints (0 to 1)',
    labels: ['model'],
    source: 'workflow',
    buckets: SCORE_BUCKETS,
  },
  lastCheckpointScore: {
    name: 'arkor_checkpoint_last_score',
    kind: 'gauge',
    valueType: 'float',
    description: 'Smoke-test score of the last scored checkpoint of a run',
    labels: ['model'],
    source: 'workflow',
    perRun: true,
  },
  finalScore: {
    name: 'arkor_final_score',
    kind: 'gauge',
    valueType: 'float',
    description: 'Smoke-test score of the final adapter of a run',
    labels: ['model'],
    source: 'workflow',
    perRun: true,
  },
  eventsReceived: {
    name: 'arkor_run_events_received',
    kind: 'counter',
    valueType: 'int',
    description: 'Events runs accepted from their streams (each event once, re-reads excluded)',
    labels: ['model', 'event_type'],
    source: 'workflow',
  },
  eventsDispatched: {
    name: 'arkor_run_events_dispatched',
    kind: 'counter',
    valueType: 'int',
    description: 'Events runs handed to their callbacks',
    labels: ['model', 'event_type'],
    source: 'workflow',
  },
  runsStarted: {
    name: 'arkor_runs_started',
    kind: 'counter',
    valueType: 'int',
    description: 'Runs whose Arkor job was submitted',
    labels: ['model'],
    source: 'workflow',
  },
  runsFinished: {
    name: 'arkor_runs_finished',
    kind: 'counter',
    valueType: 'int',
    description: 'Runs that ended, by outcome (completed, failed, stopped, cancelled, skipped)',
    labels: ['model', 'outcome'],
    source: 'workflow',
  },
  streamEventsRead: {
    name: 'arkor_stream_events_read',
    kind: 'counter',
    valueType: 'int',
    description: 'Events the wait activities read from Arkor streams (a re-read counts again)',
    labels: ['event_type'],
    source: 'activity',
  },
  streamReconnects: {
    name: 'arkor_stream_reconnects',
    kind: 'counter',
    valueType: 'int',
    description: 'Interrupted Arkor event streams that the wait activities connected again',
    labels: [],
    source: 'activity',
  },
  callbackFailures: {
    name: 'arkor_callback_failures',
    kind: 'counter',
    valueType: 'int',
    description: 'Callback calls that threw or timed out (each retried attempt counts)',
    labels: ['callback'],
    source: 'activity',
  },
} as const satisfies Record<string, MetricDefinition>;

export type TrainingMetricKey = keyof typeof TrainingMetric;
type KeysOf<Kind extends MetricKind, Source extends 'workflow' | 'activity' = 'workflow'> = {
  [K in TrainingMetricKey]: (typeof TrainingMetric)[K] extends { kind: Kind; source: Source } ? K : never;
}[TrainingMetricKey];
export type RunGauge = KeysOf<'gauge'>;
export type RunCounter = KeysOf<'counter'>;
export type RunHistogram = KeysOf<'histogram'>;

/** The `event_type` label of an event payload type. */
export function eventTypeLabel(type: string): string {
  return type.replace(/^training\./, '').replace(/\.saved$/, '');
}

/** What a run reports in one activation: gauges to set, counters to add to, values to record. */
export interface RunMetricsReport {
  model: string;
  gauges: Partial<Record<RunGauge, number>>;
  counters: Array<{ metric: RunCounter; value: number; labels?: Record<string, string> }>;
  histograms: Array<{ metric: RunHistogram; value: number }>;
}

/** The worker sink the workflow reports its metrics to (`worker/training-metrics.ts`). */
export interface TrainingMetricsSinks extends Sinks {
  arkorMetrics: TrainingMetricsSink;
}

export interface TrainingMetricsSink extends Sink {
  report(report: RunMetricsReport): void;
}
