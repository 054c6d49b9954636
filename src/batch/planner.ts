/**
 * Pure batch planning: a stable sort by timestamp, then a greedy cut into batches that obey
 * every PutLogEvents rule (count, bytes, order, 24 h span). Events are assumed individually
 * valid (checked by `add()`), and each at most `maxEventBytes`, itself at most `maxBytes`.
 */
import { calculateEventSize } from './event-size.js';
import { type BatchLimits, MAX_BATCH_SPAN_MS } from './limits.js';
import type { InputLogEvent } from './types.js';

/**
 * The limits a plan obeys: {@link BatchLimits} (the one limits type) with `maxEvents` and
 * `maxBytes` required, plus how to cut.
 */
export interface PlanLimits extends Pick<BatchLimits, 'maxSpanMs'>, Required<Pick<BatchLimits, 'maxEvents' | 'maxBytes'>> {
  /**
   * Prefer cuts between two timestamps: where a limit would cut through a run of equal
   * timestamps, end the batch before that run instead (the run starts the next batch), as long
   * as the batch keeps at least half of its events and the run fits the next one. Batches that
   * share no timestamp can be sent at the same time without mixing the stored order of equal
   * timestamps. Default `false` (plain greedy cuts).
   */
  cutBetweenTimestamps?: boolean;
}

/** One planned batch (its events: objects, or still by value, stream-buffer.ts's PendingEvents). */
export interface PlannedBatch<E = InputLogEvent[]> {
  events: E;
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

/** Whether `count` events of `bytes` in all, spanning `spanMs`, make one batch (sorted, at most `maxEvents`, `maxBytes`, the span). */
function fitsOneBatch(count: number, bytes: number, spanMs: number, limits: PlanLimits): boolean {
  return count <= limits.maxEvents && bytes <= limits.maxBytes && spanMs <= (limits.maxSpanMs ?? MAX_BATCH_SPAN_MS);
}

/** One batch of a plan: events [start, end) of the sorted events, and their bytes. */
export interface Cut {
  start: number;
  end: number;
  bytes: number;
}

/**
 * Cuts `n` events (already sorted), read through `timestampAt` and `sizeAt` (UTF-8 bytes + 26),
 * into consecutive batches, each as large as the limits allow. A new batch starts before one
 * would break a limit, never after; with `cutBetweenTimestamps`, possibly earlier, at the start
 * of the run of equal timestamps the cut would have split. `knownBytes`, when given, must be the
 * sum of their sizes. The one planner: events kept as objects ({@link planBatches}) and by value
 * (stream-buffer.ts) are cut by it alike.
 */
export function planCuts(n: number, timestampAt: (i: number) => number, sizeAt: (i: number) => number, limits: PlanLimits, knownBytes?: number): Cut[] {
  // The caller knows the total (the buffer keeps it per stream) and it all fits in one batch: no
  // need to size every event a second time (a flush of 7,000 events re-measured 1 MB of UTF-8).
  if (knownBytes !== undefined && n > 0 && fitsOneBatch(n, knownBytes, timestampAt(n - 1) - timestampAt(0), limits)) {
    return [{ start: 0, end: n, bytes: knownBytes }];
  }
  const maxSpan = limits.maxSpanMs ?? MAX_BATCH_SPAN_MS;
  const between = limits.cutBetweenTimestamps === true;
  const cuts: Cut[] = [];
  /** The batch being built: events [start, i), their bytes, its first timestamp. */
  let start = 0;
  let bytes = 0;
  let first = 0;
  // The trailing run of equal timestamps in the batch: where it starts, and its bytes.
  let runStart = 0;
  let runBytes = 0;
  for (let i = 0; i < n; i++) {
    const timestamp = timestampAt(i);
    const size = sizeAt(i);
    const count = i - start;
    if (count > 0 && (count >= limits.maxEvents || bytes + size > limits.maxBytes || timestamp - first > maxSpan)) {
      if (
        between &&
        runStart > start &&
        timestamp === timestampAt(i - 1) &&
        (runStart - start) * 2 >= count &&
        i - runStart + 1 <= limits.maxEvents &&
        runBytes + size <= limits.maxBytes
      ) {
        // Cut before the run instead of through it: the run moves to the next batch.
        cuts.push({ start, end: runStart, bytes: bytes - runBytes });
        start = runStart;
        bytes = runBytes;
        first = timestamp;
      } else {
        cuts.push({ start, end: i, bytes });
        start = i;
        bytes = 0;
      }
    }
    if (i === start) {
      first = timestamp;
      runStart = i;
      runBytes = 0;
    } else if (timestamp !== timestampAt(i - 1)) {
      runStart = i;
      runBytes = 0;
    }
    bytes += size;
    runBytes += size;
  }
  if (n > start) cuts.push({ start, end: n, bytes });
  return cuts;
}

/**
 * Cuts events (already sorted) into consecutive batches ({@link planCuts}); a batch of all of
 * them is `sorted` itself. `knownBytes`, when given, must be the sum of (UTF-8 bytes + 26) over
 * `sorted`.
 */
export function planBatches(sorted: readonly InputLogEvent[], limits: PlanLimits, knownBytes?: number): PlannedBatch[] {
  const n = sorted.length;
  const cuts = planCuts(
    n,
    (i) => (sorted[i] as InputLogEvent).timestamp,
    (i) => calculateEventSize((sorted[i] as InputLogEvent).message),
    limits,
    knownBytes,
  );
  return cuts.map((cut) => ({ events: cut.end - cut.start === n ? (sorted as InputLogEvent[]) : sorted.slice(cut.start, cut.end), bytes: cut.bytes }));
}
