/**
 * The in-memory state of the embedded endpoint: log groups, their streams, and each stream's
 * events kept sorted by timestamp (stable: equal timestamps stay in arrival order, as AWS
 * returns them). No HTTP here; `operations.ts` maps requests onto it.
 */
import type { InputLogEvent } from '../batch/types.js';

/** One stored event, as GetLogEvents returns it. */
export interface StoredLogEvent {
  /** Event time, ms since the epoch. */
  timestamp: number;
  /** The message, as sent. */
  message: string;
  /** When the endpoint stored it, ms since the epoch (the endpoint's clock). */
  ingestionTime: number;
}

/** A log stream's state. */
export interface LocalLogStream {
  readonly name: string;
  readonly creationTime: number;
  /** Events sorted by timestamp; empty when the endpoint runs with `keepEvents: false`. */
  events: StoredLogEvent[];
  /** Events stored so far (counted even when `keepEvents` is false). */
  eventCount: number;
  /** Sum of UTF-8 bytes + 26 over stored events. */
  storedBytes: number;
  firstEventTimestamp: number | undefined;
  lastEventTimestamp: number | undefined;
  lastIngestionTime: number | undefined;
  /** Legacy sequence token counter (AWS ignores tokens since 2023; returned for old clients). */
  sequence: number;
}

/** A log group's state. */
export interface LocalLogGroup {
  readonly name: string;
  readonly creationTime: number;
  retentionInDays: number | undefined;
  readonly streams: Map<string, LocalLogStream>;
}

/** All groups, by name. */
export class LocalStore {
  readonly groups = new Map<string, LocalLogGroup>();
  readonly #keepEvents: boolean;

  /** @param keepEvents - when false, only counts and bounds are kept (benchmarks). */
  constructor(keepEvents: boolean) {
    this.#keepEvents = keepEvents;
  }

  /** Forget every group, stream and event. */
  clear(): void {
    this.groups.clear();
  }

  /**
   * Appends `events[start, end)` (sorted by timestamp) to `stream`, keeping the stream sorted.
   * Usually the new events all come after what is stored, so this is an append; otherwise the
   * two sorted runs are merged in linear time (never a full re-sort).
   */
  append(
    stream: LocalLogStream,
    events: readonly InputLogEvent[],
    start: number,
    end: number,
    sizes: readonly number[],
    ingestionTime: number,
  ): void {
    const count = end - start;
    if (count <= 0) return;
    const first = (events[start] as InputLogEvent).timestamp;
    const last = (events[end - 1] as InputLogEvent).timestamp;
    let bytes = 0;
    for (let i = start; i < end; i++) bytes += sizes[i] as number;
    stream.eventCount += count;
    stream.storedBytes += bytes;
    stream.firstEventTimestamp = stream.firstEventTimestamp === undefined ? first : Math.min(stream.firstEventTimestamp, first);
    stream.lastEventTimestamp = stream.lastEventTimestamp === undefined ? last : Math.max(stream.lastEventTimestamp, last);
    stream.lastIngestionTime = ingestionTime;
    stream.sequence++;
    if (!this.#keepEvents) return;
    const stored = stream.events;
    const tail = stored.length === 0 ? -Infinity : (stored[stored.length - 1] as StoredLogEvent).timestamp;
    if (first >= tail) {
      for (let i = start; i < end; i++) {
        const e = events[i] as InputLogEvent;
        stored.push({ timestamp: e.timestamp, message: e.message, ingestionTime });
      }
      return;
    }
    // Merge: stored events with an equal timestamp come first (they arrived first).
    const merged: StoredLogEvent[] = new Array<StoredLogEvent>(stored.length + count);
    let a = 0;
    let b = start;
    let k = 0;
    while (a < stored.length && b < end) {
      const s = stored[a] as StoredLogEvent;
      const e = events[b] as InputLogEvent;
      if (s.timestamp <= e.timestamp) {
        merged[k++] = s;
        a++;
      } else {
        merged[k++] = { timestamp: e.timestamp, message: e.message, ingestionTime };
        b++;
      }
    }
    while (a < stored.length) merged[k++] = stored[a++] as StoredLogEvent;
    while (b < end) {
      const e = events[b++] as InputLogEvent;
      merged[k++] = { timestamp: e.timestamp, message: e.message, ingestionTime };
    }
    stream.events = merged;
  }
}

/** A new, empty stream. */
export function newStream(name: string, creationTime: number): LocalLogStream {
  return {
    name,
    creationTime,
    events: [],
    eventCount: 0,
    storedBytes: 0,
    firstEventTimestamp: undefined,
    lastEventTimestamp: undefined,
    lastIngestionTime: undefined,
    sequence: 0,
  };
}

/** First index in `events` (sorted) whose timestamp is `>= timestamp`. */
export function lowerBound(events: readonly StoredLogEvent[], timestamp: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((events[mid] as StoredLogEvent).timestamp < timestamp) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
