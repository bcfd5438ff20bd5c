/**
 * The pieces of "seeing the training" that need no server: the Web UI's current details and
 * summaries, the static details, JSON log lines and their redaction, the CLI's log output, the
 * metrics sink's labels, and the settings that turn them on.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricMeter, MetricTags } from '@temporalio/common';
import type { WorkflowInfo } from '@temporalio/workflow';
import { withLogSettings } from '../cli/log-output.js';
import { parseTrainingRunInput } from '../contract/input.js';
import type { RunMetricsReport } from '../contract/metrics.js';
import { RunPhase, type RunStatus } from '../contract/status.js';
import { jsonLogLine, logSettingsFromEnv } from '../service/logging.js';
import { runStaticMetadata } from '../service/run-metadata.js';
import { loadWorkerSettings } from '../worker/config.js';
import { jobIdOf, workerLogger } from '../worker/logging.js';
import { trainingMetricsSinks } from '../worker/training-metrics.js';
import { tracingFromEnv, tracingRequestedBy } from '../worker/tracing.js';
import { callbackSummary } from '../workflows/run-dispatch.js';
import { renderRunDetails } from '../workflows/run-details.js';
import { trainingInput } from './support/harness.js';

const running: RunStatus = {
  phase: RunPhase.Running,
  workflowId: 'w',
  name: 'support-bot',
  model: 'unsloth/gemma-4-E4B-it',
  jobId: 'job-1',
  step: 40,
  maxSteps: 60,
  latestLoss: 0.41234,
  latestEvalLoss: 0.52,
  bestLoss: { value: 0.39812, step: 37 },
  bestEvalLoss: { value: 0.52, step: 40 },
  lossCurve: [
    [1, 2],
    [10, 1.5],
    [20, 1],
    [30, 0.6],
    [40, 0.41234],
  ],
  checkpoints: [
    { step: 20, savedAt: 't20', artifactCount: 1, score: 0.9 },
    { step: 40, savedAt: 't40', artifactCount: 1, score: 0.85 },
  ],
  bestCheckpoint: { step: 20, score: 0.9 },
  eventsReceived: 45,
  callbacksRun: 10,
  callbackErrors: [],
  eventsNotDispatched: 0,
  backlog: { events: 3, limit: 2000 },
  startedAt: 't',
  runNumber: 2,
};

describe('the Web UI', () => {
  it('current details: phase, step of max, losses, sparkline, checkpoint and its score, backlog', () => {
    assert.equal(
      renderRunDetails(running),
      [
        '**running** · step 40/60 (66 %) · run 2',
        '',
        '- loss **0.4123** · best 0.3981 at step 37 · eval 0.5200',
        '- `█▆▄▂▁`',
        '- checkpoint 40 · score 0.850 · best checkpoint 20 (0.900)',
        '- backlog 3 events',
      ].join('\n'),
    );
  });

  it('current details: what holds a run up or ended it, on one line each', () => {
    const details = renderRunDetails({
      ...running,
      phase: RunPhase.Failed,
      latestLoss: Number.NaN,
      blocked: { reason: 'Arkor answered 403:\nforbidden', since: 't1' },
      stop: { cause: 'rule', reason: 'loss is not finite', atStep: 41 },
      error: `x${'y'.repeat(300)}`,
      promotion: { deployment: 'support-bot', skipped: 'stopped: loss is not finite' },
    });
    assert.match(details, /^\*\*failed\*\* · step 40\/60/);
    assert.match(details, /^- loss \*\*NaN\*\*/m);
    assert.match(details, /^- blocked since t1: Arkor answered 403: forbidden$/m);
    assert.match(details, /^- stop \(rule, step 41\): loss is not finite$/m);
    assert.match(details, /^- deployment support-bot: not promoted \(stopped: loss is not finite\)$/m);
    assert.match(details, /^- error: xy{158}…$/m);
    // A finished run has no backlog to show.
    assert.doesNotMatch(details, /backlog/);
  });

  it('a submitting run: just the phase', () => {
    assert.equal(
      renderRunDetails({
        ...running,
        phase: RunPhase.Submitting,
        step: 0,
        latestLoss: null,
        lossCurve: [],
        checkpoints: [],
        backlog: undefined,
        runNumber: 1,
      }),
      '**submitting** · step 0/60 (0 %)',
    );
  });

  it('callback activity summaries', () => {
    const log = (step: number) => ({
      id: String(step),
      payload: {
        type: 'training.log' as const,
        timestamp: 't',
        step,
        loss: 1,
        evalLoss: null,
        learningRate: null,
        epoch: null,
        samplesPerSecond: null,
      },
    });
    assert.equal(callbackSummary('onLog', [log(1), log(2), log(20)]), 'onLog steps 1–20 (3 events)');
    assert.equal(callbackSummary('onLog', [log(7)]), 'onLog step 7 (1 event)');
    assert.equal(
      callbackSummary('onCheckpoint', [{ id: '9', payload: { type: 'checkpoint.saved', timestamp: 't', step: 40 } }]),
      'onCheckpoint step 40',
    );
    assert.equal(callbackSummary('onCompleted', []), 'onCompleted');
  });

  it('static details name the dataset without a URL’s query, credentials or token', () => {
    const { staticSummary, staticDetails } = runStaticMetadata(
      parseTrainingRunInput(
        trainingInput({
          trainer: {
            name: 'blob-run',
            maxSteps: 60,
            learningRate: 0.0002,
            lora: { r: 16, alpha: 32 },
            dataset: {
              type: 'blob',
              url: 'https://user:pw@data.example/train.jsonl?sig=SECRET#x',
              tokenEnv: 'DATA_TOKEN',
            },
          },
          smokeTest: {
            prompts: [{ name: 'p', messages: [{ role: 'user', content: 'hi' }], expect: { contains: 'hi' } }],
          },
          gate: { minScore: 0.8 },
        }),
      ),
    );
    assert.equal(staticSummary, 'blob-run · unsloth/gemma-4-E4B-it');
    assert.match(
      staticDetails,
      /^- dataset: blob `https:\/\/data\.example\/train\.jsonl` \(token from `DATA_TOKEN`\)$/m,
    );
    assert.match(staticDetails, /^- training: 60 steps · LoRA r16 α32 · lr 0\.0002$/m);
    assert.match(staticDetails, /^- after training: smoke test \(1 prompts\) → gate ≥ 0\.8$/m);
    assert.doesNotMatch(staticDetails, /SECRET|pw@|#x/);
  });
});

