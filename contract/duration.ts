/**
 * One duration format for every field and flag: Temporal's (`ms`-style strings such as "500ms",
 * "30s", "5m", "2h", "1d", "1 day", "90 minutes"), or a number of milliseconds where a field
 * takes numbers. Pure: imported by workflow code, the service and the CLI.
 */
import ms, { type StringValue } from 'ms';

/** What an error says a duration should look like. */
export const DURATION_EXAMPLES = '"30s", "5m", "2h" or "1 day"';

/**
 * Milliseconds of a duration string, or undefined when it is not one. A bare number is refused:
 * "30" could mean seconds as easily as milliseconds. Zero and negative durations are refused.
 */
export function durationTextMs(text: string): number | undefined {
  if (!/[a-z]/i.test(text)) return undefined;
  const value = ms(text as StringValue);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** Milliseconds of a validated duration (a number of milliseconds, or a duration string). */
export function durationToMs(duration: number | string): number {
  if (typeof duration === 'number') return duration;
  const value = durationTextMs(duration);
  if (value === undefined) throw new TypeError(`Not a duration: ${duration}`);
  return value;
}
