/**
 * Estimates the training speed from the steps the watcher observes, for the ETA. Measured on the
 * client's own clock (not the backend's timestamps), so clock skew between machines cannot
 * distort it; a sliding window follows changes of speed.
 */

/** Default window of observations the rate is measured over: 30 s. */
export const STEP_RATE_WINDOW_MS = 30_000;

export class StepRateEstimator {
  private samples: Array<{ step: number; atMs: number }> = [];

  constructor(private readonly windowMs: number = STEP_RATE_WINDOW_MS) {}

  /** Records that the run was at `step` at time `atMs` (a monotonic clock in milliseconds). */
  observe(step: number, atMs: number): void {
    const last = this.samples.at(-1);
    // A step that went backwards means a different run's numbers (or a restart): start over.
    if (last && step < last.step) this.samples = [];
    this.samples.push({ step, atMs });
    // Keep at least two samples so a slow run (no step within the window) still has a rate.
    while (this.samples.length > 2 && atMs - (this.samples[1]?.atMs ?? atMs) >= this.windowMs) this.samples.shift();
  }

  /** Steps per second over the window, or undefined until the step has moved. */
  stepsPerSecond(): number | undefined {
    const first = this.samples[0];
    const last = this.samples.at(-1);
    if (!first || !last || last.step <= first.step || last.atMs <= first.atMs) return undefined;
    return ((last.step - first.step) * 1000) / (last.atMs - first.atMs);
  }

  /** Seconds until `maxSteps` at the current rate, or undefined when unknown. */
  etaSeconds(step: number, maxSteps: number | undefined): number | undefined {
    const rate = this.stepsPerSecond();
    if (rate === undefined || maxSteps === undefined) return undefined;
    return Math.max(0, (maxSteps - step) / rate);
  }
}
