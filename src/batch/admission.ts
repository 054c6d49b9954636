/**
 * Whether an event may enter the buffer now. The memory bound (`maxBufferedBytes` over buffered
 * plus in-flight bytes) is written once, in {@link Admission.fits}; the spool's disk bound comes
 * from durable.ts. When the event does not fit, the overflow policy decides: wait ('block'), drop
 * the oldest buffered events ('drop-oldest'), or drop the new one ('drop-newest'). Waiting add()s
 * are served first come, first served, when settlement says room was freed.
 */
import { BufferStoppedError } from './errors.js';
import { calculateEventSize } from './event-size.js';
import type { Ledger } from './ledger.js';
import type { Lifecycle } from './lifecycle.js';
import type { Notices } from './notices.js';
import type { Scheduler } from './scheduler.js';
import type { StreamBuffer } from './stream-buffer.js';
import type { StreamRegistry } from './stream-registry.js';
import type { DropReason, InputLogEvent, OverflowPolicy } from './types.js';

/**
 * The promise admit() returns for an event accepted at once (without a spool): add() compares
 * against it to know that nothing waited.
 */
export const ADMITTED: Promise<void> = Promise.resolve();

/** The parts of one split event: once one part is in, the others must follow (never half an event without a report). */
export interface SplitEvent {
  accepted: boolean;
}

/** The spool's side of admission (durable.ts). */
export interface DiskRoom {
  /** Records a previous process left are still on disk, not replayed: new events wait behind them. */
  readonly replayPending: boolean;
  /** Whether appending an event of `size` bytes to `target` would pass the spool's `maxBytes`. */
  wouldOverflow(target: StreamBuffer, size: number): boolean;
  /** Resolves once what was appended this turn is on disk (per the spool's fsync setting). */
  durable(): Promise<void>;
  /** Replays more records while they fit. */
  replayMore(): void;
}

/** An `add()` waiting for room. */
interface SpaceWaiter {
  target: StreamBuffer;
  event: InputLogEvent;
  size: number;
  resolve: () => void;
  reject: (error: unknown) => void;
  /** The split event this is a part of, if it is one. */
  split: SplitEvent | undefined;
}

/** What admission needs. */
export interface AdmissionDeps {
  readonly policy: OverflowPolicy;
  readonly maxBufferedBytes: number;
  readonly ledger: Pick<Ledger, 'bytesInMemory' | 'acceptedForDrop' | 'unbuffered' | 'buffered'>;
  readonly lifecycle: Pick<Lifecycle, 'closed' | 'setAddsWaiting'>;
  readonly streams: Pick<StreamRegistry, 'all'>;
  readonly notices: Pick<Notices, 'hold' | 'release'>;
  /** Most events and bytes per batch: an event that would break either starts a flush first. */
  readonly maxEvents: number;
  readonly maxBytes: number;
  /** Told of each event that enters a stream's buffer, and of a batch about to be full. */
  readonly scheduler: Pick<Scheduler, 'batchFull' | 'buffered'>;
  /** Durable mode: appends each entering event to the spool; undefined without one. */
  readonly recorder: { record(target: StreamBuffer, event: InputLogEvent): void } | undefined;
  /** Counts and reports a drop (settlement.ts). */
  readonly drop: (target: StreamBuffer, events: InputLogEvent[], reason: DropReason, error: unknown) => void;
  /** The buffer is full: send every idle stream (scheduler.ts). */
  readonly sendIdle: () => void;
  /** Someone waits: make sure the flush timer runs (scheduler.ts). */
  readonly armTimer: () => void;
  /** Durable mode's disk; undefined without a spool. */
  readonly disk: DiskRoom | undefined;
}

/** The memory bound, the overflow policy, and the add()s waiting for room. */
export class Admission {
  readonly #policy: OverflowPolicy;
  readonly #maxBufferedBytes: number;
  readonly #ledger: AdmissionDeps['ledger'];
  readonly #lifecycle: AdmissionDeps['lifecycle'];
  readonly #streams: AdmissionDeps['streams'];
  readonly #notices: AdmissionDeps['notices'];
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #scheduler: AdmissionDeps['scheduler'];
  readonly #recorder: AdmissionDeps['recorder'];
  readonly #drop: AdmissionDeps['drop'];
  readonly #sendIdle: () => void;
  readonly #armTimer: () => void;
  readonly #disk: DiskRoom | undefined;
  readonly #waiters: SpaceWaiter[] = [];
  /** Bytes of the add() calls in `#waiters`. */
  #waitingBytes = 0;

  constructor(deps: AdmissionDeps) {
    this.#policy = deps.policy;
    this.#maxBufferedBytes = deps.maxBufferedBytes;
    this.#ledger = deps.ledger;
    this.#lifecycle = deps.lifecycle;
    this.#streams = deps.streams;
    this.#notices = deps.notices;
    this.#maxEvents = deps.maxEvents;
    this.#maxBytes = deps.maxBytes;
    this.#scheduler = deps.scheduler;
    this.#recorder = deps.recorder;
    this.#drop = deps.drop;
    this.#sendIdle = deps.sendIdle;
    this.#armTimer = deps.armTimer;
    this.#disk = deps.disk;
  }

