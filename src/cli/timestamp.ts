/**
 * The timestamp of one input line (issue 4): a JSON object line takes it from `time`,
 * `timestamp` or `@timestamp` (the first that parses), as epoch milliseconds, epoch seconds or
 * ISO 8601; any other line, or a JSON line without a usable field, takes the time it was read.
 */

/** Field names looked at, in this order (pino/bunyan `time`, common `timestamp`, logstash/ECS `@timestamp`). */
const FIELDS = ['time', 'timestamp', '@timestamp'] as const;

/**
 * Below this, a number is taken as epoch seconds, otherwise milliseconds. 1e11 seconds is the
 * year 5138 and 1e11 milliseconds is March 1973: no real log line sits on the wrong side.
 */
const SECONDS_BELOW = 1e11;

/** ISO 8601 date-time, as `Date.parse` reads it; the prefix check keeps free text out. */
const ISO_PREFIX = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/** Epoch ms of a timestamp value, or undefined when it is not one. */
export function parseTimestampValue(value: unknown): number | undefined {
  let ms: number | undefined;
  if (typeof value === 'number') {
    ms = fromEpoch(value);
  } else if (typeof value === 'string') {
    const text = value.trim();
    if (/^\d+(?:\.\d+)?$/.test(text)) ms = fromEpoch(Number(text));
    else if (ISO_PREFIX.test(text)) {
      const parsed = Date.parse(text.replace(' ', 'T').replace(',', '.'));
      ms = Number.isNaN(parsed) ? undefined : parsed;
    }
  }
  return ms !== undefined && Number.isSafeInteger(ms) && ms >= 0 ? ms : undefined;
}

function fromEpoch(n: number): number | undefined {
  if (!Number.isFinite(n) || n < 0) return undefined;
  return Math.round(n < SECONDS_BELOW ? n * 1000 : n);
}

/**
 * The timestamp of a line: from its JSON fields when it is a JSON object carrying one, else
 * `readAt`. Cheap for plain text: only lines starting with `{` are parsed.
 */
export function lineTimestamp(line: string, readAt: number): number {
  const start = line.trimStart();
  if (!start.startsWith('{')) return readAt;
  let parsed: unknown;
  try {
    parsed = JSON.parse(start);
  } catch {
    return readAt;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return readAt;
  const record = parsed as Record<string, unknown>;
  for (const field of FIELDS) {
    if (!(field in record)) continue;
    const ms = parseTimestampValue(record[field]);
    if (ms !== undefined) return ms;
  }
  return readAt;
}
