import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, formatMetric } from '../cli/format.js';
import { exitCodeForOutcome, formatOutcome } from '../cli/outcome-view.js';
import { formatProgressLine, progressBar, progressPercent } from '../cli/progress.js';
import { createProgressRenderer } from '../cli/progress-renderer.js';
import { sparkline } from '../cli/sparkline.js';
import { formatStatus } from '../cli/status-view.js';
import { StepRateEstimator } from '../cli/step-rate.js';
import { watchRun } from '../cli/watch-run.js';
import type { RunResult } from '../contract/result.js';
import type { RunStatus } from '../contract/status.js';

function status(overrides: Partial<RunStatus> = {}): RunStatus {
  return {
    phase: 'running',
    workflowId: 'wf-1',
    name: 'demo',
    model: 'unsloth/gemma-4-E4B-it',
    jobId: 'job_1',
    step: 18,
    maxSteps: 60,
    latestLoss: 1.23456,
    latestEvalLoss: null,
    bestLoss: { value: 1.2, step: 17 },
    bestEvalLoss: null,
    lossCurve: [
      [1, 3],
      [2, 2],
      [3, 1],
    ],
    checkpoints: [],
    eventsReceived: 30,
    callbacksRun: 29,
    callbackErrors: [],
    eventsNotDispatched: 0,
    startedAt: '2025-01-01T00:00:00.000Z',
    runNumber: 1,
    cursor: 'ev-30',
    ...overrides,
  };
}

function result(overrides: Partial<RunResult> = {}): RunResult {
  return {
    outcome: 'completed',
    workflowId: 'wf-1',
    jobId: 'job_1',
    artifacts: [{}, {}],
    status: status(),
    ...overrides,
  };
}

describe('sparkline', () => {
  it('maps the lowest value to ▁ and the highest to █', () => {
    assert.equal(sparkline([3, 2, 1]), '█▅▁');
    assert.equal(sparkline([1, 2, 3, 4, 5, 6, 7, 8]), '▁▂▃▄▅▆▇█');
  });
  it('draws a flat series as ▁, skips non-finite values, and is empty without data', () => {
    assert.equal(sparkline([2, 2, 2]), '▁▁▁');
    assert.equal(sparkline([1, Number.NaN, Number.POSITIVE_INFINITY, 2]), '▁█');
    assert.equal(sparkline([]), '');
  });
  it('averages a long series into `width` buckets spanning all of it', () => {
    const falling = Array.from({ length: 100 }, (_, index) => 100 - index);
    const line = sparkline(falling, 10);
    assert.equal(line.length, 10);
    assert.equal(line[0], '█');
    assert.equal(line.at(-1), '▁');
    assert.equal(sparkline([4, 4, 0, 0], 2), '█▁');
  });
});

describe('progress line', () => {
  it('fills the bar by step/maxSteps, clamped', () => {
    assert.equal(progressBar(18, 60), '[██████░░░░░░░░░░░░░░]');
    assert.equal(progressBar(0, 60, 4), '[░░░░]');
    assert.equal(progressBar(90, 60, 4), '[████]');
    assert.equal(progressBar(5, undefined), '');
    assert.equal(progressPercent(59, 60), 98);
  });
  it('shows phase, bar, percent, step, loss, sparkline and ETA', () => {
    assert.equal(
      formatProgressLine({ ...status(), etaSeconds: 4.2 }),
      'running     [██████░░░░░░░░░░░░░░]   30%  step 18/60  loss 1.235  █▅▁  ETA 0:05',
    );
    assert.equal(
      formatProgressLine({ ...status({ maxSteps: undefined, latestLoss: null, lossCurve: [] }) }),
      'running     step 18  loss –',
    );
  });
  it('formats durations and metrics', () => {
    assert.equal(formatDuration(0), '0:00');
    assert.equal(formatDuration(59.1), '1:00');
    assert.equal(formatDuration(3725), '1:02:05');
    assert.equal(formatMetric(null), '–');
    assert.equal(formatMetric(Number.NaN), 'NaN');
    assert.equal(formatMetric(0.0123456), '0.01235');
  });
});

describe('StepRateEstimator', () => {
  it('has no ETA until the step moves, then extrapolates the observed rate', () => {
    const rate = new StepRateEstimator();
    rate.observe(10, 0);
    assert.equal(rate.etaSeconds(10, 100), undefined);
    rate.observe(20, 1000);
    assert.equal(rate.stepsPerSecond(), 10);
    assert.equal(rate.etaSeconds(20, 100), 8);
    assert.equal(rate.etaSeconds(20, undefined), undefined);
  });
  it('measures over a sliding window and restarts when the step goes back', () => {
    const rate = new StepRateEstimator(1000);
    rate.observe(0, 0);
    rate.observe(100, 1000);
    rate.observe(110, 2000);
    rate.observe(120, 3000);
    assert.equal(rate.stepsPerSecond(), 10);
    rate.observe(5, 4000);
    assert.equal(rate.stepsPerSecond(), undefined);
  });
});

