import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { metricValue, toMetric, type RunEvent } from '../contract/events.js';
import { parseTrainingRunInput, InvalidTrainingInputError } from '../contract/input.js';
import { RecentIds } from '../workflows/recent-ids.js';
import { evaluateRules, initialPatience } from '../workflows/rules.js';
import {
  appendLossPoint,
  applyEvent,
  initialRunStatus,
  LOSS_CURVE_POINTS,
  RunPhase,
  type RunStatus,
} from '../contract/status.js';
import { callbackActivityOptions } from '../workflows/activity-options.js';
import { durationTextMs, durationToMs } from '../contract/duration.js';

const baseInput = {
  trainer: { name: 'n', model: 'unsloth/gemma-4-E4B-it', dataset: { type: 'huggingface', name: 'a/b' } },
};

describe('input validation', () => {
  it('fills defaults', () => {
    const input = parseTrainingRunInput(baseInput);
    assert.deepEqual(input.callbacks, { set: 'default', onFailure: 'fail' });
    assert.deepEqual(input.earlyStopping, { nonFiniteLoss: true });
  });

  it('names every bad field', () => {
    assert.throws(
      () =>
        parseTrainingRunInput({
          trainer: {
            ...baseInput.trainer,
            model: 'llama',
            maxSteps: 0,
            dataset: { type: 'blob', url: 'not a url', tokenEnv: 'bad name' },
          },
          callbacks: { onFailure: 'ignore' },
          budget: { maxWallTime: 'forever' },
          surprise: true,
        }),
      (error: unknown) => {
        assert.ok(error instanceof InvalidTrainingInputError);
        const fields = error.issues.map((issue) => issue.split(':')[0]);
        for (const field of [
          'trainer.model',
          'trainer.maxSteps',
          'trainer.dataset.url',
          'trainer.dataset.tokenEnv',
          'callbacks.onFailure',
          'budget.maxWallTime',
          'surprise',
        ]) {
          assert.ok(fields.includes(field), `${field} not named in ${error.message}`);
        }
        return true;
      },
    );
  });

  it('rejects a secret passed inline instead of by reference', () => {
    assert.throws(
      () =>
        parseTrainingRunInput({
          trainer: { ...baseInput.trainer, dataset: { type: 'blob', url: 'https://x.example/d', token: 'abc' } },
        }),
      /trainer\.dataset/,
    );
  });
});

describe('durations and metrics', () => {
  it('parses durations', () => {
    assert.equal(durationToMs(250), 250);
    assert.equal(durationToMs('1.5s'), 1500);
    assert.equal(durationToMs('2h'), 7_200_000);
    assert.throws(() => durationToMs('soon'));
  });

  it('round-trips non-finite metrics through JSON-safe tags', () => {
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1.25, null]) {
      const tag = toMetric(value);
      assert.deepEqual(JSON.parse(JSON.stringify(tag)), tag);
      assert.ok(Object.is(metricValue(tag), value));
    }
    assert.equal(toMetric(undefined), null);
  });
});

describe('early-stopping rules', () => {
  const rules = { nonFiniteLoss: true } as const;
  it('stops on a non-finite loss', () => {
    const verdict = evaluateRules(rules, undefined, { step: 5, loss: 'NaN', evalLoss: null }, initialPatience);
    assert.equal(verdict.stop, true);
    assert.equal(verdict.cause, 'rule');
    assert.match(verdict.reason ?? '', /loss is NaN at step 5/);
  });

  it('ignores non-finite loss when the rule is off', () => {
    assert.equal(
      evaluateRules({ nonFiniteLoss: false }, undefined, { step: 5, loss: 'NaN', evalLoss: null }, initialPatience)
        .stop,
      false,
    );
  });

  it('applies the loss ceiling only after its step', () => {
    const ceiling = { nonFiniteLoss: true, lossCeiling: { value: 2, afterStep: 10 } };
    assert.equal(evaluateRules(ceiling, undefined, { step: 9, loss: 5, evalLoss: null }, initialPatience).stop, false);
    assert.equal(evaluateRules(ceiling, undefined, { step: 10, loss: 5, evalLoss: null }, initialPatience).stop, true);
    assert.equal(
      evaluateRules(ceiling, undefined, { step: 11, loss: 1.5, evalLoss: null }, initialPatience).stop,
      false,
    );
  });

  it('counts patience only on readings of its metric and resets on improvement', () => {
    const patience = { nonFiniteLoss: true, patience: { metric: 'evalLoss' as const, evaluations: 2, minDelta: 0.01 } };
    let state = initialPatience;
    const read = (evalLoss: number | null) => {
      const verdict = evaluateRules(patience, undefined, { step: 1, loss: 1, evalLoss }, state);
      state = verdict.patience;
      return verdict.stop;
    };
    assert.equal(read(1.0), false); // first reading is the best
    assert.equal(read(null), false); // train-only frame: not a lack of improvement
    assert.equal(read(0.995), false); // within minDelta: stale 1
    assert.equal(read(0.9), false); // improved: reset
    assert.equal(read(0.95), false); // stale 1
    assert.equal(read(0.91), true); // stale 2: stop
  });

  it('stops at the step budget', () => {
    const verdict = evaluateRules(rules, 100, { step: 100, loss: 1, evalLoss: null }, initialPatience);
    assert.deepEqual([verdict.stop, verdict.cause], [true, 'budget']);
  });
});

