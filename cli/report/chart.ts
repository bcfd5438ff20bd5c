/**
 * The report's charts as standalone SVG strings (pure functions of a `RunReport`; no scripts, no
 * external resources): the loss and eval-loss curves with checkpoint and stop markers, the scores
 * of checkpoints and the final adapter against the base model, and the timeline of phases.
 *
 * The loss curve is one `<path class="loss">` with exactly one vertex (`M`/`L`) per curve sample;
 * each checkpoint is a `<g class="checkpoint" data-step="…">` whose marker sits on the curve.
 */
import { attrs, esc, linear, niceTicks, num, tickLabel } from './svg.js';
import type { PhaseSpan, RunReport } from './model.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** Colours and strokes; inside each SVG so that it renders the same standalone and inline. */
const CHART_STYLE = `
text { font: 12px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; fill: #374151; }
.title { font-size: 14px; font-weight: 600; fill: #111827; }
.axis-label { fill: #6b7280; }
.grid { stroke: #e5e7eb; stroke-width: 1; }
.axis { stroke: #9ca3af; stroke-width: 1; }
.loss { fill: none; stroke: #2563eb; stroke-width: 2; stroke-linejoin: round; stroke-linecap: round; }
.eval-loss { fill: none; stroke: #d97706; stroke-width: 2; stroke-dasharray: 6 4; stroke-linejoin: round; stroke-linecap: round; }
.eval-point { fill: #d97706; }
.checkpoint-line { stroke: #059669; stroke-width: 1; stroke-dasharray: 2 3; }
.checkpoint-marker { fill: #fff; stroke: #059669; stroke-width: 2; }
.checkpoint.best .checkpoint-marker { fill: #059669; }
.checkpoint-label { font-size: 11px; fill: #047857; }
.stop-line { stroke: #dc2626; stroke-width: 2; }
.stop-label { font-size: 11px; fill: #b91c1c; font-weight: 600; }
.empty { fill: #9ca3af; font-size: 14px; }
.bar { fill: #93c5fd; }
.bar.best { fill: #059669; }
.bar.final { fill: #2563eb; }
.bar-label { font-size: 11px; }
line.ref-base { stroke: #6b7280; stroke-width: 1.5; stroke-dasharray: 5 4; }
line.ref-deployed { stroke: #7c3aed; stroke-width: 1.5; stroke-dasharray: 2 3; }
line.ref-min { stroke: #dc2626; stroke-width: 1.5; stroke-dasharray: 8 3; }
.ref-label { font-size: 11px; }
.phase { stroke: #fff; stroke-width: 1; }
.phase-label { font-size: 11px; fill: #fff; }
`;

const PHASE_COLOURS: Record<string, string> = {
  submitting: '#9ca3af',
  queued: '#a78bfa',
  running: '#2563eb',
  stopping: '#f97316',
  evaluating: '#0891b2',
  'awaiting-approval': '#ca8a04',
  promoting: '#7c3aed',
  completed: '#059669',
  failed: '#dc2626',
  stopped: '#ea580c',
  cancelled: '#6b7280',
  skipped: '#6b7280',
};

export function phaseColour(phase: string): string {
  return PHASE_COLOURS[phase] ?? '#6b7280';
}

function svgOpen(width: number, height: number, title: string, className: string): string {
  return (
    `<svg${attrs({ xmlns: SVG_NS, class: className, width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' })}>` +
    `<title>${esc(title)}</title><style>${CHART_STYLE}</style>`
  );
}

/** The loss curve's value at `step`: interpolated between samples, the nearest end outside them. */
function lossAt(curve: ReadonlyArray<[number, number]>, step: number): number | undefined {
  const first = curve[0];
  const last = curve.at(-1);
  if (!first || !last) return undefined;
  if (step <= first[0]) return first[1];
  if (step >= last[0]) return last[1];
  for (let index = 1; index < curve.length; index++) {
    const [s1, l1] = curve[index] ?? last;
    const [s0, l0] = curve[index - 1] ?? first;
    if (step <= s1) return s1 === s0 ? l1 : l0 + ((step - s0) / (s1 - s0)) * (l1 - l0);
  }
  return last[1];
}

/** `M x y L x y …`: one vertex per point. */
function pathData(points: ReadonlyArray<[number, number]>, x: (v: number) => number, y: (v: number) => number): string {
  return points.map(([px, py], index) => `${index === 0 ? 'M' : 'L'}${num(x(px))} ${num(y(py))}`).join(' ');
}

export interface ChartSize {
  width?: number;
  height?: number;
}

