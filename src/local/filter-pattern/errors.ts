/**
 * The one error the filter-pattern engine throws: an invalid pattern. The embedded endpoint
 * answers it with InvalidParameterException and this message, as AWS does.
 */
export class FilterPatternError extends Error {
  override name = 'FilterPatternError';
  /** 1-based column of `source` where the problem was found (0 when it concerns the whole pattern). */
  readonly column: number;

  /**
   * @param what - what is wrong, without the position.
   * @param column - 1-based column in the pattern, or 0 for the whole pattern.
   */
  constructor(what: string, column: number) {
    super(column > 0 ? `Invalid filter pattern: ${what} (at column ${column})` : `Invalid filter pattern: ${what}`);
    this.column = column;
  }
}