describe('logs', () => {
  const time = new Date('2026-01-02T03:04:05.678Z');

  it('a JSON line leads with what locates it, renames the SDK’s attributes and drops the task token', () => {
    const line = jsonLogLine({
      time,
      level: 'WARN',
      message: 'Activity failed',
      meta: {
        attempt: 2,
        taskToken: 'opaque',
        isLocal: false,
        activityType: 'onCheckpoint',
        workflowRunId: 'run-1',
        workflowId: 'wf-1',
        sdkComponent: 'worker',
        jobId: 'job-1',
        loss: Number.NaN,
        error: new Error('boom', { cause: new TypeError('inner') }),
      },
    });
    const record = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(Object.keys(record).slice(0, 8), [
      'time',
      'level',
      'msg',
      'component',
      'workflowId',
      'runId',
      'jobId',
      'activity',
    ]);
    assert.deepEqual(
      { ...record, error: undefined },
      {
        time: '2026-01-02T03:04:05.678Z',
        level: 'warn',
        msg: 'Activity failed',
        component: 'worker',
        workflowId: 'wf-1',
        runId: 'run-1',
        jobId: 'job-1',
        activity: 'onCheckpoint',
        attempt: 2,
        loss: 'NaN',
        error: undefined,
      },
    );
    const error = record.error as { type: string; message: string; stack: string; cause: { type: string } };
    assert.equal(error.type, 'Error');
    assert.equal(error.message, 'boom');
    assert.match(error.stack, /boom/);
    assert.equal(error.cause.type, 'TypeError');
  });

  it('redacts secret-named fields and prints key bytes as their length, in both formats', () => {
    const key = Buffer.from('k'.repeat(32));
    const meta = {
      options: {
        dataConverter: { payloadCodecs: [{ keys: new Map([['k1', key]]) }] },
        connection: { apiKey: 'api-key-secret', metadata: { Authorization: 'Bearer bearer-secret' } },
        dataset: { tokenEnv: 'DATA_TOKEN', token: 'dataset-secret' },
        cycle: {} as Record<string, unknown>,
      },
    };
    meta.options.cycle.self = meta.options.cycle;
    for (const format of ['json', 'text'] as const) {
      const lines: string[] = [];
      workerLogger({ format, level: 'DEBUG' }, (line) => lines.push(line)).debug('Creating worker', meta);
      const text = lines.join('');
      assert.match(text, /Creating worker/);
      for (const secret of ['kkkkkkkk', 'api-key-secret', 'bearer-secret', 'dataset-secret']) {
        assert.ok(!text.includes(secret), `${format}: ${secret} in ${text}`);
      }
      // Text prints two levels deep, as the SDK's logger does; JSON all of it.
      if (format === 'json') assert.match(text, /"k1":"\[32 bytes\]"/);
      assert.match(text, /DATA_TOKEN/);
      assert.match(text, /circular/);
    }
  });

  it('the level drops records below it', () => {
    const lines: string[] = [];
    const logger = workerLogger({ format: 'json', level: 'WARN' }, (line) => lines.push(line));
    logger.info('dropped');
    logger.warn('kept');
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as { msg: string }).msg),
      ['kept'],
    );
  });

  it('the job id an activity names, for its records', () => {
    assert.equal(jobIdOf({ jobId: 'a' }), 'a');
    assert.equal(jobIdOf({ set: 'default', job: { id: 'b' } }), 'b');
    assert.equal(jobIdOf({ target: { kind: 'checkpoint', jobId: 'c', step: 1 } }), 'c');
    assert.equal(jobIdOf({ job: { id: 7 } }), undefined);
    assert.equal(jobIdOf('slug'), undefined);
  });

  it('the CLI: JSON records on stderr, filtered by level; stdout untouched', () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = withLogSettings(
      { stdout: (t) => out.push(t), stderr: (t) => err.push(t), stdoutIsTty: false, stderrIsTty: true },
      { ARKOR_LOG_FORMAT: 'json', ARKOR_LOG_LEVEL: 'warn' },
    );
    assert.equal(io.stderrIsTty, false);
    io.stdout('{"result":1}\n');
    io.stderr('error: invalid input\n  - trainer.maxSteps: too small\nwarn');
    io.stderr('ing: no worker polls the queue\nprogress 10/20\n');
    assert.deepEqual(out, ['{"result":1}\n']);
    const records = err.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(
      records.map(({ level, msg, component }) => ({ level, msg, component })),
      [
        { level: 'error', msg: 'invalid input\n  - trainer.maxSteps: too small', component: 'cli' },
        { level: 'warn', msg: 'no worker polls the queue', component: 'cli' },
      ],
    );
    // Text at the error level: warnings go, the rest stays.
    const text: string[] = [];
    const quiet = withLogSettings(
      { stdout: () => undefined, stderr: (t) => text.push(t), stdoutIsTty: false, stderrIsTty: false },
      { ARKOR_LOG_LEVEL: 'ERROR' },
    );
    quiet.stderr('warning: w\nerror: e\n  - trainer.maxSteps: too small\nother\n');
    assert.deepEqual(text, ['error: e\n  - trainer.maxSteps: too small\n']);
    // The default: the same io.
    const plain = { stdout: () => undefined, stderr: () => undefined, stdoutIsTty: false, stderrIsTty: false };
    assert.equal(withLogSettings(plain, {}), plain);
  });

  it('settings: the variables are checked, the level case-insensitive', () => {
    assert.deepEqual(logSettingsFromEnv({}), { format: 'text', level: 'INFO' });
    assert.deepEqual(logSettingsFromEnv({ ARKOR_LOG_FORMAT: 'json', ARKOR_LOG_LEVEL: 'debug' }), {
      format: 'json',
      level: 'DEBUG',
    });
    assert.throws(() => logSettingsFromEnv({ ARKOR_LOG_FORMAT: 'xml' }), /ARKOR_LOG_FORMAT: /);
    const settings = loadWorkerSettings({
      ARKOR_LOG_FORMAT: 'json',
      ARKOR_LOG_LEVEL: 'Warn',
      ARKOR_METRICS_RUN_LABEL: '',
    });
    assert.equal(settings.ARKOR_LOG_FORMAT, 'json');
    assert.equal(settings.ARKOR_LOG_LEVEL, 'WARN');
    assert.equal(settings.ARKOR_METRICS_RUN_LABEL, undefined);
    assert.equal(loadWorkerSettings({ ARKOR_METRICS_RUN_LABEL: 'workflow_id' }).ARKOR_METRICS_RUN_LABEL, 'workflow_id');
    for (const [variable, value] of [
      ['ARKOR_LOG_FORMAT', 'xml'],
      ['ARKOR_LOG_LEVEL', 'verbose'],
      ['ARKOR_METRICS_RUN_LABEL', 'run_id'],
    ]) {
      assert.throws(
        () => loadWorkerSettings({ [variable!]: value }),
        new RegExp(`^Error: Invalid worker configuration: ${variable}: `),
      );
    }
  });
});

