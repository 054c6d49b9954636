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

/**
 * What {@link StreamBuffer.takeAll} hands over: the events, their bytes, and whether they need a
 * sort ({@link StreamBuffer.takeRun}: the events may still be by value).
 */
export interface TakenEvents<E extends BatchEvents = InputLogEvent[]> {
  events: E;
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
/**
 * The same for the value slots: doubles for the timestamps (they are past 2^31), references for
 * the messages; both holey, so that slots made a given length ({@link slotsOf}) have the same
 * kind as slots grown one push at a time.
 */
const EMPTY_TIMESTAMPS: number[] = new Array<number>(1).fill(0.5);
EMPTY_TIMESTAMPS.pop();
const EMPTY_MESSAGES: string[] = new Array<string>(1).fill('');
EMPTY_MESSAGES.pop();

/**
 * Most value slots a stream keeps for its next events after a take: more than a default batch
 * (10,000 events) holds.
 */
const MAX_KEPT_SLOTS = 16_384;

function emptyEvents(): InputLogEvent[] {
  return EMPTY_EVENTS.slice();
}

/**
 * Value slots of `empty`'s kind, `length` of them, allocated at once (V8 sizes the backing store
 * to the new length; pushing one at a time grows it about seven times on the way to 500).
 */
function slotsOf<T>(empty: T[], length: number): T[] {
  const slots = empty.slice();
  slots.length = length;
  return slots;
}

/**
 * Makes the first `n` value slots into objects, at `into[at]` on, and lets the slots' messages go
 * (the slots may be reused for the next events).
 */
function makeObjects(timestamps: number[], messages: string[], n: number, into: InputLogEvent[], at: number): void {
  for (let i = 0; i < n; i++) {
    into[at + i] = { timestamp: timestamps[i] as number, message: messages[i] as string };
    messages[i] = '';
  }
}

/**
 * Whether value arrays of `length` slots, of which the last take used `used`, are kept for the
 * next events. The slots are not counted under maxBufferedBytes (16 bytes each): a stream that
 * held many more than now, or more than a batch's worth, gives them back.
 */
function keepsSlots(used: number, length: number): boolean {
  return used * 4 >= length && length <= MAX_KEPT_SLOTS;
}

/**
 * A run's events still by value: the objects the flush function receives are made by
 * {@link make}, when the batch's call may start (sender.ts), so that they live for the call and
 * not while the run waits for a call slot (a full buffer starts a run on every stream at once).
 */
export class PendingEvents {
  readonly length: number;
  #timestamps: number[];
  #messages: string[];
  #made = false;
  /** The stream the arrays came from: they go back to it once the objects are made. */
  readonly #owner: StreamBuffer;

  constructor(timestamps: number[], messages: string[], length: number, owner: StreamBuffer) {
    this.#timestamps = timestamps;
    this.#messages = messages;
    this.length = length;
    this.#owner = owner;
  }

  /** Timestamp of the first event, and of the last. */
  get first(): number {
    return this.#timestamps[0] as number;
  }

  get last(): number {
    return this.#timestamps[this.length - 1] as number;
  }

  /**
   * The events as objects, in order. Once only: the caller keeps the array (a retried batch
   * hands the flush function the same objects). It is not kept here: this object was made when
   * its run started and has often waited through young-generation collections for a call slot,
   * so V8 had moved it to the old generation; a reference from it to the young objects then kept
   * them, and every event sent, alive through young collections until the next full one, after
   * the call and long after this object was garbage (bench:core with 1,000 streams on Node 22:
   * 463 MB promoted in six rounds against 241 MB without it, and about 0.8x the events/s).
   * @throws Error when called a second time (a bug in the caller: its slots are reused by then).
   */
  make(): InputLogEvent[] {
    if (this.#made) throw new Error('PendingEvents.make() called twice');
    this.#made = true;
    const n = this.length;
    const timestamps = this.#timestamps;
    const messages = this.#messages;
    const made = new Array<InputLogEvent>(n);
    makeObjects(timestamps, messages, n, made, 0);
    this.#timestamps = EMPTY_TIMESTAMPS;
    this.#messages = EMPTY_MESSAGES;
    this.#owner.giveBack(timestamps, messages, n);
    return made;
  }
}

/** The events of a batch: objects, or still by value ({@link PendingEvents}). */
export type BatchEvents = InputLogEvent[] | PendingEvents;

/** The objects of a batch's events (made now if they are still by value: once only, see {@link PendingEvents.make}). */
export function eventsOf(events: BatchEvents): InputLogEvent[] {
  return Array.isArray(events) ? events : events.make();
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
  /**
   * Buffered events kept as objects, oldest first, in front of those kept by value below: events
   * put back after a failed run (settlement counts their requeues by identity) and, in durable
   * mode, every event (the spool's record is keyed on it).
   */
  #kept: InputLogEvent[] = emptyEvents();
  /**
   * The other buffered events by value, in arrival order after `#kept`: 16 bytes per event in
   * slots reused from one take to the next, where an object per event cost about 68 (its
   * timestamp, a double, is a second object). An object that stays buffered until its batch fills
   * is also copied by each young-generation collection it lives through, unless V8 decides, by
   * chance run by run, to allocate such objects in the old generation (bench:core with 1,000
   * streams, alternated against objects: 1.42x the events/s on Node 24, 1.38x on Node 26, 0.90x on
   * Node 22, whose runs were mostly the lucky kind). A run takes them as they are
   * ({@link takeRun}, {@link PendingEvents}) when they make one batch in order; the objects the
   * flush function receives are then made when the batch's call may start (sender.ts), and live
   * for the call. Otherwise they are made when the run takes them.
   */
  #timestamps: number[] = EMPTY_TIMESTAMPS.slice();
  #messages: string[] = EMPTY_MESSAGES.slice();
  /** Slots of the two arrays above in use (the others are kept for the next events). */
  #values = 0;
  /**
   * A second pair of value arrays, given back by the last run's {@link PendingEvents} once its
   * objects were made: the next take switches to it, so that a stream's arrays are allocated once
   * and reused (arrays grown anew at each take were young, and copied by each young collection
   * until their events were sent).
   */
  #spare: [number[], string[]] | undefined = undefined;
  /** Sum of the sizes of the buffered events. */
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
    return this.#kept.length + this.#values;
  }

