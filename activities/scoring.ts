/**
 * Scoring of smoke-test answers against golden-prompt expectations, and the chat request a
 * golden prompt sends. Pure apart from calling the registry's scorers.
 */
import { z } from 'zod';
import type { ChatRequest } from '../arkor/index.js';
import type { PromptScore } from '../contract/evaluation.js';
import type { Expectation, GoldenPrompt } from '../contract/input.js';
import type { ScorerRegistry } from '../extensions/scorers.js';
import { errorMessage } from '../contract/errors.js';

/** The score of one answer (0 to 1) and why, in a few words. */
export interface AnswerScore {
  score: number;
  detail: string;
}

/** An expectation names a scorer the worker does not have. */
export class UnknownScorerError extends Error {
  override readonly name = 'UnknownScorerError';
  constructor(
    readonly scorer: string,
    known: readonly string[],
  ) {
    super(`unknown scorer "${scorer}" (this worker has: ${known.join(', ') || 'none'})`);
  }
}

/** An expectation that cannot be evaluated at all (a JSON Schema or regex flags JS rejects). */
export class InvalidExpectationError extends Error {
  override readonly name = 'InvalidExpectationError';
}

/** A registered scorer threw; `scorer` names it and `cause` is what it threw. */
export class ScorerFailedError extends Error {
  override readonly name = 'ScorerFailedError';
  constructor(
    readonly scorer: string,
    cause: unknown,
  ) {
    super(`scorer "${scorer}" threw: ${errorMessage(cause)}`, { cause });
  }
}

/** Longest excerpt of expected or actual text quoted in a detail. */
const QUOTE_CHARS = 40;

function quote(text: string): string {
  return JSON.stringify(text.length > QUOTE_CHARS ? `${text.slice(0, QUOTE_CHARS)}…` : text);
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, value));
}

/** Converted JSON Schemas, by schema object: one prompt is scored once per checkpoint. */
const compiledSchemas = new WeakMap<object, z.ZodType>();

function compileSchema(schema: Record<string, unknown>): z.ZodType {
  const cached = compiledSchemas.get(schema);
  if (cached) return cached;
  let compiled: z.ZodType;
  try {
    compiled = z.fromJSONSchema(schema);
  } catch (error) {
    throw new InvalidExpectationError(`invalid jsonSchema: ${errorMessage(error)}`);
  }
  compiledSchemas.set(schema, compiled);
  return compiled;
}

function compileRegex(source: string, flags: string | undefined): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (error) {
    // The input schema checks the source alone; some flag combinations (`u` with `v`) or
    // patterns valid only without `u`/`v` still fail here.
    throw new InvalidExpectationError(`invalid regex /${source}/${flags ?? ''}: ${errorMessage(error)}`);
  }
}

/**
 * Why `expectation` cannot be scored on this worker (unknown scorer, bad JSON Schema, bad regex
 * flags), or undefined when it can. Lets the activity refuse a bad configuration before it spends
 * inference on it.
 */
export function expectationProblem(expectation: Expectation, scorers: ScorerRegistry): string | undefined {
  try {
    if ('scorer' in expectation && !scorers.has(expectation.scorer)) {
      return new UnknownScorerError(expectation.scorer, [...scorers.keys()]).message;
    }
    if ('jsonSchema' in expectation) compileSchema(expectation.jsonSchema);
    if ('regex' in expectation) compileRegex(expectation.regex, expectation.flags);
  } catch (error) {
    if (error instanceof InvalidExpectationError) return error.message;
    throw error;
  }
  return undefined;
}

/**
 * The JSON value of an answer: the whole trimmed answer, else the first fenced code block
 * (```json … ``` or ``` … ```), since models like to wrap JSON in Markdown. Undefined when
 * neither parses.
 */
export function parseAnswerJson(answer: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const candidates = [answer.trim()];
  const fenced = /```[a-zA-Z0-9_-]*[ \t]*\r?\n?([\s\S]*?)```/.exec(answer)?.[1];
  if (fenced !== undefined) candidates.push(fenced.trim());
  let firstError = 'empty answer';
  for (const [index, candidate] of candidates.entries()) {
    try {
      return { ok: true, value: JSON.parse(candidate) as unknown };
    } catch (error) {
      if (index === 0) firstError = errorMessage(error);
    }
  }
  return { ok: false, error: firstError };
}

function scoreContains(answer: string, texts: string | string[], caseSensitive: boolean): AnswerScore {
  const wanted = typeof texts === 'string' ? [texts] : texts;
  const haystack = caseSensitive ? answer : answer.toLowerCase();
  const missing = wanted.filter((text) => !haystack.includes(caseSensitive ? text : text.toLowerCase()));
  const found = wanted.length - missing.length;
  const score = found / wanted.length;
  if (missing.length === 0)
    return {
      score,
      detail: wanted.length === 1 ? `contains ${quote(wanted[0] ?? '')}` : `contains all ${wanted.length} texts`,
    };
  return { score, detail: `contains ${found}/${wanted.length}; missing ${missing.map(quote).join(', ')}` };
}

function scoreExact(answer: string, expected: string, caseSensitive: boolean): AnswerScore {
  const actual = answer.trim();
  const want = expected.trim();
  const equal = caseSensitive ? actual === want : actual.toLowerCase() === want.toLowerCase();
  return equal
    ? { score: 1, detail: 'exact match' }
    : { score: 0, detail: `expected exactly ${quote(want)}, got ${quote(actual)}` };
}

