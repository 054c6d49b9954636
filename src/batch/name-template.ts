/**
 * Log group and log stream names evaluated per event (issue 17): a template is compiled once and
 * evaluated for every event, so that an event lands in the stream of its own day (`{date}` of the
 * event's timestamp, not of the process start), even when it is replayed from the spool or
 * arrives late.
 *
 * Template syntax (the same for group and stream names):
 *
 * | placeholder | value |
 * |---|---|
 * | `{date}` | `YYYY-MM-DD` of the event's timestamp, in UTC |
 * | `{hour}` | `HH` (00-23) of the event's timestamp, in UTC |
 * | `{hostname}` | `os.hostname()` (fixed when compiled) |
 * | `{pid}` | `process.pid` (fixed when compiled) |
 * | `{field:PATH}` | a field of the log record; `PATH` is a key, or keys joined by `.` for nested objects (`req.tenant`) |
 * | `{field:PATH\|DEFAULT}` | the same, with `DEFAULT` when the field is absent (default default: `unknown`) |
 *
 * A `{` starts a placeholder only when letters and then `}` or `:` follow it; any other text is
 * kept as written, so a name without placeholders is its own template. An unknown placeholder
 * (`{host}`, almost always a typo) is refused when compiled.
 *
 * A field is "absent" when the record has no such own property, or its value is `null`,
 * `undefined`, an empty string, an object or an array. Strings are used as they are; numbers,
 * booleans and bigints as `String(value)`. Characters a name may not contain are replaced by `_`
 * (one per code point): in a stream name `:` and `*`; in a group name anything but
 * `[.-_/#A-Za-z0-9]`. Only field values are rewritten: the template's own text and defaults are
 * checked when compiled and refused if invalid.
 *
 * Every evaluated name is checked by the shared rules (`logGroupNameProblem` /
 * `logStreamNameProblem`); a name that breaks them (too long, empty, `aws/...` for a group)
 * throws {@link InvalidNameError} naming the template, and the caller reports the event.
 *
 * Cost per event: a template without placeholders returns its string (no work). One with only
 * `{date}` / `{hour}` (and the fixed `{hostname}` / `{pid}`) returns the cached name while the
 * event is in the same UTC day (hour): one division and a comparison. With fields, the name is
 * concatenated per event (the date string still cached per ms-day) and checked against the
 * rules only when it differs from the last one checked.
 */
import { hostname as osHostname } from 'node:os';
import { InvalidLogEventError, InvalidNameError } from './errors.js';
import { MAX_NAME_LENGTH } from './limits.js';
import { logGroupNameProblem, logStreamNameProblem } from './rules.js';
import type { InputLogEvent } from './types.js';

/** Which name a template makes: it picks the rules the result is checked against. */
export type NameKind = 'logGroupName' | 'logStreamName';

/**
 * The function form of a name: called once per event with the event and the log record it came
 * from (pino: the parsed JSON line; winston: the `info` object; the CLI: the parsed JSON line, or
 * `undefined` for a line that is not a JSON object). Must return the name synchronously; the
 * result is checked by the naming rules (never rewritten).
 */
export type NameFunction = (event: Readonly<InputLogEvent>, record: unknown) => string;

/** A group or stream name: a fixed name, a template string, or a {@link NameFunction}. */
export type NameSource = string | NameFunction;

/** Values of the fixed placeholders; inject them in tests. */
export interface NameTemplateSources {
  /** Value of `{hostname}`. Default `os.hostname()`. */
  hostname?: string | undefined;
  /** Value of `{pid}`. Default `process.pid`. */
  pid?: number | undefined;
}

/** A compiled name: evaluate it once per event. */
export interface NameTemplate {
  /** `logGroupName` or `logStreamName`. */
  readonly kind: NameKind;
  /** The template as given (`'a function'` for the function form), for messages. */
  readonly source: string;
  /** The name when it is the same for every event (no per-event placeholder), else `undefined`. */
  readonly constant: string | undefined;
  /** Whether {@link evaluate} reads the record (`{field:...}` or the function form): callers parse records only then. */
  readonly usesRecord: boolean;
  /**
   * The name of one event.
   * @param event Its `timestamp` (ms since the epoch) feeds `{date}` and `{hour}`.
   * @param record The log record the event came from, for `{field:...}` and the function form.
   * @throws InvalidNameError (code `INVALID_NAME`) when the result breaks the naming rules.
   * @throws InvalidLogEventError (code `INVALID_EVENT`) when `{date}`/`{hour}` meet a timestamp that is no time.
   */
  evaluate(event: Readonly<InputLogEvent>, record?: unknown): string;
}

