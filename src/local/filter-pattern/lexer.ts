/**
 * The character-level reading shared by the filter-pattern parsers: a cursor over the pattern
 * with whitespace skipping, quoted strings, `%regex%` bodies and unquoted words, every error
 * naming its 1-based column.
 */
import { FilterPatternError } from './errors.js';

/** Letters (with their combining marks) and digits of any script, and the underscore: what an unquoted term may hold. */
export const WORD_CHAR = /[\p{L}\p{M}\p{N}_]/u;
/** What an unquoted value may hold: word characters and `. * + -` (`123.123.*`, `+1000`, `1e-3`, `*.html*`). */
export const VALUE_CHAR = /[\p{L}\p{M}\p{N}_.*+-]/u;
/** JSON property names and space-delimited field names: alphanumerics, `-` and `_`. */
export const NAME_CHAR = /[\p{L}\p{M}\p{N}_-]/u;

/** A position in the pattern and the reading operations over it. */
export class Cursor {
  readonly src: string;
  pos: number;

  /**
   * @param src - the whole pattern (columns are reported against it).
   * @param pos - 0-based offset to start at (default 0).
   */
  constructor(src: string, pos = 0) {
    this.src = src;
    this.pos = pos;
  }

  /** The character at the cursor (after `ahead` more), or '' at the end. */
  peek(ahead = 0): string {
    return this.src[this.pos + ahead] ?? '';
  }

  /** True when the pattern continues with `s` at the cursor. */
  startsWith(s: string): boolean {
    return this.src.startsWith(s, this.pos);
  }

  /** Skips spaces, tabs and line breaks. */
  skipWs(): void {
    while (this.pos < this.src.length && /\s/.test(this.src[this.pos]!)) this.pos++;
  }

  /** True at the end of the pattern. */
  get done(): boolean {
    return this.pos >= this.src.length;
  }

  /** Throws a {@link FilterPatternError} at `pos` (default: the cursor). */
  fail(what: string, pos = this.pos): never {
    throw new FilterPatternError(what, pos + 1);
  }

  /** Describes the character at the cursor for an error message. */
  describe(): string {
    return this.done ? 'the end of the pattern' : `"${this.peek()}"`;
  }

  /** Consumes `s` or throws "expected …". */
  expect(s: string, what = `"${s}"`): void {
    if (!this.startsWith(s)) this.fail(`expected ${what} but found ${this.describe()}`);
    this.pos += s.length;
  }

  /**
   * Reads a double-quoted string at the cursor (`\"` and `\\` are the quote and the backslash;
   * any other backslash stays as written).
   *
   * @returns the unescaped content.
   */
  quoted(): string {
    const start = this.pos;
    this.pos++; // opening quote
    let out = '';
    for (;;) {
      const c = this.src[this.pos];
      if (c === undefined) this.fail('unterminated quoted string', start);
      if (c === '"') {
        this.pos++;
        return out;
      }
      if (c === '\\' && (this.src[this.pos + 1] === '"' || this.src[this.pos + 1] === '\\')) {
        out += this.src[this.pos + 1];
        this.pos += 2;
        continue;
      }
      out += c;
      this.pos++;
    }
  }

  /**
   * Reads a `%regex%` at the cursor.
   *
   * @returns the body and the 0-based offset where it starts.
   */
  regexBody(): { body: string; at: number } {
    const start = this.pos;
    const end = this.src.indexOf('%', start + 1);
    if (end < 0) this.fail('unterminated regular expression: a "%" opens it but none closes it', start);
    this.pos = end + 1;
    return { body: this.src.slice(start + 1, end), at: start + 1 };
  }

  /** Reads the longest run of characters matching `re` (one character each) at the cursor. */
  run(re: RegExp): string {
    const start = this.pos;
    while (this.pos < this.src.length && re.test(this.src[this.pos]!)) this.pos++;
    return this.src.slice(start, this.pos);
  }

  /** True when the cursor is at `word` (case-insensitive) not followed by a name character. */
  atKeyword(word: string): boolean {
    const s = this.src.slice(this.pos, this.pos + word.length);
    if (s.toUpperCase() !== word) return false;
    const next = this.src[this.pos + word.length];
    return next === undefined || !NAME_CHAR.test(next);
  }
}
