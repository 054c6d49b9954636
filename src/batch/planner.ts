/**
 * Pure batch planning: a stable sort by timestamp, then a greedy cut into batches that obey
 * every PutLogEvents rule (count, bytes, order, 24 h span). Events are assumed individually
 * valid (checked by `add()`), and each at most `maxEventBytes`, itself at most `maxBytes`.
 */
import { utf8ByteLength } from './event-size.js';
import { EVENT_OVERHEAD_BYTES, MAX_BATCH_SPAN_MS } from './limits.js';
import type { InputLogEvent } from './types.js';

/** The limits a plan obeys. */
export interface PlanLimits {
  /** Most events per batch. */
  maxEvents: number;
  /** Most bytes per batch, counting UTF-8 bytes + 26 per event. */
  maxBytes: number;
  /** Widest span of timestamps in one batch, ms; default 24 h. */
  maxSpanMs?: number;
}

/** One planned batch. */
export interface PlannedBatch {
  events: InputLogEvent[];
  /** Sum of (UTF-8 bytes + 26) over `events`. */
  bytes: number;
}

/**
 * Sorts `events` in place by timestamp, keeping the order of equal timestamps (Array#sort is
 * stable since ES2019), and returns it. Skips the sort when the events are already in order,
 * which is the common case for a logger.
 */
export function sortByTimestamp(events: InputLogEvent[]): InputLogEvent[] {
  for (let i = 1; i < events.length; i++) {
    if ((events[i] as InputLogEvent).timestamp < (events[i - 1] as InputLogEvent).timestamp) {
      return events.sort(byTimestamp);
    }
  }
  return events;
}

function byTimestamp(a: InputLogEvent, b: InputLogEvent): number {
  return a.timestamp - b.timestamp;
}

/**
 * Cuts events (already sorted) into consecutive batches, each as large as the limits allow.
 * A new batch starts before one would break a limit, never after. `knownBytes`, when given, must
 * be the sum of (UTF-8 bytes + 26) over `sorted`.
 */
export function planBatches(sorted: readonly InputLogEvent[], limits: PlanLimits, knownBytes?: number): PlannedBatch[] {
  const maxSpan = limits.maxSpanMs ?? MAX_BATCH_SPAN_MS;
  // The caller knows the total (the buffer keeps it per stream) and it all fits in one batch: no
  // need to size every event a second time (a flush of 7,000 events re-measured 1 MB of UTF-8).
  const n = sorted.length;
  if (
    knownBytes !== undefined &&
    n > 0 &&
    n <= limits.maxEvents &&
    knownBytes <= limits.maxBytes &&
    (sorted[n - 1] as InputLogEvent).timestamp - (sorted[0] as InputLogEvent).timestamp <= maxSpan
  ) {
    return [{ events: sorted as InputLogEvent[], bytes: knownBytes }];
  }
  const batches: PlannedBatch[] = [];
  let current: InputLogEvent[] = [];
  let bytes = 0;
  let first = 0;
  for (const event of sorted) {
    const size = utf8ByteLength(event.message) + EVENT_OVERHEAD_BYTES;
    if (
      current.length > 0 &&
      (current.length >= limits.maxEvents || bytes + size > limits.maxBytes || event.timestamp - first > maxSpan)
    ) {
      batches.push({ events: current, bytes });
      current = [];
      bytes = 0;
    }
    if (current.length === 0) first = event.timestamp;
    current.push(event);
    bytes += size;
  }
  if (current.length > 0) batches.push({ events: current, bytes });
  return batches;
}
