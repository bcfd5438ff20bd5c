/**
 * The run report as one self-contained HTML page (a pure function of a `RunReport`): inline CSS
 * and the SVG charts of `chart.ts`, no scripts and nothing fetched, so it opens offline and can
 * be attached to a ticket or mailed. Every text from the run (names, reasons, model answers) is
 * escaped.
 */
import type { DeploymentTargetRef } from '../../contract/evaluation.js';
import { LOSS_CURVE_POINTS, type RunStatus } from '../../contract/status.js';
import { formatElapsed, lossChartSvg, phaseColour, scoresChartSvg, spanEnd, timelineSvg } from './chart.js';
import type { RunReport } from './model.js';
import { esc } from './svg.js';

const PAGE_STYLE = `
:root { color-scheme: light; }
body { font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2937; margin: 0; background: #f9fafb; }
main { max-width: 820px; margin: 0 auto; padding: 24px 20px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 16px; margin: 28px 0 8px; padding-bottom: 4px; border-bottom: 1px solid #e5e7eb; }
.sub { color: #6b7280; margin: 0 0 12px; word-break: break-all; }
.badge { display: inline-block; padding: 1px 10px; border-radius: 999px; color: #fff; font-weight: 600; font-size: 13px; vertical-align: middle; }
.note { background: #fffbeb; border: 1px solid #fde68a; border-radius: 6px; padding: 8px 12px; margin: 12px 0; }
.alert { background: #fef2f2; border: 1px solid #fecaca; border-radius: 6px; padding: 8px 12px; margin: 12px 0; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { color: #6b7280; }
dl.facts dd { margin: 0; word-break: break-word; }
figure { margin: 8px 0; background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 8px; overflow-x: auto; }
figure svg { display: block; max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
th { color: #6b7280; font-weight: 600; }
td.num { font-variant-numeric: tabular-nums; }
.pass { color: #047857; font-weight: 600; }
.fail { color: #b91c1c; font-weight: 600; }
.up { color: #047857; }
.down { color: #b91c1c; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
footer { color: #9ca3af; margin-top: 32px; font-size: 12px; }
code { font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; }
`;

