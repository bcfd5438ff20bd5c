/**
 * The progress line of `watch`: phase, bar, percentage, step, loss, sparkline and ETA. Pure, so
 * the renderers only decide where and how often it is written.
 */
import type { RunStatus } from '../contract/status.js';
import { formatDuration, formatMetric, formatSteps } from './format.js';
import { sparkline } from './sparkline.js';

/** Default width of the bar, in characters (without the brackets). */
export const PROGRESS_BAR_WIDTH = 20;

/** `[████░░░░]`: the fraction `step / maxSteps`, clamped to 0..1; empty when maxSteps is unknown. */
export function progressBar(step: number, maxSteps: number | undefined, width: number = PROGRESS_BAR_WIDTH): string {
  if (maxSteps === undefined || maxSteps <= 0) return '';
  const fraction = Math.min(1, Math.max(0, step / maxSteps));
  const filled = Math.floor(fraction * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
}

/** The whole-percent progress, or undefined when maxSteps is unknown. */
export function progressPercent(step: number, maxSteps: number | undefined): number | undefined {
  if (maxSteps === undefined || maxSteps <= 0) return undefined;
  return Math.floor(Math.min(1, Math.max(0, step / maxSteps)) * 100);
}

/** What one progress line shows. */
export type ProgressView = Pick<RunStatus, 'phase' | 'step' | 'maxSteps' | 'latestLoss' | 'lossCurve'> & {
  /** Seconds left, when the step rate is known. */
  etaSeconds?: number;
};

/**
 * One line, for example
 * `running   [██████░░░░░░░░░░░░░░]  30%  step 18/60  loss 1.234  █▆▄▃▂  ETA 0:05`.
 */
export function formatProgressLine(view: ProgressView): string {
  const parts = [view.phase.padEnd(10)];
  const bar = progressBar(view.step, view.maxSteps);
  if (bar) parts.push(bar, `${String(progressPercent(view.step, view.maxSteps)).padStart(3)}%`);
  parts.push(`step ${formatSteps(view.step, view.maxSteps)}`, `loss ${formatMetric(view.latestLoss)}`);
  const line = sparkline(view.lossCurve.map(([, loss]) => loss));
  if (line) parts.push(line);
  if (view.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(view.etaSeconds)}`);
  return parts.join('  ');
}
