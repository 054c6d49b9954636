/**
 * BatchBufferImpl: buffers events per (log group, log stream), cuts them into batches that
 * PutLogEvents accepts, and hands them to a FlushFunction with retries. Composes the pure parts
 * (planner, retry, event-size, rules) with the stateful ones: timers, per-stream locks, the
 * concurrency limit, the memory bound and the metrics.
 *
 * The accounting identity (architecture.md, "Nothing is lost silently"): at every moment
 * eventsAccepted = eventsDelivered + eventsRejected + eventsDropped + eventsBuffered + eventsInFlight.
 */
import { validateBatchConfig } from './config.js';
import {
  BufferStoppedError,
  describe,
  FlushFailedError,
  FlushTimeoutError,
  InvalidFlushResultError,
  InvalidLogEventError,
  InvalidNameError,
} from './errors.js';
import { calculateEventSize, splitMessage, truncateMessage } from './event-size.js';
import { EVENT_OVERHEAD_BYTES } from './limits.js';
import { planBatches, sortByTimestamp, type PlanLimits, type PlannedBatch } from './planner.js';
import { backoffDelay, classifyError, expectedSequenceToken, isRetryable } from './retry.js';
import { logGroupNameProblem, logStreamNameProblem, rejectedRanges } from './rules.js';
import { checkEvent } from './check-event.js';
import { SequenceTokenManager } from './sequencing.js';
import { Spool, type SpoolEntry } from './spool.js';
import { serializeStructuredEvent } from './structured.js';
import type {
  BatchBuffer,
  BatchBufferOptions,
  BatchConfig,
  BatchHooks,
  BatchMetrics,
  DropReason,
  FlushFunction,
  FlushResult,
  InputLogEvent,
  RejectReason,
  StopOptions,
  StructuredLogEvent,
} from './types.js';

/** State of one (group, stream). */
interface StreamState {
  readonly group: string;
  readonly stream: string;
  /** Buffered events, oldest first (in arrival order; sorted when taken). */
  events: InputLogEvent[];
  /** Sum of sizes of `events`. */
  bytes: number;
  /**
   * Timestamp of the last event pushed, and whether some event came before an earlier one: a
   * flush sorts only then. Checking the order at flush time cost a pass over every event, each a
   * cache miss by then (a tenth of the time when a full buffer sends 1,000 streams, bench:core).
   */
  newest: number;
  unordered: boolean;
  /** The flush run in progress, if any: at most one per stream. */
  running: Promise<void> | undefined;
  /** Someone asked for another pass while a run was going: the run loops once more. */
  requested: boolean;
  /** Consecutive failed runs; grows the back-off across runs. */
  failureStreak: number;
  /** Background flushes (timer, size, overflow) wait until this time after a failure. */
  retryAt: number;
  /** In `#idleStreams` (it may have events and no run): a full buffer sends it without a scan. */
  listed: boolean;
  /** Passes started by runs of this stream (each pass takes everything buffered at its start). */
  passes: number;
  /** The last pass that delivered everything it took. */
  passesDone: number;
  /** flush() calls waiting for a pass. */
  passWaiters: PassWaiter[];
}

/** A flush() waiting for the pass that takes the events buffered at its call. */
interface PassWaiter {
  pass: number;
  resolve: (value: Promise<void> | void) => void;
  reject: (error: unknown) => void;
}

/** A batch that could not be settled: its events go back to the buffer (or are dropped). */
interface SendFailure {
  events: InputLogEvent[];
  error: unknown;
  retryable: boolean;
  /** Events after the failed ones that were never tried (the rest of a bisected batch): no blame. */
  untried?: InputLogEvent[] | undefined;
}

/** Events that go back to the buffer after a failed run: a failed batch, or one never sent. */
interface RequeuePiece {
  events: InputLogEvent[];
  failure?: SendFailure | undefined;
}

/** An `add()` waiting for room under the `'block'` policy. */
interface SpaceWaiter {
  state: StreamState;
  event: InputLogEvent;
  size: number;
  resolve: () => void;
  reject: (error: unknown) => void;
  /** The split event this is a part of, if it is one. */
  split?: SplitEvent | undefined;
}

/** The parts of one split event: once one part is in, the others must follow (never half an event without a report). */
interface SplitEvent {
  accepted: boolean;
}

const RESOLVED: Promise<void> = Promise.resolve();
/** Taken at load: add()'s pauses must turn the real event loop, even under a test's fake timers. */
const realSetImmediate = setImmediate;

/** The seed's batch buffer. See the README for the behaviour, defaults and metrics. */
export class BatchBufferImpl implements BatchBuffer {
  readonly #flushFunction: FlushFunction;
  readonly #config: BatchConfig;
  readonly #plan: PlanLimits;
  /** #plan, cutting between timestamps: for streams whose batches go out several at a time. */
  readonly #planParallel: PlanLimits;
  readonly #maxMessageBytes: number;
  // The limits add() reads on every call, kept as fields of their own (one load, not two).
  readonly #maxEvents: number;
  readonly #maxBytes: number;
  readonly #maxEventBytes: number;
  readonly #maxBufferedBytes: number;
  readonly #hooks: BatchHooks;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #tokens = new SequenceTokenManager();
  readonly #groups = new Map<string, Map<string, StreamState>>();
  #last: StreamState | undefined;
  /** The streams of `#last`'s group. */
  #lastStreams: Map<string, StreamState> | undefined;

  #started = false;
  #closed = false;
  #stopping: Promise<void> | undefined;
  /** Set while stop() runs: retryable failures are retried until this time instead of maxRetries. */
  #deadline: number | undefined;
  /** Set at stop()'s deadline: every wait and call in progress gives up at once (#abandonAll). */
  #abandoned = false;
  /**
   * What each wait and flush call in progress does when abandoned; each removes its own when it
   * ends. A Set rather than the listeners of an AbortSignal: adding and removing an EventTarget
   * listener per flush call was most of the cost of a call (bench:core, 1,000 streams).
   */
  readonly #onAbandon = new Set<() => void>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** Timers that are ref()'d while a caller awaits flush()/stop(), unref()'d otherwise. */
  readonly #waitTimers = new Set<ReturnType<typeof setTimeout>>();
  #holders = 0;

  #activeCalls = 0;
  #slotsInUse = 0;
  readonly #slotWaiters: Array<() => void> = [];
  readonly #spaceWaiters: SpaceWaiter[] = [];
  /**
   * Every stream that has events and no run is listed here (and maybe some that no longer
   * qualify), so that a full buffer starts them without scanning every stream: with 1,000 streams
   * a scan per blocked add() cost a third of add()'s throughput (bench:core).
   */
  #idleStreams: StreamState[] = [];
  /** Non-retryable failures per event, for maxRequeues. Only failed events are ever in it. */
  readonly #requeues = new WeakMap<InputLogEvent, number>();
  /** Durable mode: the spool, and where each spooled event is in it. */
  readonly #spool: Spool | undefined;
  readonly #segmentOf = new WeakMap<InputLogEvent, SpoolEntry>();
  /** In #replayMore: #push does not append (the event is on disk already), and no re-entry. */
  #replaying = false;
  /**
   * Records a previous process left are still on disk, not replayed: they did not fit under
   * maxBufferedBytes. While set, new add()s wait behind them (see add()).
   */
  #replayPending = false;
  /** Bytes of the add() calls in `#spaceWaiters`. */
  #waitingBytes = 0;