/** An ISO time as `2025-06-01 03:00:12Z`. */
export function formatTime(iso: string | undefined): string {
  if (!iso) return '–';
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

function metric(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

function score(value: number | undefined): string {
  return value === undefined ? '–' : value.toFixed(3);
}

/** A score's difference from the base model's, signed and coloured. */
function versus(value: number | undefined, base: number | undefined): string {
  if (value === undefined || base === undefined) return '–';
  const delta = value - base;
  const sign = delta > 0 ? '+' : delta < 0 ? '−' : '±';
  return `<span class="${delta >= 0 ? 'up' : 'down'}">${sign}${Math.abs(delta).toFixed(3)}</span>`;
}

/** A deployment target in words. */
export function describeTarget(target: DeploymentTargetRef | null | undefined): string {
  if (target === undefined) return '–';
  if (target === null) return 'nothing (the deployment did not exist)';
  if (target.kind === 'base_model') return `base model ${target.baseModel}`;
  const adapter = target.adapter;
  return adapter.kind === 'final'
    ? `final adapter of job ${adapter.jobId}`
    : `checkpoint ${adapter.step} of job ${adapter.jobId}`;
}

function facts(rows: Array<[string, string | undefined]>): string {
  const shown = rows.filter((row): row is [string, string] => row[1] !== undefined);
  return `<dl class="facts">${shown.map(([label, value]) => `<dt>${esc(label)}</dt><dd>${value}</dd>`).join('')}</dl>`;
}

function yesNo(value: boolean | undefined): string | undefined {
  return value === undefined ? undefined : value ? 'yes' : 'no';
}

function figure(svg: string | undefined, caption?: string): string {
  if (!svg) return '';
  return `<figure>${svg}${caption ? `<figcaption class="sub">${esc(caption)}</figcaption>` : ''}</figure>`;
}

function headline(report: RunReport): string {
  const { status } = report;
  const phase = report.outcome ?? status.phase;
  return (
    `<h1>${esc(status.name)} <span class="badge" style="background:${phaseColour(phase)}">${esc(phase)}</span></h1>` +
    `<p class="sub">workflow <code>${esc(report.workflowId)}</code> · ${esc(status.model)}` +
    (status.jobId ? ` · job <code>${esc(status.jobId)}</code>` : '') +
    `</p>`
  );
}

function sourceNote(report: RunReport): string {
  if (report.statusSource === 'result') return '';
  if (report.statusSource === 'query')
    return `<p class="note">${report.execution === 'running' ? 'The run is still going: this' : 'This'} is its live status at ${esc(formatTime(report.generatedAt))} (the status query).</p>`;
  return (
    `<p class="note">No worker answered the status query: this report is built from the ${report.eventsDelivered} events in the run's history. ` +
    `Smoke-test scores, the gate and the promotion are not events, so they are not shown; start a worker on the run's task queue for them.</p>`
  );
}

function summary(report: RunReport): string {
  const s = report.status;
  const elapsed =
    report.closedAt !== undefined
      ? formatElapsed(Date.parse(report.closedAt) - Date.parse(report.startedAt))
      : `${formatElapsed(Date.parse(report.generatedAt) - Date.parse(report.startedAt))} so far`;
  return facts([
    ['outcome', esc(report.outcome ?? `${s.phase} (${report.execution})`)],
    ['steps', esc(s.maxSteps === undefined ? String(s.step) : `${s.step} of ${s.maxSteps}`)],
    [
      'loss',
      esc(
        `${metric(s.latestLoss)} (best ${s.bestLoss ? `${metric(s.bestLoss.value)} at step ${s.bestLoss.step}` : '–'})`,
      ),
    ],
    [
      'eval loss',
      esc(
        `${metric(s.latestEvalLoss)} (best ${s.bestEvalLoss ? `${metric(s.bestEvalLoss.value)} at step ${s.bestEvalLoss.step}` : '–'})`,
      ),
    ],
    [
      'best checkpoint',
      s.bestCheckpoint ? esc(`step ${s.bestCheckpoint.step}, score ${score(s.bestCheckpoint.score)}`) : undefined,
    ],
    ['final score', s.finalScore ? esc(score(s.finalScore.score)) : undefined],
    ['base model score', s.baseScore === undefined ? undefined : esc(score(s.baseScore))],
    ['started', esc(formatTime(report.startedAt))],
    ['training started', s.trainingStartedAt ? esc(formatTime(s.trainingStartedAt)) : undefined],
    ['finished', report.closedAt ? esc(formatTime(report.closedAt)) : undefined],
    ['duration', esc(elapsed)],
    [
      'events',
      esc(
        `${s.eventsReceived} received, ${s.callbacksRun} callbacks run` +
          (s.eventsNotDispatched > 0 ? `, ${s.eventsNotDispatched} after the stop (not dispatched)` : ''),
      ),
    ],
    [
      'Temporal runs',
      esc(
        `${report.runIds.length + report.runsNotRead}${report.runIds.length > 1 ? ' (continued as new)' : ''}` +
          (report.runsNotRead > 0 ? `; the earliest ${report.runsNotRead}+ not read` : ''),
      ),
    ],
    [
      'labels',
      s.labels && Object.keys(s.labels).length > 0
        ? esc(
            Object.entries(s.labels)
              .map(([key, value]) => `${key}=${value}`)
              .join(', '),
          )
        : undefined,
    ],
  ]);
}

function endingSection(report: RunReport): string {
  const { stop, error } = report.status;
  if (!stop && !error && !report.failure && !report.reason) return '';
  const rows: Array<[string, string | undefined]> = [
    ['stop cause', stop ? esc(stop.cause) : undefined],
    ['stop reason', stop ? esc(stop.reason) : undefined],
    ['stopped at step', stop ? esc(String(stop.atStep)) : undefined],
    ['error', error ? esc(error) : undefined],
    [
      'failure',
      report.failure
        ? esc(`${report.failure.type ? `${report.failure.type}: ` : ''}${report.failure.message}`)
        : undefined,
    ],
    ['reason', !stop && !error && !report.failure && report.reason ? esc(report.reason) : undefined],
  ];
  const failed = report.outcome === 'failed' || report.execution === 'failed' || report.execution === 'terminated';
  return `<h2>How it ended</h2><div class="${failed ? 'alert' : 'note'}">${facts(rows)}</div>`;
}

function checkpointsSection(report: RunReport): string {
  const { status } = report;
  if (status.checkpoints.length === 0 && !status.finalScore)
    return '<h2>Checkpoints</h2><p>No checkpoint was saved.</p>';
  const rows = status.checkpoints.map(
    (checkpoint) =>
      `<tr data-step="${checkpoint.step}"><td class="num">${checkpoint.step}${checkpoint.step === status.bestCheckpoint?.step ? ' ★' : ''}</td>` +
      `<td>${esc(formatTime(checkpoint.savedAt))}</td><td class="num">${checkpoint.artifactCount}</td>` +
      `<td class="num">${score(checkpoint.score)}</td><td class="num">${versus(checkpoint.score, status.baseScore)}</td></tr>`,
  );
  if (status.finalScore) {
    rows.push(
      `<tr><td>final adapter</td><td>${esc(formatTime(status.finishedAt))}</td><td></td>` +
        `<td class="num">${score(status.finalScore.score)}</td><td class="num">${versus(status.finalScore.score, status.baseScore)}</td></tr>`,
    );
  }
  const scored = status.scoresCheckpoints
    ? `Scored with the run's smoke-test prompts; the base model ${status.baseScore === undefined ? 'was not scored' : `scores ${score(status.baseScore)}`}.`
    : 'The run has no smoke-test prompts: checkpoints are not scored.';
  return (
    `<h2>Checkpoints</h2><p>${esc(scored)}</p>` +
    figure(scoresChartSvg(report)) +
    `<table class="checkpoints"><thead><tr><th>step</th><th>saved</th><th>artifacts</th><th>score</th><th>vs base model</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

function gateSection(report: RunReport): string {
  const { gate, approval } = report.status;
  const parts: string[] = [];
  if (gate || report.gate) {
    parts.push('<h2>Gate</h2>');
    parts.push(
      facts([
        [
          'decision',
          gate
            ? `<span class="${gate.passed ? 'pass' : 'fail'}">${gate.passed ? 'passed' : 'failed'}</span>`
            : 'not decided',
        ],
        ['reason', gate ? esc(gate.reason) : undefined],
        ['final score', gate?.score === undefined ? undefined : esc(score(gate.score))],
        ['minimum', report.gate ? esc(score(report.gate.minScore)) : undefined],
        ['must beat deployed', yesNo(report.gate?.mustBeatDeployed)],
        ['deployed scored', gate?.deployedScore === undefined ? undefined : esc(score(gate.deployedScore))],
      ]),
    );
  }
  if (approval) {
    parts.push('<h2>Approval</h2>');
    parts.push(
      facts([
        ['state', esc(approval.state)],
        ['by', approval.by ? esc(approval.by) : undefined],
        ['reason', approval.reason ? esc(approval.reason) : undefined],
        ['at', approval.at ? esc(formatTime(approval.at)) : undefined],
      ]),
    );
  }
  return parts.join('');
}

function promotionSection(status: RunStatus): string {
  const promotion = status.promotion;
  if (!promotion) return '';
  return (
    `<h2>Promotion</h2>` +
    facts([
      ['deployment', esc(promotion.deployment)],
      ['skipped', promotion.skipped ? esc(promotion.skipped) : undefined],
      ['before', promotion.before === undefined ? undefined : esc(describeTarget(promotion.before))],
      ['after', promotion.after === undefined ? undefined : esc(describeTarget(promotion.after))],
      ['created', yesNo(promotion.created)],
      ['changed', yesNo(promotion.changed)],
      [
        'verified',
        promotion.verified === undefined
          ? undefined
          : `<span class="${promotion.verified ? 'pass' : 'fail'}">${promotion.verified ? 'yes' : 'no'}</span>`,
      ],
      ['rolled back', yesNo(promotion.rolledBack)],
      ['error', promotion.error ? esc(promotion.error) : undefined],
      [
        'key',
        promotion.keyId ? `<code>${esc(promotion.keyId)}</code> (plaintext in the worker's key store)` : undefined,
      ],
    ])
  );
}

