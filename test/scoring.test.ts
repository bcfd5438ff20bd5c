/**
 * Smoke-test scoring (unit): every expectation kind, the weighted score, the chat request of a
 * golden prompt, and the scorer module loader.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mentionsAll, politeness } from '../examples/scorers.js';
import {
  InvalidExpectationError,
  ScorerFailedError,
  UnknownScorerError,
  chatRequestFor,
  expectationProblem,
  parseAnswerJson,
  scoreAnswer,
  weightedScore,
} from '../activities/scoring.js';
import { BUILTIN_SCORERS, ScorerModuleError, loadScorers } from '../extensions/scorers.js';
import type { Scorer, ScorerRegistry } from '../extensions/scorers.js';
import { expectationSchema, goldenPromptSchema } from '../contract/input.js';
import type { Expectation, GoldenPrompt } from '../contract/input.js';

const FIXTURES = 'test/fixtures/scorers';

/** An expectation with its defaults filled in, as the workflow hands it over. */
function expectation(raw: unknown): Expectation {
  return expectationSchema.parse(raw);
}

function prompt(raw: Record<string, unknown>): GoldenPrompt {
  return goldenPromptSchema.parse({
    name: 'p',
    messages: [{ role: 'user', content: 'Q?' }],
    expect: { contains: 'x' },
    ...raw,
  });
}

async function score(
  answer: string,
  raw: unknown,
  scorers: ScorerRegistry = BUILTIN_SCORERS,
): Promise<{ score: number; detail: string }> {
  return scoreAnswer(answer, expectation(raw), scorers);
}

describe('scoreAnswer: contains', () => {
  it('is case-insensitive by default and case-sensitive when told', async () => {
    assert.deepEqual(await score('The capital is PARIS.', { contains: 'paris' }), {
      score: 1,
      detail: 'contains "paris"',
    });
    const strict = await score('The capital is PARIS.', { contains: 'paris', caseSensitive: true });
    assert.equal(strict.score, 0);
    assert.equal(strict.detail, 'contains 0/1; missing "paris"');
  });

  it('gives partial credit: the fraction of the listed texts present', async () => {
    const result = await score('Paris is on the Seine.', { contains: ['paris', 'seine', 'Eiffel', 'Louvre'] });
    assert.equal(result.score, 0.5);
    assert.equal(result.detail, 'contains 2/4; missing "Eiffel", "Louvre"');
    assert.deepEqual(await score('Paris, Seine', { contains: ['paris', 'seine'] }), {
      score: 1,
      detail: 'contains all 2 texts',
    });
    assert.equal((await score('paris', { contains: ['Paris', 'paris'], caseSensitive: true })).score, 0.5);
  });
});

describe('scoreAnswer: regex', () => {
  it('matches anywhere, honouring flags', async () => {
    assert.deepEqual(await score('answer: 42', { regex: '\\b4\\d\\b' }), { score: 1, detail: 'matches /\\b4\\d\\b/' });
    assert.equal((await score('HELLO there', { regex: '^hello' })).score, 0);
    assert.deepEqual(await score('HELLO there', { regex: '^hello', flags: 'i' }), {
      score: 1,
      detail: 'matches /^hello/i',
    });
    assert.equal((await score('first\nsecond', { regex: '^second$' })).score, 0);
    assert.equal((await score('first\nsecond', { regex: '^second$', flags: 'm' })).score, 1);
    // A global regex is compiled per answer, so its lastIndex never leaks between calls.
    assert.equal((await score('abc', { regex: 'c', flags: 'g' })).score, 1);
    assert.equal((await score('abc', { regex: 'c', flags: 'g' })).score, 1);
    assert.deepEqual(await score('nothing', { regex: 'x+' }), { score: 0, detail: 'no match for /x+/' });
  });

  it('rejects flag combinations JavaScript refuses', async () => {
    await assert.rejects(score('a', { regex: 'a', flags: 'uv' }), InvalidExpectationError);
    assert.match(
      expectationProblem(expectation({ regex: 'a', flags: 'uv' }), BUILTIN_SCORERS) ?? '',
      /^invalid regex \/a\/uv: /,
    );
  });
});

