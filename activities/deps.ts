/**
 * What the activity factory receives: everything an activity touches outside its input.
 * The worker builds it from its configuration and secrets; tests build it directly.
 */
import type { ArkorClient, ReconnectPolicy } from '../arkor/index.js';
import type { KeyStore } from './key-store.js';
import type { NotificationChannels } from './notification-channels.js';
import type { PreconditionRegistry } from './precondition.js';
import type { ScorerRegistry } from './scorers.js';
import type { CallbackSets } from './user-callbacks.js';

export interface StreamSettings {
  /** Log events per signal at most. Default 1000 (see bench/README.md). */
  logBatchMaxEvents: number;
  /** A pending log event waits at most this long before it is signalled. Default 1000 ms. */
  logBatchMaxDelayMs: number;
  /** No bytes on an open stream for this long: reconnect. Default 60 000 ms. */
  idleTimeoutMs: number;
  /** Reconnect backoff inside one attempt of the wait activity (the SDK's defaults). */
  reconnect?: Partial<ReconnectPolicy>;
}

export const defaultStreamSettings: StreamSettings = {
  logBatchMaxEvents: 1000,
  logBatchMaxDelayMs: 1000,
  idleTimeoutMs: 60_000,
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
  /** Scorers for `{ scorer }` expectations. Default: the built-ins (see activities/scorers.ts). */
  scorers?: ScorerRegistry;
  /** Preconditions by name (see activities/precondition.ts). Default: none. */
  preconditions?: PreconditionRegistry;
}
