/**
 * Notification channels, from the worker's environment. A channel's URL is a secret (a Slack
 * incoming-webhook URL is its own credential), so workflow inputs name channels and only the
 * worker knows where they point. Error messages name the variable, never its value.
 */
import { z } from 'zod';

/** How a channel is delivered. */
export const CHANNEL_KINDS = ['slack', 'webhook'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** One configured channel. `url` is a secret: never log it or put it in a message. */
export interface NotificationChannel {
  kind: ChannelKind;
  url: string;
}

/** Channels by name (`team-alerts`). */
export type NotificationChannels = ReadonlyMap<string, NotificationChannel>;

/** Prefix of the environment variables that define channels: `ARKOR_NOTIFY_<NAME>=<kind>:<url>`. */
export const NOTIFY_ENV_PREFIX = 'ARKOR_NOTIFY_';

/** A channel variable that cannot be used; the message names the variable, not its value. */
export class NotificationConfigError extends Error {
  override readonly name = 'NotificationConfigError';
}

const NAME_PATTERN = /^[A-Z0-9][A-Z0-9_]*$/;
const valueSchema = z.object({
  kind: z.enum(CHANNEL_KINDS),
  url: z.url({ protocol: /^https?$/ }),
});

/** `TEAM_ALERTS` → `team-alerts`: the name workflow inputs use. */
export function channelNameOf(variableSuffix: string): string {
  return variableSuffix.toLowerCase().replace(/_/g, '-');
}

/**
 * Reads every `ARKOR_NOTIFY_<NAME>=<kind>:<url>` variable of `env`, where kind is `slack` or
 * `webhook` and the URL is http(s), e.g. `ARKOR_NOTIFY_TEAM_ALERTS=slack:https://hooks.slack.com/…`
 * → channel `team-alerts`. Empty variables are ignored. Throws {@link NotificationConfigError}
 * naming every bad variable (bad name, unknown kind, not an http(s) URL).
 */
export function loadNotificationChannels(env: NodeJS.ProcessEnv): NotificationChannels {
  const channels = new Map<string, NotificationChannel>();
  const problems: string[] = [];
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith(NOTIFY_ENV_PREFIX) || raw === undefined || raw.trim() === '') continue;
    const suffix = variable.slice(NOTIFY_ENV_PREFIX.length);
    if (!NAME_PATTERN.test(suffix)) {
      problems.push(`${variable}: the channel name must be upper-case letters, digits and underscores`);
      continue;
    }
    const value = raw.trim();
    const colon = value.indexOf(':');
    const parsed = valueSchema.safeParse(
      colon < 0 ? {} : { kind: value.slice(0, colon).toLowerCase(), url: value.slice(colon + 1) },
    );
    if (!parsed.success) {
      // The issue texts are fixed strings, but the value itself is a secret: say only what is wrong.
      const kindBad = parsed.error.issues.some((issue) => issue.path[0] === 'kind');
      problems.push(
        `${variable}: ${kindBad ? `must start with one of ${CHANNEL_KINDS.map((k) => `"${k}:"`).join(', ')}` : 'the part after the kind must be an http(s) URL'}`,
      );
      continue;
    }
    channels.set(channelNameOf(suffix), parsed.data);
  }
  if (problems.length > 0)
    throw new NotificationConfigError(`Invalid notification channel configuration: ${problems.join('; ')}`);
  return channels;
}
