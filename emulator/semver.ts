/**
 * Tiny semantic-version parsing and comparison for the `X-Arkor-Client` version gate.
 * Only what the gate needs: `MAJOR.MINOR.PATCH[-prerelease][+build]`, ordered by semver 2.0.0
 * precedence (build metadata ignored).
 */

/** A parsed semantic version. */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
  /** Dot-separated prerelease identifiers; empty for a release. */
  prerelease: string[];
}

/** Source of the version grammar, without anchors, so the gate can embed it in `^arkor/…$`. */
export const SEMVER_PATTERN =
  '(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-([0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*))?(?:\\+[0-9A-Za-z-]+(?:\\.[0-9A-Za-z-]+)*)?';

const SEMVER_RE = new RegExp(`^${SEMVER_PATTERN}$`);

/** Parses `text` as a semantic version; `undefined` when it is not one. */
export function parseSemVer(text: string): SemVer | undefined {
  const m = SEMVER_RE.exec(text);
  if (!m) return undefined;
  return {
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3]),
    prerelease: m[4] === undefined ? [] : m[4].split('.'),
  };
}

function compareIdentifiers(a: string, b: string): number {
  const aNum = /^\d+$/.test(a);
  const bNum = /^\d+$/.test(b);
  if (aNum && bNum) return Math.sign(Number(a) - Number(b));
  // Numeric identifiers always have lower precedence than alphanumeric ones.
  if (aNum) return -1;
  if (bNum) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Compares two versions by semver precedence: negative if `a < b`, 0 if equal, positive if `a > b`. */
export function compareSemVer(a: SemVer, b: SemVer): number {
  for (const key of ['major', 'minor', 'patch'] as const) {
    if (a[key] !== b[key]) return Math.sign(a[key] - b[key]);
  }
  // A release outranks any of its prereleases.
  if (a.prerelease.length === 0 || b.prerelease.length === 0) {
    return b.prerelease.length - a.prerelease.length === 0 ? 0 : a.prerelease.length === 0 ? 1 : -1;
  }
  const n = Math.max(a.prerelease.length, b.prerelease.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.prerelease[i];
    const y = b.prerelease[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const c = compareIdentifiers(x, y);
    if (c !== 0) return c;
  }
  return 0;
}

/** Parses `text` or throws, for versions that come from trusted configuration. */
export function mustParseSemVer(text: string, what: string): SemVer {
  const v = parseSemVer(text);
  if (!v) throw new InvalidSemVerError(`${what} is not a semantic version: ${JSON.stringify(text)}`);
  return v;
}

/** Thrown when a configured version (e.g. `minClientVersion`) is not valid semver. */
export class InvalidSemVerError extends Error {
  override readonly name = 'InvalidSemVerError';
}
