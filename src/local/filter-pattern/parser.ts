/**
 * Parses a CloudWatch Logs filter pattern into one of four forms, following the user guide's
 * "Filter pattern syntax for metric filters, subscription filters, filter log events, and Live
 * Tail" pages:
 *
 * - terms: `ERROR`, `ERROR ARGUMENTS`, `"INTERNAL SERVER ERROR"`, `?ERROR ?WARN`, `ERROR -ARGUMENTS`;
 * - a regex: `%AUTHORIZED%`;
 * - JSON: `{ $.eventType = "UpdateTrail" && ($.latency > 100 || $.a[*] = %val.{2}%) }`;
 * - space-delimited: `[ip, user, ..., status_code = 4* && bytes > 1000, bytes]`.
 */
import { Cursor, NAME_CHAR, VALUE_CHAR, WORD_CHAR } from './lexer.js';
import { compileRegex } from './regex.js';

/** Longest pattern AWS accepts (PutMetricFilter / FilterLogEvents `filterPattern`: 1,024). */
export const MAX_PATTERN_LENGTH = 1024;
/** Most regexes in one JSON or space-delimited pattern (user guide, "Quotas": 2). */
export const MAX_REGEX_PER_PATTERN = 2;
/** Most wildcard selectors in one JSON property selector (user guide, "Quotas": 1). */
export const MAX_WILDCARDS_PER_SELECTOR = 1;
/** Most wildcard selectors in one JSON pattern (user guide, "Quotas": 3). */
export const MAX_WILDCARDS_PER_PATTERN = 3;

/** One unstructured term: a word or a quoted phrase, searched for as an exact, case-sensitive substring. */
export interface Term {
  /** The text to find; `undefined` for a quoted blank (`" "`), which the user guide says matches everything. */
  readonly text: string | undefined;
  /** `''` for a required term, `?` for an optional one, `-` for an excluded one. */
  readonly mode: '' | '?' | '-';
}

/** A value on the right of a comparison. */
export type Value =
  /** `*`: any value. */
  | { readonly k: 'any' }
  /** A number (`400`, `-1.5`, `+1000`, `1e-3`). `text` is as written, for wildcard-free string use. */
  | { readonly k: 'number'; readonly value: number; readonly text: string }
  /** A string; a leading and/or trailing `*` matches any text before/after `core` (a `*` inside is literal). */
  | { readonly k: 'string'; readonly core: string; readonly anyBefore: boolean; readonly anyAfter: boolean }
  /** `%regex%`: found anywhere in the value. */
  | { readonly k: 'regex'; readonly re: RegExp };

/** Comparison operators. */
export type Op = '=' | '!=' | '<' | '>' | '<=' | '>=';

/** One step of a JSON property selector. */
export type Step =
  | { readonly k: 'field'; readonly name: string }
  | { readonly k: 'index'; readonly index: number }
  /** `.*` or `[*]`: any field of an object or any element of an array. */
  | { readonly k: 'any' };

/** A condition over a subject `S` (a JSON selector, or a space-delimited field name). */
export type Expr<S> =
  | { readonly k: 'cmp'; readonly subject: S; readonly op: Op; readonly value: Value }
  | { readonly k: 'is'; readonly subject: S; readonly what: 'TRUE' | 'FALSE' | 'NULL' }
  | { readonly k: 'notExists'; readonly subject: S }
  | { readonly k: 'and' | 'or'; readonly left: Expr<S>; readonly right: Expr<S> };

/** A space-delimited field slot. */
export type Slot =
  | { readonly k: 'ellipsis' }
  | { readonly k: 'field'; readonly name: string | undefined; readonly cond: Expr<string> | undefined };

/** A parsed pattern. */
export type Ast =
  | { readonly k: 'all' }
  | { readonly k: 'terms'; readonly terms: readonly Term[] }
  | { readonly k: 'regex'; readonly re: RegExp }
  | { readonly k: 'json'; readonly expr: Expr<readonly Step[]>; readonly regexes: number }
  | { readonly k: 'delimited'; readonly slots: readonly Slot[]; readonly ellipsis: number; readonly regexes: number };

/**
 * Parses a filter pattern.
 *
 * @throws FilterPatternError for anything the user guide does not allow, with the column.
 */