/** Value of a field placeholder whose `|DEFAULT` is not given. */
export const DEFAULT_FIELD_VALUE = 'unknown';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

type Segment =
  | { type: 'text'; text: string }
  | { type: 'date' }
  | { type: 'hour' }
  | { type: 'field'; path: readonly string[]; fallback: string };

/**
 * Compiles a name template (see the module documentation for the syntax) or wraps a name
 * function, for names of `kind`.
 *
 * @example compileNameTemplate('app-{date}', 'logStreamName').evaluate({ timestamp: Date.UTC(2026, 0, 2), message: 'x' }) // "app-2026-01-02"
 * @throws TypeError when `template` is neither a string nor a function, or `kind` is unknown.
 * @throws RangeError for an unknown or malformed placeholder, naming it.
 * @throws InvalidNameError when the template's own text (or a default, `{hostname}`, `{pid}`)
 *   can never make a valid name, or a template without per-event placeholders is not one.
 */
export function compileNameTemplate(template: NameSource, kind: NameKind, sources: NameTemplateSources = {}): NameTemplate {
  if (kind !== 'logGroupName' && kind !== 'logStreamName') {
    throw new TypeError(`Expected \`kind\` to be 'logGroupName' or 'logStreamName', got ${String(kind)}`);
  }
  if (typeof template === 'function') return new FunctionName(template, kind);
  if (typeof template !== 'string') {
    throw new TypeError(`Expected \`${kind}\` to be a string (a name or a template) or a function, got ${template === null ? 'null' : typeof template}`);
  }
  const segments = parse(template, kind, sources);
  return new TemplateName(template, kind, segments);
}

/** Whether `name` breaks the rules of `kind`: the problem, or `undefined`. */
function problemOf(kind: NameKind, name: unknown): string | undefined {
  return kind === 'logGroupName' ? logGroupNameProblem(name) : logStreamNameProblem(name);
}

/** Splits a template into segments; fixed placeholders become text. */
function parse(template: string, kind: NameKind, sources: NameTemplateSources): Segment[] {
  const segments: Segment[] = [];
  let text = '';
  let i = 0;
  const n = template.length;
  while (i < n) {
    const open = template.indexOf('{', i);
    if (open === -1) {
      text += template.slice(i);
      break;
    }
    // A placeholder: "{" letters, then "}" or ":".
    let j = open + 1;
    while (j < n && isLetter(template.charCodeAt(j))) j++;
    const close = template.charCodeAt(j);
    if (j === open + 1 || j >= n || (close !== 125 /* } */ && close !== 58) /* : */) {
      text += template.slice(i, open + 1);
      i = open + 1;
      continue;
    }
    text += template.slice(i, open);
    const name = template.slice(open + 1, j);
    if (close === 58) {
      const end = template.indexOf('}', j);
      if (name !== 'field') throw unknownPlaceholder(template, `{${name}:`, kind);
      if (end === -1) throw new RangeError(`Unterminated placeholder \`${template.slice(open)}\` in ${kind} template ${JSON.stringify(template)}: expected \`}\``);
      const field = parseField(template.slice(j + 1, end), template, kind);
      if (text !== '') segments.push({ type: 'text', text });
      text = '';
      segments.push(field);
      i = end + 1;
      continue;
    }
    i = j + 1;
    switch (name) {
      case 'hostname':
        text += sources.hostname ?? osHostname();
        break;
      case 'pid':
        text += String(sources.pid ?? process.pid);
        break;
      case 'date':
      case 'hour':
        if (text !== '') segments.push({ type: 'text', text });
        text = '';
        segments.push({ type: name });
        break;
      default:
        throw unknownPlaceholder(template, `{${name}}`, kind);
    }
  }
  if (text !== '') segments.push({ type: 'text', text });
  checkFixedText(segments, template, kind);
  return segments;
}

function parseField(body: string, template: string, kind: NameKind): Segment {
  const bar = body.indexOf('|');
  const pathText = bar === -1 ? body : body.slice(0, bar);
  const fallback = bar === -1 ? DEFAULT_FIELD_VALUE : body.slice(bar + 1);
  const path = pathText.split('.');
  if (path.some((key) => key.length === 0) || body.includes('{')) {
    throw new RangeError(
      `Malformed placeholder \`{field:${body}}\` in ${kind} template ${JSON.stringify(template)}: expected {field:KEY}, {field:KEY.KEY} or {field:KEY|DEFAULT}`,
    );
  }
  return { type: 'field', path, fallback };
}

