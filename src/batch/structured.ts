/**
 * Serialising structured events: one JSON object per event with `level`, `message`, `traceId`,
 * `requestId` at the top level and the entries of `fields` beside them, so that CloudWatch Logs
 * Insights discovers every field. Never throws on awkward values.
 */
import type { StructuredLogEvent } from './types.js';

const RESERVED = new Set(['level', 'message', 'traceId', 'requestId']);

/**
 * The JSON line for a structured event. Rules, chosen to be predictable:
 * - `fields` never overwrite the four top-level keys (such entries are skipped);
 * - circular references become the string `"[Circular]"`;
 * - BigInt values become decimal strings (`10n` → `"10"`);
 * - Errors become `{ name, message, stack, ...own enumerable properties }` (with `cause`);
 * - `undefined`, functions and symbols are left out (as JSON.stringify does);
 * - if serialising still fails (a getter, `toJSON` or Proxy trap that throws), the line keeps
 *   `level` and `message` as text and says why in `unserializable`; what cannot even be turned
 *   into text (its `toString` throws too) is described (`[object Object]`, `[unprintable]`).
 * Never throws, whatever the event holds.
 */
export function serializeStructuredEvent(event: StructuredLogEvent): string {
  try {
    return serializeFields(event);
  } catch (error) {
    // Everything read again defensively: the same getters may throw a second time.
    return JSON.stringify({
      level: safeText(() => event.level),
      message: safeText(() => event.message),
      unserializable: safeText(() => (error instanceof Error ? error.message : error)),
    });
  }
}

function serializeFields(event: StructuredLogEvent): string {
  // No prototype: a field named `__proto__` (JSON.parse makes such keys) is then written as a
  // field; on a plain object the assignment below would set the prototype and lose the field.
  const record = Object.create(null) as Record<string, unknown>;
  record['level'] = event.level;
  record['message'] = event.message;
  if (event.traceId !== undefined) record['traceId'] = event.traceId;
  if (event.requestId !== undefined) record['requestId'] = event.requestId;
  const fields = event.fields;
  if (fields !== null && typeof fields === 'object') {
    for (const key of Object.keys(fields)) {
      if (!RESERVED.has(key)) record[key] = fields[key];
    }
  }
  return JSON.stringify(record, cycleSafeReplacer());
}

/**
 * `String(get())`, or a description when that throws (a `toString` that throws, an object
 * without a prototype, a Proxy, a getter that throws): never throws itself.
 */
function safeText(get: () => unknown): string {
  let value: unknown;
  try {
    value = get();
    return typeof value === 'string' ? value : String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return '[unprintable]';
    }
  }
}

/** A JSON.stringify replacer for circular references, BigInt and Errors (one per call: it keeps state). */
function cycleSafeReplacer(): (this: unknown, key: string, val: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key: string, val: unknown): unknown {
    if (typeof val === 'bigint') return val.toString();
    if (val === null || typeof val !== 'object') return val;
    // `this` is the object holding the key: drop ancestors that are no longer on the path.
    while (ancestors.length > 0 && ancestors[ancestors.length - 1] !== this) ancestors.pop();
    if (ancestors.includes(val)) return '[Circular]';
    if (val instanceof Error) {
      // The replacement object becomes `this` for the error's own fields: keep both on the path.
      const replacement = errorToObject(val);
      ancestors.push(val, replacement);
      return replacement;
    }
    ancestors.push(val);
    return val;
  };
}

function errorToObject(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  if (error.stack !== undefined) out['stack'] = error.stack;
  for (const key of Object.keys(error)) {
    if (!(key in out)) out[key] = (error as unknown as Record<string, unknown>)[key];
  }
  if ('cause' in error && error.cause !== undefined) out['cause'] = error.cause;
  return out;
}
