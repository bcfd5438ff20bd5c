/**
 * The run report's pure parts, without a server: folding a history's deliveries as the workflow
 * does, building the report from a result, a live status or the history alone, and rendering
 * the SVG charts and the HTML page (self-contained, escaped). The report of a real run, opened
 * in Chromium: report-run.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Delivery } from '../contract/delivery.js';
import type { RunEvent } from '../contract/events.js';
import type { RunResult } from '../contract/result.js';
import type { RunStatus } from '../contract/status.js';
import { lossChartSvg, scoresChartSvg, timelineSvg } from '../cli/report/chart.js';
import { reportHtml } from '../cli/report/html.js';
import { buildRunReport, deliveredEvents, phaseSpans, type RecordedRun, type RunRecord } from '../cli/report/model.js';
import { niceTicks } from '../cli/report/svg.js';

const T0 = Date.parse('2025-06-01T03:00:00.000Z');
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();

function log(id: number, step: number, loss: number, evalLoss: number | null = null): RunEvent {
  return {
    id: String(id),
    payload: {
      type: 'training.log',
      timestamp: at(step),
      step,
      loss,
      evalLoss,
      learningRate: 0.0002,
      epoch: null,
      samplesPerSecond: null,
    },
  };
}

/** Events of a 30-step job: a log per step (eval every 10) and a checkpoint every 10, ids 1…. */
function jobEvents(): RunEvent[] {
  const events: RunEvent[] = [{ id: '1', payload: { type: 'training.started', timestamp: at(0) } }];
  let id = 2;
  for (let step = 1; step <= 30; step++) {
    events.push(log(id++, step, 2 / step + 0.1, step % 10 === 0 ? 2.5 / step + 0.2 : null));
    if (step % 10 === 0)
      events.push({
        id: String(id++),
        payload: { type: 'checkpoint.saved', timestamp: at(step), step, artifacts: [] },
      });
  }
  events.push({
    id: String(id),
    payload: { type: 'training.completed', timestamp: at(31), metrics: {}, artifacts: [] },
  });
  return events;
}

const delivery = (after: Delivery['after'], events: RunEvent[]) => ({
  kind: 'deliver' as const,
  delivery: { after, events },
});

const input = {
  trainer: { name: 'report-unit', model: 'unsloth/gemma-4-E4B-it', maxSteps: 30 },
  smokeTest: { prompts: [] },
  gate: { minScore: 0.75, mustBeatDeployed: false },
};

function recordedRun(overrides: Partial<RecordedRun> = {}): RecordedRun {
  const events = jobEvents();
  return {
    runId: 'run-1',
    startedAt: at(0),
    input,
    // Two deliveries that overlap (the second re-sends events 10 to 20, as a resumed stream does),
    // and one that a legacy signal carried.
    messages: [
      delivery({ offset: 0 }, events.slice(0, 20)),
      delivery({ cursor: '10', offset: 0 }, events.slice(10, 30)),
      { kind: 'events', batch: { events: events.slice(30) } },
    ],
    phases: [
      { phase: 'submitting', at: at(0) },
      { phase: 'queued', at: at(1) },
      { phase: 'running', at: at(2) },
      { phase: 'evaluating', at: at(32) },
      { phase: 'promoting', at: at(40) },
      { phase: 'completed', at: at(45) },
    ],
    jobId: 'job-1',
    ...overrides,
  };
}

