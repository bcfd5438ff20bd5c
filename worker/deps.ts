/**
 * The one place that turns worker settings into the activities' dependencies. `worker.ts`,
 * `npm run dev`, the benchmarks and the tests all build their workers' deps here, so a setting
 * the worker honours cannot be silently ignored by another launcher.
 */
import type { ArkorClient } from '../arkor/index.js';
import type { ActivityDeps, StreamSettings } from '../activities/deps.js';
import { fileKeyStore, keyStoreDirFromEnv } from '../activities/key-store.js';
import { loadNotificationChannels } from '../activities/notification-channels.js';
import { loadPreconditions } from '../extensions/preconditions.js';
import { loadScorers } from '../extensions/scorers.js';
import { loadCallbackSets } from '../extensions/callbacks.js';
import type { WorkerSettings } from './config.js';

export interface DepsSources {
  /** From `loadWorkerSettings`: the modules to load and the stream settings. */
  settings: WorkerSettings;
  arkor: ArkorClient;
  /** Dataset secrets, notification channels (ARKOR_NOTIFY_*) and ARKOR_KEY_STORE_DIR. */
  env: NodeJS.ProcessEnv;
}

/**
 * Pieces a launcher supplies itself instead (in-memory channels, a test key store, quicker
 * stream settings). A piece given here is not built, so its module is not loaded either.
 */
export type DepsOverrides = Partial<Omit<ActivityDeps, 'arkor' | 'env' | 'stream'>> & {
  stream?: Partial<StreamSettings>;
};

/** The stream settings the ARKOR_LOG_BATCH_*, ARKOR_STREAM_* and back-pressure variables give. */
export function streamSettingsOf(settings: WorkerSettings): StreamSettings {
  return {
    logBatchMaxEvents: settings.ARKOR_LOG_BATCH_MAX_EVENTS,
    logBatchMaxDelayMs: settings.ARKOR_LOG_BATCH_MAX_DELAY_MS,
    idleTimeoutMs: settings.ARKOR_STREAM_IDLE_TIMEOUT_MS,
    maxBacklog: settings.ARKOR_MAX_BACKLOG,
    readAgainAfterPauseMs: settings.ARKOR_READ_AGAIN_AFTER_PAUSE_MS,
    checkJobAfterMs: settings.ARKOR_STREAM_CHECK_JOB_AFTER_MS,
    progressBudgetMs: settings.ARKOR_STREAM_PROGRESS_BUDGET_MS,
    blockedRetryMs: settings.ARKOR_STREAM_BLOCKED_RETRY_MS,
  };
}

/**
 * Loads every configured module and channel up front, so that a bad module or channel variable
 * fails the start, never a run.
 */
export async function buildActivityDeps(sources: DepsSources, overrides: DepsOverrides = {}): Promise<ActivityDeps> {
  const { settings, arkor, env } = sources;
  return {
    arkor,
    env,
    callbackSets: overrides.callbackSets ?? (await loadCallbackSets(settings.ARKOR_CALLBACKS_MODULE)),
    notificationChannels: overrides.notificationChannels ?? loadNotificationChannels(env),
    keyStore: overrides.keyStore ?? fileKeyStore(keyStoreDirFromEnv(env)),
    scorers: overrides.scorers ?? (await loadScorers(settings.ARKOR_SCORERS_MODULE)),
    preconditions: overrides.preconditions ?? (await loadPreconditions(settings.ARKOR_PRECONDITIONS_MODULE)),
    stream: { ...streamSettingsOf(settings), ...overrides.stream },
  };
}