describe('the metrics sink', () => {
  /** A meter that records what is set, added and recorded, with the labels. */
  function recordingMeter() {
    const calls: Array<{ name: string; kind: string; value: number; tags: MetricTags }> = [];
    const metric = (name: string, kind: string) => {
      const record = (value: number, tags: MetricTags = {}) => calls.push({ name, kind, value, tags });
      return {
        name,
        valueType: 'float' as const,
        kind,
        set: record,
        add: record,
        record,
        withTags: () => {
          throw new Error('unused');
        },
      };
    };
    const meter = {
      createCounter: (name: string) => metric(name, 'counter'),
      createGauge: (name: string) => metric(name, 'gauge'),
      createHistogram: (name: string) => metric(name, 'histogram'),
      withTags: () => meter,
    } as unknown as MetricMeter;
    return { meter, calls };
  }

  const info = { namespace: 'default', taskQueue: 'q', workflowId: 'train-1' } as WorkflowInfo;
  const report: RunMetricsReport = {
    model: 'm',
    gauges: { step: 40, loss: 0.5 },
    counters: [{ metric: 'eventsDispatched', value: 20, labels: { event_type: 'log' } }],
    histograms: [{ metric: 'checkpointScore', value: 0.8 }],
  };

  it('labels by namespace, task queue and model; no per-run label unless asked', () => {
    const { meter, calls } = recordingMeter();
    void trainingMetricsSinks({ meter }).arkorMetrics.report.fn(info, report);
    assert.deepEqual(calls, [
      {
        name: 'arkor_training_step',
        kind: 'gauge',
        value: 40,
        tags: { namespace: 'default', taskQueue: 'q', model: 'm' },
      },
      {
        name: 'arkor_training_loss',
        kind: 'gauge',
        value: 0.5,
        tags: { namespace: 'default', taskQueue: 'q', model: 'm' },
      },
      {
        name: 'arkor_run_events_dispatched',
        kind: 'counter',
        value: 20,
        tags: { namespace: 'default', taskQueue: 'q', model: 'm', event_type: 'log' },
      },
      {
        name: 'arkor_checkpoint_score',
        kind: 'histogram',
        value: 0.8,
        tags: { namespace: 'default', taskQueue: 'q', model: 'm' },
      },
    ]);
  });

  it('ARKOR_METRICS_RUN_LABEL=workflow_id: the gauges, and only they, get the workflow id', () => {
    const { meter, calls } = recordingMeter();
    void trainingMetricsSinks({ meter, runLabel: 'workflow_id' }).arkorMetrics.report.fn(info, report);
    assert.deepEqual(
      calls.map(({ name, tags }) => [name, tags.workflow_id]),
      [
        ['arkor_training_step', 'train-1'],
        ['arkor_training_loss', 'train-1'],
        ['arkor_run_events_dispatched', undefined],
        ['arkor_checkpoint_score', undefined],
      ],
    );
  });
});

describe('tracing', () => {
  it('is asked for by the standard OpenTelemetry variables', () => {
    assert.equal(tracingRequestedBy({}), undefined);
    assert.equal(
      tracingRequestedBy({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }),
      'OTEL_EXPORTER_OTLP_ENDPOINT',
    );
    assert.equal(tracingRequestedBy({ OTEL_TRACES_EXPORTER: 'otlp' }), 'OTEL_TRACES_EXPORTER');
    assert.equal(
      tracingRequestedBy({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c' }),
      undefined,
    );
    assert.equal(tracingRequestedBy({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }), undefined);
    assert.equal(tracingFromEnv({}), undefined);
    assert.throws(() => tracingFromEnv({ OTEL_TRACES_EXPORTER: 'zipkin' }), /unsupported exporter "zipkin"/);
  });
});
