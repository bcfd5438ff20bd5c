/**
 * Milliseconds of a duration as the input schema accepts it (`durationSchema`): a number of
 * milliseconds, or `<n>ms|s|m|h|d`.
 */
import type { DurationInput } from './input.js';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function durationToMs(duration: DurationInput): number {
  if (typeof duration === 'number') return duration;
  const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(duration);
  if (!match) throw new TypeError(`Not a duration: ${duration}`);
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}
