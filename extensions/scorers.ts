/**
 * Named scorers for smoke-test expectations (`{ scorer: "<name>", options }`): the built-ins and
 * the functions exported by the worker's scorer module (`ARKOR_SCORERS_MODULE`).
 */
import { type EntryDescriptions, importModuleExports } from './load-module.js';
import type { GoldenPrompt } from '../contract/input.js';

/** What a scorer receives: the model's answer, the prompt it answered and the expectation's options. */
export interface ScorerArgs {
  answer: string;
  prompt: GoldenPrompt;
  options?: Record<string, unknown>;
}

/**
 * Scores one answer from 0 (worst) to 1 (best). Values outside [0, 1] are clamped; a value that
 * is not a number (or NaN) scores 0. A scorer that throws scores its prompt 0 (the error becomes
 * the prompt's detail): scoring is retried only by retrying inference, which a bug will not fix.
 */
export type Scorer = (args: ScorerArgs) => number | Promise<number>;

/** Scorers by name. */
export type ScorerRegistry = ReadonlyMap<string, Scorer>;

/** The scorer module does not load, or exports something that is not a scorer. */
export class ScorerModuleError extends Error {
  override readonly name = 'ScorerModuleError';
}

/** A scorer was given options it cannot use (for example `lengthAtMost` without `max`). */
export class ScorerOptionsError extends Error {
  override readonly name = 'ScorerOptionsError';
}

/**
 * The scorers every worker has, whatever its module exports:
 * - `nonEmpty`: 1 when the answer has any non-whitespace text, else 0;
 * - `lengthAtMost`: 1 when the answer has at most `options.max` characters (untrimmed), else 0.
 */
export const BUILTIN_SCORERS: ReadonlyMap<string, Scorer> = new Map<string, Scorer>([
  ['nonEmpty', ({ answer }) => (answer.trim().length > 0 ? 1 : 0)],
  [
    'lengthAtMost',
    ({ answer, options }) => {
      const max = options?.max;
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 0) {
        throw new ScorerOptionsError('lengthAtMost needs options.max, a non-negative integer');
      }
      return answer.length <= max ? 1 : 0;
    },
  ],
]);

/**
 * Loads the worker's scorer module (a path, relative to the working directory) and returns the
 * built-in scorers plus every export of the module under its export name (`default` for a
 * default export). Without a module: the built-ins only.
 *
 * Every export must be a function, and none may reuse a built-in name: a typo or a shadowed
 * built-in would otherwise silently change scores, so the worker refuses to start instead.
 * Throws {@link ScorerModuleError} naming the export.
 */
export async function loadScorers(modulePath: string | undefined): Promise<ScorerRegistry> {
  if (!modulePath) return new Map(BUILTIN_SCORERS);
  const exported = await importModuleExports(modulePath, 'scorer', (message) => new ScorerModuleError(message));
  return scorerRegistryFrom(exported, {
    entry: (name) => `Export "${name}" of ${modulePath}`,
    empty: `The scorer module ${modulePath} exports no scorer.`,
  });
}

/** The built-ins plus `entries` (a module's exports, or scorers a service passed in code), checked alike. */
export function scorerRegistryFrom(entries: Iterable<[string, unknown]>, describe: EntryDescriptions): ScorerRegistry {
  const scorers = new Map<string, Scorer>(BUILTIN_SCORERS);
  for (const [name, value] of entries) {
    if (typeof value !== 'function') {
      throw new ScorerModuleError(`${describe.entry(name)} is not a scorer function (it is ${describeValue(value)}).`);
    }
    if (BUILTIN_SCORERS.has(name)) {
      throw new ScorerModuleError(`${describe.entry(name)} shadows the built-in scorer of that name; rename it.`);
    }
    scorers.set(name, value as Scorer);
  }
  if (scorers.size === BUILTIN_SCORERS.size) throw new ScorerModuleError(describe.empty);
  return scorers;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/**
 * Identity helper that types one scorer: `export const politeness = defineScorer(({ answer }) => …)`.
 * Every export of a scorer module is one scorer, named by its export.
 */
export function defineScorer(scorer: Scorer): Scorer {
  return scorer;
}
