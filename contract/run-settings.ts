/**
 * The tunable values that decide a run's commands: how many queued logs one `onLog` activity
 * takes, when and with how much a run continues as new, how many event ids it remembers, and the
 * defaults the input schema fills in (a default `callbacks.onFailure` decides whether a failed
 * callback cancels the job). Pure: imported by workflow code and by the input schema.
 *
 * A run's settings are fixed once, by its first run, and travel with the chain: a continued run
 * takes them from the state it is handed (`resume.settings`), never from the code it runs on. A
 * first run takes the newest entry of `RUN_SETTINGS_VERSIONS` whose `patched()` gate it passes
 * (`workflows/run-settings.ts`), and `LEGACY_RUN_SETTINGS` when it passes none: a history recorded
 * before an entry existed has no marker of it, so its replay reads the values it ran with.
 *
 * So a value here never changes in place. To change one, append an entry with a new `patchId`
 * (CONTRIBUTING, "Change a tunable constant"); released entries, and `LEGACY_RUN_SETTINGS`, are
 * frozen (`test/run-settings.test.ts` pins them).
 */
import { z } from 'zod';

/** The input schema's defaults (`contract/input.ts`); each decides what a run does when the field is left out. */
export interface InputDefaults {
  /** `callbacks.set`. */
  callbackSet: string;
  /** `callbacks.onFailure`: whether a callback that exhausts its retries fails the run. */
  callbackOnFailure: 'fail' | 'continue';
  /** `earlyStopping.nonFiniteLoss`. */
  nonFiniteLoss: boolean;
  /** `earlyStopping.lossCeiling.afterStep`. */
  lossCeilingAfterStep: number;
  /** `earlyStopping.patience.metric`. */
  patienceMetric: 'loss' | 'evalLoss';
  /** `earlyStopping.patience.minDelta`. */
  patienceMinDelta: number;
  /** `caseSensitive` of `contains` and `exact` expectations. */
  expectCaseSensitive: boolean;
  /** `name` of a `jsonSchema` expectation (the response format's name). */
  expectJsonSchemaName: string;
  /** `smokeTest.prompts.*.weight`. */
  promptWeight: number;
  /** `gate.mustBeatDeployed`. */
  gateMustBeatDeployed: boolean;
  /** `promotion.create`. */
  promotionCreate: boolean;
  /** `promotion.target`. */
  promotionTarget: 'final' | 'best-checkpoint';
  /** `promotion.authMode`. */
  promotionAuthMode: 'none' | 'fixed_api_key';
}

export interface RunSettings {
  /** 0 for `LEGACY_RUN_SETTINGS`, n for the n-th entry of `RUN_SETTINGS_VERSIONS`. */
  version: number;
  /** Queued log events one `onLog` activity takes at most (the workflow's side of log batching). */
  maxLogsPerCallback: number;
  /** Event deliveries after which a run continues as new when `continueAsNew.afterSignals` is not given. */
  signalsBeforeContinueAsNew: number;
  /** Undispatched events a continued run takes along; more are read from the stream again. */
  maxEventsCarried: number;
  /** Event ids remembered to drop events a server sends twice (see `workflows/recent-ids.ts`). */
  recentIdCapacity: number;
  defaults: InputDefaults;
}

/**
 * What every run used before settings travelled with it: the constants of the code it ran on.
 * Runs without a settings marker, and continued runs whose handover carries no settings (or not
 * all of them), use these. Never change a value; a setting added later gets, here, the value the
 * code had before it became a setting.
 */
export const LEGACY_RUN_SETTINGS: RunSettings = {
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
};

/** A version of the settings, chosen by the first runs that pass `patched(patchId)`. */
export interface RunSettingsVersion {
  /** `run-settings-<version>`; a new id for every entry, never reused. */
  patchId: string;
  settings: RunSettings;
}

/**
 * Later versions, oldest first. Append one to change a value, e.g.
 * `{ patchId: 'run-settings-1', settings: { ...LEGACY_RUN_SETTINGS, version: 1, maxLogsPerCallback: 500 } }`.
 */
export const RUN_SETTINGS_VERSIONS: readonly RunSettingsVersion[] = [];

/** The settings a run started now takes (and the defaults users see in the schema). */
export const CURRENT_RUN_SETTINGS: RunSettings = RUN_SETTINGS_VERSIONS.at(-1)?.settings ?? LEGACY_RUN_SETTINGS;

const count = z.number().int().positive();

/**
 * Settings as a handover carries them: lenient, since the run that wrote them may be older or
 * newer than the reader. Unknown keys are dropped; a missing one is read as its legacy value
 * (`carriedRunSettings`).
 */
export const carriedRunSettingsSchema = z.object({
  version: z.number().int().nonnegative().optional(),
  maxLogsPerCallback: count.optional(),
  signalsBeforeContinueAsNew: count.optional(),
  maxEventsCarried: z.number().int().nonnegative().optional(),
  recentIdCapacity: count.optional(),
  defaults: z
    .object({
      callbackSet: z.string().min(1).optional(),
      callbackOnFailure: z.enum(['fail', 'continue']).optional(),
      nonFiniteLoss: z.boolean().optional(),
      lossCeilingAfterStep: z.number().int().nonnegative().optional(),
      patienceMetric: z.enum(['loss', 'evalLoss']).optional(),
      patienceMinDelta: z.number().nonnegative().optional(),
      expectCaseSensitive: z.boolean().optional(),
      expectJsonSchemaName: z.string().min(1).optional(),
      promptWeight: z.number().positive().optional(),
      gateMustBeatDeployed: z.boolean().optional(),
      promotionCreate: z.boolean().optional(),
      promotionTarget: z.enum(['final', 'best-checkpoint']).optional(),
      promotionAuthMode: z.enum(['none', 'fixed_api_key']).optional(),
    })
    .optional(),
});
export type CarriedRunSettings = z.output<typeof carriedRunSettingsSchema>;

/** Settings a handover carries, completed with the legacy value of each one it lacks. */
export function carriedRunSettings(carried: CarriedRunSettings | undefined): RunSettings {
  const { defaults, ...values } = carried ?? {};
  return {
    ...LEGACY_RUN_SETTINGS,
    ...definedOnly(values),
    defaults: { ...LEGACY_RUN_SETTINGS.defaults, ...definedOnly(defaults ?? {}) },
  };
}

function definedOnly<T extends object>(value: T): Partial<{ [K in keyof T]: Exclude<T[K], undefined> }> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<{
    [K in keyof T]: Exclude<T[K], undefined>;
  }>;
}
