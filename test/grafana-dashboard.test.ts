/**
 * The Grafana dashboard (docs/grafana/arkor-training.json) uses only metrics that exist: every
 * `arkor_*` name it selects is in the catalogue the code emits from (contract/metrics.ts), with
 * labels that metric has; every other name is one of the SDK's (`temporal_*`, checked against a
 * real scrape in test/observability.test.ts). And every training metric has a panel.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { RUN_LABEL, SDK_LABELS, TrainingMetric, type MetricDefinition } from '../contract/metrics.js';
import { dashboardExpressions, promqlReferences } from './support/promql.js';

const dashboard: unknown = JSON.parse(
  readFileSync(new URL('../docs/grafana/arkor-training.json', import.meta.url), 'utf8'),
);
const catalogue = new Map((Object.values(TrainingMetric) as MetricDefinition[]).map((metric) => [metric.name, metric]));

/** The catalogue entry of a series name (a histogram's `_bucket`, `_sum` and `_count` included) and its labels. */
function lookup(series: string): { metric: MetricDefinition; labels: Set<string> } | undefined {
  for (const suffix of ['', '_bucket', '_sum', '_count']) {
    if (!series.endsWith(suffix)) continue;
    const metric = catalogue.get(series.slice(0, series.length - suffix.length));
    if (!metric || (suffix !== '' && metric.kind !== 'histogram')) continue;
    const labels = new Set<string>([...metric.labels, ...SDK_LABELS[metric.source]]);
    if (metric.perRun) labels.add(RUN_LABEL);
    if (suffix === '_bucket') labels.add('le');
    return { metric, labels };
  }
  return undefined;
}

/** What is wrong with an expression: names the code does not define, labels those metrics lack. */
function problems(expr: string): string[] {
  const { metrics, groupedBy } = promqlReferences(expr);
  if (metrics.length === 0) return ['no metric found'];
  const found: string[] = [];
  const available = new Set<string>();
  for (const { metric: series, labels } of metrics) {
    if (series.startsWith('temporal_')) continue;
    const known = lookup(series);
    if (!known) {
      found.push(`${series} is not a metric the code defines (contract/metrics.ts)`);
      continue;
    }
    for (const label of labels) if (!known.labels.has(label)) found.push(`${series} has no label ${label}`);
    for (const label of known.labels) available.add(label);
  }
  // Queries of the SDK's metrics are checked against a scrape (test/observability.test.ts).
  if (found.length === 0 && metrics.every(({ metric }) => !metric.startsWith('temporal_'))) {
    for (const label of groupedBy)
      if (!available.has(label)) found.push(`no metric of the query has the label ${label}`);
  }
  return found;
}

describe('the Grafana dashboard', () => {
  const expressions = dashboardExpressions(dashboard);

  it('has queries to check', () => {
    assert.ok(expressions.length >= 15, `${expressions.length} expressions`);
  });

  it('parses PromQL the way the check needs', () => {
    assert.deepEqual(
      promqlReferences(
        'histogram_quantile(0.5, sum by (le, model) (rate(arkor_checkpoint_score_bucket{namespace=~"$ns", model=~"a|b"}[$__range]))) / on (model) group_left up',
      ),
      {
        metrics: [
          { metric: 'arkor_checkpoint_score_bucket', labels: ['namespace', 'model'] },
          { metric: 'up', labels: [] },
        ],
        groupedBy: ['le', 'model', 'model'],
      },
    );
    assert.deepEqual(promqlReferences('label_values(arkor_training_step{namespace=~"$namespace"}, model)'), {
      metrics: [{ metric: 'arkor_training_step', labels: ['namespace'] }],
      groupedBy: ['model'],
    });
  });

  it('finds a name, a label or a grouping that does not exist', () => {
    assert.deepEqual(problems('sum(rate(arkor_training_steps[5m]))'), [
      'arkor_training_steps is not a metric the code defines (contract/metrics.ts)',
    ]);
    assert.deepEqual(problems('arkor_runs_finished{workflow_id="x"}'), [
      'arkor_runs_finished has no label workflow_id',
    ]);
    assert.deepEqual(problems('sum by (callback) (arkor_training_loss)'), [
      'no metric of the query has the label callback',
    ]);
    assert.deepEqual(problems('arkor_checkpoint_score_count{le="1"}'), [
      'arkor_checkpoint_score_count has no label le',
    ]);
  });

  for (const expr of expressions) {
    it(`selects only metrics and labels that exist: ${expr}`, () => {
      assert.deepEqual(problems(expr), []);
    });
  }

  it('shows every training metric', () => {
    const used = new Set(
      expressions.flatMap((expr) =>
        promqlReferences(expr).metrics.flatMap(({ metric }) => lookup(metric)?.metric.name ?? []),
      ),
    );
    for (const name of catalogue.keys()) assert.ok(used.has(name), `${name} has no panel`);
  });
});