/** The loss and eval-loss curves against the step, with checkpoints and the stop marked. */
export function lossChartSvg(report: RunReport, size: ChartSize = {}): string {
  const width = size.width ?? 760;
  const height = size.height ?? 340;
  const margin = { top: 56, right: 24, bottom: 44, left: 60 };
  const { status, lossCurve, evalCurve } = report;
  const plot = { left: margin.left, right: width - margin.right, top: margin.top, bottom: height - margin.bottom };

  const steps = [
    ...lossCurve.map(([step]) => step),
    ...evalCurve.map(([step]) => step),
    ...status.checkpoints.map((checkpoint) => checkpoint.step),
    status.step,
    status.maxSteps ?? 0,
    status.stop?.atStep ?? 0,
  ];
  const xTicks = niceTicks(0, Math.max(1, ...steps), 8);
  const x = linear([0, xTicks.at(-1) ?? 1], [plot.left, plot.right]);

  const values = [...lossCurve, ...evalCurve].map(([, value]) => value);
  const lo = values.length ? Math.min(...values) : 0;
  const hi = values.length ? Math.max(...values) : 1;
  const pad = (hi - lo) * 0.05;
  // Losses are positive: the axis stops at 0 rather than below it.
  const yTicks = niceTicks(lo >= 0 ? Math.max(0, lo - pad) : lo - pad, hi + pad, 5);
  const y = linear([yTicks[0] ?? 0, yTicks.at(-1) ?? 1], [plot.bottom, plot.top]);

  const parts: string[] = [svgOpen(width, height, `Loss of ${status.name} (${report.workflowId})`, 'loss-chart')];
  parts.push(`<text class="title"${attrs({ x: plot.left, y: 20 })}>Loss</text>`);
  // Legend.
  const legend = [
    { label: `loss (${lossCurve.length} points)`, mark: `<line class="loss" x1="0" y1="0" x2="22" y2="0"/>` },
    { label: `eval loss (${evalCurve.length})`, mark: `<line class="eval-loss" x1="0" y1="0" x2="22" y2="0"/>` },
    {
      label: `checkpoint (${status.checkpoints.length})`,
      mark: `<circle class="checkpoint-marker" cx="11" cy="0" r="4"/>`,
    },
  ];
  let legendX = plot.left + 60;
  for (const item of legend) {
    parts.push(`<g class="legend"${attrs({ transform: `translate(${num(legendX)} 16)` })}>${item.mark}`);
    parts.push(`<text x="28" y="4">${esc(item.label)}</text></g>`);
    legendX += 40 + item.label.length * 6.5;
  }

  // Grid and axes.
  for (const tick of yTicks) {
    const ty = y(tick);
    parts.push(`<line class="grid"${attrs({ x1: plot.left, x2: plot.right, y1: ty, y2: ty })}/>`);
    parts.push(`<text${attrs({ x: plot.left - 8, y: ty + 4, 'text-anchor': 'end' })}>${esc(tickLabel(tick))}</text>`);
  }
  for (const tick of xTicks) {
    const tx = x(tick);
    parts.push(`<line class="axis"${attrs({ x1: tx, x2: tx, y1: plot.bottom, y2: plot.bottom + 4 })}/>`);
    parts.push(`<text${attrs({ x: tx, y: plot.bottom + 18, 'text-anchor': 'middle' })}>${esc(tickLabel(tick))}</text>`);
  }
  parts.push(`<line class="axis"${attrs({ x1: plot.left, x2: plot.right, y1: plot.bottom, y2: plot.bottom })}/>`);
  parts.push(`<line class="axis"${attrs({ x1: plot.left, x2: plot.left, y1: plot.top, y2: plot.bottom })}/>`);
  parts.push(
    `<text class="axis-label"${attrs({ x: (plot.left + plot.right) / 2, y: height - 8, 'text-anchor': 'middle' })}>step</text>`,
  );
  parts.push(
    `<text class="axis-label"${attrs({ transform: `translate(16 ${num((plot.top + plot.bottom) / 2)}) rotate(-90)`, 'text-anchor': 'middle' })}>loss</text>`,
  );

  if (lossCurve.length === 0 && evalCurve.length === 0) {
    parts.push(
      `<text class="empty"${attrs({ x: (plot.left + plot.right) / 2, y: (plot.top + plot.bottom) / 2, 'text-anchor': 'middle' })}>no loss reported yet</text>`,
    );
  }

  // Checkpoints: a dashed line at the step, the marker on the loss curve, the score above.
  const best = status.bestCheckpoint?.step;
  for (const checkpoint of status.checkpoints) {
    const cx = x(checkpoint.step);
    const loss = lossAt(lossCurve, checkpoint.step);
    const cy = loss === undefined ? plot.top + 8 : y(loss);
    const score = checkpoint.score === undefined ? '' : checkpoint.score.toFixed(2);
    const tip =
      `checkpoint at step ${checkpoint.step}` +
      (checkpoint.score === undefined ? '' : `: score ${checkpoint.score.toFixed(3)}`) +
      (status.baseScore === undefined ? '' : ` (base model ${status.baseScore.toFixed(3)})`);
    parts.push(
      `<g${attrs({ class: checkpoint.step === best ? 'checkpoint best' : 'checkpoint', 'data-step': checkpoint.step, 'data-score': checkpoint.score })}>` +
        `<title>${esc(tip)}</title>` +
        `<line class="checkpoint-line"${attrs({ x1: cx, x2: cx, y1: plot.top, y2: plot.bottom })}/>` +
        `<circle class="checkpoint-marker"${attrs({ cx, cy, r: 5 })}/>` +
        `<text class="checkpoint-label"${attrs({ x: cx, y: plot.top - 6, 'text-anchor': 'middle' })}>${esc(score || String(checkpoint.step))}</text>` +
        `</g>`,
    );
  }

  if (evalCurve.length > 0) {
    parts.push(`<path class="eval-loss"${attrs({ d: pathData(evalCurve, x, y) })}/>`);
    for (const [step, value] of evalCurve) {
      parts.push(
        `<circle class="eval-point"${attrs({ cx: x(step), cy: y(value), r: 3 })}><title>${esc(`eval loss ${tickLabel(value)} at step ${step}`)}</title></circle>`,
      );
    }
  }
  if (lossCurve.length > 0) parts.push(`<path class="loss"${attrs({ d: pathData(lossCurve, x, y) })}/>`);

  if (status.stop) {
    const sx = x(status.stop.atStep);
    parts.push(
      `<g class="stop"><title>${esc(`stopped at step ${status.stop.atStep} (${status.stop.cause}): ${status.stop.reason}`)}</title>` +
        `<line class="stop-line"${attrs({ x1: sx, x2: sx, y1: plot.top - 14, y2: plot.bottom })}/>` +
        `<text class="stop-label"${attrs({ x: sx - 4, y: plot.top - 18, 'text-anchor': 'end' })}>${esc(`stop: ${status.stop.cause}`)}</text></g>`,
    );
  }
  parts.push('</svg>');
  return parts.join('');
}