/**
 * Refuses, when compiling, text that no evaluation can repair: characters the kind never allows
 * in the template's own text or a default (field values are rewritten, these are not), and a
 * template whose every evaluation would be the same invalid name.
 */
function checkFixedText(segments: readonly Segment[], template: string, kind: NameKind): void {
  for (const segment of segments) {
    if (segment.type === 'date' || segment.type === 'hour') continue;
    const text = segment.type === 'text' ? segment.text : segment.fallback;
    if (text === '' || sanitizeNamePart(text, kind) === text) continue;
    const what = segment.type === 'text' ? 'text' : `default of {field:${segment.path.join('.')}}`;
    throw new InvalidNameError(kind, template, `the template's ${what} ${JSON.stringify(text)} ${problemOf(kind, text) ?? 'has characters not allowed'}`);
  }
  const fixed = segments.reduce((length, s) => length + (s.type === 'text' ? s.text.length : 0), 0);
  if (fixed > MAX_NAME_LENGTH) throw new InvalidNameError(kind, template, `its fixed text alone is over ${MAX_NAME_LENGTH} characters`);
  const first = segments[0];
  if (kind === 'logGroupName' && first?.type === 'text' && first.text.startsWith('aws/')) {
    throw new InvalidNameError(kind, template, 'must not start with "aws/" (reserved by AWS)');
  }
  if (segments.every((s) => s.type === 'text')) {
    const name = segments.map((s) => (s as { text: string }).text).join('');
    const problem = problemOf(kind, name);
    if (problem !== undefined) throw new InvalidNameError(kind, name, problem);
  }
}

function unknownPlaceholder(template: string, placeholder: string, kind: NameKind): RangeError {
  return new RangeError(
    `Unknown placeholder \`${placeholder}\` in ${kind} template ${JSON.stringify(template)}; supported: {date}, {hour}, {hostname}, {pid}, {field:KEY|DEFAULT}`,
  );
}

function isLetter(code: number): boolean {
  return (code >= 65 && code <= 90) || (code >= 97 && code <= 122);
}

/** A compiled template string. */
class TemplateName implements NameTemplate {
  readonly kind: NameKind;
  readonly source: string;
  readonly constant: string | undefined;
  readonly usesRecord: boolean;
  readonly #segments: readonly Segment[];
  /** The field placeholders, in order. */
  readonly #fields: ReadonlyArray<Extract<Segment, { type: 'field' }>>;
  /** ms of the time bucket the name depends on: an hour with `{hour}`, a day with `{date}`, else 0 (none). */
  readonly #bucketMs: number;
  /**
   * The inputs of the last name: its time bucket and field values. The same inputs give the same
   * name, returned without building or checking it again (comparing short field values is cheap;
   * comparing a freshly concatenated name would flatten it).
   */
  #lastBucket = Number.NaN;
  #lastValues: string[];
  #values: string[];
  #lastName = '';
  #lastDay = Number.NaN;
  #lastDate = '';
  #lastHour = Number.NaN;
  #lastHourText = '';

  constructor(source: string, kind: NameKind, segments: readonly Segment[]) {
    this.source = source;
    this.kind = kind;
    this.#segments = segments;
    const dynamic = segments.some((s) => s.type !== 'text');
    this.constant = dynamic ? undefined : segments.map((s) => (s as { text: string }).text).join('');
    this.#fields = segments.filter((s): s is Extract<Segment, { type: 'field' }> => s.type === 'field');
    this.usesRecord = this.#fields.length > 0;
    this.#bucketMs = segments.some((s) => s.type === 'hour') ? HOUR_MS : segments.some((s) => s.type === 'date') ? DAY_MS : 0;
    this.#values = this.#fields.map(() => '');
    this.#lastValues = this.#fields.map(() => '');
  }

  evaluate(event: Readonly<InputLogEvent>, record?: unknown): string {
    if (this.constant !== undefined) return this.constant;
    const timestamp = event.timestamp;
    const bucket = this.#bucketMs === 0 ? 0 : Math.floor(timestamp / this.#bucketMs);
    let same = bucket === this.#lastBucket;
    const fields = this.#fields;
    const values = this.#values;
    const last = this.#lastValues;
    for (let i = 0; i < fields.length; i++) {
      const field = fields[i] as Extract<Segment, { type: 'field' }>;
      const value = fieldValue(record, field.path, field.fallback, this.kind);
      values[i] = value;
      if (value !== last[i]) same = false;
    }
    if (same) return this.#lastName;
    const name = this.#check(this.#build(timestamp));
    this.#lastBucket = bucket;
    this.#lastName = name;
    this.#values = last;
    this.#lastValues = values;
    return name;
  }