export function parsePattern(src: string): Ast {
  if (src.length > MAX_PATTERN_LENGTH) {
    new Cursor(src).fail(`the pattern is ${src.length} characters long; at most ${MAX_PATTERN_LENGTH} are allowed`, -1);
  }
  const c = new Cursor(src);
  c.skipWs();
  if (c.done) return { k: 'all' };
  switch (c.peek()) {
    case '{':
      return parseJson(c);
    case '[':
      return parseDelimited(c);
    case '%':
      return parseRegexPattern(c);
    default:
      return parseTerms(c);
  }
}

function parseRegexPattern(c: Cursor): Ast {
  const { body, at } = c.regexBody();
  const re = compileRegex(body, at + 1);
  c.skipWs();
  if (!c.done) c.fail('a regular expression pattern (%…%) must be the whole pattern');
  return { k: 'regex', re };
}

function parseTerms(c: Cursor): Ast {
  const terms: Term[] = [];
  while (!c.done) {
    const start = c.pos;
    let mode: Term['mode'] = '';
    if (c.peek() === '?' || c.peek() === '-') {
      mode = c.peek() as '?' | '-';
      c.pos++;
    }
    let text: string | undefined;
    if (c.peek() === '"') {
      text = c.quoted();
      if (text.trim() === '') text = undefined;
    } else {
      const word = c.run(WORD_CHAR);
      if (word === '') {
        if (c.done || /\s/.test(c.peek())) c.fail(`"${mode}" must be followed by a term`, start);
        const end = c.src.slice(c.pos).search(/\s/);
        const bad = c.src.slice(start, end < 0 ? c.src.length : c.pos + end);
        c.fail(`invalid character "${c.peek()}" in term ${bad}: enclose terms with characters other than letters, digits and "_" in double quotes`);
      }
      text = word;
    }
    if (!c.done && !/\s/.test(c.peek())) {
      c.fail(`invalid character "${c.peek()}" after a term: enclose terms with characters other than letters, digits and "_" in double quotes`);
    }
    terms.push({ text, mode });
    c.skipWs();
  }
  return { k: 'terms', terms };
}

/** Counts regexes and wildcards across one JSON / space-delimited pattern, for the quotas. */
interface Budget {
  regexes: number;
  wildcards: number;
}

function parseValue(c: Cursor, budget: Budget): Value {
  c.skipWs();
  const start = c.pos;
  const ch = c.peek();
  if (ch === '%') {
    const { body, at } = c.regexBody();
    if (++budget.regexes > MAX_REGEX_PER_PATTERN) {
      c.fail(`at most ${MAX_REGEX_PER_PATTERN} regular expressions are allowed in a JSON or space-delimited pattern`, start);
    }
    return { k: 'regex', re: compileRegex(body, at + 1) };
  }
  if (ch === '"') return stringValue(c.quoted());
  const word = c.run(VALUE_CHAR);
  if (word === '') {
    if (c.done || /[\s,\]})&|]/.test(ch)) c.fail(`expected a value but found ${c.describe()}`);
    c.fail(`invalid character "${ch}" in a value: enclose values with characters other than letters, digits and "_" in double quotes`);
  }
  if (!c.done && !/[\s,\]})&|]/.test(c.peek())) {
    c.fail(`invalid character "${c.peek()}" in a value: enclose values with characters other than letters, digits and "_" in double quotes`);
  }
  if (/^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(word)) return { k: 'number', value: Number(word), text: word };
  return stringValue(word);
}

function stringValue(s: string): Value {
  if (/^\*+$/.test(s)) return { k: 'any' };
  const anyBefore = s.startsWith('*');
  const anyAfter = s.length > 1 && s.endsWith('*');
  return { k: 'string', core: s.slice(anyBefore ? 1 : 0, anyAfter ? -1 : undefined), anyBefore, anyAfter };
}

function parseOp(c: Cursor): Op {
  c.skipWs();
  for (const op of ['!=', '<=', '>=', '=', '<', '>'] as const) {
    if (c.startsWith(op)) {
      c.pos += op.length;
      return op;
    }
  }
  return c.fail(`expected an operator (=, !=, <, >, <=, >=) but found ${c.describe()}`);
}

/**
 * The condition grammar shared by JSON and space-delimited patterns: `||` binds looser than
 * `&&`, parentheses group ("() > && > ||").
 */
function parseExpr<S>(c: Cursor, subject: () => S, budget: Budget, json: boolean): Expr<S> {
  let left = parseAnd(c, subject, budget, json);
  for (;;) {
    c.skipWs();
    if (!c.startsWith('||')) return left;
    c.pos += 2;
    left = { k: 'or', left, right: parseAnd(c, subject, budget, json) };
  }
}

