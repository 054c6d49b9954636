/**
 * One (log group, log stream)'s buffered events, oldest first, with their bytes and whether they
 * arrived out of timestamp order. It also carries the scheduler's record of the stream's flush
 * run ({@link StreamRun}), kept here so that a push reaches it without a lookup.
 */
import type { InputLogEvent } from './types.js';

/** A flush() waiting for the pass that takes the events buffered at its call (scheduler.ts). */
export interface PassWaiter {
  pass: number;
  resolve: (value: Promise<void> | void) => void;
  reject: (error: unknown) => void;
}

/** The scheduler's bookkeeping for one stream (scheduler.ts reads and writes it; nobody else). */
export interface StreamRun {
  /** The flush run in progress, if any: at most one per stream. */
  running: Promise<void> | undefined;
  /** Someone asked for another pass while a run was going: the run loops once more. */
  requested: boolean;
  /** Consecutive failed runs; grows the back-off across runs. */
  failureStreak: number;
  /** Background flushes (timer, size, overflow) wait until this time after a failure. */
  retryAt: number;
  /** On the scheduler's idle list (it may have events and no run): a full buffer sends it without a scan. */
  listed: boolean;
  /** Passes started by runs of this stream (each pass takes everything buffered at its start). */
  passes: number;
  /** The last pass that delivered everything it took. */
  passesDone: number;
  /** flush() calls waiting for a pass. */
  passWaiters: PassWaiter[];
}

/** What {@link StreamBuffer.takeAll} hands over: the events, their bytes, and whether they need a sort. */
export interface TakenEvents {
  events: InputLogEvent[];
  bytes: number;
  unordered: boolean;
}

/**
 * An empty array that already has the elements kind of the events it will hold (references). An
 * array literal starts as small integers and changes kind at its first push; V8 learns the new
 * kind at the literal's site only while unoptimized code makes the arrays, so optimized add()
 * code kept meeting arrays of both kinds and called the generic push builtin instead of pushing
 * inline (~100 instructions per add() with 1,000 streams, bench:core on Node 26). A copy of an
 * empty array keeps its kind.
 */
const EMPTY_EVENTS: InputLogEvent[] = [{ timestamp: 0, message: '' }];
EMPTY_EVENTS.pop();

function emptyEvents(): InputLogEvent[] {
  return EMPTY_EVENTS.slice();
}

/**
 * The events of one stream. It is also the stream's {@link StreamRun}: those fields live on the
 * same object, not on one of their own, because push() reads two of them on every event and a
 * second object per stream cost a cache miss per add() with 1,000 streams (bench:core).
 */
export class StreamBuffer implements StreamRun {
  readonly group: string;
  readonly stream: string;
  // StreamRun: the scheduler's, see there.
  running: Promise<void> | undefined = undefined;
  requested = false;
  failureStreak = 0;
  retryAt = 0;
  listed = false;
  passes = 0;
  passesDone = 0;
  passWaiters: PassWaiter[] = [];
  /** An add() reached this stream since the registry's last sweep (stream-registry.ts; no clock read per add). */
  touched = true;
  /** When the registry's sweep first found it idle, ms of the buffer's clock (stream-registry.ts). */
  idleSince = 0;
  /** Buffered events, oldest first (in arrival order; sorted when taken). */
  #events: InputLogEvent[] = emptyEvents();
  /** Sum of the sizes of `#events`. */
  #bytes = 0;
  /**
   * Timestamp of the last event pushed, and whether some event came before an earlier one: a
   * flush sorts only then. Checking the order at flush time cost a pass over every event, each a
   * cache miss by then (a tenth of the time when a full buffer sends 1,000 streams, bench:core).
   */
  #newest = 0;
  #unordered = false;

  constructor(group: string, stream: string) {
    this.group = group;
    this.stream = stream;
  }

  /** Events buffered. */
  get count(): number {
    return this.#events.length;
  }

  /** Bytes buffered (UTF-8 + 26 per event). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether adding `size` bytes would break a batch limit: flush before a batch would, never after. */
  wouldFillBatch(size: number, maxEvents: number, maxBytes: number): boolean {
    return this.#events.length >= maxEvents || this.#bytes + size > maxBytes;
  }

  /** Whether the events hold at least a full batch. */
  holdsBatch(maxEvents: number, maxBytes: number): boolean {
    return this.#events.length >= maxEvents || this.#bytes >= maxBytes;
  }

  push(event: InputLogEvent, size: number): void {
    const timestamp = event.timestamp;
    if (timestamp < this.#newest) this.#unordered = true;
    this.#newest = timestamp;
    this.#events.push(event);
    this.#bytes += size;
  }

  /** Takes every buffered event (a flush pass, or shutdown's drop); the buffer is empty after. */
  takeAll(): TakenEvents {
    const taken = { events: this.#events, bytes: this.#bytes, unordered: this.#unordered };
    this.#events = emptyEvents();
    this.#bytes = 0;
    // The next event is compared with nothing buffered: a clock that stepped back across a flush
    // does not make the next batch sort.
    this.#newest = 0;
    this.#unordered = false;
    return taken;
  }

  /** Puts events back in front of newer ones, in their order (after a failed run). */
  putBack(events: InputLogEvent[], bytes: number): void {
    if (events.length === 0) return;
    this.#events = events.concat(this.#events);
    this.#bytes += bytes;
    // In front of newer events: the next flush sorts (and finds them in order, mostly).
    this.#unordered = true;
  }

  /** Takes the oldest events until at least `bytes` are freed, or none is left ('drop-oldest'). */
  takeOldest(bytes: number, sizeOf: (event: InputLogEvent) => number): { events: InputLogEvent[]; bytes: number } {
    const events = this.#events;
    let count = 0;
    let freed = 0;
    while (count < events.length && freed < bytes) {
      freed += sizeOf(events[count] as InputLogEvent);
      count++;
    }
    if (count === 0) return { events: [], bytes: 0 };
    this.#bytes -= freed;
    return { events: events.splice(0, count), bytes: freed };
  }
}
