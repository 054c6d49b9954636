/**
 * The filter-pattern language of CloudWatch Logs (metric filters, subscription filters,
 * FilterLogEvents, Live Tail), shared by the embedded endpoint and `cwbatch tail --filter`.
 * Plain TypeScript with no runtime dependency.
 *
 * Sources: the CloudWatch Logs user guide's "Filter pattern syntax for metric filters,
 * subscription filters, filter log events, and Live Tail" and its pages on unstructured, JSON,
 * space-delimited and regex patterns. Where they are silent this module chooses, and says so:
 *
 * - terms are case-sensitive substrings; an unquoted term holds only letters, digits and `_`
 *   (anything else must be quoted: "Enclose exact phrases and terms that include non-alphanumeric
 *   characters in double quotation marks"); `" "` matches everything;
 * - `?` terms are ignored when the pattern also has required or excluded terms (user guide note);
 * - JSON patterns match only messages that are a JSON object or array (a message that is not JSON
 *   never matches, `NOT EXISTS` included); strings and numbers are the value nodes that `=`/`!=`
 *   compare, `= *` included (numbers by the text the event carries, so `5*` matches 500); `<`, `>`, `<=`, `>=`
 *   and numeric `=`/`!=` apply to JSON numbers only; a selector at an object, array, boolean or
 *   null compares false for `=` and `!=` alike; a wildcard selector matches when any element does;
 * - a leading and/or trailing `*` in a string value is a wildcard; one inside is literal (`Ev*ent`);
 * - space-delimited: fields are separated by runs of whitespace, `"…"` and `[…]` are one field;
 *   without `...` the last named slot takes the rest of the line (`[w1=ERROR, w2]`);
 *   at most one `...`; `[]` matches every message; numeric comparisons apply to fields that are
 *   a number; a condition may test any field of the pattern, before or after its own.
 */
import { FilterPatternError } from './errors.js';
import { readJsonMessage, assignFields, matchAst, resolveSelector } from './match.js';
import { parsePattern, type Ast, type Step } from './parser.js';

export { FilterPatternError } from './errors.js';
export { MAX_PATTERN_LENGTH } from './parser.js';

/** A compiled filter pattern. */
export interface FilterPattern {
  /** The pattern as given. */
  readonly source: string;
  /** True when the event's message matches; never throws. */
  matches(message: string): boolean;
  /**
   * For metric filters: the value a metric transformation's `$.field` (JSON patterns) or `$name`
   * / `$N` (space-delimited patterns) selector extracts from a matching message, or undefined
   * (no match, no such field, or a JSON value that is not a string or number). JSON numbers come
   * back as numbers; JSON strings and space-delimited fields as the string the event carries.
   * Never throws.
   */
  extract(message: string, selector: string): string | number | undefined;
}

/** Parses a JSON property selector (`$.a.b[0]`) on its own, or undefined when it is not one. */
function parseStandaloneSelector(selector: string): Step[] | undefined {
  try {
    const ast = parsePattern(`{ ${selector} = * }`);
    if (ast.k !== 'json' || ast.expr.k !== 'cmp') return undefined;
    return [...ast.expr.subject];
  } catch {
    return undefined;
  }
}

class CompiledPattern implements FilterPattern {
  readonly source: string;
  readonly #ast: Ast;

  /** How many `%regex%` the pattern holds. */
  get regexCount(): number {
    const ast = this.#ast;
    return ast.k === 'regex' ? 1 : ast.k === 'json' || ast.k === 'delimited' ? ast.regexes : 0;
  }

  constructor(source: string, ast: Ast) {
    this.source = source;
    this.#ast = ast;
  }

  matches(message: string): boolean {
    try {
      return matchAst(this.#ast, message);
    } catch {
      /* c8 ignore next: defensive, matchAst does not throw */
      return false;
    }
  }

  extract(message: string, selector: string): string | number | undefined {
    try {
      if (!this.matches(message)) return undefined;
      const ast = this.#ast;
      const sel = selector.trim();
      if (sel.startsWith('$.') || sel.startsWith('$[')) {
        const steps = parseStandaloneSelector(sel);
        const root = steps === undefined ? undefined : readJsonMessage(message);
        if (root === undefined || steps === undefined) return undefined;
        for (const n of resolveSelector(root, steps)) {
          if (n.t === 'number') return n.value;
          if (n.t === 'string') return n.value;
        }
        return undefined;
      }
      if (ast.k !== 'delimited' || !sel.startsWith('$')) return undefined;
      return assignFields(ast.slots, ast.ellipsis, message)?.get(/^\$\d+$/.test(sel) ? sel : sel.slice(1));
    } catch {
      /* c8 ignore next: defensive */
      return undefined;
    }
  }
}

/**
 * How many regular expressions (`%…%`) a compiled pattern holds: 0 for one without. For the
 * quota of "a maximum of 5 filter patterns containing regex for each log group when creating
 * metric filters or subscription filters" (user guide, "Supported regular expressions (regex)
 * syntax"). A {@link FilterPattern} not made by {@link compileFilterPattern} counts 0.
 */
export function filterPatternRegexCount(pattern: FilterPattern): number {
  return pattern instanceof CompiledPattern ? pattern.regexCount : 0;
}

/**
 * Parses a filter pattern once, for matching many messages.
 *
 * @param source - the pattern; empty or whitespace-only matches every message.
 * @throws FilterPatternError for an invalid pattern, including one over {@link MAX_PATTERN_LENGTH}
 *   (1,024) characters; its message says what is wrong and at which column.
 */
export function compileFilterPattern(source: string): FilterPattern {
  if (typeof source !== 'string') throw new FilterPatternError(`the pattern must be a string, not ${typeof source}`, 0);
  return new CompiledPattern(source, parsePattern(source));
}
