/** Small value formatters shared by the status view, the progress line and the outcome. */

/** A metric: `–` for null (not reported), `NaN`/`Infinity` as such, else 4 significant digits. */
export function formatMetric(value: number | null | undefined): string {
  if (value === null || value === undefined) return '–';
  if (!Number.isFinite(value)) return String(value);
  return String(Number(value.toPrecision(4)));
}

/** A duration in seconds as `m:ss` or `h:mm:ss` (rounded up, so an ETA never reads 0:00 early). */
export function formatDuration(seconds: number): string {
  const total = Math.max(0, Math.ceil(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** `step/maxSteps`, or just the step when the run has no step limit. */
export function formatSteps(step: number, maxSteps: number | undefined): string {
  return maxSteps === undefined ? String(step) : `${step}/${maxSteps}`;
}

/** A best value with its step, for example `0.8123 @ step 40`. */
export function formatBest(best: { value: number; step: number } | null): string {
  return best === null ? '–' : `${formatMetric(best.value)} @ step ${best.step}`;
}

/** Collapses a message to one line (failures can carry stack-like multi-line text). */
export function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}
