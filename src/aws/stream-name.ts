import { hostname as osHostname } from 'node:os';
import { InvalidNameError } from '../batch/errors.js';
import { logStreamNameProblem } from '../batch/rules.js';

/** Sources of the values {@link resolveStreamName} substitutes; inject them in tests. */
export interface StreamNameSources {
  /** Clock in ms since the epoch, for `{date}`. Default `Date.now`. */
  now?: (() => number) | undefined;
  /** Value of `{hostname}`. Default `os.hostname()`. */
  hostname?: string | undefined;
  /** Value of `{pid}`. Default `process.pid`. */
  pid?: number | undefined;
}

const PLACEHOLDER = /\{([A-Za-z]+)\}/g;

/**
 * Resolves a log stream name template: `{hostname}`, `{pid}` and `{date}` (the current UTC date,
 * `YYYY-MM-DD`) are replaced; everything else is kept as written.
 *
 * @example resolveStreamName('{hostname}/{date}/{pid}') // "web-1/2026-11-26/4242"
 * @throws RangeError for an unknown placeholder such as `{host}` (almost always a typo).
 * @throws InvalidNameError (code `INVALID_NAME`) when the result is not a valid log stream name
 *   (empty, over 512 characters, or containing `:` or `*`).
 */
export function resolveStreamName(template: string, sources: StreamNameSources = {}): string {
  if (typeof template !== 'string') throw new TypeError(`Expected \`template\` to be a string, got ${typeof template}`);
  const name = template.replace(PLACEHOLDER, (match, key: string) => {
    switch (key) {
      case 'hostname':
        return sources.hostname ?? osHostname();
      case 'pid':
        return String(sources.pid ?? process.pid);
      case 'date':
        return utcDate((sources.now ?? Date.now)());
      default:
        throw new RangeError(
          `Unknown placeholder \`${match}\` in log stream name template ${JSON.stringify(template)}; supported: {hostname}, {pid}, {date}`,
        );
    }
  });
  const problem = logStreamNameProblem(name);
  if (problem !== undefined) throw new InvalidNameError('logStreamName', name, problem);
  return name;
}

/** `YYYY-MM-DD` of a time in ms since the epoch, in UTC. */
function utcDate(ms: number): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) throw new RangeError(`Expected \`now()\` to return a time in ms since the epoch, got ${ms}`);
  return date.toISOString().slice(0, 10);
}
