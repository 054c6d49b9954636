/**
 * The filter-pattern engine as the endpoint and `cwbatch tail` use it: one compile-style
 * interface, so that switching to the full CloudWatch Logs filter-pattern language
 * (`./filter-pattern/index.js`) is this file's one import line.
 *
 * The switch, once `./filter-pattern/` is merged (checked against its interface: the endpoint's
 * tests pass with it), replaces everything below this comment with:
 *
 *     export { compileFilterPattern, FilterPatternError, MAX_PATTERN_LENGTH as MAX_FILTER_PATTERN_LENGTH } from './filter-pattern/index.js';
 *     export type { FilterPattern as CompiledFilterPattern } from './filter-pattern/index.js';
 *
 * Until then this is the plain-text matcher: every whitespace-separated term must occur (AWS's
 * term semantics), a pattern in double quotes must occur as is, and the empty pattern matches
 * every event. Values cannot be extracted (`extract` answers `undefined`).
 */

/** A compiled filter pattern. */
export interface CompiledFilterPattern {
  /** The pattern as given. */
  readonly source: string;
  /** Whether `message` matches. */
  matches(message: string): boolean;
  /** The value `selector` (`$.a.b`, `$name`) picks from `message`, or `undefined`. */
  extract(message: string, selector: string): unknown;
}

/** Longest filter pattern AWS accepts, characters (service model: FilterPattern max 1,024). */
export const MAX_FILTER_PATTERN_LENGTH = 1024;

/** An invalid filter pattern (answered as InvalidParameterException by the endpoint). */
export class FilterPatternError extends Error {
  override get name(): string {
    return 'FilterPatternError';
  }
}

/**
 * Compiles `source`. Throws {@link FilterPatternError} for a pattern AWS refuses (here: longer
 * than {@link MAX_FILTER_PATTERN_LENGTH} characters).
 */
export function compileFilterPattern(source: string): CompiledFilterPattern {
  if (source.length > MAX_FILTER_PATTERN_LENGTH) {
    throw new FilterPatternError(`Filter pattern is ${source.length} characters long; the most is ${MAX_FILTER_PATTERN_LENGTH}.`);
  }
  const trimmed = source.trim();
  let matches: (message: string) => boolean;
  if (trimmed === '') {
    matches = () => true;
  } else if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')) {
    const phrase = trimmed.slice(1, -1);
    matches = (m) => m.includes(phrase);
  } else {
    const terms = trimmed.split(/\s+/);
    matches = (m) => terms.every((t) => m.includes(t));
  }
  return { source, matches, extract: () => undefined };
}