describe('scoreAnswer: exact', () => {
  it('compares the trimmed answer, case-insensitively unless told', async () => {
    assert.deepEqual(await score('  Paris \n', { exact: 'paris' }), { score: 1, detail: 'exact match' });
    assert.equal((await score('Paris', { exact: 'paris', caseSensitive: true })).score, 0);
    assert.equal((await score('Paris', { exact: 'Paris', caseSensitive: true })).score, 1);
    assert.deepEqual(await score('Paris, France', { exact: 'Paris' }), {
      score: 0,
      detail: 'expected exactly "Paris", got "Paris, France"',
    });
  });
});

describe('scoreAnswer: jsonSchema', () => {
  const schema = {
    type: 'object',
    properties: {
      city: { type: 'string', enum: ['Paris', 'Lyon'] },
      population: { type: 'integer' },
      tags: { type: 'array', items: { type: 'string' } },
    },
    required: ['city'],
    additionalProperties: false,
  };

  it('scores 1 for valid JSON, also inside a ```json fence', async () => {
    assert.deepEqual(await score('{"city":"Paris","population":2100000}', { jsonSchema: schema }), {
      score: 1,
      detail: 'valid JSON for the schema',
    });
    assert.equal(
      (
        await score('Here you go:\n```json\n{"city": "Lyon", "tags": ["a"]}\n```\nAnything else?', {
          jsonSchema: schema,
        })
      ).score,
      1,
    );
    assert.equal((await score('```\n{"city": "Lyon"}\n```', { jsonSchema: schema })).score, 1);
  });

  it('scores 0.5 for JSON that does not match, naming the field', async () => {
    const wrongEnum = await score('{"city":"Rome"}', { jsonSchema: schema });
    assert.equal(wrongEnum.score, 0.5);
    assert.match(wrongEnum.detail, /^JSON does not match the schema: city: /);
    assert.equal((await score('{"population": 3}', { jsonSchema: schema })).score, 0.5);
    assert.equal((await score('{"city":"Paris","extra":true}', { jsonSchema: schema })).score, 0.5);
    assert.equal((await score('{"city":"Paris","population":1.5}', { jsonSchema: schema })).score, 0.5);
    assert.match(
      (await score('{"city":"Paris","tags":[1]}', { jsonSchema: schema })).detail,
      /^JSON does not match the schema: tags\.0: /,
    );
    assert.equal((await score('[1, 2]', { jsonSchema: schema })).score, 0.5);
  });

  it('scores 0 for an answer that is not JSON', async () => {
    const result = await score('Paris, obviously.', { jsonSchema: schema });
    assert.equal(result.score, 0);
    assert.match(result.detail, /^not JSON: /);
    assert.equal((await score('```json\n{"city": \n```', { jsonSchema: schema })).score, 0);
  });

  it('parseAnswerJson prefers the whole answer and falls back to the first fence', () => {
    assert.deepEqual(parseAnswerJson(' [1] '), { ok: true, value: [1] });
    assert.deepEqual(parseAnswerJson('x ```json\n{"a":1}\n``` y ```json\n{"a":2}\n```'), { ok: true, value: { a: 1 } });
    assert.equal(parseAnswerJson('').ok, false);
  });

  it('refuses a schema zod cannot convert', async () => {
    const bad = { jsonSchema: { $ref: '#/definitions/missing' } };
    await assert.rejects(
      score('{}', bad),
      (error: unknown) => error instanceof InvalidExpectationError && /^invalid jsonSchema: /.test(error.message),
    );
    assert.match(expectationProblem(expectation(bad), BUILTIN_SCORERS) ?? '', /^invalid jsonSchema: /);
    assert.equal(expectationProblem(expectation({ jsonSchema: schema }), BUILTIN_SCORERS), undefined);
  });
});

