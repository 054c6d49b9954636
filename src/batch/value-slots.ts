/**
 * Where buffered events are kept by value: a timestamp and a message per slot, in chunks of
 * {@link CHUNK_SLOTS} slots that every stream of a buffer takes from one {@link SlotPool} and
 * gives back once its events are made into objects (stream-buffer.ts).
 *
 * Why chunks from a pool, not one growable array per stream: a slot is allocated once and reused
 * by whichever stream fills next, so a stream's events are never copied to a bigger array as
 * they arrive. Arrays grown one push at a time were copied about seven times on the way to 500
 * events, and the copies, long-lived, were copied again by young-generation collections and
 * promoted: bench:core with 1,000 streams on Node 22 promoted 209-231 MB in six rounds of a million
 * adds with arrays per stream (a spare pair each, new ones sized in advance), 77 MB with the
 * pool; its events/s went from 0.95x to 1.0x those of 7bb2c45 (core-alternate.mjs, 8 pairs).
 */

/**
 * Slots in every chunk of a take but a quiet stream's first: 2 KiB of slots (8 bytes each, in two
 * arrays).
 */
export const CHUNK_SLOTS = 128;
/**
 * Slots in the first chunk of a take of a stream whose last take held no more: 256 bytes, so that
 * many streams of a few events each hold little more than their events.
 */
export const SMALL_CHUNK_SLOTS = 16;

/** Value slots for `messages.length` events ({@link CHUNK_SLOTS} or {@link SMALL_CHUNK_SLOTS}). */
export interface Chunk {
  readonly timestamps: number[];
  readonly messages: string[];
}

/**
 * Empty arrays of the elements kinds the slots hold: doubles for the timestamps (they are past
 * 2^31), references for the messages, both holey (made a given length at once). Every chunk's
 * arrays are copies, so optimized code meets one kind per array.
 */
const EMPTY_TIMESTAMPS: number[] = new Array<number>(1).fill(0.5);
EMPTY_TIMESTAMPS.pop();
const EMPTY_MESSAGES: string[] = new Array<string>(1).fill('');
EMPTY_MESSAGES.pop();

/** Arrays of `empty`'s kind, `length` slots, allocated at once (V8 sizes the backing store to the new length). */
function slotsOf<T>(empty: T[], length: number): T[] {
  const slots = empty.slice();
  slots.length = length;
  return slots;
}

function newChunk(slots: number): Chunk {
  return { timestamps: slotsOf(EMPTY_TIMESTAMPS, slots), messages: slotsOf(EMPTY_MESSAGES, slots) };
}

/**
 * A chunk with no free slot, where a stream that holds none "is": its first push takes a real one
 * (the push path has one test, "is the tail chunk full", not two). Never written.
 */
export const NO_CHUNK: Chunk = { timestamps: EMPTY_TIMESTAMPS, messages: EMPTY_MESSAGES };

const EMPTY_CHUNKS: Chunk[] = [NO_CHUNK];
EMPTY_CHUNKS.pop();

/** An empty list of chunks, of the elements kind it will hold (see stream-buffer.ts's emptyEvents()). */
export function noChunks(): Chunk[] {
  return EMPTY_CHUNKS.slice();
}

/** Chunks given back, for the next stream that needs one; at most `maxSlots` slots are kept free. */
export class SlotPool {
  readonly #free: Chunk[] = [];
  readonly #freeSmall: Chunk[] = [];
  #freeSlots = 0;
  readonly #maxSlots: number;

  /** @param maxSlots most slots kept free (chunks given back past that are left to the collector). */
  constructor(maxSlots: number) {
    this.#maxSlots = maxSlots;
  }

  /**
   * A pool for a buffer bounded at `maxBufferedBytes`: it keeps free at most the slots that many
   * bytes of 128-byte events would fill (16 bytes per slot: 1/8 of the bound; 8 MiB for the
   * default 64 MiB). A pool never holds more than the buffer once had in use at one time.
   */
  static forBound(maxBufferedBytes: number): SlotPool {
    return new SlotPool(Math.ceil(maxBufferedBytes / 128));
  }

  /** Slots free now. */
  get freeSlots(): number {
    return this.#freeSlots;
  }

  /** A chunk of `slots` slots ({@link CHUNK_SLOTS} or {@link SMALL_CHUNK_SLOTS}) to fill: a free one, or a new one. */
  take(slots: number): Chunk {
    const chunk = (slots === CHUNK_SLOTS ? this.#free : this.#freeSmall).pop();
    if (chunk === undefined) return newChunk(slots);
    this.#freeSlots -= slots;
    return chunk;
  }

  /** Takes back chunks whose messages were let go (set to ''). */
  give(chunks: readonly Chunk[]): void {
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i] as Chunk;
      const slots = chunk.messages.length;
      if (this.#freeSlots + slots > this.#maxSlots) return;
      (slots === CHUNK_SLOTS ? this.#free : this.#freeSmall).push(chunk);
      this.#freeSlots += slots;
    }
  }
}
