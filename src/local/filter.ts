/**
 * The filter-pattern engine as the endpoint and `cwbatch tail` use it: the whole CloudWatch Logs
 * filter-pattern language, from `./filter-pattern/` (issue 16). This file is the one entry point,
 * so that the endpoint's FilterLogEvents, its metric filters and `cwbatch tail --filter` share one
 * parser.
 */
export {
  compileFilterPattern,
  FilterPatternError,
  MAX_PATTERN_LENGTH as MAX_FILTER_PATTERN_LENGTH,
} from './filter-pattern/index.js';
export type { FilterPattern as CompiledFilterPattern } from './filter-pattern/index.js';
