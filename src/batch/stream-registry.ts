/**
 * Finds or creates the {@link StreamBuffer} of a (log group, log stream), checking each name once,
 * when its stream is first seen (rules.ts), and releases streams that stayed idle for
 * `streamIdleTimeoutMs`, so that memory stays flat when stream names churn (per day, per tenant).
 *
 * Releasing costs no timer per stream: {@link StreamRegistry.sweep} runs when a new stream is
 * created and on the scheduler's flush-timer tick, at most once per sweep interval (a quarter of
 * the timeout, at least 1 s). A stream is idle when it holds no event, has no flush run (so nothing
 * in flight), nobody waits on it, and no add() reached it since the
 * last sweep (the `touched` flag, set without reading the clock). A stream is released between
 * `streamIdleTimeoutMs` and `streamIdleTimeoutMs` plus one sweep interval after its last use.
 */
import { InvalidNameError } from './errors.js';
import { logGroupNameProblem, logStreamNameProblem } from './rules.js';
import { StreamBuffer } from './stream-buffer.js';
import { CHUNK_SLOTS, SlotPool } from './value-slots.js';

/** How the registry releases idle streams. */
export interface StreamRegistryOptions {
  /** A stream idle this long (ms) is released; 0 never releases. Default 0 here (the buffer passes its config). */
  readonly idleTimeoutMs?: number | undefined;
  /** The buffer's clock, ms. Default `Date.now`. */
  readonly now?: (() => number) | undefined;
  /**
   * Whether streams may be released now. The buffer says no while add() calls wait for room:
   * each holds its stream, which must stay the one the registry knows.
   */
  readonly canRelease?: (() => boolean) | undefined;
  /** A stream was released (the buffer forgets its legacy sequence token here). */
  readonly released?: ((target: StreamBuffer) => void) | undefined;
  /** Where every stream takes the chunks its events are kept in by value. Default: a pool that keeps 64 chunks free. */
  readonly pool?: SlotPool | undefined;
}

/** Every stream the buffer holds state for, by group then stream. */
export class StreamRegistry {
  readonly #groups = new Map<string, Map<string, StreamBuffer>>();
  /** The stream of the last get(), and the streams of its group: loggers write one group to many streams. */
  #last: StreamBuffer | undefined;
  #lastStreams: Map<string, StreamBuffer> | undefined;
  #size = 0;
  readonly #idleTimeoutMs: number;
  readonly #sweepIntervalMs: number;
  readonly #now: () => number;
  readonly #canRelease: () => boolean;
  readonly #released: ((target: StreamBuffer) => void) | undefined;
  readonly #pool: SlotPool;
  #lastSweep: number | undefined;
  #releasedCount = 0;

  constructor(options: StreamRegistryOptions = {}) {
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 0;
    this.#sweepIntervalMs = Math.max(1_000, Math.floor(this.#idleTimeoutMs / 4));
    this.#now = options.now ?? Date.now;
    this.#canRelease = options.canRelease ?? (() => true);
    this.#released = options.released;
    this.#pool = options.pool ?? new SlotPool(64 * CHUNK_SLOTS);
  }

  /** Streams held now. */
  get size(): number {
    return this.#size;
  }

  /** Streams released as idle so far. */
  get releasedCount(): number {
    return this.#releasedCount;
  }

  /**
   * The stream's buffer, created on first use (or again after it was released).
   * @throws InvalidNameError naming `logGroupName` or `logStreamName` for a name AWS refuses.
   */
  get(group: string, stream: string): StreamBuffer {
    // The same stream as last time (most add()s): small enough for V8 to inline into add().
    const last = this.#last;
    if (last !== undefined && last.group === group && last.stream === stream) {
      last.touched = true;
      return last;
    }
    return this.#lookUp(group, stream, last);
  }

  /** {@link get} for another stream than last time: looked up, or created. */
  #lookUp(group: string, stream: string, last: StreamBuffer | undefined): StreamBuffer {
    // Loggers write one group to many streams: keep that group's map at hand (one lookup, not two).
    const streams = last !== undefined && last.group === group ? this.#lastStreams : this.#groups.get(group);
    const target = streams?.get(stream);
    if (streams === undefined || target === undefined) return this.#create(group, stream);
    target.touched = true;
    this.#last = target;
    this.#lastStreams = streams;
    return target;
  }

  /** A stream not held: its names checked, then its buffer made (and its group's map, if new). */
  #create(group: string, stream: string): StreamBuffer {
    let streams = this.#groups.get(group);
    if (streams === undefined) {
      const problem = logGroupNameProblem(group);
      if (problem !== undefined) throw new InvalidNameError('logGroupName', group, problem);
    }
    const problem = logStreamNameProblem(stream);
    if (problem !== undefined) throw new InvalidNameError('logStreamName', stream, problem);
    // A new name: the moment memory grows, so the moment to release what went idle (before
    // this stream exists, so it cannot be swept itself, nor its group's map).
    if (this.#idleTimeoutMs > 0) {
      this.sweep();
      streams = this.#groups.get(group);
    }
    if (streams === undefined) {
      streams = new Map();
      this.#groups.set(group, streams);
    }
    const target = new StreamBuffer(group, stream, this.#pool);
    streams.set(stream, target);
    this.#size++;
    this.#last = target;
    this.#lastStreams = streams;
    return target;
  }

  /** The stream's buffer if it is held, without creating it. */
  find(group: string, stream: string): StreamBuffer | undefined {
    return this.#groups.get(group)?.get(stream);
  }

  /** Every stream, group by group. */
  *all(): IterableIterator<StreamBuffer> {
    for (const streams of this.#groups.values()) yield* streams.values();
  }

  /**
   * Releases the streams idle for `idleTimeoutMs` or more. Cheap to call often: it scans the
   * streams at most once per sweep interval (a quarter of the timeout, at least 1 s) of the clock.
   * Returns how many it released.
   */
  sweep(): number {
    if (this.#idleTimeoutMs <= 0) return 0;
    const now = this.#now();
    if (this.#lastSweep !== undefined && now - this.#lastSweep < this.#sweepIntervalMs) return 0;
    if (!this.#canRelease()) return 0;
    this.#lastSweep = now;
    let released = 0;
    for (const [group, streams] of this.#groups) {
      for (const [name, target] of streams) {
        if (target.touched || !isIdle(target)) {
          target.touched = false;
          target.idleSince = now;
          continue;
        }
        if (now - target.idleSince < this.#idleTimeoutMs) continue;
        streams.delete(name);
        this.#size--;
        released++;
        if (this.#last === target) {
          this.#last = undefined;
          this.#lastStreams = undefined;
        }
        this.#released?.(target);
      }
      if (streams.size === 0) {
        this.#groups.delete(group);
        if (this.#lastStreams === streams) {
          this.#last = undefined;
          this.#lastStreams = undefined;
        }
      }
    }
    this.#releasedCount += released;
    return released;
  }
}

/**
 * Nothing buffered, nothing in flight (no run), nobody waiting for a pass. (The scheduler's idle
 * list may still hold an empty stream: it skips and drops such entries, scheduler.ts.)
 */
function isIdle(target: StreamBuffer): boolean {
  return target.count === 0 && target.running === undefined && target.passWaiters.length === 0;
}
