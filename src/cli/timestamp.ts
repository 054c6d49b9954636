/**
 * The timestamp of one input line (issue 4): a JSON object line takes it from `time`,
 * `timestamp` or `@timestamp` (the first one usable), as epoch milliseconds, epoch seconds or
 * ISO 8601; any other line, or a JSON line without a usable field, takes the time it was read.
 * The value itself is read by `eventTimestamp`, the rule the pino and winston transports use, so
 * a line means the same time whichever way it reaches cwbatch.
 */
import { eventTimestamp } from '../batch/event-timestamp.js';

/** Field names looked at, in this order (pino/bunyan `time`, common `timestamp`, logstash/ECS `@timestamp`). */
const FIELDS = ['time', 'timestamp', '@timestamp'] as const;

const UNUSABLE = (): number => -1;

/**
 * The timestamp of a line: from its JSON fields when it is a JSON object carrying one, else
 * `readAt`. Cheap for plain text: only lines starting with `{` are parsed.
 */
export function lineTimestamp(line: string, readAt: number): number {
  return recordTimestamp(jsonObjectOf(line), readAt);
}

/** The line as a JSON object, or `undefined` (not JSON, or not an object). Only lines starting with `{` are parsed. */
export function jsonObjectOf(line: string): Record<string, unknown> | undefined {
  const start = line.trimStart();
  if (!start.startsWith('{')) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(start);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  return parsed as Record<string, unknown>;
}

/** The timestamp of a parsed line ({@link jsonObjectOf}), else `readAt`. */
export function recordTimestamp(record: Record<string, unknown> | undefined, readAt: number): number {
  if (record === undefined) return readAt;
  for (const field of FIELDS) {
    if (!(field in record)) continue;
    const ms = eventTimestamp(record[field], UNUSABLE);
    if (ms >= 0) return ms;
  }
  return readAt;
}
