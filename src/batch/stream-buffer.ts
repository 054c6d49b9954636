/**
 * One (log group, log stream)'s buffered events, oldest first, with their bytes and whether they
 * arrived out of timestamp order. It also carries the scheduler's record of the stream's flush
 * run ({@link StreamRun}), kept here so that a push reaches it without a lookup.
 */
import type { InputLogEvent } from './types.js';
import { calculateEventSize } from './event-size.js';
import { planCuts, type PlanLimits, type PlannedBatch } from './planner.js';
import { CHUNK_SLOTS, NO_CHUNK, noChunks, SlotPool, SMALL_CHUNK_SLOTS, type Chunk } from './value-slots.js';

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
function emptyEvents(): InputLogEvent[] {
  return EMPTY_EVENTS.slice();
}

/**
 * Makes `n` events of `chunks`, from the `start`th on, into objects at `into[at]` on, and lets
 * the slots' messages go (the chunks go back to the pool for the next events).
 */
function makeObjects(chunks: readonly Chunk[], start: number, n: number, into: InputLogEvent[], at: number): void {
  let c = chunkOf(chunks, start);
  let k = slotOf(chunks, start);
  for (let done = 0; done < n; c++, k = 0) {
    const { timestamps, messages } = chunks[c] as Chunk;
    const count = Math.min(messages.length - k, n - done);
    for (let i = 0; i < count; i++) {
      into[at + done + i] = { timestamp: timestamps[k + i] as number, message: messages[k + i] as string };
      messages[k + i] = '';
    }
    done += count;
  }
}

/**
 * The chunk of the `i`th event of `chunks` (its index), and its slot there: only the first chunk
 * may be small (value-slots.ts). Two numbers, not a pair: the planner asks for them twice per
 * event (a pair per call was young garbage, a scavenge's worth per full buffer).
 */
function chunkOf(chunks: readonly Chunk[], i: number): number {
  const first = (chunks[0] as Chunk).messages.length;
  return i < first ? 0 : 1 + Math.floor((i - first) / CHUNK_SLOTS);
}

function slotOf(chunks: readonly Chunk[], i: number): number {
  const first = (chunks[0] as Chunk).messages.length;
  return i < first ? i : (i - first) % CHUNK_SLOTS;
}

/** The chunks of one take by value, shared by the batches planned from it: back to the pool once every batch is made. */
interface TakenChunks {
  readonly chunks: readonly Chunk[];
  readonly pool: SlotPool;
  /** Batches of this take not made into objects yet. */
  unmade: number;
}

/**
 * A run's events still by value: the objects the flush function receives are made by
 * {@link make}, when the batch's call may start (sender.ts), so that they live for the call and
 * not while the run waits for a call slot (a full buffer starts a run on every stream at once).
 * A take is planned by value ({@link plan}): when it holds several batches, each is made when its
 * own call may start, not all of them when the run takes them.
 */
export class PendingEvents {
  readonly length: number;
  /** Timestamp of the first event, and of the last. */
  readonly first: number;
  readonly last: number;
  readonly #taken: TakenChunks;
  /** Where these events start in the take's chunks. */
  readonly #start: number;
  /** Made into objects, or planned into batches: its slots are not its own any more. */
  #done = false;

  /** The events of a take (`chunks`, `length` events, the last at `last`). */
  static ofTake(chunks: readonly Chunk[], length: number, last: number, pool: SlotPool): PendingEvents {
    return new PendingEvents({ chunks, pool, unmade: 1 }, 0, length, (chunks[0] as Chunk).timestamps[0] as number, last);
  }

  private constructor(taken: TakenChunks, start: number, length: number, first: number, last: number) {
    this.#taken = taken;
    this.#start = start;
    this.length = length;
    this.first = first;
    this.last = last;
  }