/** The status as the workflow reports it for the events above, with scores, gate and promotion. */
function finalStatus(): RunStatus {
  const curve: Array<[number, number]> = [];
  for (let step = 1; step <= 30; step++) curve.push([step, 2 / step + 0.1]);
  return {
    phase: 'completed',
    workflowId: 'wf-report',
    name: 'report-unit <script>alert(1)</script>',
    model: 'unsloth/gemma-4-E4B-it',
    jobId: 'job-1',
    step: 30,
    maxSteps: 30,
    latestLoss: curve.at(-1)?.[1] ?? null,
    latestEvalLoss: 2.5 / 30 + 0.2,
    bestLoss: { value: 2 / 30 + 0.1, step: 30 },
    bestEvalLoss: { value: 2.5 / 30 + 0.2, step: 30 },
    lossCurve: curve,
    checkpoints: [10, 20, 30].map((step, index) => ({
      step,
      savedAt: at(step),
      artifactCount: 1,
      score: [0.5, 0.75, 1][index] ?? 0,
    })),
    scoresCheckpoints: true,
    baseScore: 0.25,
    bestCheckpoint: { step: 30, score: 1 },
    finalScore: {
      target: { kind: 'final', jobId: 'job-1' },
      score: 1,
      prompts: [{ name: 'capital', score: 1, sample: 'Paris <b>bold</b> & co', detail: 'contains "Paris"' }],
    },
    gate: { passed: true, reason: 'score 1.000 ≥ 0.75', score: 1 },
    promotion: {
      deployment: 'support-bot',
      before: { kind: 'adapter', adapter: { kind: 'checkpoint', jobId: 'job-0', step: 40 } },
      after: { kind: 'adapter', adapter: { kind: 'final', jobId: 'job-1' } },
      created: false,
      changed: true,
      verified: true,
      keyId: 'key-1',
    },
    eventsReceived: 35,
    callbacksRun: 35,
    callbackErrors: [],
    eventsNotDispatched: 0,
    startedAt: at(0),
    finishedAt: at(45),
    runNumber: 1,
  };
}

function completedRecord(status: RunStatus = finalStatus()): RunRecord {
  const result: RunResult = { outcome: 'completed', workflowId: 'wf-report', jobId: 'job-1', artifacts: [], status };
  return { workflowId: 'wf-report', runs: [recordedRun({ close: { kind: 'completed', at: at(45), result } })] };
}

/** The vertices of a path's `d` (`M x y L x y …`). */
function vertices(d: string): Array<[number, number]> {
  return [...d.matchAll(/[ML]\s*(-?[\d.]+)[ ,](-?[\d.]+)/g)].map((match) => [Number(match[1]), Number(match[2])]);
}

function pathOf(svg: string, className: string): string | undefined {
  return new RegExp(`<path class="${className}" d="([^"]*)"`).exec(svg)?.[1];
}

