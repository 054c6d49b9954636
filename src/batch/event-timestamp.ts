/**
 * Reading a log record's time, shared by the CLI (`ship`'s JSON lines) and the pino and winston
 * transports, so that a record means the same time whichever way it reaches cwbatch.
 */

/**
 * A record's time as an event timestamp (ms since the epoch), or `fallback()` when it has none
 * usable. Accepts a number (ms; values below 1e11, i.e. before 1973 in ms, are taken as seconds,
 * which is what pino's `stdTimeFunctions.unixTime` writes), a numeric string, an ISO-8601 string
 * or a `Date`.
 */
export function eventTimestamp(value: unknown, fallback: () => number): number {
  let ms: number | undefined;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    ms = /^\d+(?:\.\d+)?$/.test(value) ? Number(value) : Date.parse(value);
  } else if (value instanceof Date) {
    ms = value.getTime();
  }
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) return fallback();
  if (ms < 1e11) ms *= 1000;
  ms = Math.floor(ms);
  return Number.isSafeInteger(ms) ? ms : fallback();
}