/** Bars for the scored checkpoints and the final adapter, with the base model, deployed and minimum scores as lines. */
export function scoresChartSvg(report: RunReport, size: ChartSize = {}): string | undefined {
  const { status } = report;
  const bars = status.checkpoints
    .filter((checkpoint) => checkpoint.score !== undefined)
    .map((checkpoint) => ({
      label: String(checkpoint.step),
      score: checkpoint.score ?? 0,
      kind: checkpoint.step === status.bestCheckpoint?.step ? 'bar best' : 'bar',
      tip: `checkpoint at step ${checkpoint.step}`,
    }));
  if (status.finalScore)
    bars.push({ label: 'final', score: status.finalScore.score, kind: 'bar final', tip: 'the final adapter' });
  if (bars.length === 0 && status.baseScore === undefined) return undefined;

  const height = size.height ?? 240;
  const margin = { top: 36, right: 150, bottom: 40, left: 48 };
  const width = size.width ?? Math.min(760, Math.max(360, margin.left + margin.right + bars.length * 56));
  const plot = { left: margin.left, right: width - margin.right, top: margin.top, bottom: height - margin.bottom };
  const y = linear([0, 1], [plot.bottom, plot.top]);
  const slot = (plot.right - plot.left) / Math.max(1, bars.length);
  const barWidth = Math.min(36, slot * 0.7);

  const parts: string[] = [svgOpen(width, height, `Smoke-test scores of ${status.name}`, 'scores-chart')];
  parts.push(`<text class="title"${attrs({ x: plot.left, y: 20 })}>Smoke-test scores</text>`);
  for (const tick of [0, 0.25, 0.5, 0.75, 1]) {
    parts.push(`<line class="grid"${attrs({ x1: plot.left, x2: plot.right, y1: y(tick), y2: y(tick) })}/>`);
    parts.push(`<text${attrs({ x: plot.left - 8, y: y(tick) + 4, 'text-anchor': 'end' })}>${tick}</text>`);
  }
  bars.forEach((bar, index) => {
    const cx = plot.left + slot * (index + 0.5);
    const top = y(bar.score);
    parts.push(
      `<g class="score"${attrs({ 'data-label': bar.label, 'data-score': bar.score })}><title>${esc(`${bar.tip}: ${bar.score.toFixed(3)}`)}</title>` +
        `<rect${attrs({ class: bar.kind, x: cx - barWidth / 2, y: top, width: barWidth, height: Math.max(0, plot.bottom - top) })}/>` +
        `<text class="bar-label"${attrs({ x: cx, y: top - 4, 'text-anchor': 'middle' })}>${esc(bar.score.toFixed(2))}</text>` +
        `<text${attrs({ x: cx, y: plot.bottom + 16, 'text-anchor': 'middle' })}>${esc(bar.label)}</text></g>`,
    );
  });
  parts.push(`<line class="axis"${attrs({ x1: plot.left, x2: plot.right, y1: plot.bottom, y2: plot.bottom })}/>`);
  parts.push(
    `<text class="axis-label"${attrs({ x: (plot.left + plot.right) / 2, y: height - 6, 'text-anchor': 'middle' })}>checkpoint step</text>`,
  );
  const references = [
    { value: status.baseScore, kind: 'ref-base', label: 'base model' },
    { value: status.gate?.deployedScore, kind: 'ref-deployed', label: 'deployed before' },
    { value: report.gate?.minScore, kind: 'ref-min', label: 'gate minimum' },
  ];
  let labelY = plot.top + 4;
  for (const reference of references) {
    if (reference.value === undefined) continue;
    const ry = y(reference.value);
    parts.push(
      `<g${attrs({ class: reference.kind, 'data-score': reference.value })}><line${attrs({ class: reference.kind, x1: plot.left, x2: plot.right, y1: ry, y2: ry })}/>` +
        `<line${attrs({ class: reference.kind, x1: plot.right + 12, x2: plot.right + 32, y1: labelY, y2: labelY })}/>` +
        `<text class="ref-label"${attrs({ x: plot.right + 38, y: labelY + 4 })}>${esc(`${reference.label} ${reference.value.toFixed(2)}`)}</text></g>`,
    );
    labelY += 18;
  }
  parts.push('</svg>');
  return parts.join('');
}