describe('scoreAnswer: scorer', () => {
  it('runs the built-ins', async () => {
    assert.deepEqual(await score('hi', { scorer: 'nonEmpty' }), { score: 1, detail: 'scorer nonEmpty: 1' });
    assert.equal((await score(' \n\t', { scorer: 'nonEmpty' })).score, 0);
    assert.equal((await score('12345', { scorer: 'lengthAtMost', options: { max: 5 } })).score, 1);
    assert.equal((await score('123456', { scorer: 'lengthAtMost', options: { max: 5 } })).score, 0);
    await assert.rejects(
      score('1', { scorer: 'lengthAtMost' }),
      (error: unknown) =>
        error instanceof ScorerFailedError && error.scorer === 'lengthAtMost' && /options\.max/.test(error.message),
    );
  });

  it('names an unknown scorer', async () => {
    await assert.rejects(
      score('x', { scorer: 'politness' }),
      (error: unknown) =>
        error instanceof UnknownScorerError &&
        error.scorer === 'politness' &&
        error.message === 'unknown scorer "politness" (this worker has: nonEmpty, lengthAtMost)',
    );
    assert.equal(
      expectationProblem(expectation({ scorer: 'politness' }), BUILTIN_SCORERS),
      'unknown scorer "politness" (this worker has: nonEmpty, lengthAtMost)',
    );
    assert.equal(expectationProblem(expectation({ scorer: 'nonEmpty' }), BUILTIN_SCORERS), undefined);
  });

  it('hands the answer, prompt and options to the scorer and clamps its result', async () => {
    const seen: unknown[] = [];
    const registry = new Map<string, Scorer>([
      [
        'echo',
        (args) => {
          seen.push(args);
          return Number(args.options?.value);
        },
      ],
      ['async', async () => Promise.resolve(0.25)],
      ['notNumber', () => 'high' as unknown as number],
    ]);
    const golden = prompt({ name: 'golden', expect: { scorer: 'echo', options: { value: 3 } } });
    const high = await scoreAnswer('ans', golden.expect, registry, golden);
    assert.deepEqual(high, { score: 1, detail: 'scorer echo: 3 clamped to 1' });
    assert.deepEqual(seen, [{ answer: 'ans', prompt: golden, options: { value: 3 } }]);
    assert.deepEqual(await score('a', { scorer: 'echo', options: { value: -0.5 } }, registry), {
      score: 0,
      detail: 'scorer echo: -0.5 clamped to 0',
    });
    assert.deepEqual(await score('a', { scorer: 'echo', options: { value: 'x' } }, registry), {
      score: 0,
      detail: 'scorer echo returned NaN, not a number',
    });
    assert.equal((await score('a', { scorer: 'echo', options: { value: 0.7 } }, registry)).score, 0.7);
    assert.equal((await score('a', { scorer: 'async' }, registry)).score, 0.25);
    assert.equal((await score('a', { scorer: 'notNumber' }, registry)).score, 0);
  });

  it('wraps what a scorer throws', async () => {
    const registry = new Map<string, Scorer>([
      [
        'boom',
        () => {
          throw new Error('kaput');
        },
      ],
    ]);
    await assert.rejects(
      score('a', { scorer: 'boom' }, registry),
      (error: unknown) =>
        error instanceof ScorerFailedError &&
        error.message === 'scorer "boom" threw: kaput' &&
        error.cause instanceof Error,
    );
  });
});

describe('example scorers', () => {
  const base = { prompt: prompt({}) };
  it('politeness', () => {
    assert.equal(politeness({ ...base, answer: 'Hello! Happy to help.' }), 1);
    assert.equal(politeness({ ...base, answer: 'It is 4.' }), 0.5);
    assert.equal(politeness({ ...base, answer: 'Hello, stupid.' }), 0);
  });
  it('mentionsAll', () => {
    assert.equal(
      mentionsAll({
        ...base,
        answer: 'Paris, on the seine.',
        options: { terms: ['Paris', 'Seine', 'Loire', 'Rhône'] },
      }),
      0.5,
    );
    assert.equal(mentionsAll({ ...base, answer: 'Parisian food', options: { terms: ['Paris'] } }), 0);
    assert.throws(() => mentionsAll({ ...base, answer: 'x' }), /options\.terms/);
  });
});