describe('run status', () => {
  const status: RunStatus = {
    ...initialRunStatus({ workflowId: 'w', name: 'n', model: 'm', startedAt: 't', scoresCheckpoints: false }),
    phase: RunPhase.Queued,
  };
  const log = (
    step: number,
    loss: RunEvent['payload'] extends infer P ? (P extends { loss: infer L } ? L : never) : never,
    evalLoss: typeof loss = null,
  ): RunEvent => ({
    id: String(step),
    payload: {
      type: 'training.log',
      timestamp: 't',
      step,
      loss,
      evalLoss,
      learningRate: null,
      epoch: null,
      samplesPerSecond: null,
    },
  });

  it('tracks latest and best losses, ignoring non-finite values for the best', () => {
    let s = applyEvent(status, { id: '0', payload: { type: 'training.started', timestamp: 'T0' } });
    assert.equal(s.phase, RunPhase.Running);
    s = applyEvent(s, log(1, 2.0));
    s = applyEvent(s, log(2, 1.5));
    s = applyEvent(s, log(3, 'NaN'));
    s = applyEvent(s, log(3, null, 1.7));
    assert.deepEqual(s.bestLoss, { value: 1.5, step: 2 });
    assert.ok(Number.isNaN(s.latestLoss));
    assert.deepEqual(s.bestEvalLoss, { value: 1.7, step: 3 });
    assert.deepEqual(s.lossCurve, [
      [1, 2],
      [2, 1.5],
    ]);
    assert.equal(s.step, 3);
    assert.equal(s.eventsReceived, 5);
    assert.equal(status.eventsReceived, 0, 'pure: the input is not mutated');
  });

  it('keeps the loss curve bounded, spanning the whole run', () => {
    let curve: Array<[number, number]> = [];
    for (let step = 1; step <= 10_000; step++) curve = appendLossPoint(curve, [step, 1 / step]);
    assert.ok(curve.length <= LOSS_CURVE_POINTS);
    assert.equal(curve[0]?.[0], 1);
    assert.equal(curve.at(-1)?.[0], 10_000);
  });
});

describe('recent ids', () => {
  it('deduplicates within its capacity and forgets the oldest', () => {
    const ids = new RecentIds(3, ['a']);
    assert.equal(ids.add('a'), false);
    assert.equal(ids.add('b'), true);
    assert.equal(ids.add('c'), true);
    assert.equal(ids.add('d'), true);
    assert.deepEqual(ids.toArray(), ['b', 'c', 'd']);
    assert.equal(ids.add('a'), true);
  });
});

describe('callback activity options', () => {
  it('merges defaults, run-wide settings and per-callback overrides', () => {
    const input = parseTrainingRunInput({
      ...baseInput,
      callbacks: {
        retry: { maximumAttempts: 3 },
        timeout: '1m',
        overrides: { onLog: { retry: { initialInterval: '5s' }, timeout: '10s' } },
      },
    });
    assert.deepEqual(callbackActivityOptions(input, 'onStarted'), {
      startToCloseTimeout: '1m',
      heartbeatTimeout: '30s',
      retry: {
        maximumAttempts: 3,
        initialInterval: '1s',
        maximumInterval: '30s',
        backoffCoefficient: 2,
        nonRetryableErrorTypes: ['InvalidInput'],
      },
    });
    const onLog = callbackActivityOptions(input, 'onLog');
    assert.equal(onLog.startToCloseTimeout, '10s');
    assert.equal(onLog.retry?.initialInterval, '5s');
    assert.equal(onLog.retry?.maximumAttempts, 3);
    // The run's heartbeat timeout bounds how long a killed worker holds a callback.
    assert.equal(
      callbackActivityOptions(parseTrainingRunInput({ ...baseInput, heartbeatTimeout: '4s' }), 'onLog')
        .heartbeatTimeout,
      '4s',
    );
  });
});

describe('durations', () => {
  it("takes Temporal's duration strings and milliseconds, and refuses a bare number, zero and junk", () => {
    assert.equal(durationToMs('500ms'), 500);
    assert.equal(durationToMs('30s'), 30_000);
    assert.equal(durationToMs('1.5h'), 5_400_000);
    assert.equal(durationToMs('1 day'), 86_400_000);
    assert.equal(durationToMs('90 minutes'), 5_400_000);
    assert.equal(durationToMs('1w'), 604_800_000);
    assert.equal(durationToMs(250), 250);
    for (const text of ['30', '0s', '-5s', 'soon', '']) assert.equal(durationTextMs(text), undefined, text);
  });
});
