/**
 * Seeing the training, on a real dev server with the emulator:
 *
 * - the Web UI: a run's static summary and details, its current details (the SDK's metadata
 *   query), and the summary of each activity in its history;
 * - the metrics: a worker process (the Runtime is per process) with its Prometheus exporter on,
 *   scraped while a run waits on a slow callback and after it ended, serves the training
 *   metrics with that run's values;
 * - the JSON logs of the same worker process: every line a JSON record, records of activities
 *   and of the workflow carrying the workflow id, run id, job id and activity.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { DEMO_QUESTIONS } from '../emulator/index.js';
import type { TrainingRunInput } from '../contract/input.js';
import { TrainingMetric } from '../contract/metrics.js';
import { TrainingService } from '../service/index.js';
import { freePort } from '../testing/free-port.js';
import { eventually, startHarness, trainingInput, type ChildWorker, type Harness } from './support/harness.js';
import { dashboardSdkMetrics } from './support/promql.js';

const MODEL = 'unsloth/gemma-4-E4B-it';

const prompts = DEMO_QUESTIONS.slice(0, 2).map((question) => ({
  name: question.prompt,
  messages: [{ role: 'user' as const, content: question.prompt }],
  expect: { contains: question.answer },
}));

function run(name: string, extra: Omit<Partial<TrainingRunInput>, 'trainer'> = {}): TrainingRunInput {
  return trainingInput({
    trainer: { name, maxSteps: 20, loggingSteps: 1, evalSteps: 10, saveSteps: 10 },
    smokeTest: { prompts },
    ...extra,
  });
}

/** The JSON text of a payload (the summaries and details are plain JSON strings). */
function payloadText(payload: { data?: Uint8Array | null } | null | undefined): string | undefined {
  return payload?.data ? (JSON.parse(Buffer.from(payload.data).toString('utf8')) as string) : undefined;
}

/** One sample of a Prometheus text exposition: its labels and value. */
interface Sample {
  labels: Record<string, string>;
  value: number;
}

function samples(text: string, name: string): Sample[] {
  const found: Sample[] = [];
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]!] = pair[2]!;
    found.push({ labels, value: Number(match[3]) });
  }
  return found;
}

/** The value of the one sample of `name` whose labels include `labels`. */
function value(text: string, name: string, labels: Record<string, string>): number | undefined {
  const matching = samples(text, name).filter((sample) =>
    Object.entries(labels).every(([key, wanted]) => sample.labels[key] === wanted),
  );
  assert.ok(matching.length <= 1, `${name} ${JSON.stringify(labels)}: ${matching.length} samples`);
  return matching[0]?.value;
}