describe('the run report model', () => {
  it('takes each delivered event once: overlaps trimmed by position, ids seen dropped', () => {
    const { events, skipped } = deliveredEvents([recordedRun()]);
    assert.equal(skipped, 0);
    assert.deepEqual(
      events.map((event) => event.id),
      jobEvents().map((event) => event.id),
    );
  });

  it('follows a continued run from the position its resume names', () => {
    const events = jobEvents();
    const first = recordedRun({
      messages: [delivery({ offset: 0 }, events.slice(0, 20))],
      close: { kind: 'continued-as-new', at: at(20) },
    });
    const second = recordedRun({
      runId: 'run-2',
      input: { ...input, resume: { cursor: '20', jobId: 'job-1' } },
      // The new run's stream starts from its position; an older delivery re-sends 15 to 20.
      messages: [delivery({ cursor: '15', offset: 0 }, events.slice(15, events.length))],
    });
    const folded = deliveredEvents([first, second]);
    assert.equal(folded.events.length, events.length);
    const report = buildRunReport({ workflowId: 'wf', runs: [first, second] });
    assert.equal(report.statusSource, 'history');
    assert.deepEqual(report.runIds, ['run-1', 'run-2']);
    assert.equal(report.status.runNumber, 2);
  });

  it('counts a delivery of an unknown shape as skipped', () => {
    const run = recordedRun({ messages: [{ kind: 'deliver', delivery: { nonsense: true } }] });
    assert.equal(deliveredEvents([run]).skipped, 1);
  });

  it("uses a completed run's result for the status, the history for eval losses and phases", () => {
    const report = buildRunReport(completedRecord(), new Date(at(100)));
    assert.equal(report.statusSource, 'result');
    assert.equal(report.outcome, 'completed');
    assert.equal(report.execution, 'completed');
    assert.equal(report.lossCurve.length, 30);
    assert.deepEqual(
      report.evalCurve.map(([step]) => step),
      [10, 20, 30],
    );
    assert.deepEqual(
      report.phases.map((span) => span.phase),
      ['submitting', 'queued', 'running', 'evaluating', 'promoting', 'completed'],
    );
    assert.equal(report.phases.at(-1)?.end, at(45));
    assert.deepEqual(report.gate, { minScore: 0.75, mustBeatDeployed: false });
    assert.equal(report.closedAt, at(45));
  });

  it('folds the history into a status when there is no result and no worker answers', () => {
    const run = recordedRun({
      phases: [
        { phase: 'submitting', at: at(0) },
        { phase: 'running', at: at(2) },
      ],
    });
    const report = buildRunReport({ workflowId: 'wf-running', runs: [run] }, new Date(at(50)));
    assert.equal(report.statusSource, 'history');
    assert.equal(report.execution, 'running');
    assert.equal(report.status.phase, 'running');
    assert.equal(report.status.jobId, 'job-1');
    assert.equal(report.status.step, 30);
    assert.deepEqual(
      report.status.checkpoints.map((checkpoint) => checkpoint.step),
      [10, 20, 30],
    );
    assert.equal(report.lossCurve.length, 30);
    assert.equal(report.phases.at(-1)?.end, undefined);
  });

  it('a failed run: the result in the failure details, and its failure', () => {
    const status = { ...finalStatus(), phase: 'failed' as const, error: 'CUDA out of memory' };
    const result: RunResult = {
      outcome: 'failed',
      workflowId: 'wf',
      reason: 'CUDA out of memory',
      artifacts: [],
      status,
    };
    const report = buildRunReport({
      workflowId: 'wf',
      runs: [
        recordedRun({
          close: {
            kind: 'failed',
            at: at(20),
            message: 'CUDA out of memory',
            failureType: 'TrainingFailed',
            details: result,
          },
        }),
      ],
    });
    assert.equal(report.statusSource, 'result');
    assert.equal(report.outcome, 'failed');
    assert.deepEqual(report.failure, { type: 'TrainingFailed', message: 'CUDA out of memory' });
  });

  it('merges repeated phases into spans', () => {
    assert.deepEqual(
      phaseSpans([
        { phase: 'running', at: at(0) },
        { phase: 'running', at: at(5) },
        { phase: 'stopping', at: at(10) },
        { phase: 'running', at: at(12) },
      ]),
      [
        { phase: 'running', start: at(0), end: at(10) },
        { phase: 'stopping', start: at(10), end: at(12) },
        { phase: 'running', start: at(12) },
      ],
    );
  });
});