  /**
   * The events as objects, in order. Once only: the caller keeps the array (a retried batch
   * hands the flush function the same objects). It is not kept here: this object was made when
   * its run started and has often waited through young-generation collections for a call slot,
   * so V8 had moved it to the old generation; a reference from it to the young objects then kept
   * them, and every event sent, alive through young collections until the next full one, after
   * the call and long after this object was garbage (bench:core with 1,000 streams on Node 22:
   * 463 MB promoted in six rounds against 241 MB without it, and about 0.8x the events/s).
   * @throws Error when called a second time, or after {@link plan} (a bug in the caller: its slots are reused by then).
   */
  make(): InputLogEvent[] {
    this.#claim('make()');
    const taken = this.#taken;
    const made = new Array<InputLogEvent>(this.length);
    makeObjects(taken.chunks, this.#start, this.length, made, 0);
    if (--taken.unmade === 0) taken.pool.give(taken.chunks);
    return made;
  }

  /**
   * Cuts these events, in order, into batches (planner.ts's {@link planCuts}, by value), each
   * still by value. This object is then spent: its batches are made instead. `knownBytes`, when
   * given, must be the sum of their sizes (one batch, then, needs no event sized again).
   * @throws Error when it was made or planned already.
   */
  plan(limits: PlanLimits, knownBytes?: number): Array<PlannedBatch<PendingEvents>> {
    this.#claim('plan()');
    const taken = this.#taken;
    const { chunks } = taken;
    const start = this.#start;
    const timestampAt = (i: number): number => (chunks[chunkOf(chunks, start + i)] as Chunk).timestamps[slotOf(chunks, start + i)] as number;
    const sizeAt = (i: number): number => calculateEventSize((chunks[chunkOf(chunks, start + i)] as Chunk).messages[slotOf(chunks, start + i)] as string);
    const cuts = planCuts(this.length, timestampAt, sizeAt, limits, knownBytes);
    taken.unmade += cuts.length - 1;
    return cuts.map((cut) => ({
      events: new PendingEvents(taken, start + cut.start, cut.end - cut.start, timestampAt(cut.start), timestampAt(cut.end - 1)),
      bytes: cut.bytes,
    }));
  }

  #claim(what: string): void {
    if (this.#done) throw new Error(`PendingEvents.${what} after make() or plan()`);
    this.#done = true;
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
   * slots of chunks from the buffer's pool (value-slots.ts), where an object per event cost about
   * 68 (its timestamp, a double, is a second object). An object that stays buffered until its
   * batch fills is also copied by each young-generation collection it lives through, unless V8
   * decides, by chance run by run, to allocate such objects in the old generation (bench:core
   * with 1,000 streams, alternated against objects: 1.42x the events/s on Node 24, 1.38x on
   * Node 26, 0.90x on Node 22, whose runs were mostly the lucky kind). A run takes them as they
   * are ({@link takeRun}, {@link PendingEvents}) when they make one batch in order; the objects
   * the flush function receives are then made when the batch's call may start (sender.ts), and
   * live for the call. Otherwise they are made when the run takes them.
   */
  #chunks: Chunk[] = noChunks();
  /** The last of `#chunks` (NO_CHUNK, which has no slot, when there is none), and its slots in use. */
  #tail: Chunk = NO_CHUNK;
  #tailUsed = 0;
  /** Events kept by value. */
  #values = 0;
  /** Slots of the first chunk the next events take: small unless the last take held more. */
  #firstChunkSlots = SMALL_CHUNK_SLOTS;
  readonly #pool: SlotPool;
  /** Sum of the sizes of the buffered events. */
  #bytes = 0;
  /**
   * Timestamp of the last event pushed, and whether some event came before an earlier one: a
   * flush sorts only then. Checking the order at flush time cost a pass over every event, each a
   * cache miss by then (a tenth of the time when a full buffer sends 1,000 streams, bench:core).
   */
  #newest = 0;
  #unordered = false;

  /**
   * @param pool where the stream takes the chunks its events are kept in, and where they go back
   *   (the buffer's; by default one of its own).
   */
  constructor(group: string, stream: string, pool: SlotPool = new SlotPool(4 * CHUNK_SLOTS)) {
    this.group = group;
    this.stream = stream;
    this.#pool = pool;
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
    let tail = this.#tail;
    let at = this.#tailUsed;
    if (at === tail.messages.length) {
      tail = this.#tail = this.#pool.take(this.#chunks.length === 0 ? this.#firstChunkSlots : CHUNK_SLOTS);
      this.#chunks.push(tail);
      at = 0;
    }
    tail.timestamps[at] = timestamp;
    tail.messages[at] = message;
    this.#tailUsed = at + 1;
    this.#values++;
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
   * over as they are ({@link PendingEvents}), with the chunks that hold them.
   */
  takeRun(): TakenEvents<BatchEvents> {
    const n = this.#values;
    if (this.#kept.length !== 0 || n === 0) return this.takeAll();
    // #newest is the last event's timestamp: every buffered event is by value, the last pushed.
    const taken = { events: PendingEvents.ofTake(this.#chunks, n, this.#newest, this.#pool), bytes: this.#bytes, unordered: this.#unordered };
    this.#noValues();
    this.#taken();
    return taken;
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
    let kept = this.#kept;
    // Sized once (pushing one by one regrows it, several times per take of a stream).
    if (kept.length === 0) kept = this.#kept = new Array<InputLogEvent>(n);
    else kept.length += n;
    makeObjects(this.#chunks, 0, n, kept, kept.length - n);
    this.#pool.give(this.#chunks);
    this.#noValues();
  }

  /** No event kept by value, no chunk held (after a take of `#values` events). */
  #noValues(): void {
    this.#firstChunkSlots = this.#values > SMALL_CHUNK_SLOTS ? CHUNK_SLOTS : SMALL_CHUNK_SLOTS;
    this.#chunks = noChunks();
    this.#tail = NO_CHUNK;
    this.#tailUsed = 0;
    this.#values = 0;
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
