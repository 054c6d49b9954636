/**
 * Log group and stream names from templates over an OpenTelemetry resource's attributes.
 *
 * Syntax: `{hostname}`, `{pid}` and `{date}` (UTC `YYYY-MM-DD`) as in the transports'
 * `logStreamName`; any other `{key}` is the resource attribute `key` (e.g. `{service.name}`,
 * `{deployment.environment.name}`), and `{key|fallback}` gives the text used when the attribute is
 * absent or empty. Without a fallback, an absent attribute becomes `undefined`, as in the
 * OpenTelemetry Collector's `awscloudwatchlogsexporter` (`{ClusterName}` -> `undefined`).
 * Characters a name may not contain are replaced by `_` in substituted values (a group name
 * allows `[.\-_/#A-Za-z0-9]`; a stream name refuses `:` and `*`): the SDK's default
 * `service.name` is `unknown_service:node`, which would otherwise be an invalid stream name.
 */
import { hostname as osHostname } from 'node:os';
import { InvalidNameError } from '../batch/errors.js';
import { logGroupNameProblem, logStreamNameProblem } from '../batch/rules.js';

/** Sources of the built-in placeholders; inject them in tests. */
export interface TemplateSources {
  /** Clock in ms since the epoch, for `{date}`. Default `Date.now`. */
  now?: (() => number) | undefined;
  /** Value of `{hostname}`. Default `os.hostname()`. */
  hostname?: string | undefined;
  /** Value of `{pid}`. Default `process.pid`. */
  pid?: number | undefined;
}

/** The text an absent attribute becomes without a `|fallback` (the Collector's choice). */
export const ABSENT_ATTRIBUTE = 'undefined';

const PLACEHOLDER = /\{([^{}|]*)(?:\|([^{}]*))?\}/g;
const BUILT_INS = new Set(['hostname', 'pid', 'date']);

/** One parsed template: literal text and placeholders, checked once. */
export class NameTemplate {
  /** The template as written. */
  readonly source: string;
  /** True when some placeholder reads a resource attribute (the name depends on the resource). */
  readonly usesResource: boolean;
  readonly #kind: 'group' | 'stream';
  readonly #option: string;

  /** @throws TypeError when `template` is not a string; RangeError for an empty placeholder `{}`. */
  constructor(template: unknown, kind: 'group' | 'stream', option: string) {
    if (typeof template !== 'string') {
      throw new TypeError(`Expected \`${option}\` to be a string (a name or a template), got ${template === null ? 'null' : typeof template}`);
    }
    let usesResource = false;
    for (const match of template.matchAll(PLACEHOLDER)) {
      const key = (match[1] as string).trim();
      if (key === '') throw new RangeError(`Expected every placeholder of \`${option}\` to name something, got ${JSON.stringify(template)}`);
      if (!BUILT_INS.has(key) || match[2] !== undefined) usesResource = true;
    }
    this.source = template;
    this.usesResource = usesResource;
    this.#kind = kind;
    this.#option = option;
  }

  /**
   * Checks the template's own text now (at construction of the exporter), before any resource is
   * known: resolved with `x` for every attribute (substituted values are cleaned, so a failure
   * here is the template's own text: an invalid character, a name too long).
   *
   * @throws InvalidNameError as {@link resolve}.
   */
  check(sources: TemplateSources = {}): void {
    const anyAttribute = new Proxy<Record<string, unknown>>({}, { get: () => 'x' });
    this.resolve(anyAttribute, sources);
  }

  /**
   * The name for a resource's attributes.
   *
   * @throws InvalidNameError (code `INVALID_NAME`) when the result is not a valid name (empty, too
   *   long; the literal text of the template is not sanitized, only substituted values are).
   */
  resolve(attributes: Readonly<Record<string, unknown>> = {}, sources: TemplateSources = {}): string {
    const clean = this.#kind === 'group' ? cleanGroupPart : cleanStreamPart;
    const name = this.source.replace(PLACEHOLDER, (_match, rawKey: string, fallback: string | undefined) => {
      const key = rawKey.trim();
      if (fallback === undefined && BUILT_INS.has(key)) return clean(builtIn(key, sources));
      const value = attributes[key];
      const text = value === undefined || value === null ? '' : Array.isArray(value) ? value.join(',') : String(value);
      return clean(text !== '' ? text : (fallback ?? ABSENT_ATTRIBUTE));
    });
    const problem = this.#kind === 'group' ? logGroupNameProblem(name) : logStreamNameProblem(name);
    if (problem !== undefined) throw new InvalidNameError(this.#option, name, problem);
    return name;
  }
}

function builtIn(key: string, sources: TemplateSources): string {
  if (key === 'hostname') return sources.hostname ?? osHostname();
  if (key === 'pid') return String(sources.pid ?? process.pid);
  const date = new Date((sources.now ?? Date.now)());
  if (Number.isNaN(date.getTime())) throw new RangeError('Expected `now()` to return a time in ms since the epoch');
  return date.toISOString().slice(0, 10);
}

/** A log group name allows `[.\-_/#A-Za-z0-9]+` (CreateLogGroup's pattern). */
function cleanGroupPart(text: string): string {
  return text.replace(/[^.\-_/#A-Za-z0-9]/g, '_');
}

/** A log stream name refuses `:` and `*` (CreateLogStream's pattern `[^:*]*`). */
function cleanStreamPart(text: string): string {
  return text.replace(/[:*]/g, '_');
}