describe('progress renderers', () => {
  it('prints one line per change, and checkpoints as they appear, when not a TTY', () => {
    const out: string[] = [];
    const renderer = createProgressRenderer((text) => out.push(text), { tty: false });
    renderer.update(status({ step: 10, lossCurve: [], latestLoss: 2 }), 0);
    renderer.update(status({ step: 10, lossCurve: [], latestLoss: 2 }), 500);
    renderer.update(
      status({ step: 20, lossCurve: [], latestLoss: 1, checkpoints: [{ step: 20, savedAt: 't', artifactCount: 1 }] }),
      1000,
    );
    renderer.update(
      status({ step: 20, lossCurve: [], latestLoss: 1, checkpoints: [{ step: 20, savedAt: 't', artifactCount: 1 }] }),
      1500,
    );
    renderer.finish();
    assert.deepEqual(out, [
      'running     [███░░░░░░░░░░░░░░░░░]   16%  step 10/60  loss 2\n',
      'checkpoint saved: step 20 (1 artifact)\n',
      'running     [██████░░░░░░░░░░░░░░]   33%  step 20/60  loss 1  ETA 0:04\n',
    ]);
    assert.ok(out.every((line) => !line.includes('\r')));
  });
  it('redraws in place on a TTY, fitted to the terminal width', () => {
    const out: string[] = [];
    const renderer = createProgressRenderer((text) => out.push(text), { tty: true, columns: 31 });
    renderer.update(status({ step: 10, lossCurve: [] }), 0);
    renderer.update(
      status({ step: 20, lossCurve: [], checkpoints: [{ step: 20, savedAt: 't', artifactCount: 2 }] }),
      1000,
    );
    renderer.finish();
    assert.deepEqual(out, [
      '\r\x1b[2Krunning     [███░░░░░░░░░░░░░░',
      '\r\x1b[2Kcheckpoint saved: step 20 (2 artifacts)\n\r\x1b[2Krunning     [██████░░░░░░░░░░░',
      '\n',
    ]);
  });
});

describe('watchRun', () => {
  it('polls the status until the run ends and returns the outcome with its final status', async () => {
    const out: string[] = [];
    let polls = 0;
    let finish!: (value: RunResult) => void;
    const ended = new Promise<RunResult>((resolve) => (finish = resolve));
    const service = {
      status: () => {
        polls += 1;
        if (polls === 3) finish(result({ status: status({ phase: 'completed', step: 60, lossCurve: [] }) }));
        return Promise.resolve(status({ step: polls * 10, lossCurve: [] }));
      },
      outcome: () => ended,
    };
    const renderer = createProgressRenderer((text) => out.push(text), { tty: false });
    const outcome = await watchRun(service, 'wf-1', renderer, { intervalMs: 1 });
    assert.equal(outcome.outcome, 'completed');
    assert.equal(polls, 3);
    assert.deepEqual(
      out.map((line) =>
        line
          .match(/^(\w+).*step (\d+)\/60/)
          ?.slice(1, 3)
          .join(':'),
      ),
      ['running:10', 'running:20', 'running:30', 'completed:60'],
    );
  });
  it('reports a failing status query once and keeps waiting', async () => {
    const problems: string[] = [];
    let polls = 0;
    let finish!: (value: RunResult) => void;
    const ended = new Promise<RunResult>((resolve) => (finish = resolve));
    const service = {
      status: () => {
        polls += 1;
        if (polls === 4) finish(result());
        return Promise.reject(new Error('no poller'));
      },
      outcome: () => ended,
    };
    const renderer = createProgressRenderer(() => undefined, { tty: false });
    await watchRun(service, 'wf-1', renderer, { intervalMs: 1, diagnostics: (text) => problems.push(text) });
    assert.deepEqual(problems, ['status query failed, retrying: no poller\n']);
  });
});

describe('status and outcome views', () => {
  it('labels every field of the status', () => {
    const text = formatStatus(
      status({
        checkpoints: [{ step: 10, savedAt: 't', artifactCount: 2 }],
        stop: { cause: 'signal', reason: 'enough', atStep: 18 },
        callbackErrors: [{ callback: 'onLog', eventIds: ['e1', 'e2'], message: 'boom\n  at x' }],
        backlog: { events: 2100, limit: 2000, pausedSince: '2025-01-01T00:01:00.000Z' },
        blocked: { reason: 'Arkor answered 401: token expired', since: '2025-01-01T00:02:00.000Z' },
      }),
    );
    assert.equal(
      text,
      [
        'workflow         wf-1',
        'name             demo (unsloth/gemma-4-E4B-it)',
        'phase            running',
        'job              job_1',
        'step             18/60',
        'loss             1.235 (best 1.2 @ step 17)',
        'eval loss        – (best –)',
        'loss curve       █▅▁',
        'checkpoints      1: step 10 (2 artifacts)',
        'stop             signal at step 18: enough',
        'blocked          since 2025-01-01T00:02:00.000Z: Arkor answered 401: token expired',
        'callback errors  1',
        '                 onLog (events e1, e2): boom at x',
        'events           30 received, 29 callbacks run',
        'backlog          2100 of 2000 events not yet dispatched; stream paused since 2025-01-01T00:01:00.000Z',
        'cursor           ev-30',
        'started          2025-01-01T00:00:00.000Z',
        '',
      ].join('\n'),
    );
  });
  it('summarises the outcome and maps it to an exit code', () => {
    assert.equal(
      formatOutcome(result()),
      'run wf-1 completed (job job_1) at step 18/60, best loss 1.2 @ step 17, 2 artifacts\n',
    );
    const stopped = result({
      outcome: 'stopped',
      reason: 'enough',
      stop: { cause: 'signal', reason: 'enough', atStep: 18 },
    });
    assert.equal(
      formatOutcome(stopped),
      'run wf-1 stopped (signal) (job job_1) at step 18/60, best loss 1.2 @ step 17: enough\n',
    );
    assert.equal(exitCodeForOutcome(result()), 0);
    assert.equal(exitCodeForOutcome(stopped), 0);
    assert.equal(exitCodeForOutcome(result({ outcome: 'failed' })), 1);
    assert.equal(exitCodeForOutcome(result({ outcome: 'cancelled' })), 1);
  });
});