  /** Bytes buffered (UTF-8 + 26 per event). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Whether adding `size` bytes would break a batch limit: flush before a batch would, never after. */
  wouldFillBatch(size: number, maxEvents: number, maxBytes: number): boolean {
    return this.count >= maxEvents || this.#bytes + size > maxBytes;
  }

  /** Whether the events hold at least a full batch. */
  holdsBatch(maxEvents: number, maxBytes: number): boolean {
    return this.count >= maxEvents || this.#bytes >= maxBytes;
  }

  /** Buffers an event by value, after those buffered. */
  push(timestamp: number, message: string, size: number): void {
    if (timestamp < this.#newest) this.#unordered = true;
    this.#newest = timestamp;
    const n = this.#values;
    if (n < this.#messages.length) {
      this.#timestamps[n] = timestamp;
      this.#messages[n] = message;
    } else {
      this.#timestamps.push(timestamp);
      this.#messages.push(message);
    }
    this.#values = n + 1;
    this.#bytes += size;
  }

  /** Buffers the event object itself, after those buffered: for events whose identity counts (durable mode). */
  pushKept(event: InputLogEvent, size: number): void {
    const timestamp = event.timestamp;
    if (timestamp < this.#newest) this.#unordered = true;
    this.#newest = timestamp;
    this.#keepValues();
    this.#kept.push(event);
    this.#bytes += size;
  }

  /** Takes every buffered event (a flush pass, or shutdown's drop); the buffer is empty after. */
  takeAll(): TakenEvents {
    this.#keepValues();
    const taken = { events: this.#kept, bytes: this.#bytes, unordered: this.#unordered };
    this.#kept = emptyEvents();
    this.#taken();
    return taken;
  }

  /**
   * {@link takeAll} for a flush run: when every buffered event is kept by value, they are handed
   * over as they are ({@link PendingEvents}), with the arrays that hold them.
   */
  takeRun(): TakenEvents<BatchEvents> {
    const n = this.#values;
    if (this.#kept.length !== 0 || n === 0) return this.takeAll();
    const taken = { events: new PendingEvents(this.#timestamps, this.#messages, n, this), bytes: this.#bytes, unordered: this.#unordered };
    const spare = this.#spare;
    if (spare === undefined) {
      // As many as this take held (the next one is likely alike), unless they would not be kept.
      this.#freshSlots(n <= MAX_KEPT_SLOTS ? n : 0);
    } else {
      this.#timestamps = spare[0];
      this.#messages = spare[1];
      this.#spare = undefined;
    }
    this.#values = 0;
    this.#taken();
    return taken;
  }

  /**
   * Value arrays whose first `used` slots a {@link PendingEvents} has made into objects (their
   * messages already let go): kept as the spare pair, if there is none and they are worth keeping.
   */
  giveBack(timestamps: number[], messages: string[], used: number): void {
    if (this.#spare === undefined && keepsSlots(used, messages.length)) this.#spare = [timestamps, messages];
  }

  /** Puts events back in front of newer ones, in their order (after a failed run). */
  putBack(events: InputLogEvent[], bytes: number): void {
    if (events.length === 0) return;
    this.#keepValues();
    this.#kept = events.concat(this.#kept);
    this.#bytes += bytes;
    // In front of newer events: the next flush sorts (and finds them in order, mostly).
    this.#unordered = true;
  }

  /** Takes the oldest events until at least `bytes` are freed, or none is left ('drop-oldest'). */
  takeOldest(bytes: number, sizeOf: (event: InputLogEvent) => number): { events: InputLogEvent[]; bytes: number } {
    this.#keepValues();
    const events = this.#kept;
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

  /** Turns the events kept by value into objects at the end of `#kept` (the operations other than push() work on objects). */
  #keepValues(): void {
    const n = this.#values;
    if (n === 0) return;
    const timestamps = this.#timestamps;
    const messages = this.#messages;
    let kept = this.#kept;
    // Sized once (pushing one by one regrows it, several times per take of a stream).
    if (kept.length === 0) kept = this.#kept = new Array<InputLogEvent>(n);
    else kept.length += n;
    makeObjects(timestamps, messages, n, kept, kept.length - n);
    this.#values = 0;
    if (!keepsSlots(n, messages.length)) this.#freshSlots();
  }

  /** New value arrays (of the elements kinds they will hold), of `length` free slots. */
  #freshSlots(length = 0): void {
    this.#timestamps = slotsOf(EMPTY_TIMESTAMPS, length);
    this.#messages = slotsOf(EMPTY_MESSAGES, length);
  }

  /** After a take: nothing buffered. */
  #taken(): void {
    this.#bytes = 0;
    // The next event is compared with nothing buffered: a clock that stepped back across a flush
    // does not make the next batch sort.
    this.#newest = 0;
    this.#unordered = false;
  }
}