describe('seeing the training', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(async () => h?.close());

  it('the Web UI shows the run: static summary and details, current details, a summary on each activity', async () => {
    const worker = await h.startWorker();
    try {
      const { workflowId, handle } = await h.service.start(
        run('ui-run', {
          promotion: { deployment: 'ui-bot', create: true },
          labels: { team: 'support' },
        }),
      );
      const result = await h.service.outcome(workflowId);
      assert.equal(result.outcome, 'completed', result.reason);

      const description = await handle.describe();
      assert.equal(await description.staticSummary(), `ui-run · ${MODEL}`);
      const details = (await description.staticDetails()) ?? '';
      assert.match(details, /^\*\*ui-run\*\* · training run$/m);
      assert.match(details, /- dataset: Hugging Face `arkor\/demo`/);
      assert.match(details, /- training: 20 steps/);
      assert.match(details, /smoke test \(2 prompts\) → promote to `ui-bot` \(final adapter\)/);
      assert.match(details, /- labels: team=support/);

      const metadata = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
      const current = metadata.currentDetails ?? '';
      assert.match(current, /^\*\*completed\*\* · step 20\/20 \(100 %\)$/m);
      assert.match(current, /^- loss \*\*\d+\.\d{4}\*\* · best \d+\.\d{4} at step \d+ · eval \d+\.\d{4}$/m);
      assert.match(current, /^- `[▁▂▃▄▅▆▇█]{20}`$/m);
      const lastScore = result.status.checkpoints.at(-1)?.score;
      assert.ok(lastScore !== undefined);
      assert.match(current, new RegExp(`^- checkpoint 20 · score ${lastScore.toFixed(3).replace('.', '\\.')}`, 'm'));
      assert.match(current, /^- deployment ui-bot: promoted and verified$/m);

      const history = await handle.fetchHistory();
      const summaries = (history.events ?? []).flatMap((event) =>
        event.activityTaskScheduledEventAttributes ? [payloadText(event.userMetadata?.summary) ?? '(none)'] : [],
      );
      const jobId = result.jobId ?? '';
      for (const expected of [
        `preflight ui-run`,
        `submit ui-run (${MODEL})`,
        `follow job ${jobId}`,
        'onStarted',
        'onCheckpoint step 10',
        'smokeTest base unsloth/gemma-4-E4B-it',
        'smokeTest checkpoint 10',
        'smokeTest checkpoint 20',
        'onCompleted',
        'smokeTest final',
        'read deployment ui-bot',
        'retarget ui-bot → final',
        'verify ui-bot → final',
      ]) {
        assert.ok(summaries.includes(expected), `no activity summarised "${expected}": ${summaries.join(' | ')}`);
      }
      assert.ok(
        summaries.some((summary) => /^onLog steps? \d+(–\d+)? \(\d+ events?\)$/.test(summary)),
        summaries.join(),
      );
      assert.ok(!summaries.includes('(none)'), summaries.join(' | '));
    } finally {
      await worker.stop();
    }
  });

  it('the Web UI follows the run: describe shows the summary at once and current details at each phase', async () => {
    const worker = await h.startWorker();
    try {
      // Queued for a while, then long enough in training to be seen there.
      h.emulator.setBehaviour({ kind: 'nameContains', text: 'phases-run' }, { queueMs: 1_500 });
      const { workflowId, handle } = await h.service.start(
        trainingInput({ trainer: { name: 'phases-run', maxSteps: 400, loggingSteps: 10, saveSteps: 200 } }),
      );
      // Set by the client at start: there before the workflow has run a single task.
      assert.equal(await (await handle.describe()).staticSummary(), `phases-run · ${MODEL}`);

      const seen: Array<{ phase: string; step: number }> = [];
      const readPhase = async (): Promise<void> => {
        const metadata = await handle
          .query<{ currentDetails?: string }>('__temporal_workflow_metadata')
          .catch(() => undefined);
        const header = /^\*\*([a-z-]+)\*\* · step (\d+)/m.exec(metadata?.currentDetails ?? '');
        if (header?.[1] !== undefined && header[1] !== seen.at(-1)?.phase)
          seen.push({ phase: header[1], step: Number(header[2]) });
      };
      let finished = false;
      const watching = (async () => {
        while (!finished) {
          await readPhase();
          await new Promise((resolveSleep) => setTimeout(resolveSleep, 20));
        }
      })();
      const result = await h.service.outcome(workflowId);
      finished = true;
      await watching;
      // The run can end between two polls; the closed run still answers the query (the worker
      // replays it), so one read after the end always sees the final details.
      await readPhase();
      assert.equal(result.outcome, 'completed', result.reason);

      const phases = seen.map((entry) => entry.phase);
      assert.ok(phases.includes('queued'), `phases seen: ${phases.join(' → ')}`);
      assert.ok(phases.includes('running'), `phases seen: ${phases.join(' → ')}`);
      assert.equal(phases.at(-1), 'completed', `phases seen: ${phases.join(' → ')}`);
      // Each phase appears once, in the lifecycle's order.
      const order = [
        'submitting',
        'queued',
        'running',
        'stopping',
        'evaluating',
        'awaiting-approval',
        'promoting',
        'completed',
      ];
      assert.deepEqual(
        phases,
        order.filter((phase) => phases.includes(phase)),
        `phases seen: ${phases.join(' → ')}`,
      );
      assert.equal(seen.at(-1)?.step, 400);
    } finally {
      await worker.stop();
    }
  });

  describe('a worker process with metrics and JSON logs', () => {
    const taskQueue = `obs-metrics-${Date.now()}`;
    let worker: ChildWorker;
    let service: TrainingService;
    let scrape: () => Promise<string>;

    before(async () => {
      const port = await freePort();
      worker = await h.spawnWorker({
        TEMPORAL_TASK_QUEUE: taskQueue,
        ARKOR_METRICS_BIND: `127.0.0.1:${port}`,
        ARKOR_METRICS_RUN_LABEL: 'workflow_id',
        ARKOR_LOG_FORMAT: 'json',
        ARKOR_LOG_LEVEL: 'debug',
        ARKOR_TEST_SLOW_CHECKPOINT_MS: '4000',
      });
      service = new TrainingService(h.temporal.client, { taskQueue });
      scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    });
    after(async () => worker?.kill());

    let workflowId = '';
    let runId = '';
    let jobId = '';

    it('serves the training metrics with the run’s values, while it waits on a callback and after it ended', async () => {
      // The stream is cut once (a reconnect) and the first checkpoint's callback takes 4 s.
      h.emulator.setBehaviour(
        { kind: 'nameContains', text: 'obs-metrics' },
        { streamConnections: [{ kind: 'drop', afterFrames: 4, mode: 'reset' }] },
      );
      const started = await service.start(run('obs-metrics', { callbacks: { set: 'slowCheckpoint' } }));
      workflowId = started.workflowId;
      runId = started.firstExecutionRunId ?? '';
      const perRun = { model: MODEL, taskQueue, workflow_id: workflowId };

      // While onCheckpoint 10 runs, the run stands at step 10 with the events after it queued.
      const during = await eventually(
        async () => {
          const text = await scrape();
          const backlog = value(text, TrainingMetric.backlog.name, perRun) ?? 0;
          return value(text, TrainingMetric.step.name, perRun) === 10 && backlog > 0 ? text : undefined;
        },
        20_000,
        'step 10 with a backlog',
      );
      assert.equal(value(during, TrainingMetric.maxSteps.name, perRun), 20);
      assert.equal(value(during, TrainingMetric.runsFinished.name, { taskQueue, outcome: 'completed' }), undefined);

      const result = await service.outcome(workflowId);
      assert.equal(result.outcome, 'completed', result.reason);
      jobId = result.jobId ?? '';
      const status = result.status;
      const perQueue = { model: MODEL, taskQueue };
      const text = await eventually(
        async () => {
          const current = await scrape();
          return value(current, TrainingMetric.runsFinished.name, { ...perQueue, outcome: 'completed' }) === 1
            ? current
            : undefined;
        },
        10_000,
        'the finished run in the metrics',
      );
      assert.equal(value(text, TrainingMetric.step.name, perRun), 20);
      assert.equal(value(text, TrainingMetric.loss.name, perRun), status.latestLoss);
      assert.equal(value(text, TrainingMetric.bestLoss.name, perRun), status.bestLoss?.value);
      assert.equal(value(text, TrainingMetric.evalLoss.name, perRun), status.latestEvalLoss);
      assert.equal(value(text, TrainingMetric.backlog.name, perRun), 0);
      assert.equal(value(text, TrainingMetric.lastCheckpointScore.name, perRun), status.checkpoints.at(-1)?.score);
      assert.equal(value(text, TrainingMetric.finalScore.name, perRun), status.finalScore?.score);
      assert.equal(value(text, TrainingMetric.runsStarted.name, perQueue), 1);
      for (const [eventType, count] of [
        ['started', 1],
        ['log', 20 + 2],
        ['checkpoint', 2],
      ] as const) {
        const labels = { ...perQueue, event_type: eventType };
        assert.equal(value(text, TrainingMetric.eventsReceived.name, labels), count, `received ${eventType}`);
        assert.equal(value(text, TrainingMetric.eventsDispatched.name, labels), count, `dispatched ${eventType}`);
        // Read from Arkor at least once each (the cut stream reads some again).
        const read = value(text, TrainingMetric.streamEventsRead.name, {
          taskQueue: `${taskQueue}-streams`,
          event_type: eventType,
        });
        assert.ok((read ?? 0) >= count, `read ${eventType}: ${read}`);
      }
      assert.ok((value(text, TrainingMetric.streamReconnects.name, { taskQueue: `${taskQueue}-streams` }) ?? 0) >= 1);
      // Counters and the histogram carry no per-run label.
      assert.ok(samples(text, TrainingMetric.runsFinished.name).every((sample) => !('workflow_id' in sample.labels)));
      assert.equal(value(text, `${TrainingMetric.checkpointScore.name}_count`, perQueue), 2);
      assert.equal(
        value(text, `${TrainingMetric.checkpointScore.name}_sum`, perQueue),
        status.checkpoints.reduce((sum, checkpoint) => sum + (checkpoint.score ?? 0), 0),
      );
      // Every training metric has its HELP text, the SDK's own metrics are still there.
      assert.match(text, /^# HELP arkor_training_step Latest step of a run/m);
    });

    it('counts failed callback calls by callback', async () => {
      const { workflowId: flakyId } = await service.start(
        run('obs-flaky', { callbacks: { set: 'flaky', retry: { initialInterval: '100ms' } } }),
      );
      const result = await service.outcome(flakyId);
      assert.equal(result.outcome, 'completed', result.reason);
      const failures = await eventually(
        async () =>
          value(await scrape(), TrainingMetric.callbackFailures.name, { taskQueue, callback: 'onCheckpoint' }),
        10_000,
        'the failed onCheckpoint calls',
      );
      // Two failed attempts for each of the run's two checkpoints.
      assert.equal(failures, 4);
      // The SDK's metrics the Grafana dashboard uses exist (activity failures, say, once one failed), with the
      // labels it uses (test/grafana-dashboard.test.ts checks ours).
      const dashboard: unknown = JSON.parse(
        readFileSync(new URL('../docs/grafana/arkor-training.json', import.meta.url), 'utf8'),
      );
      const text = await scrape();
      for (const { metric, labels } of dashboardSdkMetrics(dashboard)) {
        const series = samples(text, metric);
        assert.ok(series.length > 0, `the dashboard's ${metric} is not in the scrape`);
        for (const label of labels)
          assert.ok(
            series.some((sample) => label in sample.labels),
            `${metric} has no ${label}`,
          );
      }
    });

    it('writes its logs as JSON lines carrying the workflow id, run id, job id and activity', () => {
      const lines = worker
        .output()
        .split('\n')
        .filter((line) => line.trim() !== '');
      const records = lines.map((line) => {
        try {
          return JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new Error(`not a JSON line: ${line}`);
        }
      });
      for (const record of records) {
        assert.match(String(record.time), /^\d{4}-\d\d-\d\dT/);
        assert.match(String(record.level), /^(trace|debug|info|warn|error)$/);
        assert.equal(typeof record.msg, 'string');
        assert.ok(!('taskToken' in record));
      }
      assert.ok(records.some((record) => record.msg === 'worker ready' && record.taskQueue === taskQueue));
      const ofRun = records.filter((record) => record.workflowId === workflowId);
      const located = (find: (record: Record<string, unknown>) => boolean, what: string) => {
        const record = ofRun.find(find);
        assert.ok(record, `no ${what} among ${JSON.stringify(ofRun.map((r) => r.msg))}`);
        assert.equal(record.runId, runId, what);
        assert.equal(record.jobId, jobId, what);
        return record;
      };
      // The SDK's records of an activity and of the workflow, and our activity's own (the cut stream).
      located((r) => r.msg === 'Activity completed' && r.activity === 'onCheckpoint', 'onCheckpoint completed');
      located((r) => r.msg === 'Workflow completed' && r.activity === undefined, 'the workflow completed');
      const own = located((r) => r.component === 'activity' && r.activity === 'followJob', 'a followJob record');
      assert.equal(own.msg, 'Event stream interrupted; reconnecting');
      assert.equal(own.level, 'warn');
    });
  });
});