  /** Whether add() calls wait for room. */
  get waiting(): boolean {
    return this.#waiters.length > 0;
  }

  /**
   * The memory bound: whether `size` more bytes fit under `maxBufferedBytes`. An event always
   * fits into an empty buffer, so no setting can make an add() wait forever.
   */
  fits(size: number): boolean {
    const total = this.#ledger.bytesInMemory;
    return total === 0 || total + size <= this.#maxBufferedBytes;
  }

  /** Whether an add() of `size` bytes to `target` would wait under 'block' (tryAdd() leaves those to add()). */
  wouldWait(target: StreamBuffer, size: number): boolean {
    return this.#waiters.length > 0 || this.#isFull(target, size);
  }

  /**
   * Admits one checked event: into the buffer at once, or after a wait, or dropped by the
   * overflow policy (reported). Resolves once accepted (and on disk, in durable mode).
   */
  admit(target: StreamBuffer, event: InputLogEvent, size: number, split?: SplitEvent): Promise<void> {
    if (this.#entersAtOnce(size)) {
      this.#enter(target, event.timestamp, event.message, size, event);
      if (split !== undefined) split.accepted = true;
      return ADMITTED;
    }
    return this.#admitOtherwise(target, event, size, split);
  }

  /**
   * {@link admit} for an event given by value, add()'s hot path: no object is made for it
   * unless it cannot simply enter (see StreamBuffer's values).
   */
  admitValue(target: StreamBuffer, timestamp: number, message: string, size: number): Promise<void> {
    if (this.#entersAtOnce(size)) {
      this.#enter(target, timestamp, message, size, undefined);
      return ADMITTED;
    }
    return this.#admitOtherwise(target, { timestamp, message }, size, undefined);
  }

  /**
   * The common case, tested first and kept small (open, no spool, nobody waiting, room under
   * the bound: fits() written out). Everything else is #admitOtherwise().
   */
  #entersAtOnce(size: number): boolean {
    if (this.#disk !== undefined || this.#waiters.length !== 0 || this.#lifecycle.closed) return false;
    const total = this.#ledger.bytesInMemory;
    return total === 0 || total + size <= this.#maxBufferedBytes;
  }

  /** {@link admit} when the event cannot simply enter: the buffer is closed, full, or behind a spool or waiting add()s. */
  #admitOtherwise(target: StreamBuffer, event: InputLogEvent, size: number, split: SplitEvent | undefined): Promise<void> {
    if (this.#lifecycle.closed) return Promise.reject(new BufferStoppedError());
    const disk = this.#disk;
    // Durable mode: older records still on disk go first (see BatchBufferImpl.add()).
    if (disk !== undefined && disk.replayPending) return this.#behindReplay(target, event, size, split);
    // First come, first served: while add() calls wait for room, a newcomer waits behind them
    // (a small event must not overtake a large one, nor an event the later parts of a split one).
    // Under the drop policies add() calls wait only behind a spool replay: the same rule holds.
    if (this.#waiters.length > 0) {
      return this.#policy === 'block' ? this.#wait(target, event, size, split) : this.#behindReplay(target, event, size, split);
    }
    if (this.#isFull(target, size)) return this.#overflow(target, event, size, split);
    return this.#accept(target, event, size, split);
  }

  /**
   * An admitted event enters its stream's buffer: the spool (durable mode), the stream, the
   * ledger and the scheduler hear of it. Also the way in for events replayed from the spool.
   */
  enter(target: StreamBuffer, event: InputLogEvent, size: number): void {
    this.#enter(target, event.timestamp, event.message, size, event);
  }

  /** {@link enter}, with the event by value; `event`, its object when there is one already. */
  #enter(target: StreamBuffer, timestamp: number, message: string, size: number, event: InputLogEvent | undefined): void {
    // Flush before a batch would break a limit, never after.
    if (target.wouldFillBatch(size, this.#maxEvents, this.#maxBytes)) this.#scheduler.batchFull(target);
    if (this.#recorder === undefined) {
      target.push(timestamp, message, size);
    } else {
      // Durable mode: on disk before add() resolves (the write throws rather than lose silently).
      // The stream keeps the object itself: the spool's record is keyed on it.
      const kept = event ?? { timestamp, message };
      this.#recorder.record(target, kept);
      target.pushKept(kept, size);
    }
    this.#ledger.buffered(size);
    this.#scheduler.buffered(target);
  }

  /**
   * Room may have freed up: replays more of the spool first (older), then admits waiting add()
   * calls, first come first served, while there is room (none while replay is pending).
   */
  roomFreed(): void {
    const disk = this.#disk;
    if (disk !== undefined && disk.replayPending) {
      disk.replayMore();
      if (disk.replayPending) return;
    }
    const waiters = this.#waiters;
    while (waiters.length > 0) {
      const next = waiters[0] as SpaceWaiter;
      if (this.#isFull(next.target, next.size)) return;
      waiters.shift();
      this.#waitingBytes -= next.size;
      if (waiters.length === 0) this.#lifecycle.setAddsWaiting(false);
      try {
        this.enter(next.target, next.event, next.size);
        if (next.split !== undefined) next.split.accepted = true;
        if (disk === undefined) next.resolve();
        else disk.durable().then(next.resolve, next.reject);
      } catch (error) {
        next.reject(error);
      }
    }
  }

  /**
   * stop(): add() calls still waiting were never accepted, and are refused, except the rest of
   * a split event whose first parts are in: taken too (past the bound, by at most one event), so
   * that it is delivered or dropped as `shutdown`, and reported.
   */
  closeWaiters(): void {
    for (const waiter of this.#waiters.splice(0)) {
      if (waiter.split?.accepted === true) {
        this.enter(waiter.target, waiter.event, waiter.size);
        waiter.resolve();
      } else {
        waiter.reject(new BufferStoppedError());
      }
    }
    this.#lifecycle.setAddsWaiting(false);
    this.#waitingBytes = 0;
  }

  /** Whether an event does not fit now: memory, or the spool on disk. */
  #isFull(target: StreamBuffer, size: number): boolean {
    return !this.fits(size) || this.#disk?.wouldOverflow(target, size) === true;
  }

  #accept(target: StreamBuffer, event: InputLogEvent, size: number, split: SplitEvent | undefined): Promise<void> {
    this.enter(target, event, size);
    if (split !== undefined) split.accepted = true;
    // fsync 'always': resolves after the fsync shared by this turn's appends (group commit).
    return this.#disk?.durable() ?? ADMITTED;
  }

  /** Accepts the new event only to drop it as `overflow` (reported). */
  #dropNew(target: StreamBuffer, event: InputLogEvent): Promise<void> {
    this.#ledger.acceptedForDrop();
    this.#drop(target, [event], 'overflow', undefined);
    return ADMITTED;
  }

