/**
 * Reading a log record's time, shared by the CLI (`ship`'s JSON lines) and the pino and winston
 * transports, so that a record means the same time whichever way it reaches cwbatch.
 */

/**
 * The last time string read and its value. Consecutive records usually carry the same string
 * (winston's `timestamp()` writes one ISO string per record, equal to the millisecond within a
 * burst), and `Date.parse` was ~3% of cwbatch/winston's CPU per record (issue 6). Only valid
 * results are kept. A string without an offset is read in local time: the cached value is the
 * one of the zone when that string was first read, until a different string comes.
 */
let lastText: string | undefined;
let lastMs = 0;

/**
 * A record's time as an event timestamp (ms since the epoch), or `fallback()` when it has none
 * usable. Accepts a number (ms; values below 1e11, i.e. before 1973 in ms, are taken as seconds,
 * which is what pino's `stdTimeFunctions.unixTime` writes), a numeric string, an ISO-8601 string
 * or a `Date`.
 */
export function eventTimestamp(value: unknown, fallback: () => number): number {
  if (typeof value === 'string') {
    if (value === lastText) return lastMs;
    const ms = normalize(/^\d+(?:\.\d+)?$/.test(value) ? Number(value) : Date.parse(value));
    if (ms === undefined) return fallback();
    lastText = value;
    lastMs = ms;
    return ms;
  }
  const ms = normalize(typeof value === 'number' ? value : value instanceof Date ? value.getTime() : undefined);
  return ms ?? fallback();
}

/** Whole milliseconds (seconds scaled up), or `undefined` when not a usable time. */
function normalize(ms: number | undefined): number | undefined {
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return undefined;
  const scaled = Math.floor(ms < 1e11 ? ms * 1000 : ms);
  return Number.isSafeInteger(scaled) ? scaled : undefined;
}
