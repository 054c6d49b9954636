/**
 * A small JSON reader for filter patterns. Unlike `JSON.parse` it keeps each number's source
 * text (a wildcard such as `{ $.latency = 5* }` compares against the text the event carries, and
 * integers beyond 2^53 keep their digits), never throws, and gives up on nesting deeper than
 * {@link MAX_JSON_DEPTH} instead of exhausting the stack.
 */

/** A JSON value as the filter-pattern matcher sees it. */
export type JsonNode =
  | { readonly t: 'object'; readonly fields: ReadonlyMap<string, JsonNode> }
  | { readonly t: 'array'; readonly items: readonly JsonNode[] }
  | { readonly t: 'string'; readonly value: string }
  | { readonly t: 'number'; readonly value: number; readonly text: string }
  | { readonly t: 'boolean'; readonly value: boolean }
  | { readonly t: 'null' };

/** Deepest nesting of objects and arrays read; a deeper message is treated as not JSON. */
export const MAX_JSON_DEPTH = 512;

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

class Reader {
  #s: string;
  #i = 0;

  constructor(s: string) {
    this.#s = s;
  }

  read(): JsonNode | undefined {
    const v = this.#value(0);
    if (v === undefined) return undefined;
    this.#ws();
    return this.#i === this.#s.length ? v : undefined;
  }

  #ws(): void {
    const s = this.#s;
    while (this.#i < s.length) {
      const c = s.charCodeAt(this.#i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.#i++;
      else break;
    }
  }

  #value(depth: number): JsonNode | undefined {
    this.#ws();
    const s = this.#s;
    const c = s[this.#i];
    switch (c) {
      case '{':
        return depth >= MAX_JSON_DEPTH ? undefined : this.#object(depth + 1);
      case '[':
        return depth >= MAX_JSON_DEPTH ? undefined : this.#array(depth + 1);
      case '"': {
        const value = this.#string();
        return value === undefined ? undefined : { t: 'string', value };
      }
      case 't':
        return this.#word('true') ? { t: 'boolean', value: true } : undefined;
      case 'f':
        return this.#word('false') ? { t: 'boolean', value: false } : undefined;
      case 'n':
        return this.#word('null') ? { t: 'null' } : undefined;
      default: {
        NUMBER.lastIndex = this.#i;
        const m = NUMBER.exec(s);
        if (m === null) return undefined;
        this.#i += m[0].length;
        return { t: 'number', value: Number(m[0]), text: m[0] };
      }
    }
  }

  #word(w: string): boolean {
    if (!this.#s.startsWith(w, this.#i)) return false;
    this.#i += w.length;
    return true;
  }

  #object(depth: number): JsonNode | undefined {
    this.#i++; // {
    const fields = new Map<string, JsonNode>();
    this.#ws();
    if (this.#s[this.#i] === '}') {
      this.#i++;
      return { t: 'object', fields };
    }
    for (;;) {
      this.#ws();
      if (this.#s[this.#i] !== '"') return undefined;
      const key = this.#string();
      if (key === undefined) return undefined;
      this.#ws();
      if (this.#s[this.#i] !== ':') return undefined;
      this.#i++;
      const v = this.#value(depth);
      if (v === undefined) return undefined;
      fields.set(key, v); // a repeated key keeps its last value, as JSON.parse does
      this.#ws();
      const c = this.#s[this.#i++];
      if (c === '}') return { t: 'object', fields };
      if (c !== ',') return undefined;
    }
  }

  #array(depth: number): JsonNode | undefined {
    this.#i++; // [
    const items: JsonNode[] = [];
    this.#ws();
    if (this.#s[this.#i] === ']') {
      this.#i++;
      return { t: 'array', items };
    }
    for (;;) {
      const v = this.#value(depth);
      if (v === undefined) return undefined;
      items.push(v);
      this.#ws();
      const c = this.#s[this.#i++];
      if (c === ']') return { t: 'array', items };
      if (c !== ',') return undefined;
    }
  }

  #string(): string | undefined {
    const s = this.#s;
    let i = this.#i + 1; // past the opening quote
    let out = '';
    let run = i;
    for (;;) {
      if (i >= s.length) return undefined;
      const c = s.charCodeAt(i);
      if (c === 0x22) break; // "
      if (c < 0x20) return undefined;
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += s.slice(run, i);
      const e = s[i + 1];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          const hex = s.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) return undefined;
          out += String.fromCharCode(parseInt(hex, 16));
          i += 4;
          break;
        }
        default:
          return undefined;
      }
      i += 2;
      run = i;
    }
    out += s.slice(run, i);
    this.#i = i + 1;
    return out;
  }
}

/**
 * Reads `text` as one JSON value.
 *
 * @returns the value, or `undefined` when `text` is not JSON (or nests deeper than {@link MAX_JSON_DEPTH}).
 */
export function readJson(text: string): JsonNode | undefined {
  return new Reader(text).read();
}