describe('weightedScore', () => {
  const scores = [
    { name: 'a', score: 1, sample: '' },
    { name: 'b', score: 0, sample: '' },
    { name: 'c', score: 0.5, sample: '' },
  ];
  it('is the weighted mean', () => {
    assert.equal(weightedScore(scores, [1, 1, 2]), 0.5);
    assert.equal(weightedScore(scores, [3, 1, 0]), 0.75);
    assert.equal(weightedScore(scores, [1, 1, 1]), 0.5);
  });
  it('is 0 without prompts or weight, and refuses mismatched or negative weights', () => {
    assert.equal(weightedScore([], []), 0);
    assert.equal(weightedScore(scores, [0, 0, 0]), 0);
    assert.throws(() => weightedScore(scores, [1, 1]), RangeError);
    assert.throws(() => weightedScore(scores, [1, -1, 1]), RangeError);
  });
});

describe('chatRequestFor', () => {
  it('streams the messages with maxTokens and no response format for text expectations', () => {
    const golden = prompt({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is 2+2?' },
      ],
      expect: { exact: '4' },
      maxTokens: 16,
    });
    assert.deepEqual(chatRequestFor(golden), {
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'What is 2+2?' },
      ],
      maxTokens: 16,
      stream: true,
    });
    assert.deepEqual(chatRequestFor(prompt({ expect: { scorer: 'nonEmpty' } })), {
      messages: [{ role: 'user', content: 'Q?' }],
      stream: true,
    });
  });

  it('asks for the schema (not strict) for jsonSchema expectations', () => {
    const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] };
    assert.deepEqual(chatRequestFor(prompt({ expect: { jsonSchema: schema, name: 'city_answer' } })), {
      messages: [{ role: 'user', content: 'Q?' }],
      stream: true,
      responseFormat: { type: 'json_schema', json_schema: { name: 'city_answer', schema, strict: false } },
    });
    const byDefault = chatRequestFor(prompt({ expect: { jsonSchema: schema } }));
    assert.deepEqual(byDefault.responseFormat, {
      type: 'json_schema',
      json_schema: { name: 'answer', schema, strict: false },
    });
  });
});

describe('loadScorers', () => {
  it('has only the built-ins without a module', async () => {
    const scorers = await loadScorers(undefined);
    assert.deepEqual([...scorers.keys()], ['nonEmpty', 'lengthAtMost']);
  });

  it('adds every export of a module by name', async () => {
    const scorers = await loadScorers(`${FIXTURES}/good.ts`);
    assert.deepEqual([...scorers.keys()].sort(), ['default', 'lengthAtMost', 'lengthRatio', 'nonEmpty', 'shouty']);
    assert.equal((await score('HEY', { scorer: 'shouty' }, scorers)).score, 1);
    assert.equal((await score('abcde', { scorer: 'lengthRatio', options: { target: 10 } }, scorers)).score, 0.5);
    assert.equal((await score('x', { scorer: 'default' }, scorers)).score, 0.25);
  });

  it('loads the example module', async () => {
    const scorers = await loadScorers('examples/scorers.ts');
    assert.ok(scorers.has('politeness') && scorers.has('mentionsAll'));
  });

  it('refuses an export that is not a function, naming it', async () => {
    await assert.rejects(
      loadScorers(`${FIXTURES}/bad-export.ts`),
      (error: unknown) =>
        error instanceof ScorerModuleError &&
        error.message === `Export "threshold" of ${FIXTURES}/bad-export.ts is not a scorer function (it is a number).`,
    );
  });

  it('refuses an export that shadows a built-in', async () => {
    await assert.rejects(
      loadScorers(`${FIXTURES}/shadows-builtin.ts`),
      (error: unknown) =>
        error instanceof ScorerModuleError &&
        /^Export "nonEmpty" of .* shadows the built-in scorer/.test(error.message),
    );
  });

  it('reports a module that does not load', async () => {
    await assert.rejects(
      loadScorers(`${FIXTURES}/missing.ts`),
      (error: unknown) =>
        error instanceof ScorerModuleError &&
        error.message.startsWith(`Cannot load the scorer module ${FIXTURES}/missing.ts: `),
    );
  });
});