function parseAnd<S>(c: Cursor, subject: () => S, budget: Budget, json: boolean): Expr<S> {
  let left = parseUnary(c, subject, budget, json);
  for (;;) {
    c.skipWs();
    if (!c.startsWith('&&')) return left;
    c.pos += 2;
    left = { k: 'and', left, right: parseUnary(c, subject, budget, json) };
  }
}

function parseUnary<S>(c: Cursor, subject: () => S, budget: Budget, json: boolean): Expr<S> {
  c.skipWs();
  if (c.peek() === '(') {
    const open = c.pos;
    c.pos++;
    const e = parseExpr(c, subject, budget, json);
    c.skipWs();
    if (c.peek() !== ')') c.fail(`expected ")" to close the "(" at column ${open + 1} but found ${c.describe()}`);
    c.pos++;
    return e;
  }
  const s = subject();
  c.skipWs();
  if (json && c.atKeyword('IS')) {
    const kw = c.pos;
    c.pos += 2;
    c.skipWs();
    for (const what of ['TRUE', 'FALSE', 'NULL'] as const) {
      if (c.atKeyword(what)) {
        c.pos += what.length;
        return { k: 'is', subject: s, what };
      }
    }
    if (c.atKeyword('NOT')) c.fail('IS NOT is not supported (user guide: "The variables IS NOT and EXISTS currently aren\'t supported")', kw);
    c.fail(`expected TRUE, FALSE or NULL after IS but found ${c.describe()}`);
  }
  if (json && c.atKeyword('NOT')) {
    c.pos += 3;
    c.skipWs();
    if (!c.atKeyword('EXISTS')) c.fail(`expected EXISTS after NOT but found ${c.describe()}`);
    c.pos += 6;
    return { k: 'notExists', subject: s };
  }
  if (json && c.atKeyword('EXISTS')) {
    c.fail('EXISTS is not supported (user guide: "The variables IS NOT and EXISTS currently aren\'t supported"); "= *" matches any value');
  }
  const opAt = c.pos;
  const op = parseOp(c);
  const value = parseValue(c, budget);
  if (op !== '=' && op !== '!=' && value.k !== 'number') {
    c.fail(`the operator ${op} compares numbers; a number must follow it`, opAt);
  }
  return { k: 'cmp', subject: s, op, value };
}

/** Parses `$.a.b[0]['c.d'].*` at the cursor. */
function parseSelector(c: Cursor, budget: Budget): Step[] {
  c.skipWs();
  const start = c.pos;
  if (c.peek() !== '$') c.fail(`expected a property selector starting with "$." but found ${c.describe()}`);
  c.pos++;
  const steps: Step[] = [];
  let wildcards = 0;
  for (;;) {
    const ch = c.peek();
    if (ch === '.') {
      c.pos++;
      if (c.peek() === '[') continue; // $.['cluster.name']
      if (c.peek() === '*') {
        c.pos++;
        steps.push({ k: 'any' });
        wildcards++;
        continue;
      }
      const name = c.run(NAME_CHAR);
      if (name === '') c.fail(`expected a property name after "." but found ${c.describe()} (property names with other characters take the ['name'] form)`);
      steps.push({ k: 'field', name });
    } else if (ch === '[') {
      const open = c.pos;
      c.pos++;
      c.skipWs();
      const q = c.peek();
      if (q === '*') {
        c.pos++;
        steps.push({ k: 'any' });
        wildcards++;
      } else if (q === "'" || q === '"') {
        const end = c.src.indexOf(q, c.pos + 1);
        if (end < 0) c.fail('unterminated quoted property name', c.pos);
        steps.push({ k: 'field', name: c.src.slice(c.pos + 1, end) });
        c.pos = end + 1;
      } else {
        const digits = c.run(/[0-9]/);
        if (digits === '') c.fail(`expected an array index, * or a quoted property name after "[" but found ${c.describe()}`);
        steps.push({ k: 'index', index: Number(digits) });
      }
      c.skipWs();
      if (c.peek() !== ']') c.fail(`expected "]" to close the "[" at column ${open + 1} but found ${c.describe()}`);
      c.pos++;
    } else {
      break;
    }
  }
  if (steps.length === 0) c.fail('a property selector must name a property, such as $.eventType', start);
  if (wildcards > MAX_WILDCARDS_PER_SELECTOR) {
    c.fail(`at most ${MAX_WILDCARDS_PER_SELECTOR} wildcard selector is allowed in a property selector`, start);
  }
  budget.wildcards += wildcards;
  if (budget.wildcards > MAX_WILDCARDS_PER_PATTERN) {
    c.fail(`at most ${MAX_WILDCARDS_PER_PATTERN} wildcard selectors are allowed in a filter pattern`, start);
  }
  return steps;
}

