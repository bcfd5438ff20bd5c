/**
 * Inputs across versions: a continued run reads whatever an earlier version wrote (its user
 * part leniently, its handover by version, migrated), while a user's input and a first run's are
 * strict; and the settings that decide commands are pinned: a released value never changes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  InvalidTrainingInputError,
  isContinuedRunInput,
  parseTrainingRunInput,
  parseTrainingRunWorkflowInput,
} from '../contract/input.js';
import { migrateResumeV1, RESUME_VERSION, type ResumeV1 } from '../contract/resume.js';
import {
  CURRENT_RUN_SETTINGS,
  LEGACY_RUN_SETTINGS,
  RUN_SETTINGS_VERSIONS,
  type RunSettings,
} from '../contract/run-settings.js';

type Json = Record<string, unknown>;

/** A user's input as an earlier version accepted it: `earlierField` no longer exists. */
function earlierInput(): Json {
  return {
    trainer: {
      name: 'earlier',
      model: 'unsloth/gemma-4-E4B-it',
      dataset: { type: 'huggingface', name: 'arkor/demo' },
      maxSteps: 30,
      earlierTrainerField: 'x',
    },
    earlierField: { keep: true },
  };
}

/** The unversioned handover of the first releases: no `version`, no settings (and, earliest, no `dispatched` or `pendingEvents`). */
function resumeV1(): ResumeV1 & Json {
  return {
    jobId: 'job-1',
    cursor: '12',
    cursorOffset: 1,
    recentEventIds: ['11', '12'],
    startedAtMs: 1,
    runNumber: 2,
    summary: { status: {} },
  };
}

function issuesOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof InvalidTrainingInputError, String(error));
    return error.issues;
  }
  assert.fail('the input was accepted');
}

