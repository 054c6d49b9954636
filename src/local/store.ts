/**
 * The in-memory state of the embedded endpoint: log groups (with tags, class, KMS key and
 * metric filters), their streams, and each stream's events kept sorted by (timestamp, sequence
 * number). Every stored event gets the next sequence number of its stream, so equal timestamps
 * stay in arrival order (as AWS returns them) and (stream id, sequence number) names an event
 * for ever: that is where event ids and paging tokens come from. No HTTP here; the operation
 * modules map requests onto it.
 */
import type { InputLogEvent } from '../batch/types.js';
import type { CompiledFilterPattern } from './filter.js';

/** One stored event, as GetLogEvents returns it, plus its place in the stream. */
export interface StoredLogEvent {
  /** Event time, ms since the epoch. */
  timestamp: number;
  /** The message, as sent. */
  message: string;
  /** When the endpoint stored it, ms since the epoch (the endpoint's clock). */
  ingestionTime: number;
  /** Storage sequence number within the stream: 1 for the first event stored, then 2, ... */
  seq: number;
}

/** A log stream's state. */
export interface LocalLogStream {
  readonly name: string;
  /** Store-wide number of this stream (never reused, not even after a deletion). */
  readonly id: number;
  readonly creationTime: number;
  /** Events sorted by (timestamp, seq); empty when the endpoint runs with `keepEvents: false`. */
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

/** One metric transformation of a metric filter, as PutMetricFilter stores it. */
export interface LocalMetricTransformation {
  metricName: string;
  metricNamespace: string;
  /** A number, or a selector (`$.field`, `$name`) whose value is taken from the event. */
  metricValue: string;
  defaultValue?: number | undefined;
  dimensions?: Record<string, string> | undefined;
  unit?: string | undefined;
}

/** A metric filter and what it has counted so far. */
export interface LocalMetricFilter {
  readonly filterName: string;
  readonly filterPattern: string;
  readonly creationTime: number;
  readonly metricTransformations: LocalMetricTransformation[];
  /** The compiled pattern, applied to each event stored in the group. */
  readonly compiled: CompiledFilterPattern;
  /** Events that matched. */
  matched: number;
  /** Sum of the values emitted (metricValue for a match, defaultValue for a miss when set). */
  sum: number;
  /** Values emitted (matches, plus misses when a defaultValue is set). */
  samples: number;
}

/** A log group's state. */
export interface LocalLogGroup {
  readonly name: string;
  readonly creationTime: number;
  retentionInDays: number | undefined;
  readonly logGroupClass: string;
  readonly kmsKeyId: string | undefined;
  readonly tags: Map<string, string>;
  readonly streams: Map<string, LocalLogStream>;
  readonly metricFilters: Map<string, LocalMetricFilter>;
}

/** Called with each run of events stored in a group, e.g. to count metric filter values. */
export type StoredRunObserver = (group: LocalLogGroup, events: readonly InputLogEvent[], start: number, end: number) => void;

/** All groups, by name. */
export class LocalStore {
  readonly groups = new Map<string, LocalLogGroup>();
  readonly #keepEvents: boolean;
  #nextStreamId = 1;

  /** @param keepEvents - when false, only counts and bounds are kept (benchmarks). */
  constructor(keepEvents: boolean) {
    this.#keepEvents = keepEvents;
  }

  /** Forget every group, stream and event. Stream ids keep counting (an id is never reused). */
  clear(): void {
    this.groups.clear();
  }

  /** A new, empty stream with the next store-wide id (not yet added to any group). */
  newStream(name: string, creationTime: number): LocalLogStream {
    return newStream(name, creationTime, this.#nextStreamId++);
  }

  /**
   * Appends `events[start, end)` (sorted by timestamp) to `stream`, keeping the stream sorted.
   * Each event gets the stream's next sequence number. Usually the new events all come after
   * what is stored, so this is an append; otherwise the two sorted runs are merged in linear
   * time (never a full re-sort) into a new array (readers holding the old one keep a consistent
   * snapshot).
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
    const firstSeq = stream.eventCount + 1;
    stream.eventCount += count;
    stream.storedBytes += bytes;
    stream.firstEventTimestamp = stream.firstEventTimestamp === undefined ? first : Math.min(stream.firstEventTimestamp, first);
    stream.lastEventTimestamp = stream.lastEventTimestamp === undefined ? last : Math.max(stream.lastEventTimestamp, last);
    stream.lastIngestionTime = ingestionTime;
    stream.sequence++;
    if (!this.#keepEvents) return;
    const make = (i: number): StoredLogEvent => {
      const e = events[i] as InputLogEvent;
      return { timestamp: e.timestamp, message: e.message, ingestionTime, seq: firstSeq + (i - start) };
    };
    const stored = stream.events;
    const tail = stored.length === 0 ? -Infinity : (stored[stored.length - 1] as StoredLogEvent).timestamp;
    if (first >= tail) {
      for (let i = start; i < end; i++) stored.push(make(i));
      return;
    }
    // Merge: stored events with an equal timestamp come first (they arrived first, lower seq).
    const merged: StoredLogEvent[] = new Array<StoredLogEvent>(stored.length + count);
    let a = 0;
    let b = start;
    let k = 0;
    while (a < stored.length && b < end) {
      const s = stored[a] as StoredLogEvent;
      if (s.timestamp <= (events[b] as InputLogEvent).timestamp) {
        merged[k++] = s;
        a++;
      } else {
        merged[k++] = make(b++);
      }
    }
    while (a < stored.length) merged[k++] = stored[a++] as StoredLogEvent;
    while (b < end) merged[k++] = make(b++);
    stream.events = merged;
  }
}

/** A new, empty stream (`id` 0 unless given: use {@link LocalStore.newStream} for a unique one). */
export function newStream(name: string, creationTime: number, id = 0): LocalLogStream {
  return {
    name,
    id,
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

/** First index in `events` (sorted by (timestamp, seq)) whose key is `>= (timestamp, seq)`. */
export function lowerBoundKey(events: readonly StoredLogEvent[], timestamp: number, seq: number): number {
  let lo = 0;
  let hi = events.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const e = events[mid] as StoredLogEvent;
    if (e.timestamp < timestamp || (e.timestamp === timestamp && e.seq < seq)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The event id of an event: stable whatever the query, as `aws logs tail --follow` and
 * `cwbatch tail -F` expect (they de-duplicate by it). Digits, like AWS's ids: the stream's
 * store-wide id and the event's sequence number, each zero-padded to 20 digits.
 */
export function eventId(stream: LocalLogStream, event: StoredLogEvent): string {
  return `${String(stream.id).padStart(20, '0')}${String(event.seq).padStart(20, '0')}`;
}