  /** The name from the timestamp and the field values just read (in {@link #values}). */
  #build(timestamp: number): string {
    let name = '';
    let field = 0;
    for (const segment of this.#segments) {
      switch (segment.type) {
        case 'text':
          name += segment.text;
          break;
        case 'date':
          name += this.#date(timestamp);
          break;
        case 'hour':
          name += this.#hour(timestamp);
          break;
        case 'field':
          name += this.#values[field++] as string;
          break;
      }
    }
    return name;
  }

  #date(timestamp: number): string {
    const day = Math.floor(timestamp / DAY_MS);
    if (day !== this.#lastDay) {
      const date = utcDate(timestamp);
      this.#lastDay = day;
      this.#lastDate = `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1, 2)}-${pad(date.getUTCDate(), 2)}`;
    }
    return this.#lastDate;
  }

  #hour(timestamp: number): string {
    const hour = Math.floor(timestamp / HOUR_MS);
    if (hour !== this.#lastHour) {
      this.#lastHourText = pad(utcDate(timestamp).getUTCHours(), 2);
      this.#lastHour = hour;
    }
    return this.#lastHourText;
  }

  #check(name: string): string {
    const problem = problemOf(this.kind, name);
    if (problem !== undefined) throw new InvalidNameError(this.kind, name, `${problem} (evaluated from the template ${JSON.stringify(this.source)})`);
    return name;
  }
}

/** The function form, its results checked by the rules (the last valid one remembered). */
class FunctionName implements NameTemplate {
  readonly kind: NameKind;
  readonly source = 'a function';
  readonly constant = undefined;
  readonly usesRecord = true;
  readonly #fn: NameFunction;
  #lastChecked: string | undefined;

  constructor(fn: NameFunction, kind: NameKind) {
    this.#fn = fn;
    this.kind = kind;
  }

  evaluate(event: Readonly<InputLogEvent>, record?: unknown): string {
    const name = this.#fn(event, record);
    if (name === this.#lastChecked) return name;
    const problem = problemOf(this.kind, name);
    if (problem !== undefined) throw new InvalidNameError(this.kind, name, `${problem} (returned by the ${this.kind} function)`);
    this.#lastChecked = name;
    return name;
  }
}

/** The date of a timestamp, or InvalidLogEventError when it is no time a Date can hold. */
function utcDate(timestamp: number): Date {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) {
    throw new InvalidLogEventError('timestamp', timestamp, 'must be a time in ms since the epoch to fill in {date} / {hour}');
  }
  return date;
}

function pad(value: number, width: number): string {
  const text = String(value);
  return text.length >= width ? text : '0'.repeat(width - text.length) + text;
}

/** A record field as name text (see the module documentation), or `fallback` when absent. */
function fieldValue(record: unknown, path: readonly string[], fallback: string, kind: NameKind): string {
  let value = record;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.prototype.hasOwnProperty.call(value, key)) return fallback;
    value = (value as Record<string, unknown>)[key];
  }
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = String(value);
  else return fallback;
  return text.length === 0 ? fallback : sanitizeNamePart(text, kind);
}

/**
 * `text` with the characters `kind` forbids replaced by `_`, one per code point; the same string
 * when there are none (no allocation on the common path).
 */
export function sanitizeNamePart(text: string, kind: NameKind): string {
  const n = text.length;
  let i = 0;
  while (i < n && allowed(text.charCodeAt(i), kind)) i++;
  if (i === n) return text;
  let out = text.slice(0, i);
  for (; i < n; i++) {
    const code = text.charCodeAt(i);
    if (allowed(code, kind)) {
      out += text[i];
      continue;
    }
    out += '_';
    // A surrogate pair is one code point: one replacement.
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < n) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i++;
    }
  }
  return out;
}

function allowed(code: number, kind: NameKind): boolean {
  if (kind === 'logStreamName') return code !== 58 /* : */ && code !== 42 /* * */;
  // [.\-_/#A-Za-z0-9]
  return (
    (code >= 97 && code <= 122) ||
    (code >= 65 && code <= 90) ||
    (code >= 48 && code <= 57) ||
    code === 46 ||
    code === 45 ||
    code === 95 ||
    code === 47 ||
    code === 35
  );
}
