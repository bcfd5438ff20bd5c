/** Percentiles, the printed tables and the JSON results of the bench scripts. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const resultsDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'results');

export interface Summary {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles of `values` (NaN everywhere for an empty list). */
export function summarize(values: number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p: number): number =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
  const mean = sorted.length === 0 ? Number.NaN : sorted.reduce((sum, v) => sum + v, 0) / sorted.length;
  return { n: sorted.length, p50: rank(50), p95: rank(95), p99: rank(99), max: sorted.at(-1) ?? Number.NaN, mean };
}

export type Cell = string | number | boolean | null | undefined;

function formatCell(value: Cell): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') {
    if (Number.isNaN(value)) return '-';
    return Number.isInteger(value) ? String(value) : value.toFixed(1);
  }
  return String(value);
}

/** Prints rows as an aligned text table under a title. */
export function printTable(title: string, rows: Array<Record<string, Cell>>): void {
  console.log(`\n${title}`);
  const first = rows[0];
  if (!first) {
    console.log('(no rows)');
    return;
  }
  const columns = Object.keys(first);
  const cells = rows.map((row) => columns.map((column) => formatCell(row[column])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((line) => line[i]?.length ?? 0)));
  const line = (parts: string[]): string => parts.map((part, i) => part.padStart(widths[i] ?? 0)).join('  ');
  console.log(line(columns));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const row of cells) console.log(line(row));
}

/** Where and on what the numbers were taken, stored with every result. */
export function machine(): Record<string, unknown> {
  return {
    cores: cpus().length,
    cpu: cpus()[0]?.model,
    loadavg1m: loadavg()[0],
    node: process.version,
    at: new Date().toISOString(),
  };
}

/** Writes `bench/results/<name>.json` when `--json` was given; returns the path. */
export function writeJson(name: string, enabled: boolean, data: Record<string, unknown>): string | undefined {
  if (!enabled) return undefined;
  mkdirSync(resultsDir, { recursive: true });
  const path = join(resultsDir, `${name}.json`);
  writeFileSync(path, `${JSON.stringify({ name, machine: machine(), ...data }, null, 2)}\n`);
  console.log(`\nwrote ${path}`);
  return path;
}