  #overflow(target: StreamBuffer, event: InputLogEvent, size: number, split: SplitEvent | undefined): Promise<void> {
    if (this.#policy === 'block') return this.#wait(target, event, size, split);
    // 'drop-oldest' with a full disk: dropping buffered events frees memory, not disk (a segment
    // goes only when all its events do), so the new event is the one that cannot be kept.
    if (this.#policy === 'drop-newest' || this.#disk?.wouldOverflow(target, size) === true) {
      void this.#dropNew(target, event);
      this.#sendIdle();
      return ADMITTED;
    }
    this.#notices.hold();
    try {
      this.#dropOldest(target, size);
      let accepted: Promise<void>;
      if (this.#isFull(target, size)) accepted = this.#dropNew(target, event);
      else accepted = this.#accept(target, event, size, split);
      this.#sendIdle();
      return accepted;
    } finally {
      this.#notices.release();
    }
  }

  /**
   * 'drop-oldest': frees room for `size` bytes, oldest first: this stream's front, then the other
   * streams' fronts. In-flight events cannot be taken back; if they alone fill the bound, the new
   * event is the one dropped.
   */
  #dropOldest(target: StreamBuffer, size: number): void {
    for (const victim of [target, ...this.#streams.all()]) {
      const excess = this.#ledger.bytesInMemory + size - this.#maxBufferedBytes;
      if (excess <= 0) return;
      const dropped = victim.takeOldest(excess, sizeOf);
      if (dropped.events.length === 0) continue;
      this.#ledger.unbuffered(dropped.events.length, dropped.bytes);
      this.#drop(victim, dropped.events, 'overflow', undefined);
    }
  }

  /** Waits for room; makes sure something is on its way out. */
  #wait(target: StreamBuffer, event: InputLogEvent, size: number, split: SplitEvent | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({ target, event, size, resolve, reject, split });
      this.#waitingBytes += size;
      this.#lifecycle.setAddsWaiting(true);
      this.#sendIdle();
      this.#armTimer();
    });
  }

  /**
   * Durable mode, replay pending: the event waits behind the records still on disk; under the
   * drop policies, once the waiting add()s hold maxBufferedBytes, it is dropped instead.
   */
  #behindReplay(target: StreamBuffer, event: InputLogEvent, size: number, split: SplitEvent | undefined): Promise<void> {
    const waiting = this.#waitingBytes;
    if (this.#policy !== 'block' && waiting > 0 && waiting + size > this.#maxBufferedBytes) return this.#dropNew(target, event);
    return this.#wait(target, event, size, split);
  }
}

function sizeOf(event: InputLogEvent): number {
  return calculateEventSize(event.message);
}
