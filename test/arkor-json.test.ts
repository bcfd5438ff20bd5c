import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseJsonLenient } from '../arkor/json.js';

describe('parseJsonLenient', () => {
  it('parses plain JSON like JSON.parse', () => {
    assert.deepEqual(parseJsonLenient('{"a":[1,2.5e3,"x",true,null],"b":{}}'), {
      ok: true,
      value: { a: [1, 2500, 'x', true, null], b: {} },
    });
    assert.deepEqual(parseJsonLenient('"bare"'), { ok: true, value: 'bare' });
  });

  it('accepts bare NaN, Infinity and -Infinity outside strings', () => {
    const result = parseJsonLenient(
      '{"loss": NaN, "a": [Infinity, -Infinity, -1.5], "s": "NaN Infinity", "e": "q\\"NaN"}',
    );
    assert.equal(result.ok, true);
    assert.ok(result.ok);
    const value = result.value as { loss: number; a: number[]; s: string; e: string };
    assert.ok(Number.isNaN(value.loss));
    assert.deepEqual(value.a, [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1.5]);
    assert.equal(value.s, 'NaN Infinity');
    assert.equal(value.e, 'q"NaN');
  });

  it('decodes escapes and keeps __proto__ as an own property in the fallback', () => {
    const result = parseJsonLenient('{"__proto__": {"x": 1}, "u": "\\u00e9\\n", "n": NaN}');
    assert.ok(result.ok);
    const value = result.value as Record<string, unknown>;
    assert.deepEqual(Object.keys(value), ['__proto__', 'u', 'n']);
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.equal(value.u, 'é\n');
  });

  it('never throws on invalid input', () => {
    for (const text of [
      '',
      'not json',
      '{"a":',
      '{"a": NaNx}',
      '[1,]',
      '{"a":1} trailing',
      'nan',
      '"unterminated',
      '{"a" NaN}',
    ]) {
      const result = parseJsonLenient(text);
      assert.equal(result.ok, false, text);
      assert.ok(!result.ok && typeof result.error === 'string');
    }
  });
});
