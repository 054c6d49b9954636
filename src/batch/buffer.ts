/**
 * BatchBufferImpl: the public facade of the core. It buffers events per (log group, log stream),
 * cuts them into batches that PutLogEvents accepts, and hands them to a FlushFunction with
 * retries. It holds no logic of its own beyond the order of the steps; each concern is one file,
 * wired here through small interfaces (docs/architecture.md walks an event through them):
 *
 *   add -> check-event -> stream-registry -> admission -> stream-buffer -> scheduler -> planner
 *       -> sender (retry.nextStep, flush-call) -> settlement -> ledger, notices
 *
 * with lifecycle (timers, keep-alive, stop deadline, abandonment), fairness (add()'s turn of the
 * event loop) and durable (the spool) beside them.
 *
 * The accounting identity (architecture.md, "Nothing is lost silently"; ledger.ts): at every moment
 * eventsAccepted = eventsDelivered + eventsRejected + eventsDropped + eventsBuffered + eventsInFlight.
 */
import { ADMITTED, type Admission, type SplitEvent } from './admission.js';
import { assemble } from './assembly.js';
import { checkedMessage, checkedTimestamp, wellFormed } from './check-event.js';
import { validateBatchConfig } from './config.js';
import type { Durable } from './durable.js';
import { BufferStoppedError, InvalidLogEventError } from './errors.js';
import { calculateEventSize, splitMessage, truncateMessage } from './event-size.js';
import type { Fairness } from './fairness.js';
import type { Ledger } from './ledger.js';
import type { Lifecycle } from './lifecycle.js';
import { EVENT_OVERHEAD_BYTES } from './limits.js';
import type { Notices } from './notices.js';
import type { Scheduler } from './scheduler.js';
import type { Settlement } from './settlement.js';
import type { StreamBuffer } from './stream-buffer.js';
import type { StreamRegistry } from './stream-registry.js';
import { serializeStructuredEvent } from './structured.js';
import type {
  BatchBuffer,
  BatchBufferOptions,
  BatchConfig,
  BatchHooks,
  BatchMetrics,
  FlushFunction,
  InputLogEvent,
  StopOptions,
  StructuredLogEvent,
} from './types.js';

/** Taken at load: add()'s pauses must turn the real event loop, even under a test's fake timers. */
const realSetImmediate = setImmediate;

/** The seed's batch buffer. See the README for the behaviour, defaults and metrics. */
export class BatchBufferImpl implements BatchBuffer {
  readonly #config: BatchConfig;
  readonly #hooks: BatchHooks;
  readonly #now: () => number;
  // The limits add() reads on every call, kept as fields of their own (one load, not two).
  readonly #maxEventBytes: number;
  readonly #maxMessageBytes: number;
  readonly #lifecycle: Lifecycle;
  readonly #ledger: Ledger;
  readonly #streams: StreamRegistry;
  readonly #notices: Notices;
  readonly #fairness: Fairness;
  /** Durable mode (the spool); undefined otherwise. */
  readonly #durable: Durable | undefined;
  readonly #settlement: Settlement;
  readonly #scheduler: Scheduler;
  readonly #admission: Admission;
  #stopping: Promise<void> | undefined;

