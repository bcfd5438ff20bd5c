/**
 * What the activity factory receives: everything an activity touches outside its input.
 * The worker builds it from its configuration and secrets; tests build it directly.
 */
import type { ArkorClient, ReconnectPolicy } from '../arkor/index.js';
import type { KeyStore } from './key-store.js';
import type { NotificationChannels } from './notification-channels.js';
import type { PreconditionRegistry } from '../extensions/preconditions.js';
import type { ScorerRegistry } from '../extensions/scorers.js';
import type { CallbackSets } from '../extensions/callbacks.js';

export interface StreamSettings {
  /** Log events per signal at most. Default 1000 (see bench/README.md). */
  logBatchMaxEvents: number;
  /** A pending log event waits at most this long before it is signalled. Default 1000 ms. */
  logBatchMaxDelayMs: number;
  /** No bytes on an open stream for this long: reconnect. Default 60 000 ms. */
  idleTimeoutMs: number;
  /** Reconnect backoff inside one attempt of the wait activity (the SDK's defaults). */
  reconnect?: Partial<ReconnectPolicy>;
  /**
   * The wait activity stops reading while a run has this many events received and not yet
   * dispatched to callbacks, so slow callbacks never grow a run's history. Default 2000.
   */
  maxBacklog: number;
  /**
   * A pause on the backlog longer than this closes the stream and drops the events read ahead;
   * they are read again from the run's position once it has room. Default 30 000 ms.
   */
  readAgainAfterPauseMs: number;
  /**
   * A stream failing this long in a row makes the activity read the job: 404 fails the run (the
   * job was deleted), an ended job ends the stream. Default 60 000 ms.
   */
  checkJobAfterMs: number;
  /**
   * With no event and the job not readable as queued or running for this long, the stream gives
   * up (non-retryably). Default 30 minutes.
   */
  progressBudgetMs: number;
  /**
   * First wait before a blocked stream (401, 403, 426) tries again; it doubles up to 10 minutes.
   * Default 30 000 ms.
   */
  blockedRetryMs: number;
}

export const defaultStreamSettings: StreamSettings = {
  logBatchMaxEvents: 1000,
  logBatchMaxDelayMs: 1000,
  idleTimeoutMs: 60_000,
  maxBacklog: 2_000,
  readAgainAfterPauseMs: 30_000,
  checkJobAfterMs: 60_000,
  progressBudgetMs: 30 * 60_000,
  blockedRetryMs: 30_000,
};

export interface ActivityDeps {
  arkor: ArkorClient;
  callbackSets: CallbackSets;
  stream: StreamSettings;
  /** Where secrets named by the input (dataset tokens) are looked up. */
  env: NodeJS.ProcessEnv;
  /** Where deployment key plaintexts are stored (never in workflow history). */
  keyStore: KeyStore;
  /** Notification channels by name; their URLs are secrets. */
  notificationChannels: NotificationChannels;
  /** Scorers for `{ scorer }` expectations. Default: the built-ins (see extensions/scorers.ts). */
  scorers?: ScorerRegistry;
  /** Preconditions by name (see extensions/preconditions.ts). Default: none. */
  preconditions?: PreconditionRegistry;
}
