/** A loss sparkline: the curve as a line of block characters, lowest value ▁, highest █. */

const TICKS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/** Default width of a sparkline, in characters. */
export const SPARKLINE_WIDTH = 24;

/**
 * Renders `values` as at most `width` (default 24) block characters. Non-finite values are
 * skipped; a longer series is averaged into `width` equal buckets so the line spans the whole
 * curve; a flat series is a row of ▁. Empty input gives an empty string.
 */
export function sparkline(values: readonly number[], width: number = SPARKLINE_WIDTH): string {
  const finite = values.filter((value) => Number.isFinite(value));
  if (finite.length === 0 || width < 1) return '';
  const series = finite.length > width ? bucketMeans(finite, width) : finite;
  const min = Math.min(...series);
  const max = Math.max(...series);
  const range = max - min;
  return series
    .map((value) => TICKS[range === 0 ? 0 : Math.round(((value - min) / range) * (TICKS.length - 1))])
    .join('');
}

function bucketMeans(values: readonly number[], buckets: number): number[] {
  const means: number[] = [];
  for (let bucket = 0; bucket < buckets; bucket++) {
    const from = Math.floor((bucket * values.length) / buckets);
    const to = Math.floor(((bucket + 1) * values.length) / buckets);
    const slice = values.slice(from, to);
    means.push(slice.reduce((sum, value) => sum + value, 0) / slice.length);
  }
  return means;
}