function answersSection(status: RunStatus): string {
  const prompts = status.finalScore?.prompts ?? [];
  if (prompts.length === 0) return '';
  const rows = prompts.map(
    (prompt) =>
      `<tr><td>${esc(prompt.name)}</td><td class="num">${score(prompt.score)}</td><td>${esc(prompt.sample)}</td><td>${esc(prompt.detail ?? '')}</td></tr>`,
  );
  return (
    `<h2>Final adapter's answers</h2><table class="answers"><thead><tr><th>prompt</th><th>score</th><th>answer (first 200 characters)</th><th>why</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

function timelineSection(report: RunReport): string {
  if (report.phases.length === 0) return '';
  const rows = report.phases.map((span) => {
    const end = spanEnd(span, report);
    const duration = formatElapsed(Date.parse(end) - Date.parse(span.start));
    return (
      `<tr><td><span class="swatch" style="background:${phaseColour(span.phase)}"></span>${esc(span.phase)}</td>` +
      `<td>${esc(formatTime(span.start))}</td><td class="num">${esc(span.end ? duration : `${duration} so far`)}</td></tr>`
    );
  });
  return (
    `<h2>Timeline</h2>` +
    figure(timelineSvg(report)) +
    `<table class="phases"><thead><tr><th>phase</th><th>from</th><th>for</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function callbackErrorsSection(status: RunStatus): string {
  if (status.callbackErrors.length === 0) return '';
  const rows = status.callbackErrors.map(
    (error) =>
      `<tr><td>${esc(error.callback)}</td><td>${esc(error.eventIds.join(', '))}</td><td>${esc(error.message)}</td></tr>`,
  );
  return (
    `<h2>Callback errors</h2><table><thead><tr><th>callback</th><th>events</th><th>error</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`
  );
}

/** The whole report page. */
export function reportHtml(report: RunReport): string {
  const { status } = report;
  const skipped =
    report.deliveriesSkipped > 0
      ? `<p class="note">${report.deliveriesSkipped} deliveries in the history had a shape this version does not read; their events are not in the eval-loss curve.</p>`
      : '';
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(`${status.name} — training run report`)}</title>`,
    `<style>${PAGE_STYLE}</style></head><body><main>`,
    headline(report),
    sourceNote(report),
    skipped,
    summary(report),
    `<h2>Loss</h2>`,
    figure(
      lossChartSvg(report),
      report.lossCurve.length > LOSS_CURVE_POINTS / 2
        ? `A run keeps at most ${LOSS_CURVE_POINTS} points of its loss curve, spread over the whole run.`
        : undefined,
    ),
    endingSection(report),
    checkpointsSection(report),
    gateSection(report),
    promotionSection(status),
    answersSection(status),
    timelineSection(report),
    callbackErrorsSection(status),
    `<footer>Generated ${esc(formatTime(report.generatedAt))} by <code>arkor-temporal report</code> from the workflow's history (${esc(report.statusSource === 'result' ? "status from the run's result" : report.statusSource === 'query' ? 'status from the status query' : 'status folded from the history')}).</footer>`,
    '</main></body></html>',
    '',
  ].join('\n');
}