/** Milliseconds as `1h 2m`, `3m 4s`, `5.6s` or `78ms`. */
export function formatElapsed(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${Number(seconds.toFixed(1))}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${Math.round(seconds % 60)}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** A phase span's end: its own, else (the phase the run is in) when the report was made. */
export function spanEnd(span: PhaseSpan, report: Pick<RunReport, 'generatedAt'>): string {
  return span.end ?? report.generatedAt;
}

/** The phases as one horizontal bar, each segment as long as the phase lasted (at least a sliver). */
export function timelineSvg(report: RunReport, size: ChartSize = {}): string | undefined {
  const spans = report.phases;
  const first = spans[0];
  if (!first) return undefined;
  const width = size.width ?? 760;
  const height = 70;
  const plot = { left: 8, right: width - 8, top: 8, bottom: 40 };
  const start = Date.parse(first.start);
  const end = Math.max(start + 1, ...spans.map((span) => Date.parse(spanEnd(span, report))));
  const minWidth = 3;
  // Each span gets a sliver at least, taken from the whole in proportion.
  const total = plot.right - plot.left;
  const durations = spans.map((span) => Math.max(0, Date.parse(spanEnd(span, report)) - Date.parse(span.start)));
  const sum = durations.reduce((a, b) => a + b, 0) || 1;
  const free = Math.max(0, total - minWidth * spans.length);
  const parts: string[] = [svgOpen(width, height, `Phases of ${report.status.name}`, 'timeline')];
  let left = plot.left;
  spans.forEach((span, index) => {
    const duration = durations[index] ?? 0;
    const segment = minWidth + (free * duration) / sum;
    parts.push(
      `<g${attrs({ class: 'phase-span', 'data-phase': span.phase })}><title>${esc(`${span.phase}: ${formatElapsed(duration)}${span.end ? '' : ' (so far)'}`)}</title>` +
        `<rect${attrs({ class: 'phase', x: left, y: plot.top, width: segment, height: plot.bottom - plot.top, fill: phaseColour(span.phase) })}/>` +
        (segment > span.phase.length * 7 + 8
          ? `<text class="phase-label"${attrs({ x: left + 5, y: plot.top + 20 })}>${esc(span.phase)}</text>`
          : '') +
        `</g>`,
    );
    left += segment;
  });
  parts.push(
    `<text${attrs({ x: plot.left, y: height - 10 })}>${esc(first.start.replace('T', ' ').replace(/\.\d+Z$/, 'Z'))}</text>`,
  );
  parts.push(
    `<text${attrs({ x: plot.right, y: height - 10, 'text-anchor': 'end' })}>${esc(`${formatElapsed(end - start)} in all`)}</text>`,
  );
  parts.push('</svg>');
  return parts.join('');
}