  /**
   * @param flushFunction sends one batch (see {@link FlushFunction}).
   * @param options configuration (see {@link BatchConfig}; every field optional) and hooks.
   * @throws TypeError or RangeError naming the option when an option is invalid.
   */
  constructor(flushFunction: FlushFunction, options: BatchBufferOptions = {}) {
    if (typeof flushFunction !== 'function') {
      throw new TypeError(`Expected \`flushFunction\` to be a function, got ${typeof flushFunction}`);
    }
    const config = validateBatchConfig(options);
    validateHooks(options);
    this.#config = config;
    this.#hooks = options;
    this.#now = options.now ?? Date.now;
    this.#maxEventBytes = config.maxEventBytes;
    this.#maxMessageBytes = config.maxEventBytes - EVENT_OVERHEAD_BYTES;
    const parts = assemble({ flushFunction, config, options, now: this.#now, random: options.random ?? Math.random });
    this.#lifecycle = parts.lifecycle;
    this.#ledger = parts.ledger;
    this.#streams = parts.streams;
    this.#notices = parts.notices;
    this.#fairness = parts.fairness;
    this.#durable = parts.durable;
    this.#settlement = parts.settlement;
    this.#scheduler = parts.scheduler;
    this.#admission = parts.admission;
    // Events a previous process left in the spool go first, in the order they were written:
    // as many as fit under maxBufferedBytes now, the rest as room frees up.
    parts.durable?.replayMore();
  }

  /** The resolved configuration (defaults filled in). */
  get config(): Readonly<BatchConfig> {
    return this.#config;
  }

  /** Starts the background flush timer (unref()'d: it never keeps the process alive). */
  start(): void {
    if (!this.#lifecycle.start()) return;
    this.#scheduler.startTimer();
    // Replay filled the buffer (more is on disk): send it now rather than after flushIntervalMs.
    if (this.#durable?.replayPending === true) this.#scheduler.sendIdle();
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
    // The event travels by value (timestamp, message) into its stream's buffer: no object per
    // buffered event (see StreamBuffer).
    let timestamp: number;
    let message: string;
    let target: StreamBuffer;
    try {
      if (this.#lifecycle.closed) return Promise.reject(new BufferStoppedError());
      timestamp = checkedTimestamp(event);
      message = checkedMessage(event);
      target = this.#streams.get(logGroup, logStream);
    } catch (error) {
      return Promise.reject(error);
    }
    // Between the two try blocks: inside one, V8 12 (Node 22) calls Buffer.byteLength through
    // its slow API path (~300 instructions per add() once add() inlines it). It cannot throw: the
    // message is a string by now.
    const size = calculateEventSize(message);
    message = wellFormed(message, size);
    try {
      if (size > this.#maxEventBytes) return this.#addOversized(target, { timestamp, message }, size);
      const accepted = this.#admission.admitValue(target, timestamp, message, size);
      if (accepted !== ADMITTED) return accepted;
      // A caller awaiting add() in a burst never reaches the event loop (fairness.ts): resolve
      // after one turn of it when flush runs are waiting for I/O.
      return this.#fairness.countAccepted(size) ? new Promise<void>((resolve) => realSetImmediate(resolve)) : ADMITTED;
    } catch (error) {
      return Promise.reject(error);
    }
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
    if (this.#lifecycle.closed) throw new BufferStoppedError();
    const timestamp = checkedTimestamp(event);
    let message = checkedMessage(event);
    const target = this.#streams.get(logGroup, logStream);
    const size = calculateEventSize(message);
    message = wellFormed(message, size);
    // Durable mode: records are written once per event-loop turn (group commit) and add()
    // resolves after the write, so tryAdd() cannot acknowledge an event synchronously.
    if (size > this.#maxEventBytes || this.#durable !== undefined) return false;
    // Under 'block', admit() would make it wait (behind others, or for room): leave it to add().
    if (this.#config.overflowPolicy === 'block' && this.#admission.wouldWait(target, size)) return false;
    // Otherwise admit() settles at once (buffered, or dropped and reported under a drop policy).
    // Never refused only to give the event loop a turn, as add() does: a caller of tryAdd() is
    // usually inside a synchronous burst it cannot leave (a winston log call), and a refusal
    // would send the rest of its burst down the slow path. Counted, so that add() looks on time.
    void this.#admission.admitValue(target, timestamp, message, size);
    this.#fairness.countAccepted(size);
    return true;
  }

  /**
   * Buffers a structured event as one JSON object (see `serializeStructuredEvent`). The timestamp
   * defaults to now (the buffer's clock) when it is `undefined` or `null`. Never throws: awkward
   * fields (circular, BigInt, Errors, getters, `toJSON` or `toString` that throw, Proxies) are
   * serialised by the documented rules; a timestamp that cannot be read (its getter throws) or is
   * not an integer >= 0 rejects the returned promise with `InvalidLogEventError` naming
   * `timestamp`, as `add()` does, and nothing is buffered.
   */
  addStructured(logGroup: string, logStream: string, event: StructuredLogEvent): Promise<void> {
    try {
      if (event === null || typeof event !== 'object') {
        return Promise.reject(new InvalidLogEventError('event', event, 'must be a structured event object'));
      }
      let given: unknown;
      try {
        // Read once: a getter may throw, or answer differently each time.
        given = event.timestamp;
      } catch (error) {
        return Promise.reject(new InvalidLogEventError('timestamp', undefined, `could not be read (${describeThrown(error)})`));
      }
      const timestamp = (given ?? this.#now()) as number;
      return this.add(logGroup, logStream, { timestamp, message: serializeStructuredEvent(event) });
    } catch (error) {
      // Nothing above should throw (the serialiser never does); if anything does, say so through the promise.
      return Promise.reject(error);
    }
  }

  /**
   * Sends everything buffered for one stream and resolves when it is delivered (or rejected or
   * dropped, each reported). If a flush of that stream is running, waits for it and then sends
   * what is left. Rejects with `FlushFailedError` when events could not be delivered; they stay
   * buffered for a later flush.
   */
  async flush(logGroup: string, logStream: string): Promise<void> {
    const target = this.#streams.find(logGroup, logStream);
    if (target === undefined) return;
    this.#lifecycle.hold();
    try {
      await this.#scheduler.flush(target);
    } finally {
      this.#lifecycle.release();
    }
  }

  /** {@link flush} for every stream, in parallel (at most `maxConcurrentFlushes` calls at once). */
  async flushAll(): Promise<void> {
    this.#lifecycle.hold();
    try {
      await this.#scheduler.flushMany([...this.#streams.all()]);
    } finally {
      this.#lifecycle.release();
    }
  }

  /** Counters; see {@link BatchMetrics}. */
  getMetrics(): BatchMetrics {
    const metrics = this.#ledger.metrics();
    metrics.streams = this.#streams.size;
    return metrics;
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

  /** An event over maxEventBytes: dropped, truncated or split, per `oversizedEventPolicy`. */
  async #addOversized(target: StreamBuffer, event: InputLogEvent, size: number): Promise<void> {
    const { timestamp, message } = event;
    const policy = this.#config.oversizedEventPolicy;
    const info = { logGroup: target.group, logStream: target.stream, bytes: size, action: policy };
    if (policy === 'drop') {
      this.#ledger.acceptedForDrop();
      this.#settlement.drop(target, [event], 'oversized', undefined);
      this.#notices.call(this.#hooks.onOversized, { ...info, parts: 0 });
      return;
    }
    if (policy === 'truncate') {
      this.#ledger.eventTruncated();
      const truncated = truncateMessage(message, this.#maxMessageBytes);
      this.#notices.call(this.#hooks.onOversized, { ...info, parts: 1 });
      return this.#admission.admit(target, { timestamp, message: truncated }, calculateEventSize(truncated));
    }
    const parts = splitMessage(message, this.#maxMessageBytes);
    this.#ledger.eventSplit();
    this.#notices.call(this.#hooks.onOversized, { ...info, parts: parts.length });
    // Parts keep the timestamp and their order (the sort is stable), so they arrive in sequence.
    // All parts are admitted now, in order, before any later add() can come between them: each
    // is buffered at once or queued (first come, first served) behind whoever already waits.
    const split: SplitEvent = { accepted: false };
    const pending = parts.map((part) => this.#admission.admit(target, { timestamp, message: part }, calculateEventSize(part), split));
    await Promise.all(pending);
  }

  async #stop(timeoutMs: number): Promise<void> {
    const lifecycle = this.#lifecycle;
    lifecycle.close();
    this.#scheduler.stopTimer();
    this.#admission.closeWaiters();
    lifecycle.hold();
    const deadline = lifecycle.startDeadline(this.#now(), timeoutMs);
    try {
      await this.#deliverUntilDeadline();
    } finally {
      lifecycle.clearTimer(deadline);
      lifecycle.abandon();
      await this.#dropWhatIsLeft();
      this.#durable?.close();
      lifecycle.release();
    }
  }

  /** stop(): flushes every stream, round after round, until nothing is left or the deadline passes. */
  async #deliverUntilDeadline(): Promise<void> {
    const ledger = this.#ledger;
    while (!this.#lifecycle.abandoned && ledger.eventsPending > 0) {
      const before = ledger.eventsPending;
      try {
        await this.#scheduler.flushMany([...this.#streams.all()]);
      } catch {
        // Failures were requeued (or dropped after maxRequeues); go round again until the deadline.
        // At least 1 ms: with retryBaseDelayMs 0 a zero sleep is a microtask, and a microtask
        // loop never lets the deadline timer fire (stop() hung for ever against a dead endpoint).
        if (ledger.eventsPending >= before) await this.#lifecycle.sleep(Math.max(1, this.#config.retryBaseDelayMs));
      }
    }
  }

  /** stop()'s deadline passed: whatever is still buffered could not be delivered in time. */
  async #dropWhatIsLeft(): Promise<void> {
    for (const target of this.#streams.all()) {
      if (target.running !== undefined) await target.running.catch(() => undefined);
      if (target.count === 0) continue;
      const left = target.takeAll();
      this.#ledger.unbuffered(left.events.length, left.bytes);
      this.#settlement.drop(target, left.events, 'shutdown', undefined);
    }
  }
}

/** A short description of a thrown value, itself never throwing. */
function describeThrown(error: unknown): string {
  try {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } catch {
    return 'unprintable error';
  }
}

/** The callbacks and injectable sources must be functions when given. */
function validateHooks(options: BatchBufferOptions): void {
  for (const hook of ['onRejected', 'onDrop', 'onError', 'onOversized', 'onRetry', 'now', 'random'] as const) {
    const value = options[hook];
    if (value !== undefined && typeof value !== 'function') {
      throw new TypeError(`Expected \`${hook}\` to be a function, got ${typeof value}`);
    }
  }
}