  #eventsBuffered = 0;
  #bytesBuffered = 0;
  #eventsInFlight = 0;
  #bytesInFlight = 0;
  #eventsAccepted = 0;
  #eventsDelivered = 0;
  #bytesDelivered = 0;
  #eventsRejected = 0;
  #eventsDropped = 0;
  #flushesCompleted = 0;
  #flushesFailed = 0;
  #retries = 0;
  #eventsSplit = 0;
  #eventsTruncated = 0;
  readonly #rejectedByReason: Record<RejectReason, number> = { 'too-old': 0, 'too-new': 0, expired: 0 };
  readonly #droppedByReason: Record<DropReason, number> = {
    oversized: 0,
    overflow: 0,
    failed: 0,
    invalid: 0,
    shutdown: 0,
  };

  /**
   * @param flushFunction sends one batch (see {@link FlushFunction}).
   * @param options configuration (see {@link BatchConfig}; every field optional) and hooks.
   * @throws TypeError or RangeError naming the option when an option is invalid.
   */
  constructor(flushFunction: FlushFunction, options: BatchBufferOptions = {}) {
    if (typeof flushFunction !== 'function') {
      throw new TypeError(`Expected \`flushFunction\` to be a function, got ${typeof flushFunction}`);
    }
    this.#flushFunction = flushFunction;
    this.#config = validateBatchConfig(options);
    this.#plan = { maxEvents: this.#config.maxEvents, maxBytes: this.#config.maxBytes };
    this.#planParallel = { ...this.#plan, cutBetweenTimestamps: true };
    this.#maxMessageBytes = this.#config.maxEventBytes - EVENT_OVERHEAD_BYTES;
    this.#maxEvents = this.#config.maxEvents;
    this.#maxBytes = this.#config.maxBytes;
    this.#maxEventBytes = this.#config.maxEventBytes;
    this.#maxBufferedBytes = this.#config.maxBufferedBytes;
    for (const hook of ['onRejected', 'onDrop', 'onError', 'onOversized', 'onRetry', 'now', 'random'] as const) {
      const value = options[hook];
      if (value !== undefined && typeof value !== 'function') {
        throw new TypeError(`Expected \`${hook}\` to be a function, got ${typeof value}`);
      }
    }
    this.#hooks = options;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#spooled = options.spool !== undefined;
    if (options.spool !== undefined) {
      // Events a previous process left in the spool go first, in the order they were written:
      // as many as fit under maxBufferedBytes now, the rest as room frees up (#replayMore).
      this.#spool = new Spool(options.spool, (error) => this.#report(error));
      this.#replayPending = true;
      this.#replayMore();
    }
  }

  /** The resolved configuration (defaults filled in). */
  get config(): Readonly<BatchConfig> {
    return this.#config;
  }

  /** Starts the background flush timer (unref()'d: it never keeps the process alive). */
  start(): void {
    if (this.#closed) return;
    this.#started = true;
    this.#armTimer();
    // Replay filled the buffer (more is on disk): send it now rather than after flushIntervalMs.
    if (this.#replayPending) this.#sendIdleStreams();
  }

  /**
   * Buffers one event. Resolves once the event is accepted (at once, unless the buffer is full
   * under the `'block'` policy). Rejects with `InvalidLogEventError` / `InvalidNameError` for bad
   * input (nothing is buffered) and `BufferStoppedError` after `stop()`.
   *
   * Durable mode, while records a previous process left in the spool are still being replayed
   * (they did not all fit under `maxBufferedBytes`): the event waits behind them, whatever the
   * overflow policy, as under `'block'`, and is accepted (and written to the spool) once replay
   * has finished and there is room. Those records are older, so this keeps every stream in order
   * without a pass over the whole spool to learn which streams it holds. Under the drop policies,
   * the add() calls waiting this way hold at most `maxBufferedBytes`; past that the new event is
   * dropped (reason `overflow`), so memory stays bounded for callers that do not await add().
   */
  add(logGroup: string, logStream: string, event: InputLogEvent): Promise<void> {
    try {
      if (this.#closed) return Promise.reject(new BufferStoppedError());
      const { event: entry, size } = checkEvent(event);
      const state = this.#stateFor(logGroup, logStream);
      if (size > this.#maxEventBytes) return this.#addOversized(state, entry.timestamp, entry.message, size);
      const accepted = this.#enqueue(state, entry, size);
      if (accepted !== RESOLVED) return accepted;
      // A caller awaiting add() in a burst never reaches the event loop (the promise is already
      // resolved): requests waiting for I/O would wait for the whole burst, or until the buffer
      // is full. So once a batch's worth was accepted since the last look, if flush runs are in
      // progress and settled no call meanwhile (they need the event loop, unlike a flush function
      // that settles in microtasks), resolve after one turn of the event loop instead.
      return this.#countAccepted(size) ? new Promise<void>((resolve) => realSetImmediate(resolve)) : RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Bytes add() accepted since it last looked whether calls in progress need the event loop. */
  #acceptedSinceYield = 0;
  /** Flush function calls settled (either way), and that count at add()'s last look. */
  #callsSettled = 0;
  #settledAtLastLook = 0;

  /** Flush runs started and not ended (a run waits for a microtask before its first call), and whether one was at the last look. */
  #runsInProgress = 0;
  #runningAtLastLook = false;

  /**
   * Whether accepting `size` more bytes completes a batch's worth since the last look while flush
   * runs, in progress then and now, settled no call since: they wait for the event loop (I/O, a
   * back-off timer), or, in a synchronous burst of tryAdd()s, for a microtask to make a call at all.
   */
  #mustYield(size: number): boolean {
    return (
      this.#acceptedSinceYield + size >= this.#maxBytes &&
      this.#runningAtLastLook &&
      this.#runsInProgress > 0 &&
      this.#callsSettled === this.#settledAtLastLook
    );
  }

  /** Counts `size` accepted bytes (looking once per batch's worth); returns {@link #mustYield}'s answer. */
  #countAccepted(size: number): boolean {
    const yieldNow = this.#mustYield(size);
    this.#acceptedSinceYield += size;
    if (this.#acceptedSinceYield >= this.#maxBytes) {
      this.#acceptedSinceYield = 0;
      this.#settledAtLastLook = this.#callsSettled;
      this.#runningAtLastLook = this.#runsInProgress > 0;
    }
    return yieldNow;
  }

  /**
   * Buffers one event at once when that needs no waiting, and says whether it did. Returns
   * `false`, buffering nothing, when `add()` would have to wait: the buffer is full under the
   * `'block'` policy, the event is over `maxEventBytes`, or in durable mode (the event is on disk
   * only when add() resolves); call `add()` then. Throws what `add()` rejects with. For transports whose
   * framework queues records of its own until a callback runs (winston): accepting synchronously
   * keeps records out of that queue.
   */
  tryAdd(logGroup: string, logStream: string, event: InputLogEvent): boolean {
    if (this.#closed) throw new BufferStoppedError();
    const { event: entry, size } = checkEvent(event);
    const state = this.#stateFor(logGroup, logStream);
    if (size > this.#maxEventBytes || this.#spooled) return false;
    // Under 'block', #enqueue would make it wait (behind others, or for room): leave it to add().
    if (this.#config.overflowPolicy === 'block' && (this.#spaceWaiters.length > 0 || this.#isFull(state, entry, size))) return false;
    // Otherwise #enqueue settles at once (buffered, or dropped and reported under a drop policy).
    // Never refused only to give the event loop a turn, as add() does: a caller of tryAdd() is
    // usually inside a synchronous burst it cannot leave (a winston log call), and a refusal
    // would send the rest of its burst down the slow path. Counted, so that add() looks on time.
    void this.#enqueue(state, entry, size);
    this.#countAccepted(size);
    return true;
  }

  /**
   * Durable mode: records are written once per event-loop turn (group commit) and add() resolves
   * after the write, so tryAdd() cannot acknowledge an event synchronously.
   */
  readonly #spooled: boolean;

  /**
   * Buffers a structured event as one JSON object (see `serializeStructuredEvent`). The timestamp
   * defaults to now. Never throws on awkward fields (circular, BigInt, Errors).
   */
  addStructured(logGroup: string, logStream: string, event: StructuredLogEvent): Promise<void> {
    if (event === null || typeof event !== 'object') {
      return Promise.reject(new InvalidLogEventError('event', event, 'must be a structured event object'));
    }
    const timestamp = event.timestamp ?? this.#now();
    return this.add(logGroup, logStream, { timestamp, message: serializeStructuredEvent(event) });
  }

  /**
   * Sends everything buffered for one stream and resolves when it is delivered (or rejected or
   * dropped, each reported). If a flush of that stream is running, waits for it and then sends
   * what is left. Rejects with `FlushFailedError` when events could not be delivered; they stay
   * buffered for a later flush.
   */
  async flush(logGroup: string, logStream: string): Promise<void> {
    const state = this.#groups.get(logGroup)?.get(logStream);
    if (state === undefined) return;
    this.#hold();
    try {
      await this.#flushStream(state);
    } finally {
      this.#release();
    }
  }

  /** {@link flush} for every stream, in parallel (at most `maxConcurrentFlushes` calls at once). */
  async flushAll(): Promise<void> {
    this.#hold();
    try {
      await this.#flushStreams([...this.#states()]);
    } finally {
      this.#release();
    }
  }

  /** Counters; see {@link BatchMetrics}. */
  getMetrics(): BatchMetrics {
    return {
      eventsBuffered: this.#eventsBuffered,
      bytesBuffered: this.#bytesBuffered,
      flushesPending: this.#activeCalls,
      flushesCompleted: this.#flushesCompleted,
      flushesFailed: this.#flushesFailed,
      eventsAccepted: this.#eventsAccepted,
      eventsInFlight: this.#eventsInFlight,
      eventsDelivered: this.#eventsDelivered,
      eventsRejected: this.#eventsRejected,
      eventsDropped: this.#eventsDropped,
      bytesDelivered: this.#bytesDelivered,
      retries: this.#retries,
      bytesInFlight: this.#bytesInFlight,
      rejectedByReason: { ...this.#rejectedByReason },
      droppedByReason: { ...this.#droppedByReason },
      eventsSplit: this.#eventsSplit,
      eventsTruncated: this.#eventsTruncated,
    };
  }

  /**
   * Stops the timer, refuses new events, then delivers everything, retrying retryable failures
   * with back-off until all is delivered or the deadline (`timeoutMs`, default
   * `shutdownTimeoutMs`) passes; what is left then is dropped with reason `shutdown` (reported).
   * Idempotent: every call returns the same promise. Never rejects.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.#stopping === undefined) {
      const timeoutMs = options.timeoutMs ?? this.#config.shutdownTimeoutMs;
      if (!Number.isFinite(timeoutMs) || timeoutMs < 0) {
        return Promise.reject(new RangeError(`Expected \`timeoutMs\` to be a number >= 0, got ${timeoutMs}`));
      }
      this.#stopping = this.#stop(timeoutMs);
    }
    return this.#stopping;
  }

  // ---------------------------------------------------------------- adding

  #stateFor(group: string, stream: string): StreamState {
    const last = this.#last;
    if (last !== undefined && last.group === group && last.stream === stream) return last;
    // Loggers write one group to many streams: keep that group's map at hand (one lookup, not two).
    let streams = last !== undefined && last.group === group ? this.#lastStreams : this.#groups.get(group);
    if (streams === undefined) {
      const problem = logGroupNameProblem(group);
      if (problem !== undefined) throw new InvalidNameError('logGroupName', group, problem);
      streams = new Map();
      this.#groups.set(group, streams);
    }
    let state = streams.get(stream);
    if (state === undefined) {
      const problem = logStreamNameProblem(stream);
      if (problem !== undefined) throw new InvalidNameError('logStreamName', stream, problem);
      state = {
        group,
        stream,
        events: [],
        bytes: 0,
        newest: 0,
        unordered: false,
        running: undefined,
        requested: false,
        failureStreak: 0,
        retryAt: 0,
        listed: false,
        passes: 0,
        passesDone: 0,
        passWaiters: [],
      };
      streams.set(stream, state);
    }
    this.#last = state;
    this.#lastStreams = streams;
    return state;
  }

  async #addOversized(state: StreamState, timestamp: number, message: string, size: number): Promise<void> {
    const policy = this.#config.oversizedEventPolicy;
    const info = { logGroup: state.group, logStream: state.stream, bytes: size, action: policy };
    if (policy === 'drop') {
      this.#eventsAccepted++;
      this.#countDrop([{ timestamp, message }], 'oversized', undefined);
      this.#call(this.#hooks.onOversized, { ...info, parts: 0 });
      return;
    }
    if (policy === 'truncate') {
      this.#eventsTruncated++;
      const truncated = truncateMessage(message, this.#maxMessageBytes);
      this.#call(this.#hooks.onOversized, { ...info, parts: 1 });
      return this.#enqueue(state, { timestamp, message: truncated }, calculateEventSize(truncated));
    }
    const parts = splitMessage(message, this.#maxMessageBytes);
    this.#eventsSplit++;
    this.#call(this.#hooks.onOversized, { ...info, parts: parts.length });
    // Parts keep the timestamp and their order (the sort is stable), so they arrive in sequence.
    // All parts are enqueued now, in order, before any later add() can come between them: each
    // is buffered at once or queued (first come, first served) behind whoever already waits.
    const split: SplitEvent = { accepted: false };
    const pending = parts.map((part) => this.#enqueue(state, { timestamp, message: part }, calculateEventSize(part), split));
    await Promise.all(pending);
  }

  /** Whether `event` does not fit now: memory (an event always fits into an empty buffer, so no setting can wait forever), or the spool on disk. */
  #isFull(state: StreamState, event: InputLogEvent, size: number): boolean {
    const total = this.#bytesBuffered + this.#bytesInFlight;
    return (total + size > this.#maxBufferedBytes && total > 0) || this.#spool?.wouldOverflow(state.group, state.stream, size - EVENT_OVERHEAD_BYTES) === true;
  }

  #enqueue(state: StreamState, event: InputLogEvent, size: number, split?: SplitEvent): Promise<void> {
    if (this.#closed) return Promise.reject(new BufferStoppedError());
    // Durable mode: older records still on disk go first (see add()).
    if (this.#replayPending) return this.#behindReplay(state, event, size, split);
    // First come, first served: while add() calls wait for room, a newcomer waits behind them
    // (a small event must not overtake a large one, nor an event the later parts of a split one).
    // Under the drop policies add() calls wait only behind a spool replay: the same rule holds.
    if (this.#spaceWaiters.length > 0) {
      return this.#config.overflowPolicy === 'block' ? this.#wait(state, event, size, split) : this.#behindReplay(state, event, size, split);
    }
    if (this.#isFull(state, event, size)) return this.#overflow(state, event, size, split);
    this.#push(state, event, size);
    if (split !== undefined) split.accepted = true;
    // fsync 'always': resolves after the fsync shared by this turn's appends (group commit).
    return this.#spool?.durable() ?? RESOLVED;
  }

  #push(state: StreamState, event: InputLogEvent, size: number): void {
    // Flush before a batch would break a limit, never after.
    if (state.events.length >= this.#maxEvents || state.bytes + size > this.#maxBytes) {
      // A stream that just failed waits for its back-off (the timer comes back for it).
      if (state.retryAt === 0 || state.retryAt <= this.#now()) this.#trigger(state);
    }
    // Durable mode: on disk before add() resolves (the write throws rather than lose silently).
    if (this.#spool !== undefined && !this.#replaying) {
      this.#segmentOf.set(event, this.#spool.append(state.group, state.stream, event));
    }
    const timestamp = event.timestamp;
    if (timestamp < state.newest) state.unordered = true;
    state.newest = timestamp;
    state.events.push(event);
    state.bytes += size;
    if (!state.listed && state.running === undefined) this.#listIdle(state);
    this.#eventsBuffered++;
    this.#bytesBuffered += size;
    this.#eventsAccepted++;
    if (this.#timer === undefined && this.#started) this.#armTimer();
  }

  #overflow(state: StreamState, event: InputLogEvent, size: number, split?: SplitEvent): Promise<void> {
    const policy = this.#config.overflowPolicy;
    if (policy === 'drop-newest') {
      this.#eventsAccepted++;
      this.#countDrop([event], 'overflow', undefined);
      this.#sendIdleStreams();
      return RESOLVED;
    }
    if (policy === 'drop-oldest' && this.#spool?.wouldOverflow(state.group, state.stream, size - EVENT_OVERHEAD_BYTES) === true) {
      // The disk is full: dropping buffered events frees memory, not disk (a segment goes only
      // when all its events do), so the new event is the one that cannot be kept.
      this.#eventsAccepted++;
      this.#countDrop([event], 'overflow', undefined);
      this.#sendIdleStreams();
      return RESOLVED;
    }
    if (policy === 'drop-oldest') {
      // Oldest first: this stream's front, then the other streams' fronts. In-flight events
      // cannot be taken back; if they alone fill the bound, the new event is the one dropped.
      const limit = this.#config.maxBufferedBytes;
      for (const victim of [state, ...this.#states()]) {
        let count = 0;
        let freed = 0;
        while (
          count < victim.events.length &&
          this.#bytesBuffered - freed + this.#bytesInFlight + size > limit
        ) {
          freed += sizeOf(victim.events[count] as InputLogEvent);
          count++;
        }
        if (count > 0) {
          const dropped = victim.events.splice(0, count);
          victim.bytes -= freed;
          this.#eventsBuffered -= count;
          this.#bytesBuffered -= freed;
          this.#countDrop(dropped, 'overflow', undefined);
        }
        if (this.#bytesBuffered + this.#bytesInFlight + size <= limit) break;
      }
      // Dropping buffered events frees memory, not disk (a segment goes when all its events do).
      if (
        (this.#bytesBuffered + this.#bytesInFlight + size > limit && this.#bytesBuffered + this.#bytesInFlight > 0) ||
        this.#spool?.wouldOverflow(state.group, state.stream, size - EVENT_OVERHEAD_BYTES) === true
      ) {
        this.#eventsAccepted++;
        this.#countDrop([event], 'overflow', undefined);
        this.#sendIdleStreams();
        return RESOLVED;
      }
      this.#push(state, event, size);
      if (split !== undefined) split.accepted = true;
      this.#sendIdleStreams();
      return this.#spool?.durable() ?? RESOLVED;
    }
    return this.#wait(state, event, size, split);
  }

  /** 'block': wait for room; make sure something is on its way out. */
  #wait(state: StreamState, event: InputLogEvent, size: number, split?: SplitEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#spaceWaiters.push({ state, event, size, resolve, reject, split });
      this.#waitingBytes += size;
      this.#refreshKeepAlive();
      this.#sendIdleStreams();
      this.#armTimer();
    });
  }

  /**
   * Durable mode, replay pending: the event waits behind the records still on disk (see add());
   * under the drop policies, once the waiting add()s hold maxBufferedBytes, it is dropped instead.
   */
  #behindReplay(state: StreamState, event: InputLogEvent, size: number, split?: SplitEvent): Promise<void> {
    const waiting = this.#waitingBytes;
    if (this.#config.overflowPolicy !== 'block' && waiting > 0 && waiting + size > this.#maxBufferedBytes) {
      this.#eventsAccepted++;
      this.#countDrop([event], 'overflow', undefined);
      return RESOLVED;
    }
    return this.#wait(state, event, size, split);
  }

  /**
   * The buffer is full: start a flush of every stream that has events and is neither flushing nor
   * backing off, whatever the policy. (Under the drop policies it used to wait for the timer,
   * dropping events meanwhile, whenever no single stream held a full batch: issue 7's overload
   * test delivered nothing for a whole flushIntervalMs.) Called after the policy has chosen its
   * victims, so 'drop-oldest' still drops buffered events rather than the new one.
   */
  #sendIdleStreams(): void {
    const now = this.#now();
    const listed = this.#idleStreams;
    this.#idleStreams = [];
    for (const s of listed) {
      s.listed = false;
      // A stream with a run is listed again when the run ends with events left.
      if (s.events.length === 0 || s.running !== undefined) continue;
      if (s.retryAt <= now) this.#trigger(s);
      else this.#listIdle(s); // backing off: the timer or a later call sends it
    }
  }

  #listIdle(state: StreamState): void {
    state.listed = true;
    this.#idleStreams.push(state);
  }

  /**
   * Room may have freed up: replays more of the spool first (older), then admits waiting `add()`
   * calls, first come first served, while there is room (none while replay is pending).
   */
  #wakeSpaceWaiters(): void {
    if (this.#replayPending) {
      this.#replayMore();
      if (this.#replayPending) return;
    }
    while (this.#spaceWaiters.length > 0) {
      const next = this.#spaceWaiters[0] as SpaceWaiter;
      const total = this.#bytesBuffered + this.#bytesInFlight;
      if (total > 0 && total + next.size > this.#config.maxBufferedBytes) return;
      if (this.#spool?.wouldOverflow(next.state.group, next.state.stream, next.size - EVENT_OVERHEAD_BYTES) === true) return;
      this.#spaceWaiters.shift();
      this.#waitingBytes -= next.size;
      if (this.#spaceWaiters.length === 0) this.#refreshKeepAlive();
      try {
        this.#push(next.state, next.event, next.size);
        if (next.split !== undefined) next.split.accepted = true;
        if (this.#spool === undefined) next.resolve();
        else this.#spool.durable().then(next.resolve, next.reject);
      } catch (error) {
        next.reject(error);
      }
    }
  }

  // ---------------------------------------------------------------- flushing

  *#states(): IterableIterator<StreamState> {
    for (const streams of this.#groups.values()) yield* streams.values();
  }

  /** A background flush of one stream; failures go to onError. */
  #trigger(state: StreamState): void {
    if (this.#abandoned) return;
    if (state.running !== undefined) {
      // A run is going: ask it for one more pass. A pass that fails with nobody waiting for it
      // is reported once (#endPass); attaching a handler per add() would report it thousands of times.
      state.requested = true;
      return;
    }
    if (state.events.length > 0) this.#startRun(state);
  }

  /**
   * Delivers what the stream holds now. A run is a loop of passes, each taking everything
   * buffered at its start; this waits for the pass that takes the events buffered now (the one
   * going, or the next), never for passes a steady producer keeps asking for. If that pass fails,
   * it rejects; if the run ends without making it, this makes its own attempt.
   */
  #flushStream(state: StreamState): Promise<void> {
    // Past stop()'s deadline nothing more is sent: stop() drops what is left as `shutdown`, reported.
    if (this.#abandoned) return RESOLVED;
    if (state.running === undefined) {
      if (state.events.length === 0) return RESOLVED;
      this.#startRun(state); // takes the events now: its first pass is state.passes
      return this.#untilPass(state, state.passes);
    }
    if (state.events.length === 0) return this.#untilPass(state, state.passes);
    state.requested = true;
    return this.#untilPass(state, state.passes + 1);
  }

  #untilPass(state: StreamState, pass: number): Promise<void> {
    if (pass <= state.passesDone) return RESOLVED;
    return new Promise<void>((resolve, reject) => state.passWaiters.push({ pass, resolve, reject }));
  }

  /** A pass ended: flush() calls waiting for it (or an earlier one) settle; a failure nobody waits for is reported. */
  #endPass(state: StreamState, pass: number, error: FlushFailedError | undefined): void {
    if (error === undefined) state.passesDone = pass;
    let told = false;
    // Usually nobody waits (a background flush): then there is no list to rebuild.
    if (state.passWaiters.length > 0) {
      state.passWaiters = state.passWaiters.filter((waiter) => {
        if (waiter.pass > pass) return true;
        if (error === undefined) waiter.resolve();
        else {
          waiter.reject(error);
          told = true;
        }
        return false;
      });
    }
    if (error !== undefined && !told) this.#report(error);
  }

  #startRun(state: StreamState): void {
    this.#runsInProgress++;
    const run: Promise<void> = this.#drain(state).finally(() => {
      this.#runsInProgress--;
      if (state.running !== run) return;
      state.running = undefined;
      if (state.events.length > 0 && !state.listed) this.#listIdle(state);
      // add() calls waiting for room while this run was ending found it running and started
      // nothing (a synchronous burst refills the buffer before the run's last microtask): start
      // the idle streams now, or they waited for the timer (flushIntervalMs) with a full buffer.
      if (this.#spaceWaiters.length > 0) this.#sendIdleStreams();
      // flush() calls waiting for a pass this run did not make (it failed first, or found
      // nothing more to take) make their own attempt.
      for (const waiter of state.passWaiters.splice(0)) waiter.resolve(this.#flushStream(state));
    });
    // Its failure reaches flush() callers through their passes, or onError (#endPass).
    run.catch(() => undefined);
    state.running = run;
  }

  async #flushStreams(states: StreamState[]): Promise<void> {
    const results = await Promise.allSettled(states.map((s) => this.#flushStream(s)));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      const count = errors.reduce<number>((n, e) => n + (e instanceof FlushFailedError ? e.eventCount : 0), 0);
      throw new FlushFailedError('(several groups)', '(several streams)', count, new AggregateError(errors, `${errors.length} streams failed`));
    }
  }

  /**
   * One flush run of a stream: take everything buffered, sort, cut into batches, send them in
   * order. Loops while more was requested or a full batch built up meanwhile. On a failure the
   * unsent events go back to the front of the buffer in their order, and the run rejects.
   */
  async #drain(state: StreamState): Promise<void> {
    do {
      state.requested = false;
      const taken = state.events;
      if (taken.length === 0) return;
      const takenBytes = state.bytes;
      state.events = [];
      state.bytes = 0;
      this.#eventsBuffered -= taken.length;
      this.#bytesBuffered -= takenBytes;
      this.#eventsInFlight += taken.length;
      this.#bytesInFlight += takenBytes;
      const pass = ++state.passes;
      const sorted = state.unordered ? sortByTimestamp(taken) : taken;
      state.unordered = false;
      // Batches sent at the same time must not share a timestamp (see #sendAll): cut between
      // timestamps, or a fast producer (hundreds of events per millisecond) would tie nearly
      // every pair of batches and send them one at a time.
      const parallel = this.#config.maxConcurrentFlushes > 1 && this.#tokens.getToken(state.group, state.stream) === undefined;
      const batches = planBatches(sorted, parallel ? this.#planParallel : this.#plan, takenBytes);
      const left = await this.#sendAll(state, batches);
      if (left !== undefined) {
        const kept = this.#requeue(state, left);
        this.#flushesFailed++;
        state.failureStreak++;
        state.retryAt =
          this.#now() + backoffDelay(state.failureStreak, this.#config.retryBaseDelayMs, this.#config.retryMaxDelayMs, this.#random);
        const error = new FlushFailedError(state.group, state.stream, kept, left.find((piece) => piece.failure)?.failure?.error);
        this.#endPass(state, pass, error);
        throw error;
      }
      state.failureStreak = 0;
      state.retryAt = 0;
      this.#endPass(state, pass, undefined);
    } while (
      state.requested ||
      state.events.length >= this.#config.maxEvents ||
      state.bytes >= this.#config.maxBytes
    );
  }

  /**
   * Sends the batches of one run, in order, up to `maxConcurrentFlushes` at a time: AWS has
   * allowed concurrent PutLogEvents on one stream since January 2023 (rules document), and one
   * request at a time would leave a busy stream far behind a plain SDK loop. Two rules keep the
   * stored order right: a batch that starts at the very timestamp the previous one ends at waits
   * for it (ties, such as the parts of a split event, are stored in the order they were added),
   * and a stream that holds a legacy sequence token sends one batch at a time. The planner cuts
   * between timestamps where it can (#drain), so the first rule only holds back runs of equal
   * timestamps longer than half a batch. Returns undefined
   * when every batch is settled; else, in order, the failed batches and those never sent.
   */
  async #sendAll(state: StreamState, batches: readonly PlannedBatch[]): Promise<RequeuePiece[] | undefined> {
    const n = batches.length;
    // Most runs are one batch: send it without the lanes' bookkeeping (a stream that fills no
    // batch, as when a full buffer sends 1,000 streams, paid for it in every flush call).
    if (n === 1) {
      const batch = batches[0] as PlannedBatch;
      const failure = await this.#send(state, batch.events, batch.bytes);
      return failure === undefined ? undefined : piecesOf(failure);
    }
    const outcome: Array<SendFailure | undefined> = new Array<SendFailure | undefined>(n);
    const started: boolean[] = new Array<boolean>(n).fill(false);
    const finished: Array<Promise<void>> = [];
    const markFinished: Array<() => void> = [];
    for (let i = 0; i < n; i++) finished.push(new Promise<void>((resolve) => markFinished.push(resolve)));
    let next = 0;
    let failed = false;
    const lane = async (): Promise<void> => {
      while (!failed && next < n) {
        const i = next++;
        const batch = batches[i] as PlannedBatch;
        const previous = batches[i - 1];
        if (previous !== undefined && lastTimestamp(previous) === (batch.events[0] as InputLogEvent).timestamp) {
          await finished[i - 1];
        }
        if (failed) {
          (markFinished[i] as () => void)();
          continue;
        }
        started[i] = true;
        try {
          outcome[i] = await this.#send(state, batch.events, batch.bytes);
        } finally {
          (markFinished[i] as () => void)();
        }
        if (outcome[i] !== undefined) failed = true;
      }
    };
    const sequential = this.#tokens.getToken(state.group, state.stream) !== undefined;
    const lanes = sequential ? 1 : Math.min(n, this.#config.maxConcurrentFlushes);
    const running: Array<Promise<void>> = [];
    for (let l = 0; l < lanes; l++) running.push(lane());
    await Promise.all(running);
    if (!failed) return undefined;
    const pieces: RequeuePiece[] = [];
    for (let i = 0; i < n; i++) {
      const failure = outcome[i];
      if (failure !== undefined) pieces.push(...piecesOf(failure));
      else if (!started[i]) pieces.push({ events: (batches[i] as PlannedBatch).events });
    }
    return pieces;
  }

  /**
   * Sends one batch until it is settled (delivered, rejected or dropped: returns undefined) or
   * cannot be (returns the failure). Retries retryable errors with back-off; bisects a batch the
   * service calls invalid to isolate the events it refuses.
   */
  async #send(state: StreamState, events: InputLogEvent[], bytes: number): Promise<SendFailure | undefined> {
    for (let attempt = 1; ; attempt++) {
      if (this.#abandoned) return { events, error: new BufferStoppedError(), retryable: true };
      await this.#acquireSlot();
      if (this.#abandoned) {
        // stop()'s deadline passed while this batch waited for a slot: never call after it.
        this.#releaseSlot();
        return { events, error: new BufferStoppedError(), retryable: true };
      }
      let result: unknown;
      let error: unknown;
      let failed = false;
      this.#activeCalls++;
      try {
        result = await this.#invoke(state, events);
      } catch (e) {
        failed = true;
        error = e;
      } finally {
        this.#activeCalls--;
        this.#callsSettled++;
        this.#releaseSlot();
      }
      if (!failed) {
        this.#settleDelivered(state, events, bytes, result);
        return undefined;
      }
      if (this.#abandoned) return { events, error, retryable: true };
      const kind = classifyError(error);
      if (kind === 'already-accepted') {
        // Legacy: the service already stored this data. Never send it again.
        this.#settleDelivered(state, events, bytes, undefined);
        return undefined;
      }
      if (kind === 'invalid') {
        if (events.length === 1) {
          this.#eventsInFlight--;
          this.#bytesInFlight -= bytes;
          this.#countDrop(events, 'invalid', error);
          return undefined;
        }
        const middle = events.length >>> 1;
        const left = events.slice(0, middle);
        const right = events.slice(middle);
        const leftBytes = sumSizes(left);
        const leftFailure = await this.#send(state, left, leftBytes);
        if (leftFailure !== undefined) {
          return { ...leftFailure, untried: leftFailure.untried === undefined ? right : leftFailure.untried.concat(right) };
        }
        return this.#send(state, right, bytes - leftBytes);
      }
      if (!isRetryable(kind)) return { events, error, retryable: false };
      if (kind === 'sequence-token') {
        this.#tokens.invalidateToken(state.group, state.stream);
        const expected = expectedSequenceToken(error);
        if (expected !== undefined) this.#tokens.setToken(state.group, state.stream, expected);
      }
      const now = this.#now();
      const withinBudget = this.#deadline === undefined ? attempt <= this.#config.maxRetries : now < this.#deadline;
      if (!withinBudget) return { events, error, retryable: true };
      const base = kind === 'throttling' ? this.#config.throttleBaseDelayMs : this.#config.retryBaseDelayMs;
      let delay = backoffDelay(state.failureStreak + attempt, base, this.#config.retryMaxDelayMs, this.#random);
      if (this.#deadline !== undefined) delay = Math.min(delay, Math.max(0, this.#deadline - now));
      this.#retries++;
      this.#call(this.#hooks.onRetry, { logGroup: state.group, logStream: state.stream, attempt, delayMs: delay, error });
      await this.#sleep(delay);
    }
  }

  /** One call of the flush function, cut off after flushTimeoutMs or at stop()'s deadline. */
  #invoke(state: StreamState, events: InputLogEvent[]): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      // Past stop()'s deadline, do not call at all.
      if (this.#abandoned) {
        reject(new BufferStoppedError());
        return;
      }
      // Made on first use: most flush functions that never look at the signal (and every call
      // that settles in time) skip the cost of an AbortController per call.
      let controller: AbortController | undefined;
      // (A signal read only after the abort must still read as aborted: make it, then abort it.)
      const abort = (reason: unknown): void => (controller ??= new AbortController()).abort(reason);
      let settled = false;
      const finish = (): boolean => {
        if (settled) return false;
        settled = true;
        this.#clearWaitTimer(timer);
        this.#onAbandon.delete(onAbandon);
        return true;
      };
      const onAbandon = (): void => {
        if (!finish()) return;
        abort(new BufferStoppedError());
        reject(new BufferStoppedError());
      };
      const timeoutMs = this.#config.flushTimeoutMs;
      const timer = this.#waitTimer(() => {
        if (!finish()) return;
        const error = new FlushTimeoutError(timeoutMs);
        abort(error);
        reject(error);
      }, timeoutMs);
      this.#onAbandon.add(onAbandon);
      let pending: unknown;
      try {
        pending = this.#flushFunction(state.group, state.stream, events, this.#tokens.getToken(state.group, state.stream), {
          get signal(): AbortSignal {
            controller ??= new AbortController();
            return controller.signal;
          },
        });
      } catch (error) {
        // A flush function that throws synchronously is treated like one that rejects.
        if (finish()) reject(error);
        return;
      }
      Promise.resolve(pending).then(
        (value) => {
          if (finish()) resolve(value);
        },
        (error: unknown) => {
          if (finish()) reject(error);
        },
      );
    });
  }

  #settleDelivered(state: StreamState, events: InputLogEvent[], bytes: number, result: unknown): void {
    this.#eventsInFlight -= events.length;
    this.#bytesInFlight -= bytes;
    this.#flushesCompleted++;
    let info: FlushResult['rejectedLogEventsInfo'];
    let nonsense: InvalidFlushResultError | undefined;
    if (result !== undefined && result !== null) {
      if (typeof result !== 'object') {
        // The function resolved, so it claims delivery; say (after counting) that its answer made no sense.
        nonsense = new InvalidFlushResultError(result);
      } else {
        const { nextSequenceToken, rejectedLogEventsInfo } = result as FlushResult;
        if (typeof nextSequenceToken === 'string') this.#tokens.setToken(state.group, state.stream, nextSequenceToken);
        if (rejectedLogEventsInfo !== null && typeof rejectedLogEventsInfo === 'object') info = rejectedLogEventsInfo;
      }
    }
    let delivered = events.length;
    let deliveredBytes = bytes;
    if (info !== undefined) {
      for (const [reason, rejected] of rejectedGroups(events, info)) {
        if (rejected.length === 0) continue;
        delivered -= rejected.length;
        deliveredBytes -= sumSizes(rejected);
        this.#eventsRejected += rejected.length;
        this.#rejectedByReason[reason] += rejected.length;
      }
    }
    this.#unspool(events);
    this.#eventsDelivered += delivered;
    this.#bytesDelivered += deliveredBytes;
    // Counters first, callbacks after: a hook that reads getMetrics() sees the identity hold.
    if (nonsense !== undefined) this.#report(nonsense);
    if (info !== undefined) {
      for (const [reason, rejected] of rejectedGroups(events, info)) {
        this.#call(this.#hooks.onRejected, rejected, reason, state.group, state.stream);
      }
    }
    this.#wakeSpaceWaiters();
  }

  /**
   * Puts failed batches and the unsent rest back at the front of the stream's buffer, in their
   * order. Events that failed with a non-retryable error are put back at most maxRequeues times,
   * then dropped with reason `failed`. Returns how many events went back.
   */
  #requeue(state: StreamState, pieces: readonly RequeuePiece[]): number {
    const back: InputLogEvent[] = [];
    for (const { events, failure } of pieces) {
      if (failure === undefined || failure.retryable) {
        for (const event of events) back.push(event);
        continue;
      }
      const dropped: InputLogEvent[] = [];
      for (const event of events) {
        const count = (this.#requeues.get(event) ?? 0) + 1;
        if (count > this.#config.maxRequeues) {
          dropped.push(event);
        } else {
          this.#requeues.set(event, count);
          back.push(event);
        }
      }
      if (dropped.length > 0) {
        this.#eventsInFlight -= dropped.length;
        this.#bytesInFlight -= sumSizes(dropped);
        this.#countDrop(dropped, 'failed', failure.error);
      }
    }
    const backBytes = sumSizes(back);
    this.#eventsInFlight -= back.length;
    this.#bytesInFlight -= backBytes;
    this.#eventsBuffered += back.length;
    this.#bytesBuffered += backBytes;
    state.events = back.concat(state.events);
    // Put back in front of newer events: the next flush sorts (and finds them in order, mostly).
    if (back.length > 0) state.unordered = true;
    state.bytes += backBytes;
    if (this.#timer === undefined) this.#armTimer();
    return back.length;
  }

  /** Counts a drop (the caller has already taken the events out of buffered/in-flight) and reports it. */
  #countDrop(events: InputLogEvent[], reason: DropReason, error: unknown): void {
    // Events dropped at shutdown stay in the spool: the next process delivers them.
    if (reason !== 'shutdown') this.#unspool(events);
    this.#eventsDropped += events.length;
    this.#droppedByReason[reason] += events.length;
    this.#call(this.#hooks.onDrop, events, reason, error);
    this.#wakeSpaceWaiters();
  }

  // ---------------------------------------------------------------- concurrency

  #acquireSlot(): Promise<void> {
    if (this.#slotsInUse < this.#config.maxConcurrentFlushes) {
      this.#slotsInUse++;
      return RESOLVED;
    }
    return new Promise<void>((resolve) => this.#slotWaiters.push(resolve));
  }

  #releaseSlot(): void {
    const next = this.#slotWaiters.shift();
    // Hand the slot straight to the next waiter, first come first served.
    if (next !== undefined) next();
    else this.#slotsInUse--;
  }

  // ---------------------------------------------------------------- timers

  #armTimer(): void {
    if (this.#timer !== undefined || this.#closed) return;
    if (!this.#started && this.#spaceWaiters.length === 0) return;
    if (this.#eventsBuffered === 0 && this.#spaceWaiters.length === 0) return;
    // One timer, armed only while something is buffered; it keeps the process alive only while someone waits (#refreshKeepAlive).
    this.#timer = setTimeout(() => this.#onTimer(), this.#config.flushIntervalMs);
    if (!this.#keepAlive) this.#timer.unref();
  }

  #onTimer(): void {
    this.#timer = undefined;
    const now = this.#now();
    for (const state of this.#states()) {
      if (state.events.length > 0 && state.running === undefined && state.retryAt <= now) this.#trigger(state);
    }
    this.#armTimer();
  }

  /** A timer that is ref()'d only while someone awaits flush()/stop(). */
  #waitTimer(callback: () => void, ms: number): ReturnType<typeof setTimeout> {
    const timer = setTimeout(() => {
      this.#waitTimers.delete(timer);
      callback();
    }, ms);
    if (!this.#keepAlive) timer.unref();
    this.#waitTimers.add(timer);
    return timer;
  }

  #clearWaitTimer(timer: ReturnType<typeof setTimeout>): void {
    clearTimeout(timer);
    this.#waitTimers.delete(timer);
  }

  #sleep(ms: number): Promise<void> {
    // Already abandoned (stop()'s deadline has passed): nothing would end the sleep at the
    // deadline any more, so it would run its full length past it.
    if (ms <= 0 || this.#abandoned) return RESOLVED;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.#clearWaitTimer(timer);
        this.#onAbandon.delete(done);
        resolve();
      };
      const timer = this.#waitTimer(done, ms);
      this.#onAbandon.add(done);
    });
  }

  /** stop()'s deadline: everything waiting or calling gives up now, and nothing starts after. */
  #abandonAll(): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    const callbacks = [...this.#onAbandon];
    this.#onAbandon.clear();
    for (const callback of callbacks) callback();
  }

  #hold(): void {
    this.#holders++;
    this.#refreshKeepAlive();
  }

  #release(): void {
    this.#holders--;
    this.#refreshKeepAlive();
  }

  /**
   * Timers keep the process alive only while someone waits on the buffer: a caller of
   * flush()/flushAll()/stop(), or an add() waiting for room (its caller awaits delivery of what
   * is ahead of it: if the process exited in a back-off, those events would be lost silently).
   * Otherwise every timer is unref()'d: a buffer never keeps a process alive by itself.
   */
  #refreshKeepAlive(): void {
    const keep = this.#holders > 0 || this.#spaceWaiters.length > 0;
    if (keep === this.#keepAlive) return;
    this.#keepAlive = keep;
    for (const timer of this.#waitTimers) {
      if (keep) timer.ref();
      else timer.unref();
    }
    if (this.#timer !== undefined) {
      if (keep) this.#timer.ref();
      else this.#timer.unref();
    }
  }

  #keepAlive = false;

  // ---------------------------------------------------------------- stopping

  async #stop(timeoutMs: number): Promise<void> {
    this.#closed = true;
    this.#started = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    // add() calls still waiting for room were never accepted: tell their callers.
    for (const waiter of this.#spaceWaiters.splice(0)) {
      if (waiter.split?.accepted === true) {
        // Part of an event whose first parts are in: take the rest too (past the bound, by at
        // most one event), so that it is delivered or dropped as `shutdown`, and reported.
        this.#push(waiter.state, waiter.event, waiter.size);
        waiter.resolve();
      } else {
        waiter.reject(new BufferStoppedError());
      }
    }
    this.#refreshKeepAlive();
    this.#waitingBytes = 0;
    this.#hold();
    this.#deadline = this.#now() + timeoutMs;
    const deadlineTimer = this.#waitTimer(() => this.#abandonAll(), timeoutMs);
    try {
      while (!this.#abandoned && this.#eventsBuffered + this.#eventsInFlight > 0) {
        const before = this.#eventsBuffered + this.#eventsInFlight;
        try {
          await this.#flushStreams([...this.#states()]);
        } catch {
          // Failures were requeued (or dropped after maxRequeues); go round again until the deadline.
          // At least 1 ms: with retryBaseDelayMs 0 a zero sleep is a microtask, and a microtask
          // loop never lets the deadline timer fire (stop() hung for ever against a dead endpoint).
          if (this.#eventsBuffered + this.#eventsInFlight >= before) await this.#sleep(Math.max(1, this.#config.retryBaseDelayMs));
        }
      }
    } finally {
      this.#clearWaitTimer(deadlineTimer);
      this.#abandonAll();
      // Whatever is still buffered could not be delivered in time.
      for (const state of this.#states()) {
        if (state.running !== undefined) await state.running.catch(() => undefined);
        if (state.events.length === 0) continue;
        const left = state.events;
        state.events = [];
        this.#eventsBuffered -= left.length;
        this.#bytesBuffered -= state.bytes;
        state.bytes = 0;
        this.#countDrop(left, 'shutdown', undefined);
      }
      this.#spool?.close();
      this.#release();
    }
  }

  // ---------------------------------------------------------------- durable mode

  /**
   * Replays records a previous process left, in order, while they fit under maxBufferedBytes
   * (at least one when nothing is buffered or in flight, so replay always progresses). Called
   * at construction and whenever room frees up (#wakeSpaceWaiters: events settled). Stops for
   * good at stop()'s deadline: what is not replayed stays on disk, never counted as accepted.
   */
  #replayMore(): void {
    const spool = this.#spool;
    if (spool === undefined || this.#replaying || !this.#replayPending) return;
    if (this.#abandoned) return;
    this.#replaying = true;
    let full = false;
    try {
      for (;;) {
        const next = spool.peekReplay();
        if (next === undefined) break;
        const size = sizeOf(next.event);
        const total = this.#bytesBuffered + this.#bytesInFlight;
        if (total > 0 && total + size > this.#maxBufferedBytes) {
          full = true;
          break;
        }
        spool.takeReplay();
        this.#replay(next.group, next.stream, next.event, next.entry);
      }
    } catch (error) {
      // peekReplay reports what it skips through onError; anything else ends replay in this process
      // (the records stay on disk).
      this.#report(error);
      full = false;
    } finally {
      this.#replaying = false;
    }
    if (!full) {
      this.#replayPending = false;
      // add()s that waited behind the replay: admit them (they are newer).
      if (this.#spaceWaiters.length > 0) this.#wakeSpaceWaiters();
      return;
    }
    // The buffer is full of replayed events: send them (as #overflow does for a full buffer).
    if (this.#started || this.#spaceWaiters.length > 0) this.#sendIdleStreams();
  }

  /** Puts back an event read from the spool; it stays in its old segment until settled. */
  #replay(group: string, stream: string, event: InputLogEvent, entry: SpoolEntry): void {
    let state: StreamState;
    try {
      state = this.#stateFor(group, stream);
    } catch (error) {
      this.#report(error);
      this.#spool?.settle([entry]);
      return;
    }
    this.#segmentOf.set(event, entry);
    this.#push(state, event, sizeOf(event));
  }

  /** Settled events leave the spool; a segment whose events are all settled is deleted. */
  #unspool(events: readonly InputLogEvent[]): void {
    const spool = this.#spool;
    if (spool === undefined) return;
    const entries: SpoolEntry[] = [];
    for (const event of events) {
      const entry = this.#segmentOf.get(event);
      if (entry === undefined) continue;
      this.#segmentOf.delete(event);
      entries.push(entry);
    }
    // One ack record per segment for the whole batch.
    if (entries.length > 0) spool.settle(entries);
  }

  // ---------------------------------------------------------------- reporting

  #report(error: unknown): void {
    const onError = this.#hooks.onError;
    try {
      if (onError !== undefined) onError(error);
      else console.warn(`[cwbatch] ${describe(error)}`);
    } catch {
      // A throwing onError must not take the host application down.
    }
  }

  /** Calls a user callback; a callback that throws is reported, never propagated. */
  #call<A extends unknown[]>(callback: ((...args: A) => void) | undefined, ...args: A): void {
    if (callback === undefined) return;
    try {
      callback(...args);
    } catch (error) {
      this.#report(error);
    }
  }
}

/** What goes back to the buffer for a failed batch: its events (blamed), then the untried rest of it (not blamed). */
function piecesOf(failure: SendFailure): RequeuePiece[] {
  const pieces: RequeuePiece[] = [{ events: failure.events, failure }];
  if (failure.untried !== undefined) pieces.push({ events: failure.untried });
  return pieces;
}

function lastTimestamp(batch: PlannedBatch): number {
  return (batch.events[batch.events.length - 1] as InputLogEvent).timestamp;
}

function sizeOf(event: InputLogEvent): number {
  return calculateEventSize(event.message);
}

function sumSizes(events: readonly InputLogEvent[]): number {
  let total = 0;
  for (const event of events) total += sizeOf(event);
  return total;
}

/** The events a rejectedLogEventsInfo names, by reason (the index semantics: rules.ts, rejectedRanges). */
function rejectedGroups(
  events: InputLogEvent[],
  info: NonNullable<FlushResult['rejectedLogEventsInfo']>,
): Array<[RejectReason, InputLogEvent[]]> {
  return rejectedRanges(info, events.length).map(({ reason, start, end }) => [reason, events.slice(start, end)]);
}
