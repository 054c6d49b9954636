/**
 * The buffer's side of the spool (durable mode): every accepted event is appended before add()
 * resolves, settled events leave the spool, and the records a previous process left are
 * replayed, oldest first, as room allows. The spool's files are spool.ts's business.
 */
import { calculateEventSize } from './event-size.js';
import { EVENT_OVERHEAD_BYTES } from './limits.js';
import type { Lifecycle } from './lifecycle.js';
import type { Notices } from './notices.js';
import { Spool, type SpoolEntry } from './spool/index.js';
import type { DiskRoom } from './admission.js';
import type { StreamBuffer } from './stream-buffer.js';
import type { StreamRegistry } from './stream-registry.js';
import type { InputLogEvent, SpoolOptions } from './types.js';

/** Taken at load: replay's pauses must turn the real event loop, even under a test's fake timers. */
const realSetImmediate = setImmediate;

/** What durable mode needs. */
export interface DurableDeps {
  readonly streams: Pick<StreamRegistry, 'get'>;
  /** Puts a replayed event into its stream's buffer (admission.ts; it calls {@link Durable.record}, which skips it). */
  readonly enter: (target: StreamBuffer, event: InputLogEvent, size: number) => void;
  /** The memory bound (admission.ts). */
  readonly fits: (size: number) => boolean;
  readonly lifecycle: Pick<Lifecycle, 'abandoned'>;
  readonly notices: Pick<Notices, 'report'>;
  /** Replay is over (all of it in memory, or given up): admit the add()s that waited behind it. */
  readonly replayDone: () => void;
  /** Replay filled memory, more is on disk: send what it buffered. */
  readonly replayFull: () => void;
}

/** The spool, where each spooled event is in it, and replay. */
export class Durable implements DiskRoom {
  readonly #spool: Spool;
  readonly #segmentOf = new WeakMap<InputLogEvent, SpoolEntry>();
  readonly #deps: DurableDeps;
  /** In {@link replayMore}: {@link record} does not append (the event is on disk already), and no re-entry. */
  #replaying = false;
  /**
   * Records a previous process left are still on disk, not replayed: they did not fit under
   * maxBufferedBytes. While set, new add()s wait behind them (see BatchBufferImpl.add()).
   */
  #replayPending = true;
  /** A replayMore() is queued for the next turn of the event loop (the reader paused in a corrupted region). */
  #replayQueued = false;

  /** Opens (and locks) the spool; call {@link replayMore} once the buffer is wired. */
  constructor(options: SpoolOptions, deps: DurableDeps) {
    this.#deps = deps;
    this.#spool = new Spool(options, (error) => deps.notices.report(error));
  }

  get replayPending(): boolean {
    return this.#replayPending;
  }

  /** Appends an accepted event (on disk before add() resolves; the write throws rather than lose it silently). */
  record(target: StreamBuffer, event: InputLogEvent): void {
    if (this.#replaying) return;
    this.#segmentOf.set(event, this.#spool.append(target.group, target.stream, event));
  }

  durable(): Promise<void> {
    return this.#spool.durable();
  }

  wouldOverflow(target: StreamBuffer, size: number): boolean {
    return this.#spool.wouldOverflow(target.group, target.stream, size - EVENT_OVERHEAD_BYTES);
  }

  /** Settled events leave the spool; a segment whose events are all settled is deleted. */
  unspool(events: readonly InputLogEvent[]): void {
    const entries: SpoolEntry[] = [];
    for (const event of events) {
      const entry = this.#segmentOf.get(event);
      if (entry === undefined) continue;
      this.#segmentOf.delete(event);
      entries.push(entry);
    }
    // One ack record per segment for the whole batch.
    if (entries.length > 0) this.#spool.settle(entries);
  }

  /**
   * Replays records a previous process left, in order, while they fit under maxBufferedBytes
   * (at least one when nothing is buffered or in flight, so replay always progresses). Called
   * at construction and whenever room frees up. Stops for good at stop()'s deadline: what is
   * not replayed stays on disk, never counted as accepted.
   */
  replayMore(): void {
    if (this.#replaying || !this.#replayPending || this.#deps.lifecycle.abandoned) return;
    this.#replaying = true;
    let state: 'full' | 'done' | 'paused';
    try {
      state = this.#replayWhileRoom();
    } catch (error) {
      // peekReplay reports what it skips through onError; anything else ends replay in this process
      // (the records stay on disk).
      this.#deps.notices.report(error);
      state = 'done';
    } finally {
      this.#replaying = false;
    }
    if (state === 'paused') {
      // The reader scanned as much of a corrupted region as one turn allows: go on at the next
      // turn, so that recovering a large segment never holds the event loop (reader.ts).
      this.#queueReplay();
      return;
    }
    if (state === 'full') {
      this.#deps.replayFull();
      return;
    }
    this.#replayPending = false;
    this.#deps.replayDone();
  }

  close(): void {
    this.#spool.close();
  }

  #queueReplay(): void {
    if (this.#replayQueued) return;
    this.#replayQueued = true;
    realSetImmediate(() => {
      this.#replayQueued = false;
      this.replayMore();
    }).unref();
  }

  /** Replays until the spool is read, memory is full, or the reader pauses for this turn. */
  #replayWhileRoom(): 'full' | 'done' | 'paused' {
    const spool = this.#spool;
    for (;;) {
      const next = spool.peekReplay();
      if (next === undefined) return spool.replayPending ? 'paused' : 'done';
      const size = calculateEventSize(next.event.message);
      if (!this.#deps.fits(size)) return 'full';
      spool.takeReplay();
      this.#replayOne(next.group, next.stream, next.event, next.entry, size);
    }
  }

  /** Puts back an event read from the spool; it stays in its old segment until settled. */
  #replayOne(group: string, stream: string, event: InputLogEvent, entry: SpoolEntry, size: number): void {
    let target: StreamBuffer;
    try {
      target = this.#deps.streams.get(group, stream);
    } catch (error) {
      this.#deps.notices.report(error);
      this.#spool.settle([entry]);
      return;
    }
    this.#segmentOf.set(event, entry);
    this.#deps.enter(target, event, size);
  }
}