function scoreJson(answer: string, schema: Record<string, unknown>): AnswerScore {
  const validator = compileSchema(schema);
  const parsed = parseAnswerJson(answer);
  if (!parsed.ok) return { score: 0, detail: `not JSON: ${parsed.error}` };
  const result = validator.safeParse(parsed.value);
  if (result.success) return { score: 1, detail: 'valid JSON for the schema' };
  const issue = result.error.issues[0];
  const where = issue && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
  return { score: 0.5, detail: `JSON does not match the schema: ${where}${issue?.message ?? 'invalid'}` };
}

async function scoreWithScorer(
  answer: string,
  prompt: GoldenPrompt,
  name: string,
  options: Record<string, unknown> | undefined,
  scorers: ScorerRegistry,
): Promise<AnswerScore> {
  const scorer = scorers.get(name);
  if (!scorer) throw new UnknownScorerError(name, [...scorers.keys()]);
  let value: unknown;
  try {
    value = await scorer({ answer, prompt, ...(options === undefined ? {} : { options }) });
  } catch (error) {
    throw new ScorerFailedError(name, error);
  }
  if (typeof value !== 'number' || Number.isNaN(value))
    return { score: 0, detail: `scorer ${name} returned ${String(value)}, not a number` };
  const score = clamp01(value);
  return {
    score,
    detail: score === value ? `scorer ${name}: ${score}` : `scorer ${name}: ${value} clamped to ${score}`,
  };
}

/**
 * Scores `answer` (0 to 1) against `expectation`:
 * - `contains`: the fraction of the listed texts found in the answer — partial credit, so
 *   `["Paris", "France"]` with only "Paris" present scores 0.5; a single text is 1 or 0.
 *   Case-insensitive unless `caseSensitive`.
 * - `regex`: 1 when `new RegExp(regex, flags)` matches anywhere in the answer, else 0.
 * - `exact`: 1 when the trimmed answer equals the trimmed text (case-insensitive unless
 *   `caseSensitive`), else 0.
 * - `jsonSchema`: 1 when the answer (or its first fenced code block) is JSON valid for the
 *   schema, 0.5 when it is JSON but invalid, 0 when it is not JSON.
 * - `scorer`: the registered scorer's result clamped to [0, 1] (not a number: 0).
 *
 * `prompt` is handed to custom scorers (default: a prompt built from the expectation alone).
 * Throws {@link UnknownScorerError}, {@link InvalidExpectationError} (bad schema or regex
 * flags) and {@link ScorerFailedError} (the scorer threw).
 */
export async function scoreAnswer(
  answer: string,
  expectation: Expectation,
  scorers: ScorerRegistry,
  prompt: GoldenPrompt = { name: 'prompt', messages: [], expect: expectation, weight: 1 },
): Promise<AnswerScore> {
  if ('contains' in expectation) return scoreContains(answer, expectation.contains, expectation.caseSensitive === true);
  if ('regex' in expectation) {
    const regex = compileRegex(expectation.regex, expectation.flags);
    const shown = `/${expectation.regex}/${expectation.flags ?? ''}`;
    return regex.test(answer)
      ? { score: 1, detail: `matches ${shown}` }
      : { score: 0, detail: `no match for ${shown}` };
  }
  if ('exact' in expectation) return scoreExact(answer, expectation.exact, expectation.caseSensitive === true);
  if ('jsonSchema' in expectation) return scoreJson(answer, expectation.jsonSchema);
  return scoreWithScorer(answer, prompt, expectation.scorer, expectation.options, scorers);
}

/**
 * The weighted mean of the prompt scores (`weights[i]` belongs to `prompts[i]`), 0 to 1.
 * No prompts, or weights summing to 0, give 0. Throws a `RangeError` when the lengths differ
 * or a weight is negative or not finite.
 */
export function weightedScore(prompts: readonly PromptScore[], weights: readonly number[]): number {
  if (prompts.length !== weights.length) {
    throw new RangeError(`weightedScore: ${prompts.length} prompt scores but ${weights.length} weights`);
  }
  let total = 0;
  let weighted = 0;
  for (const [index, prompt] of prompts.entries()) {
    const weight = weights[index] ?? 0;
    if (!Number.isFinite(weight) || weight < 0)
      throw new RangeError(`weightedScore: weight ${weight} of "${prompt.name}" is not a non-negative number`);
    total += weight;
    weighted += weight * prompt.score;
  }
  return total === 0 ? 0 : clamp01(weighted / total);
}

/**
 * The inference chat body for a golden prompt (docs/arkor-protocol.md §8.1), without `adapter`/`baseModel`:
 * its messages, `maxTokens` when set, `stream: true` (what the SDK's `infer()` sends, so the
 * streamed path is what gets tested) and, for a `jsonSchema` expectation, a non-strict
 * `json_schema` response format named by the expectation's `name` (default `answer`).
 */
export function chatRequestFor(prompt: GoldenPrompt): ChatRequest {
  const expectation = prompt.expect;
  return {
    messages: prompt.messages.map((message) => ({ role: message.role, content: message.content })),
    ...(prompt.maxTokens === undefined ? {} : { maxTokens: prompt.maxTokens }),
    stream: true,
    ...('jsonSchema' in expectation
      ? {
          responseFormat: {
            type: 'json_schema',
            json_schema: { name: expectation.name ?? 'answer', schema: expectation.jsonSchema, strict: false },
          },
        }
      : {}),
  };
}
