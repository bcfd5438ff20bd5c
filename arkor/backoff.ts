/** Reconnect policy of the job event stream (docs/arkor-protocol.md §6.3). */
export interface ReconnectPolicy {
  /** First backoff delay in ms; also the fixed pause after a clean close that made progress. Default 1000. */
  baseDelayMs: number;
  /** Upper bound of any backoff delay in ms. Default 60000. */
  maxDelayMs: number;
  /**
   * Consecutive failures tolerated before giving up; `N` allows `N + 1` failures, the last one
   * rejecting without a delay. Default: unlimited (undefined).
   */
  maxAttempts?: number;
}

/** The SDK's defaults: 1 s base, 60 s cap, unlimited attempts. */
export const DEFAULT_RECONNECT_POLICY: Readonly<ReconnectPolicy> = Object.freeze({
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
});

/** Fills a partial policy with {@link DEFAULT_RECONNECT_POLICY}. */
export function resolveReconnectPolicy(policy: Partial<ReconnectPolicy> = {}): ReconnectPolicy {
  const resolved: ReconnectPolicy = {
    baseDelayMs: policy.baseDelayMs ?? DEFAULT_RECONNECT_POLICY.baseDelayMs,
    maxDelayMs: policy.maxDelayMs ?? DEFAULT_RECONNECT_POLICY.maxDelayMs,
  };
  if (policy.maxAttempts !== undefined) resolved.maxAttempts = policy.maxAttempts;
  return resolved;
}

/**
 * Delay before reconnect number `attempt + 1` (0-based `attempt` = consecutive failures so far),
 * exactly as the SDK computes it: `e = min(base * 2^attempt, cap)`, then ±25 % jitter
 * `e + e * (U - 0.25)` with `U = random() * 0.5` uniform in [0, 0.5), clamped to [0, cap].
 * With `random() = 0.5` (jitter midpoint) the schedule is base, 2·base, 4·base, … up to cap.
 */
export function reconnectDelayMs(attempt: number, policy: ReconnectPolicy, random: () => number = Math.random): number {
  const cap = policy.maxDelayMs;
  const exponential = Math.min(policy.baseDelayMs * 2 ** attempt, cap);
  const jitter = random() * 0.5;
  const delay = exponential + exponential * (jitter - 0.25);
  return Math.min(Math.max(delay, 0), cap);
}
