/**
 * Notify: posts one run event to one configured channel (a Slack incoming webhook or a JSON
 * webhook). One activity per channel and event, so a channel that is down delays only itself,
 * and receivers deduplicate retries on the `Idempotency-Key` the workflow derives per run+event.
 *
 * A channel's URL is a secret: no failure message or log line contains it; they say "channel
 * <name>" instead.
 */
import { ApplicationFailure, cancellationSignal, log } from '@temporalio/activity';
import { isRetryableStatus, parseRetryAfterMs } from '../arkor/index.js';
import type { NotificationInput } from '../contract/evaluation.js';
import type { NotificationChannel, NotificationChannels } from './notification-channels.js';
import type { NotifyResult } from '../contract/activities.js';

/** Failure types of the notify activity. */
export const NotifyFailureType = {
  /** The input names a channel the worker does not have. */
  UnknownChannel: 'UnknownNotificationChannel',
  /** The receiver refused the notification (4xx other than 408/429): retrying will not help. */
  Rejected: 'NotificationRejected',
  /** The receiver was unreachable, timed out or answered 5xx/408/429: retried. */
  Unavailable: 'NotificationUnavailable',
} as const;

/** Default of {@link NotifyDeps.timeoutMs}. */
export const DEFAULT_NOTIFY_TIMEOUT_MS = 10_000;
/** Longest piece of a receiver's error body copied into a failure message. */
const MAX_BODY_CHARS = 200;

export interface NotifyDeps {
  channels: NotificationChannels;
  /** Fetch implementation. Default: the global `fetch`. */
  fetch?: typeof fetch;
  /** Total timeout of one delivery (headers and body). Default 10 000 ms. */
  timeoutMs?: number;
}

/** Slack's mrkdwn needs these three escaped; everything else is literal. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The Slack incoming-webhook body: the title in bold, then one line per entry. */
export function slackBody(input: NotificationInput): { text: string } {
  return { text: [`*${slackEscape(input.title)}*`, ...input.lines.map(slackEscape)].join('\n') };
}

/** The JSON webhook body. */
export function webhookBody(input: NotificationInput): Record<string, unknown> {
  return {
    event: input.event,
    title: input.title,
    lines: input.lines,
    data: input.data,
    idempotencyKey: input.idempotencyKey,
  };
}

function requestFor(
  channel: NotificationChannel,
  input: NotificationInput,
): { headers: Record<string, string>; body: string } {
  const headers: Record<string, string> = { 'Content-Type': 'application/json', 'User-Agent': 'arkor-temporal' };
  switch (channel.kind) {
    case 'slack':
      return { headers, body: JSON.stringify(slackBody(input)) };
    case 'webhook':
      return {
        headers: { ...headers, 'Idempotency-Key': input.idempotencyKey },
        body: JSON.stringify(webhookBody(input)),
      };
    default: {
      // A new channel kind does not compile until its request is written here.
      const unknownKind: never = channel.kind;
      throw new Error(`No request for channel kind ${String(unknownKind)}`);
    }
  }
}

/** A few words about a network failure, without the URL (fetch errors may carry the host). */
function networkCause(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `timed out after ${timeoutMs} ms`;
  if (error instanceof Error && error.name === 'AbortError') return 'aborted';
  const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const code = typeof cause?.code === 'string' ? cause.code : undefined;
  return code !== undefined ? `network error (${code})` : 'network error';
}

/**
 * Removes the channel URL from a receiver's text, and its path, query and their longer parts too:
 * a receiver echoing only the path (where Slack keeps the secret) must not leak it either.
 */
export function redactUrl(text: string, url: string): string {
  const secrets = new Set<string>([url]);
  try {
    const parsed = new URL(url);
    secrets.add(`${parsed.pathname}${parsed.search}`);
    for (const part of `${parsed.pathname}${parsed.search}`.split(/[/?&=]/)) {
      if (part.length >= 6) secrets.add(part);
      const decoded = decodeURIComponentSafe(part);
      if (decoded.length >= 6) secrets.add(decoded);
    }
  } catch {
    // Not a URL (the config loader prevents it): the whole string is all there is to hide.
  }
  let result = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret.length > 1) result = result.split(secret).join('[redacted]');
  }
  return result;
}

function decodeURIComponentSafe(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function createNotifyActivities(deps: NotifyDeps) {
  const fetchImpl = deps.fetch ?? globalThis.fetch;
  const timeoutMs = deps.timeoutMs ?? DEFAULT_NOTIFY_TIMEOUT_MS;

  return {
    /**
     * Delivers `input` to its channel: 2xx → delivered. Unknown channel or a 4xx other than
     * 408/429 → non-retryable failure; network errors, the timeout, 5xx, 408 and 429 → retryable
     * (a 429's `Retry-After` sets the next retry delay).
     */
    async notify(input: NotificationInput): Promise<NotifyResult> {
      const name = input.channel;
      // Input names allow `_`, environment-derived names use `-`: accept either spelling.
      const channel = deps.channels.get(name) ?? deps.channels.get(name.replace(/_/g, '-'));
      if (channel === undefined) {
        throw ApplicationFailure.create({
          type: NotifyFailureType.UnknownChannel,
          message: `notification channel ${name} is not configured on this worker (set ARKOR_NOTIFY_${name.toUpperCase().replace(/-/g, '_')})`,
          nonRetryable: true,
        });
      }
      const { headers, body } = requestFor(channel, input);
      const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), cancellationSignal()]);
      let status: number;
      let responseText: string;
      let retryAfter: string | null;
      try {
        const response = await fetchImpl(channel.url, { method: 'POST', headers, body, signal });
        status = response.status;
        retryAfter = response.headers.get('retry-after');
        responseText = await response.text();
      } catch (error) {
        throw ApplicationFailure.create({
          type: NotifyFailureType.Unavailable,
          message: `channel ${name}: ${networkCause(error, timeoutMs)}`,
        });
      }
      if (status >= 200 && status < 300) {
        log.info('Notification delivered', { channel: name, event: input.event, status });
        return { delivered: true, status };
      }
      // A receiver may echo the request: never let the URL through.
      const snippet = redactUrl(responseText, channel.url).slice(0, MAX_BODY_CHARS).trim();
      const message = `channel ${name} answered ${status}${snippet !== '' ? `: ${snippet}` : ''}`;
      if (!isRetryableStatus(status)) {
        throw ApplicationFailure.create({
          type: NotifyFailureType.Rejected,
          message,
          nonRetryable: true,
          details: [{ status }],
        });
      }
      const retryAfterMs = status === 429 ? parseRetryAfterMs(retryAfter) : undefined;
      throw ApplicationFailure.create({
        type: NotifyFailureType.Unavailable,
        message,
        details: [{ status }],
        ...(retryAfterMs !== undefined ? { nextRetryDelay: Math.max(retryAfterMs, 1) } : {}),
      });
    },
  };
}

export type NotifyActivities = ReturnType<typeof createNotifyActivities>;