describe('the report renderer', () => {
  it('draws one loss-path vertex per curve sample, in step order, and the eval curve', () => {
    const report = buildRunReport(completedRecord());
    const svg = lossChartSvg(report);
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    const loss = vertices(pathOf(svg, 'loss') ?? '');
    assert.equal(loss.length, report.lossCurve.length);
    // x grows with the step; y falls as the loss does (SVG y grows downwards).
    for (let index = 1; index < loss.length; index++) {
      assert.ok(loss[index]![0] > loss[index - 1]![0]);
      assert.ok(loss[index]![1] >= loss[index - 1]![1]);
    }
    assert.equal(vertices(pathOf(svg, 'eval-loss') ?? '').length, 3);
    assert.equal((svg.match(/class="eval-point"/g) ?? []).length, 3);
  });

  it('marks each checkpoint at its step, on the loss curve, the best one apart', () => {
    const report = buildRunReport(completedRecord());
    const svg = lossChartSvg(report);
    const loss = vertices(pathOf(svg, 'loss') ?? '');
    const markers = [
      ...svg.matchAll(
        /<g class="(checkpoint[^"]*)" data-step="(\d+)"[^>]*>.*?<circle class="checkpoint-marker" cx="([\d.]+)" cy="([\d.]+)"/g,
      ),
    ];
    assert.deepEqual(
      markers.map((match) => Number(match[2])),
      [10, 20, 30],
    );
    for (const match of markers) {
      const step = Number(match[2]);
      const vertex = loss[step - 1]!; // the curve has one sample per step, from step 1
      assert.equal(Number(match[3]), vertex[0], `checkpoint ${step} x`);
      assert.equal(Number(match[4]), vertex[1], `checkpoint ${step} y`);
    }
    assert.deepEqual(
      markers.map((match) => match[1]),
      ['checkpoint', 'checkpoint', 'checkpoint best'],
    );
  });

  it('marks the stop, and says when there is no loss yet', () => {
    const status = {
      ...finalStatus(),
      lossCurve: [],
      checkpoints: [],
      stop: { cause: 'signal' as const, reason: 'enough <now>', atStep: 12 },
    };
    const record = completedRecord(status);
    record.runs[0]!.messages = [];
    const svg = lossChartSvg(buildRunReport(record));
    assert.equal(pathOf(svg, 'loss'), undefined);
    assert.match(svg, /no loss reported yet/);
    assert.match(svg, /<g class="stop"><title>stopped at step 12 \(signal\): enough &lt;now&gt;<\/title>/);
  });

  it('charts the scores against the base model, the gate minimum and the final adapter', () => {
    const svg = scoresChartSvg(buildRunReport(completedRecord())) ?? '';
    assert.deepEqual(
      [...svg.matchAll(/<g class="score" data-label="([^"]+)" data-score="([\d.]+)"/g)].map((m) => [
        m[1],
        Number(m[2]),
      ]),
      [
        ['10', 0.5],
        ['20', 0.75],
        ['30', 1],
        ['final', 1],
      ],
    );
    assert.match(svg, /<g class="ref-base" data-score="0.25">/);
    assert.match(svg, /<g class="ref-min" data-score="0.75">/);
    const unscored = { ...finalStatus(), checkpoints: [], baseScore: undefined, finalScore: undefined };
    assert.equal(scoresChartSvg(buildRunReport(completedRecord(unscored))), undefined);
  });

  it('draws the phases in order on the timeline', () => {
    const svg = timelineSvg(buildRunReport(completedRecord())) ?? '';
    assert.deepEqual(
      [...svg.matchAll(/data-phase="([^"]+)"/g)].map((m) => m[1]),
      ['submitting', 'queued', 'running', 'evaluating', 'promoting', 'completed'],
    );
  });

  it('writes a self-contained page: no script, nothing fetched, every run text escaped', () => {
    const html = reportHtml(buildRunReport(completedRecord()));
    assert.match(html, /^<!DOCTYPE html>/);
    assert.ok(!/<script/i.test(html), 'no script');
    assert.ok(!/<(link|img|iframe|object|embed)\b/i.test(html), 'no external resources');
    assert.ok(!/\b(src|href)=/i.test(html), 'no src or href');
    assert.ok(!/url\(/i.test(html), 'no CSS url()');
    assert.ok(html.includes('report-unit &lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('Paris &lt;b&gt;bold&lt;/b&gt; &amp; co'));
    assert.equal((html.match(/<svg /g) ?? []).length, 3, 'loss, scores and timeline');
    // Promotion before and after, the gate, the timeline.
    assert.ok(html.includes('checkpoint 40 of job job-0'));
    assert.ok(html.includes('final adapter of job job-1'));
    assert.match(html, /<dt>decision<\/dt><dd><span class="pass">passed<\/span>/);
    assert.match(html, /<dt>minimum<\/dt><dd>0\.750<\/dd>/);
    assert.match(html, /<tr data-step="30"><td class="num">30 ★<\/td>/);
    assert.match(html, /<span class="up">\+0\.750<\/span>/);
  });

  it('says where a status came from when it is not the result', () => {
    const run = recordedRun();
    const html = reportHtml(buildRunReport({ workflowId: 'wf', runs: [run] }));
    assert.match(html, /No worker answered the status query: this report is built from the 35 events/);
  });

  it('picks nice ticks that span the data', () => {
    assert.deepEqual(niceTicks(0, 60, 8), [0, 10, 20, 30, 40, 50, 60]);
    assert.deepEqual(niceTicks(0.13, 2.2, 5), [0, 0.5, 1, 1.5, 2, 2.5]);
    assert.deepEqual(niceTicks(1, 1, 5).length > 1, true);
  });
});
