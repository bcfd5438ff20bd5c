/**
 * Early-stopping rules: pure functions of the run's metrics, evaluated by the workflow after
 * every log event. Decisions live in the workflow so that they are replayed, not re-decided.
 */
import type { EarlyStoppingRules } from '../contract/input.js';
import type { Metric } from '../contract/events.js';
import { isFiniteMetric } from '../contract/events.js';

/** What the patience rule remembers between evaluations (carried across continue-as-new). */
export interface PatienceState {
  best: number | null;
  /** Readings since `best` last improved by more than `minDelta`. */
  stale: number;
}

export interface RuleInput {
  step: number;
  loss: Metric;
  evalLoss: Metric;
}

export interface RuleVerdict {
  stop: boolean;
  cause?: 'rule' | 'budget';
  reason?: string;
  patience: PatienceState;
}

export const initialPatience: PatienceState = { best: null, stale: 0 };

/**
 * Evaluates every configured rule on one log reading. A reading without the patience metric
 * (a train-only frame when patience watches `evalLoss`) leaves the patience counter alone:
 * absence is not a lack of improvement.
 */
export function evaluateRules(
  rules: EarlyStoppingRules,
  budgetMaxSteps: number | undefined,
  reading: RuleInput,
  patience: PatienceState,
): RuleVerdict {
  const keep = (next: PatienceState): RuleVerdict => ({ stop: false, patience: next });
  const stop = (cause: 'rule' | 'budget', reason: string, next: PatienceState): RuleVerdict => ({
    stop: true,
    cause,
    reason,
    patience: next,
  });

  if (rules.nonFiniteLoss) {
    for (const [name, value] of [
      ['loss', reading.loss],
      ['evalLoss', reading.evalLoss],
    ] as const) {
      if (value !== null && !isFiniteMetric(value)) {
        return stop('rule', `${name} is ${value} at step ${reading.step}`, patience);
      }
    }
  }

  if (rules.lossCeiling && isFiniteMetric(reading.loss) && reading.step >= rules.lossCeiling.afterStep) {
    if (reading.loss > rules.lossCeiling.value) {
      return stop(
        'rule',
        `loss ${reading.loss} exceeds the ceiling ${rules.lossCeiling.value} at step ${reading.step}`,
        patience,
      );
    }
  }

  let nextPatience = patience;
  if (rules.patience) {
    const value = rules.patience.metric === 'loss' ? reading.loss : reading.evalLoss;
    if (isFiniteMetric(value)) {
      const improved = patience.best === null || value < patience.best - rules.patience.minDelta;
      nextPatience = improved ? { best: value, stale: 0 } : { best: patience.best, stale: patience.stale + 1 };
      if (nextPatience.stale >= rules.patience.evaluations) {
        return stop(
          'rule',
          `${rules.patience.metric} has not improved on ${patience.best} for ${nextPatience.stale} readings (step ${reading.step})`,
          nextPatience,
        );
      }
    }
  }

  if (budgetMaxSteps !== undefined && reading.step >= budgetMaxSteps) {
    return stop('budget', `step budget of ${budgetMaxSteps} reached`, nextPatience);
  }
  return keep(nextPatience);
}

/**
 * The checkpoint rules of the smoke test: a floor, and a tolerated regression from the best
 * checkpoint so far. Returns the reason to stop, or undefined.
 */
export function evaluateCheckpoint(
  rules: { floor?: number; regressionTolerance?: number },
  step: number,
  score: number,
  best: { step: number; score: number } | undefined,
): string | undefined {
  if (rules.floor !== undefined && score < rules.floor) {
    return `checkpoint ${step} scored ${score.toFixed(3)}, below the floor ${rules.floor}`;
  }
  if (rules.regressionTolerance !== undefined && best !== undefined && score < best.score - rules.regressionTolerance) {
    return `checkpoint ${step} scored ${score.toFixed(3)}, regressing more than ${rules.regressionTolerance} from checkpoint ${best.step} (${best.score.toFixed(3)})`;
  }
  return undefined;
}
