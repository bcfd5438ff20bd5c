/**
 * A changed constant in new code still replays old histories. The values that decide a run's
 * commands (`contract/run-settings.ts`: logs per onLog call, continue-as-new thresholds, remembered
 * ids, the input schema's defaults) change by appending a settings version; this builds the
 * workflow bundle as it would be after such a change — every value different — and replays the
 * whole corpus on it.
 *
 * The control: the same values changed in place (the legacy entry edited, which the rule
 * forbids) breaks histories of the corpus, so the corpus does see these values — except continued
 * runs that carry their settings in their handover, which replay either way.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type BundleOptions } from '@temporalio/worker';
import { LEGACY_RUN_SETTINGS, type RunSettings } from '../contract/run-settings.js';
import { workflowsPath } from '../worker/bundle.js';
import { recordedHistories, type RecordedHistory } from './support/recorded-histories.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const corpus = join(root, 'test', 'fixtures', 'histories');
const settingsModule = join(root, 'contract', 'run-settings.ts');

/** Every value different from the legacy settings. */
const CHANGED: RunSettings = {
  version: 99,
  maxLogsPerCallback: 2,
  signalsBeforeContinueAsNew: 3,
  maxEventsCarried: 1,
  recentIdCapacity: 7,
  defaults: {
    callbackSet: 'changed',
    callbackOnFailure: 'continue',
    nonFiniteLoss: false,
    lossCeilingAfterStep: 3,
    patienceMetric: 'loss',
    patienceMinDelta: 0.5,
    expectCaseSensitive: true,
    expectJsonSchemaName: 'changed',
    promptWeight: 3,
    gateMustBeatDeployed: true,
    promotionCreate: true,
    promotionTarget: 'best-checkpoint',
    promotionAuthMode: 'none',
  },
};

type Config = Parameters<NonNullable<BundleOptions['webpackConfigHook']>>[0];
type Plugin = NonNullable<Config['plugins']>[number];

/**
 * The workflow bundle with `contract/run-settings.ts` replaced by a module that re-exports it
 * with `overrides` (source text of `export const …` lines) in place of its own exports.
 */
async function bundleWithSettings(overrides: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'arkor-settings-'));
  const variant = join(dir, 'run-settings.ts');
  writeFileSync(
    variant,
    [
      `import * as released from ${JSON.stringify(settingsModule)};`,
      `export * from ${JSON.stringify(settingsModule)};`,
      overrides,
    ].join('\n'),
  );
  // Every import of the settings (`./run-settings.js` in the contract, `../contract/run-settings.js`
  // in workflows) gets the variant; the variant imports the real module by its `.ts` path.
  const replaceSettings: Plugin = {
    apply(compiler) {
      new compiler.webpack.NormalModuleReplacementPlugin(
        /run-settings\.js$/,
        (resource: { request: string; context: string }) => {
          if (resolve(resource.context, resource.request) === settingsModule.replace(/\.ts$/, '.js'))
            resource.request = variant;
        },
      ).apply(compiler);
    },
  };
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const { code } = await bundleWorkflowCode({
    workflowsPath,
    logger: quiet,
    webpackConfigHook: (config) => ({ ...config, plugins: [...(config.plugins ?? []), replaceSettings] }),
  });
  assert.ok(code.includes(JSON.stringify(CHANGED.defaults.expectJsonSchemaName)), 'the bundle has the variant');
  return code;
}

/** Replays each history on `code`; the error of each that does not replay, by file. */
async function replayAll(code: string, histories: RecordedHistory[]): Promise<Map<string, Error>> {
  const failures = new Map<string, Error>();
  for (const { file, workflowId } of histories) {
    const history = historyFromJSON(JSON.parse(readFileSync(join(corpus, file), 'utf8')));
    try {
      await Worker.runReplayHistory({ workflowBundle: { code } }, history, workflowId);
    } catch (error) {
      failures.set(file, error as Error);
    }
  }
  return failures;
}

/** The history is a continued run's whose handover carries the chain's settings. */
function carriesSettings(file: string): boolean {
  const history = JSON.parse(readFileSync(join(corpus, file), 'utf8')) as {
    events: Array<{ workflowExecutionStartedEventAttributes?: { input?: { payloads?: Array<{ data?: string }> } } }>;
  };
  const data = history.events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0]?.data;
  if (!data) return false;
  const input = JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as { resume?: { settings?: unknown } };
  return input.resume?.settings !== undefined;
}

describe('a changed constant in new code still replays old histories', () => {
  const histories = recordedHistories(corpus);
  before(() => Runtime.install({ logger: new DefaultLogger('ERROR') }));

  it('a new settings version, every value changed: every recorded history replays', async () => {
    const code = await bundleWithSettings(
      [
        `const changed = ${JSON.stringify(CHANGED)};`,
        `export const RUN_SETTINGS_VERSIONS = [...released.RUN_SETTINGS_VERSIONS, { patchId: 'run-settings-test-changed', settings: changed }];`,
        'export const CURRENT_RUN_SETTINGS = changed;',
      ].join('\n'),
    );
    const failures = await replayAll(code, histories);
    assert.deepEqual(
      [...failures].map(([file, error]) => `${file}: ${error.message}`),
      [],
      'histories that no longer replay',
    );
  });

  it('control: the legacy values edited in place break first runs, not continued runs that carry theirs', async () => {
    const legacy = { ...LEGACY_RUN_SETTINGS, maxLogsPerCallback: CHANGED.maxLogsPerCallback };
    const code = await bundleWithSettings(
      [
        `export const LEGACY_RUN_SETTINGS = ${JSON.stringify(legacy)};`,
        'export const CURRENT_RUN_SETTINGS = LEGACY_RUN_SETTINGS;',
        // Marker: the bundle check looks for this text.
        `export const VARIANT = ${JSON.stringify(CHANGED.defaults.expectJsonSchemaName)};`,
      ].join('\n'),
    );
    const failures = await replayAll(code, histories);
    assert.ok(failures.size > 0, 'no history noticed a different maxLogsPerCallback');
    for (const [file, error] of failures)
      assert.equal(error.name, 'DeterminismViolationError', `${file}: ${error.message}`);
    const carrying = histories.filter(({ file }) => carriesSettings(file)).map(({ file }) => file);
    assert.ok(carrying.length >= 2, `continued runs carrying settings: ${carrying.join(', ')}`);
    for (const file of carrying) assert.ok(!failures.has(file), `${file} carries its settings, yet failed`);
    console.log(`[changed settings] edited in place: ${failures.size} of ${histories.length} histories fail`);
  });
});
