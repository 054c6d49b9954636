/**
 * The regular-expression dialect of filter patterns (`%…%`), as the CloudWatch Logs user guide
 * documents it ("Supported regular expressions (regex) syntax"): alphanumerics; the symbols
 * `: _ # = @ / ; , -` (and the space its own examples use); the operators
 * `^ $ ? [ ] { } | \ * + .`; the escapes `\d \D \s \S \w \W \xhh` and a backslash before an
 * operator or symbol for its literal meaning. Parentheses, other symbols (`%something!%` "would
 * be rejected since '!' is not supported") and multi-byte characters are refused.
 *
 * A checked body is translated to a JavaScript `RegExp` (the dialect is a subset of it once
 * `{m, n}` loses its space and `{,n}` gains its 0); with no groups there is no nested quantifier,
 * so no catastrophic backtracking.
 */
import { FilterPatternError } from './errors.js';

const LITERAL = /[A-Za-z0-9 :_#=@/;,-]/;
const ESCAPABLE_LITERAL = /[\x21-\x2f\x3a-\x40\x5b-\x60\x7b-\x7e]/; // ASCII punctuation
const CLASS_ESCAPES = new Set(['d', 'D', 's', 'S', 'w', 'W', 't', 'n', 'r']);

/**
 * Checks the body of a `%…%` regex and compiles it.
 *
 * @param body - the text between the two `%`.
 * @param column - 1-based column of the body's first character in the whole pattern (for errors).
 * @throws FilterPatternError naming the offending character and its column.
 */
export function compileRegex(body: string, column: number): RegExp {
  if (body.length === 0) throw new FilterPatternError('empty regular expression %%', column - 1);
  let out = '';
  let i = 0;
  /** Whether the last thing emitted can take a quantifier, and whether it already has one. */
  let atom = false;
  let quantified = false;
  const at = (k: number) => column + k;
  const bad = (k: number, why: string): never => {
    throw new FilterPatternError(why, at(k));
  };

  const escape = (k: number, inClass: boolean): [string, number] => {
    const e = body[k + 1];
    if (e === undefined) return bad(k, 'regular expression ends with a lone "\\"');
    if (e === 'x') {
      const hex = body.slice(k + 2, k + 4);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) return bad(k, '"\\x" must be followed by two hexadecimal digits');
      return [`\\x${hex}`, k + 4];
    }
    if (CLASS_ESCAPES.has(e)) return [`\\${e}`, k + 2];
    if (e.charCodeAt(0) > 0x7f) return bad(k + 1, 'multi-byte characters are not supported in regular expressions');
    if (ESCAPABLE_LITERAL.test(e) || e === ' ') return [e === ' ' ? ' ' : `\\${e}`, k + 2];
    return bad(k, `unsupported escape "\\${e}" in regular expression${inClass ? ' character class' : ''}`);
  };

  while (i < body.length) {
    const c = body[i]!;
    if (c.charCodeAt(0) > 0x7f) bad(i, 'multi-byte characters are not supported in regular expressions');
    switch (c) {
      case '\\': {
        const [s, next] = escape(i, false);
        out += s;
        i = next;
        atom = true;
        quantified = false;
        continue;
      }
      case '[': {
        const start = i;
        let cls = '[';
        i++;
        if (body[i] === '^') {
          cls += '^';
          i++;
        }
        if (body[i] === ']') {
          cls += '\\]';
          i++;
        }
        for (;;) {
          const d = body[i];
          if (d === undefined) bad(start, 'unterminated character class "["');
          if (d === ']') break;
          if (d!.charCodeAt(0) > 0x7f) bad(i, 'multi-byte characters are not supported in regular expressions');
          if (d === '\\') {
            const [s, next] = escape(i, true);
            cls += s;
            i = next;
            continue;
          }
          if (d === '[') cls += '\\[';
          else if (LITERAL.test(d!) || '^$?{}|*+.'.includes(d!)) cls += d;
          else bad(i, `character "${d}" is not supported in regular expressions`);
          i++;
        }
        out += `${cls}]`;
        i++;
        atom = true;
        quantified = false;
        continue;
      }
      case '{': {
        const m = /^\{ *(\d*) *(,?) *(\d*) *\}/.exec(body.slice(i));
        if (m === null || (m[1] === '' && m[3] === '') || (m[2] === '' && m[3] !== '')) {
          bad(i, '"{" must start a repetition such as {2}, {1,3}, {2,} or {,3}');
        }
        if (!atom || quantified) bad(i, 'repetition {…} must follow a character, class or escape');
        const min = m![1] === '' ? 0 : Number(m![1]);
        const max = m![3] === '' ? undefined : Number(m![3]);
        if (max !== undefined && max < min) bad(i, `repetition {${min},${max}} has its minimum above its maximum`);
        out += m![2] === '' ? `{${min}}` : `{${min},${max ?? ''}}`;
        i += m![0].length;
        quantified = true;
        continue;
      }
      case '*':
      case '+':
      case '?':
        if (quantified && c === '?' && !out.endsWith('?')) {
          out += '?'; // lazy; matching or not is unchanged
          i++;
          continue;
        }
        if (!atom || quantified) bad(i, `"${c}" must follow a character, class or escape`);
        out += c;
        i++;
        quantified = true;
        continue;
      case '^':
      case '$':
      case '|':
        out += c;
        i++;
        atom = false;
        quantified = false;
        continue;
      case '.':
        out += '.';
        i++;
        atom = true;
        quantified = false;
        continue;
      case '}':
        return bad(i, 'unbalanced "}" in regular expression');
      case ']':
        return bad(i, 'unbalanced "]" in regular expression');
      case '(':
      case ')':
        return bad(i, 'parentheses are not supported in regular expressions (use \\x28 and \\x29 to match them)');
      default:
        if (!LITERAL.test(c)) bad(i, `character "${c}" is not supported in regular expressions (use \\xhh)`);
        out += c;
        i++;
        atom = true;
        quantified = false;
    }
  }
  try {
    return new RegExp(out);
  } catch (e) {
    /* c8 ignore next */
    throw new FilterPatternError(`invalid regular expression: ${(e as Error).message}`, column);
  }
}
