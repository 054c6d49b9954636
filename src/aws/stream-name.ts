import { compileNameTemplate } from '../batch/name-template.js';

/** Sources of the values {@link resolveStreamName} substitutes; inject them in tests. */
export interface StreamNameSources {
  /** Clock in ms since the epoch, for `{date}` and `{hour}`. Default `Date.now`. */
  now?: (() => number) | undefined;
  /** Value of `{hostname}`. Default `os.hostname()`. */
  hostname?: string | undefined;
  /** Value of `{pid}`. Default `process.pid`. */
  pid?: number | undefined;
}

/**
 * Resolves a log stream name template once, at the time `now()` says: `{hostname}`, `{pid}`,
 * `{date}` (UTC `YYYY-MM-DD`) and `{hour}`; `{field:KEY|DEFAULT}` takes its default (there is no
 * record). A name without placeholders is returned as it is.
 *
 * @deprecated A long-running process keeps writing to the stream of the day it started. The
 *   transports and the CLI evaluate names per event instead: use `compileNameTemplate(template,
 *   'logStreamName').evaluate(event, record)` (from `cwbatch`) for each event you add.
 * @example resolveStreamName('{hostname}/{date}/{pid}') // "web-1/2026-11-26/4242"
 * @throws RangeError for an unknown placeholder such as `{host}` (almost always a typo).
 * @throws InvalidNameError (code `INVALID_NAME`) when the result is not a valid log stream name
 *   (empty, over 512 characters, or containing `:` or `*`).
 */
export function resolveStreamName(template: string, sources: StreamNameSources = {}): string {
  if (typeof template !== 'string') throw new TypeError(`Expected \`template\` to be a string, got ${typeof template}`);
  const compiled = compileNameTemplate(template, 'logStreamName', { hostname: sources.hostname, pid: sources.pid });
  return compiled.constant ?? compiled.evaluate({ timestamp: (sources.now ?? Date.now)(), message: '' });
}
