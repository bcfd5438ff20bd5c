import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ArkorClient } from '../arkor/index.js';
import { defaultStreamSettings } from '../activities/index.js';
import { BUILTIN_SCORERS, ScorerModuleError } from '../extensions/scorers.js';
import { PreconditionModuleError } from '../extensions/preconditions.js';
import { NotificationConfigError } from '../activities/notification-channels.js';
import { loadWorkerSettings } from '../worker/config.js';
import { buildActivityDeps } from '../worker/deps.js';

// Never contacted: building deps does not call Arkor.
const arkor = new ArkorClient({ baseUrl: 'http://127.0.0.1:9', token: 't', scope: { orgSlug: 'o', projectSlug: 'p' } });

describe('buildActivityDeps', () => {
  it('loads the callbacks, scorers and preconditions modules and the stream settings the worker settings name', async () => {
    const env = {
      ARKOR_CALLBACKS_MODULE: 'test/support/recording-callbacks.ts',
      ARKOR_SCORERS_MODULE: 'test/fixtures/scorers/good.ts',
      ARKOR_PRECONDITIONS_MODULE: 'test/fixtures/preconditions/revision.ts',
      ARKOR_LOG_BATCH_MAX_EVENTS: '7',
      ARKOR_LOG_BATCH_MAX_DELAY_MS: '70',
      ARKOR_STREAM_IDLE_TIMEOUT_MS: '700',
      ARKOR_MAX_BACKLOG: '77',
      ARKOR_READ_AGAIN_AFTER_PAUSE_MS: '7000',
      ARKOR_STREAM_CHECK_JOB_AFTER_MS: '7001',
      ARKOR_STREAM_PROGRESS_BUDGET_MS: '7002',
      ARKOR_STREAM_BLOCKED_RETRY_MS: '7003',
      ARKOR_KEY_STORE_DIR: mkdtempSync(join(tmpdir(), 'arkor-deps-')),
      ARKOR_NOTIFY_TEAM: 'webhook:http://127.0.0.1:9/hook',
    };
    const deps = await buildActivityDeps({ settings: loadWorkerSettings(env), arkor, env });
    assert.equal(deps.arkor, arkor);
    assert.equal(deps.env, env);
    // The recording module's sets, not the no-op default alone.
    assert.ok(deps.callbackSets.size > 1 && deps.callbackSets.has('default'));
    assert.deepEqual(
      [...(deps.scorers?.keys() ?? [])].sort(),
      [...BUILTIN_SCORERS.keys(), 'default', 'lengthRatio', 'shouty'].sort(),
    );
    assert.deepEqual([...(deps.preconditions?.keys() ?? [])], ['datasetRevision']);
    assert.deepEqual([...deps.notificationChannels.keys()], ['team']);
    assert.deepEqual(deps.stream, {
      logBatchMaxEvents: 7,
      logBatchMaxDelayMs: 70,
      idleTimeoutMs: 700,
      maxBacklog: 77,
      readAgainAfterPauseMs: 7000,
      checkJobAfterMs: 7001,
      progressBudgetMs: 7002,
      blockedRetryMs: 7003,
    });
  });

  it('without modules: no-op callbacks, the built-in scorers, no preconditions, the default stream settings', async () => {
    const deps = await buildActivityDeps({ settings: loadWorkerSettings({}), arkor, env: {} });
    assert.deepEqual([...deps.callbackSets], [['default', {}]]);
    assert.deepEqual([...deps.scorers!.keys()], [...BUILTIN_SCORERS.keys()]);
    assert.equal(deps.preconditions?.size, 0);
    assert.equal(deps.notificationChannels.size, 0);
    assert.deepEqual(deps.stream, defaultStreamSettings);
  });

  it('a bad scorers, preconditions or channel setting fails the build', async () => {
    const build = (env: NodeJS.ProcessEnv) => buildActivityDeps({ settings: loadWorkerSettings(env), arkor, env });
    await assert.rejects(build({ ARKOR_SCORERS_MODULE: 'test/fixtures/scorers/bad-export.ts' }), ScorerModuleError);
    await assert.rejects(
      build({ ARKOR_PRECONDITIONS_MODULE: 'test/fixtures/preconditions/missing.ts' }),
      PreconditionModuleError,
    );
    await assert.rejects(build({ ARKOR_NOTIFY_TEAM: 'carrier-pigeon:coo' }), NotificationConfigError);
  });

  it('an override replaces its piece without loading what the settings name for it', async () => {
    const env = { ARKOR_SCORERS_MODULE: 'test/fixtures/scorers/missing.ts', ARKOR_NOTIFY_TEAM: 'carrier-pigeon:coo' };
    const scorers = new Map(BUILTIN_SCORERS);
    const deps = await buildActivityDeps(
      { settings: loadWorkerSettings(env), arkor, env },
      { scorers, notificationChannels: new Map(), stream: { logBatchMaxDelayMs: 250, reconnect: { baseDelayMs: 5 } } },
    );
    assert.equal(deps.scorers, scorers);
    assert.equal(deps.notificationChannels.size, 0);
    assert.deepEqual(deps.stream, { ...defaultStreamSettings, logBatchMaxDelayMs: 250, reconnect: { baseDelayMs: 5 } });
  });
});
