/** Result of {@link parseJsonLenient}: never throws. */
export type LenientJsonResult = { ok: true; value: unknown } | { ok: false; error: string };

/**
 * Parses JSON text like `JSON.parse`, but also accepts the bare tokens `NaN`, `Infinity` and
 * `-Infinity` outside strings (Python's `json.dumps` writes them for non-finite floats, e.g. a
 * diverged loss) and turns them into the matching JS numbers. Never throws.
 */
import { errorMessage } from '../contract/errors.js';
export function parseJsonLenient(text: string): LenientJsonResult {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    // Only pay for the slow scanner when the text may contain a non-finite token.
    if (!/NaN|Infinity/.test(text)) return { ok: false, error: errorMessage(error) };
  }
  try {
    return { ok: true, value: new LenientParser(text).parseDocument() };
  } catch (error) {
    return { ok: false, error: errorMessage(error) };
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WHITESPACE = /[ \t\n\r]*/y;

/** A small recursive-descent JSON parser; strings and numbers are delegated to JSON.parse. */
class LenientParser {
  private pos = 0;

  constructor(private readonly text: string) {}

  parseDocument(): unknown {
    const value = this.parseValue(0);
    this.skipWhitespace();
    if (this.pos !== this.text.length) this.fail('unexpected trailing characters');
    return value;
  }

  private fail(what: string): never {
    throw new SyntaxError(`${what} at position ${this.pos}`);
  }

  private skipWhitespace(): void {
    WHITESPACE.lastIndex = this.pos;
    WHITESPACE.exec(this.text);
    this.pos = WHITESPACE.lastIndex;
  }

  private consumeLiteral(literal: string): boolean {
    if (this.text.startsWith(literal, this.pos)) {
      this.pos += literal.length;
      return true;
    }
    return false;
  }

  private parseValue(depth: number): unknown {
    if (depth > 512) this.fail('nesting too deep');
    this.skipWhitespace();
    const char = this.text[this.pos];
    switch (char) {
      case '{':
        return this.parseObject(depth);
      case '[':
        return this.parseArray(depth);
      case '"':
        return this.parseString();
      default:
        break;
    }
    if (this.consumeLiteral('true')) return true;
    if (this.consumeLiteral('false')) return false;
    if (this.consumeLiteral('null')) return null;
    if (this.consumeLiteral('NaN')) return Number.NaN;
    if (this.consumeLiteral('Infinity')) return Number.POSITIVE_INFINITY;
    if (this.consumeLiteral('-Infinity')) return Number.NEGATIVE_INFINITY;
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail('unexpected token');
    this.pos = NUMBER.lastIndex;
    return Number(match[0]);
  }

  private parseString(): string {
    // Find the closing quote, skipping escaped characters, then let JSON.parse decode escapes.
    let end = this.pos + 1;
    for (;;) {
      const char = this.text[end];
      if (char === undefined) this.fail('unterminated string');
      if (char === '\\') end += 2;
      else if (char === '"') break;
      else end += 1;
    }
    const decoded = JSON.parse(this.text.slice(this.pos, end + 1)) as string;
    this.pos = end + 1;
    return decoded;
  }

  private parseArray(depth: number): unknown[] {
    this.pos += 1;
    const items: unknown[] = [];
    this.skipWhitespace();
    if (this.consumeLiteral(']')) return items;
    for (;;) {
      items.push(this.parseValue(depth + 1));
      this.skipWhitespace();
      if (this.consumeLiteral(']')) return items;
      if (!this.consumeLiteral(',')) this.fail("expected ',' or ']'");
    }
  }

  private parseObject(depth: number): Record<string, unknown> {
    this.pos += 1;
    const object: Record<string, unknown> = {};
    this.skipWhitespace();
    if (this.consumeLiteral('}')) return object;
    for (;;) {
      this.skipWhitespace();
      if (this.text[this.pos] !== '"') this.fail('expected a property name');
      const key = this.parseString();
      this.skipWhitespace();
      if (!this.consumeLiteral(':')) this.fail("expected ':'");
      const value = this.parseValue(depth + 1);
      // defineProperty (like JSON.parse) so a "__proto__" key stays an own property.
      Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      if (this.consumeLiteral('}')) return object;
      if (!this.consumeLiteral(',')) this.fail("expected ',' or '}'");
    }
  }
}
