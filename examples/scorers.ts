/**
 * An example scorer module. Point the worker at it with `ARKOR_SCORERS_MODULE=examples/scorers.ts`
 * and use an export by name in a golden prompt:
 *
 *     { "name": "greeting", "messages": [{ "role": "user", "content": "Say hello" }],
 *       "expect": { "scorer": "politeness" } }
 *
 * Every export of a scorer module must be a scorer function (see `extensions/scorers.ts`); the
 * built-ins `nonEmpty` and `lengthAtMost` are always there and may not be redefined.
 */
import { defineScorer } from '../extensions/index.js';

const POLITE_MARKERS = ['please', 'thank', 'hello', 'hi ', 'happy to', 'glad'] as const;
const RUDE_MARKERS = ['stupid', 'shut up', 'whatever'] as const;

/**
 * Rewards a courteous answer: 1 when it contains one of a few polite phrases (case-insensitive)
 * and nothing rude, 0.5 when it is neutral, 0 when it contains a rude phrase. No options.
 */
export const politeness = defineScorer(({ answer }) => {
  const text = ` ${answer.toLowerCase()} `;
  if (RUDE_MARKERS.some((marker) => text.includes(marker))) return 0;
  return POLITE_MARKERS.some((marker) => text.includes(marker)) ? 1 : 0.5;
});

/**
 * The fraction of `options.terms` (a list of strings) the answer mentions, case-insensitively,
 * as whole words; e.g. `{ "scorer": "mentionsAll", "options": { "terms": ["Paris", "Seine"] } }`
 * scores 0.5 for an answer naming Paris only. Throws (so the prompt scores 0 with the reason)
 * when `terms` is missing or empty.
 */
export const mentionsAll = defineScorer(({ answer, options }) => {
  const terms = options?.terms;
  if (
    !Array.isArray(terms) ||
    terms.length === 0 ||
    !terms.every((term): term is string => typeof term === 'string' && term !== '')
  ) {
    throw new Error('mentionsAll needs options.terms, a non-empty list of strings');
  }
  const escape = (term: string): string => term.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const found = terms.filter((term) => new RegExp(`(^|\\W)${escape(term)}($|\\W)`, 'iu').test(answer));
  return found.length / terms.length;
});
