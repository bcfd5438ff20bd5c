/**
 * The SDK version gate on `X-Arkor-Client` (docs/arkor-protocol.md §1.3, §10.2, §10.3): 426 for a
 * missing, malformed or too old client, deprecation headers for an old but accepted one.
 */
import type { SemVer } from './semver.js';
import { SEMVER_PATTERN, compareSemVer, mustParseSemVer, parseSemVer } from './semver.js';

/** Install hint of the 426 body. */
export const UPGRADE_HINT = 'npm install -g arkor@latest';
const CLIENT_RE = new RegExp(`^arkor/(${SEMVER_PATTERN})$`);

/** What the gate decided for one request. */
export type GateDecision =
  { kind: 'reject'; body: Record<string, unknown> } | { kind: 'accept'; deprecationHeaders: Record<string, string> };

/** A configured gate: `minClientVersion` is the lowest accepted version. */
export class VersionGate {
  private readonly min: SemVer;
  private readonly deprecatedBelow: SemVer | undefined;
  /** `>=<min>`: the `supportedRange` of every 426 body. */
  readonly supportedRange: string;
  private readonly sunset: string;

  constructor(minClientVersion: string, deprecatedBelowVersion: string | undefined) {
    this.min = mustParseSemVer(minClientVersion, 'minClientVersion');
    this.deprecatedBelow =
      deprecatedBelowVersion === undefined
        ? undefined
        : mustParseSemVer(deprecatedBelowVersion, 'deprecatedBelowVersion');
    this.supportedRange = `>=${minClientVersion}`;
    // Ninety days from start: far enough to be a future date for any test run.
    this.sunset = new Date(Date.now() + 90 * 24 * 3600 * 1000).toUTCString();
  }

  /** Decides for the raw header value (undefined when absent). */
  check(header: string | undefined): GateDecision {
    const base = { error: 'sdk_version_unsupported', supportedRange: this.supportedRange, upgrade: UPGRADE_HINT };
    if (header === undefined || header.trim() === '') return { kind: 'reject', body: { ...base, reason: 'missing' } };
    const m = CLIENT_RE.exec(header.trim());
    const version = m?.[1] === undefined ? undefined : parseSemVer(m[1]);
    if (!m?.[1] || !version) return { kind: 'reject', body: { ...base, reason: 'malformed' } };
    if (compareSemVer(version, this.min) < 0) return { kind: 'reject', body: { ...base, currentVersion: m[1] } };
    if (this.deprecatedBelow && compareSemVer(version, this.deprecatedBelow) < 0) {
      return {
        kind: 'accept',
        deprecationHeaders: {
          Deprecation: 'true',
          Warning: `299 - "Arkor SDK ${m[1]} is deprecated; upgrade to a version >= ${this.formatDeprecatedBelow()}"`,
          Sunset: this.sunset,
        },
      };
    }
    return { kind: 'accept', deprecationHeaders: {} };
  }

  private formatDeprecatedBelow(): string {
    const v = this.deprecatedBelow;
    if (!v) return '';
    return `${v.major}.${v.minor}.${v.patch}${v.prerelease.length > 0 ? `-${v.prerelease.join('.')}` : ''}`;
  }
}