describe('a continued run reads what an earlier version wrote', () => {
  it('accepts an unknown field and the unversioned handover, migrated to the newest version', () => {
    const input = parseTrainingRunWorkflowInput({ ...earlierInput(), resume: resumeV1() });
    // Unknown fields are kept (a later run of the chain, or a rolled-back worker, may know them).
    assert.deepEqual((input as Json).earlierField, { keep: true });
    assert.equal((input.trainer as Json).earlierTrainerField, 'x');
    // Defaults are filled in as a first run would have.
    assert.deepEqual(input.callbacks, { set: 'default', onFailure: 'fail' });
    const resume = input.resume;
    assert.ok(resume);
    assert.equal(resume.version, RESUME_VERSION);
    // A run of the first releases ran on the legacy settings; its position before the
    // (absent) pending events is its cursor's.
    assert.deepEqual(resume.settings, LEGACY_RUN_SETTINGS);
    assert.deepEqual(resume.dispatched, { cursor: '12', offset: 0 });
    assert.deepEqual(resume.pendingEvents, []);
    assert.equal(resume.runNumber, 2);
  });

  it('a first run with the same unknown field is refused, naming it', () => {
    const issues = issuesOf(() => parseTrainingRunWorkflowInput(earlierInput()));
    assert.deepEqual(issues.sort(), ['earlierField: unknown field', 'trainer.earlierTrainerField: unknown field']);
    // The same answer the service and the CLI give.
    assert.deepEqual(issuesOf(() => parseTrainingRunInput(earlierInput())).sort(), issues);
    assert.match(
      issuesOf(() => parseTrainingRunWorkflowInput(earlierInput())).join('; '),
      /earlierField: unknown field/,
    );
  });

  it('does not repeat the first run’s cross-field checks; values are still checked', () => {
    const gateWithoutPrompts = { ...earlierInput(), gate: { minScore: 0.5 } };
    assert.deepEqual(issuesOf(() => parseTrainingRunWorkflowInput(gateWithoutPrompts)).sort(), [
      'earlierField: unknown field',
      'gate: a gate needs smokeTest prompts to score',
      'trainer.earlierTrainerField: unknown field',
    ]);
    assert.deepEqual(parseTrainingRunWorkflowInput({ ...gateWithoutPrompts, resume: resumeV1() }).gate, {
      minScore: 0.5,
      mustBeatDeployed: false,
    });
    const badValue = { ...earlierInput(), budget: { maxSteps: -1 }, resume: resumeV1() };
    assert.deepEqual(
      issuesOf(() => parseTrainingRunWorkflowInput(badValue)).map((issue) => issue.split(':')[0]),
      ['budget.maxSteps'],
    );
  });

  it('reads the current handover, dropping unknown keys; a setting it lacks is the legacy one', () => {
    const v2 = {
      ...migrateResumeV1({ ...resumeV1(), dispatched: { cursor: '11', offset: 0 }, pendingEvents: [] }),
      settings: { version: 1, maxLogsPerCallback: 10, defaults: { callbackOnFailure: 'continue' }, laterSetting: 1 },
      laterKey: 'dropped',
    };
    const input = parseTrainingRunWorkflowInput({ ...earlierInput(), resume: v2 });
    assert.equal((input.resume as Json).laterKey, undefined);
    const expected: RunSettings = {
      ...LEGACY_RUN_SETTINGS,
      version: 1,
      maxLogsPerCallback: 10,
      defaults: { ...LEGACY_RUN_SETTINGS.defaults, callbackOnFailure: 'continue' },
    };
    assert.deepEqual(input.resume?.settings, expected);
    // The chain's defaults fill in what its input leaves out.
    assert.equal(input.callbacks.onFailure, 'continue');
    assert.deepEqual(input.resume?.dispatched, { cursor: '11', offset: 0 });
  });

  it('refuses a handover of a newer version, or a malformed one, naming the field', () => {
    assert.deepEqual(
      issuesOf(() => parseTrainingRunWorkflowInput({ ...earlierInput(), resume: { ...resumeV1(), version: 3 } })),
      [
        `resume.version: 3 is the handover of a newer arkor-temporal; this worker reads versions 1 to ${RESUME_VERSION}`,
      ],
    );
    assert.deepEqual(
      issuesOf(() => parseTrainingRunWorkflowInput({ ...earlierInput(), resume: { ...resumeV1(), runNumber: 0 } })).map(
        (issue) => issue.split(':')[0],
      ),
      ['resume.runNumber'],
    );
    const v2 = { ...migrateResumeV1(resumeV1()), settings: { maxLogsPerCallback: 0 } };
    assert.deepEqual(
      issuesOf(() => parseTrainingRunWorkflowInput({ ...earlierInput(), resume: v2 })).map(
        (issue) => issue.split(':')[0],
      ),
      ['resume.settings.maxLogsPerCallback'],
    );
    assert.ok(isContinuedRunInput({ resume: {} }));
    assert.ok(!isContinuedRunInput({ resume: undefined }));
    assert.ok(!isContinuedRunInput(null));
  });

  it('a first run fills in the defaults of the settings it starts with', () => {
    const { earlierField: _unknown, ...input } = earlierInput();
    delete (input.trainer as Json).earlierTrainerField;
    const settings: RunSettings = {
      ...LEGACY_RUN_SETTINGS,
      version: 9,
      defaults: { ...LEGACY_RUN_SETTINGS.defaults, callbackOnFailure: 'continue', nonFiniteLoss: false },
    };
    const parsed = parseTrainingRunWorkflowInput(input, settings);
    assert.equal(parsed.callbacks.onFailure, 'continue');
    assert.equal(parsed.earlyStopping.nonFiniteLoss, false);
    assert.equal(
      parseTrainingRunWorkflowInput(input).callbacks.onFailure,
      CURRENT_RUN_SETTINGS.defaults.callbackOnFailure,
    );
  });
});

describe('run settings', () => {
  it('the legacy settings are what runs of the first releases ran with, and never change', () => {
    assert.deepEqual(LEGACY_RUN_SETTINGS, {
      version: 0,
      maxLogsPerCallback: 1000,
      signalsBeforeContinueAsNew: 500,
      maxEventsCarried: 500,
      recentIdCapacity: 5000,
      defaults: {
        callbackSet: 'default',
        callbackOnFailure: 'fail',
        nonFiniteLoss: true,
        lossCeilingAfterStep: 0,
        patienceMetric: 'evalLoss',
        patienceMinDelta: 0,
        expectCaseSensitive: false,
        expectJsonSchemaName: 'answer',
        promptWeight: 1,
        gateMustBeatDeployed: false,
        promotionCreate: false,
        promotionTarget: 'final',
        promotionAuthMode: 'fixed_api_key',
      },
    });
  });

  it('later versions are numbered in order, each with a gate of its own; the current one is the last', () => {
    RUN_SETTINGS_VERSIONS.forEach((entry, index) => {
      assert.equal(entry.settings.version, index + 1);
      assert.equal(entry.patchId, `run-settings-${index + 1}`);
    });
    assert.equal(CURRENT_RUN_SETTINGS, RUN_SETTINGS_VERSIONS.at(-1)?.settings ?? LEGACY_RUN_SETTINGS);
  });
});