function parseJson(c: Cursor): Ast {
  const open = c.pos;
  c.pos++; // {
  const budget: Budget = { regexes: 0, wildcards: 0 };
  c.skipWs();
  if (c.peek() === '}') c.fail('empty JSON pattern: a condition such as $.level = "error" must come between the braces');
  const expr = parseExpr(c, () => parseSelector(c, budget), budget, true);
  c.skipWs();
  if (c.peek() !== '}') {
    if (c.done) c.fail(`expected "}" to close the "{" at column ${open + 1}`);
    c.fail(`expected "&&", "||" or "}" but found ${c.describe()}`);
  }
  c.pos++;
  c.skipWs();
  if (!c.done) c.fail(`unexpected ${c.describe()} after the closing "}" of the JSON pattern`);
  return { k: 'json', expr, regexes: budget.regexes };
}

/** Parses a space-delimited field name at the cursor. */
function parseFieldName(c: Cursor): string {
  c.skipWs();
  const name = c.run(NAME_CHAR);
  if (name === '') c.fail(`expected a field name but found ${c.describe()}`);
  return name;
}

function parseDelimited(c: Cursor): Ast {
  const open = c.pos;
  c.pos++; // [
  const budget: Budget = { regexes: 0, wildcards: 0 };
  const slots: Slot[] = [];
  const refs: { name: string; at: number }[] = [];
  const declared: { name: string; at: number }[] = [];
  let ellipsis = -1;
  for (;;) {
    c.skipWs();
    const slotAt = c.pos;
    if (c.startsWith('...') || c.startsWith('…')) {
      if (ellipsis >= 0) c.fail('only one ellipsis (...) is allowed in a space-delimited pattern');
      c.pos += c.startsWith('...') ? 3 : 1;
      ellipsis = slots.length;
      slots.push({ k: 'ellipsis' });
    } else if (c.peek() === ',' || c.peek() === ']') {
      slots.push({ k: 'field', name: undefined, cond: undefined }); // an unnamed field, as in [..., a,]
    } else {
      // A bare name, or a condition whose first field name names the slot.
      const save = c.pos;
      let first: string | undefined;
      if (c.peek() !== '(') {
        const name = parseFieldName(c);
        c.skipWs();
        if (c.peek() === ',' || c.peek() === ']' || c.done) {
          slots.push({ k: 'field', name, cond: undefined });
          declared.push({ name, at: save });
          first = name;
        }
      }
      if (first === undefined) {
        c.pos = save;
        let slotName: string | undefined;
        let nameAt = 0;
        const cond = parseExpr(
          c,
          () => {
            c.skipWs();
            const at = c.pos;
            const n = parseFieldName(c);
            if (slotName === undefined) {
              slotName = n;
              nameAt = at;
            }
            refs.push({ name: n, at });
            return n;
          },
          budget,
          false,
        );
        slots.push({ k: 'field', name: slotName, cond });
        if (slotName !== undefined) declared.push({ name: slotName, at: nameAt });
      }
    }
    c.skipWs();
    if (c.peek() === ',') {
      c.pos++;
      continue;
    }
    if (c.peek() === ']') {
      c.pos++;
      break;
    }
    if (c.done) c.fail(`expected "]" to close the "[" at column ${open + 1}`);
    c.fail(`expected ",", "&&", "||" or "]" but found ${c.describe()} (in the field starting at column ${slotAt + 1})`);
  }
  c.skipWs();
  if (!c.done) c.fail(`unexpected ${c.describe()} after the closing "]" of the space-delimited pattern`);
  if (slots.length === 1 && slots[0]!.k === 'field' && slots[0]!.name === undefined && slots[0]!.cond === undefined) {
    // `[]`: no field named, nothing to test; every message matches and its fields are $1, $2, …
    return { k: 'delimited', slots: [{ k: 'ellipsis' }], ellipsis: 0, regexes: 0 };
  }
  const names = new Set<string>();
  for (const d of declared) {
    if (names.has(d.name)) c.fail(`the field name "${d.name}" is used for two fields`, d.at);
    names.add(d.name);
  }
  for (const r of refs) {
    if (!names.has(r.name)) c.fail(`the condition refers to "${r.name}", which is not one of the pattern's fields`, r.at);
  }
  return { k: 'delimited', slots, ellipsis, regexes: budget.regexes };
}
