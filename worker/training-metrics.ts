/**
 * The worker's side of the training metrics (contract/metrics.ts): the `arkorMetrics` sink the
 * workflow reports to, recording each report on the Runtime's metric meter — the same meter,
 * and Prometheus exporter, as the SDK's own metrics. The sink decides the labels: `namespace`
 * and `taskQueue` as the SDK puts them on its workflow metrics, the run's `model`, and, when
 * ARKOR_METRICS_RUN_LABEL=workflow_id, the run's workflow id on its gauges (one series per run:
 * opt-in, because every run then leaves series behind).
 */
import type { MetricGauge, MetricMeter, MetricTags } from '@temporalio/common';
import { type InjectedSinks, Runtime } from '@temporalio/worker';
import {
  RUN_LABEL,
  TrainingMetric,
  type MetricDefinition,
  type RunMetricsReport,
  type TrainingMetricsSinks,
} from '../contract/metrics.js';

export interface TrainingMetricsOptions {
  /** `workflow_id`: label each run's gauges with its workflow id. Default: none. */
  runLabel?: typeof RUN_LABEL | undefined;
  /** Default: the installed Runtime's meter. */
  meter?: MetricMeter;
}

/** The sinks a training worker registers (`createTrainingWorkers`). */
export function trainingMetricsSinks(options: TrainingMetricsOptions = {}): InjectedSinks<TrainingMetricsSinks> {
  let recorder: MetricsRecorder | undefined;
  return {
    arkorMetrics: {
      report: {
        fn(info, report: RunMetricsReport) {
          recorder ??= new MetricsRecorder(options.meter ?? Runtime.instance().metricMeter);
          const base: MetricTags = { namespace: info.namespace, taskQueue: info.taskQueue, model: report.model };
          const perRun: MetricTags = options.runLabel ? { ...base, [RUN_LABEL]: info.workflowId } : base;
          for (const [key, value] of Object.entries(report.gauges)) {
            const metric = TrainingMetric[key as keyof RunMetricsReport['gauges']];
            if (value !== undefined) recorder.gauge(metric).set(value, perRun);
          }
          for (const { metric, value, labels } of report.counters) {
            recorder.counter(TrainingMetric[metric]).add(value, { ...base, ...labels });
          }
          for (const { metric, value } of report.histograms) {
            recorder.histogram(TrainingMetric[metric]).record(value, base);
          }
        },
        callDuringReplay: false,
      },
    },
  };
}

/** Metric objects by name: creating one goes down to the native meter, so each is made once. */
class MetricsRecorder {
  private readonly gauges = new Map<string, MetricGauge>();
  private readonly counters = new Map<string, ReturnType<MetricMeter['createCounter']>>();
  private readonly histograms = new Map<string, ReturnType<MetricMeter['createHistogram']>>();

  constructor(private readonly meter: MetricMeter) {}

  gauge(metric: MetricDefinition): MetricGauge {
    return cached(this.gauges, metric, () =>
      this.meter.createGauge(metric.name, metric.valueType, undefined, metric.description),
    );
  }

  counter(metric: MetricDefinition): ReturnType<MetricMeter['createCounter']> {
    return cached(this.counters, metric, () => this.meter.createCounter(metric.name, undefined, metric.description));
  }

  histogram(metric: MetricDefinition): ReturnType<MetricMeter['createHistogram']> {
    return cached(this.histograms, metric, () =>
      this.meter.createHistogram(metric.name, metric.valueType, undefined, metric.description),
    );
  }
}

function cached<T>(map: Map<string, T>, metric: MetricDefinition, create: () => T): T {
  let value = map.get(metric.name);
  if (value === undefined) {
    value = create();
    map.set(metric.name, value);
  }
  return value;
}

/** Bucket boundaries for the histograms whose values are not latencies (the Prometheus exporter's option). */
export function trainingHistogramBuckets(): Record<string, number[]> {
  const buckets: Record<string, number[]> = {};
  for (const metric of Object.values(TrainingMetric) as MetricDefinition[]) {
    if (metric.buckets) buckets[metric.name] = [...metric.buckets];
  }
  return buckets;
}
