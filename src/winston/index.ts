/**
 * `cwbatch/winston`: a winston 3 transport that ships every log line to CloudWatch Logs.
 *
 * ```js
 * const transport = new CloudWatchTransport({ logGroupName: '/app/api', logStreamName: '{hostname}/{pid}' });
 * const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] });
 * ```
 *
 * - `log(info, next)` buffers the line winston formatted (`info[Symbol.for('message')]`), with
 *   `info.timestamp` as the event time when present, then emits `'logged'` and calls `next`
 *   once the buffer accepted it: synchronously when it has room, else once room is made (under
 *   `overflowPolicy: 'block'`: the back-pressure reaches winston's stream), records kept in order.
 *   A plain record the buffer takes at once is taken in `write()` itself, without the stream's
 *   per-record machinery; `logv` takes the batches winston-transport's `_writev` hands over.
 * - `logger.end()` then the logger's `'finish'` means delivered: `_final` stops the buffer, which
 *   delivers everything within `shutdownTimeoutMs` (winston's logger waits for its transports'
 *   `'finish'`).
 * - `await transport.flush()` delivers what is buffered and keeps the transport open (Lambda).
 * - Failures are emitted as `'warn'` (winston re-emits them on the logger) with a
 *   {@link DeliveryWarning}, never as `'error'`; when nobody listens, they go to `console.warn`.
 */
import TransportStream from 'winston-transport';
import { describe } from '../batch/errors.js';
import type { BatchMetrics, FlushFunction } from '../batch/types.js';
import type { LogEventsService } from '../aws/service.js';
import { DeliveryWarning, eventTimestamp, TransportSink, type CloudWatchTransportOptions, type TransportFailure } from '../aws/transport.js';
import { TransportIntake } from '../aws/transport-intake.js';

export { DeliveryWarning } from '../aws/transport.js';
export type { TransportFailure } from '../aws/transport.js';

const MESSAGE = Symbol.for('message');
const LEVEL = Symbol.for('level');

/** The fields of readable-stream's writable state that say whether anything waits in the stream. */
interface WritableState {
  length: number;
  corked: number;
  ending: boolean;
  destroyed: boolean;
}

/**
 * Options of {@link CloudWatchTransport}: {@link CloudWatchTransportOptions} (group and stream
 * names, evaluated per record: templates such as `'{hostname}/{date}'` or `'app-{field:level}'`
 * read `info`, and functions `(event, info) => name`; client and group-creation settings; batch
 * settings), plus winston's own.
 */
export interface WinstonTransportOptions extends CloudWatchTransportOptions {
  /** winston: most verbose level this transport writes. Default: the logger's. */
  level?: string | undefined;
  /** winston: a format applied by this transport only. */
  format?: TransportStream.TransportStreamOptions['format'];
  /** winston: write nothing. Default `false`. */
  silent?: boolean | undefined;
  /** winston: also log uncaught exceptions. Default `false`. */
  handleExceptions?: boolean | undefined;
  /** winston: also log unhandled rejections. Default `false`. */
  handleRejections?: boolean | undefined;
  /** Send through this service (e.g. shared by several transports) instead of building a client from `clientConfig`. */
  service?: LogEventsService | undefined;
  /** Send through this flush function instead of CloudWatch (tests, other sinks). */
  flushFunction?: FlushFunction | undefined;
  /**
   * On the process's `beforeExit` (the event loop ran dry, so a process that simply ends), deliver
   * what is still buffered before it exits; and on `exit`, report anything left undelivered (after
   * `process.exit()` without a flush). Only these two events, never signals. Default `true`.
   */
  flushOnExit?: boolean | undefined;
  /**
   * How many records in a row the transport takes at once (inside winston's `write`) before it
   * lets the event loop turn: past it, the next record waits for the next turn, so winston's
   * stream holds the records after it, whole and unformatted, until then, as it does for its
   * `File` transport. Default {@link WINSTON_BURST_RECORDS} (`Infinity`): every record the buffer
   * has room for is taken at once (winston formats it inside the logging call), and only the
   * records past `maxBufferedBytes` (under `'block'`) wait in winston's stream. A smaller value
   * makes a long synchronous burst of logging return sooner, but not cheaper: the records it
   * leaves behind are formatted and buffered in the turns after it, on the same thread, and
   * meanwhile winston holds each as its whole `info` object (about twice the memory of the line
   * the buffer would keep). Logging that lets the event loop turn at least every N records (any
   * service that awaits anything) never meets it.
   */
  burstRecords?: number | undefined;
}

/**
 * Default `burstRecords`: no limit (bounded memory first). Issue 20's synchronous burst of
 * 1,000,000 records (winston's `timestamp()` + `json()`, against winston's `File` transport, same
 * run): with 10,000, the burst's loop returned sooner, but winston held ~990,000 whole `info`
 * objects for the turns after it, and the process's CPU and peak RSS were 0.61-0.66x and 0.71x
 * the `File` transport's; with no limit, 0.47-0.53x and 0.53x, the loop 1.05-1.46x
 * (bench/results/s6-winston-vs-file.md).
 */
const WINSTON_BURST_RECORDS = Infinity;

const WINSTON_KEYS = ['level', 'format', 'silent', 'handleExceptions', 'handleRejections'] as const;
const OWN_KEYS = [...WINSTON_KEYS, 'service', 'flushFunction', 'flushOnExit', 'burstRecords'] as const;

/** What a winston format's `transform` takes (logform's `TransformableInfo`). */
type FormatInput = Parameters<NonNullable<TransportStream['format']>['transform']>[0];

interface WinstonInfo {
  [key: string | symbol]: unknown;
  timestamp?: unknown;
}

/** A winston transport delivering to one CloudWatch Logs stream. */
export class CloudWatchTransport extends TransportStream {
  /** The buffer wired to CloudWatch (group, resolved stream name, metrics). */
  readonly sink: TransportSink;
  /** Waits on the records between the logger and the buffer (flush, a held-back end). */
  readonly #intake: TransportIntake;
  #stopping: Promise<void> | undefined;
  #onBeforeExit: (() => void) | undefined;
  #onExit: (() => void) | undefined;
  #exitFlush: Promise<void> | undefined;
  /** log() calls waiting for add() (the buffer could not take them at once); later ones go to add() too, behind them. */
  #waiting = 0;
  /** See `burstRecords`. */
  readonly #burstRecords: number;
  /** Records taken at once since the event loop last turned (counted up to `burstRecords`). */
  #taken = 0;
  /** Resolves at the next turn of the event loop once `burstRecords` were taken in a row; undefined otherwise. */
  #nextTurn: Promise<void> | undefined;
  /** Set by winston-transport when a logger pipes into this transport. */
  declare parent?: { listenerCount(event: string): number; readableLength?: number; writableLength?: number; level?: string } | null;
  /** Set by winston-transport from the logger it is piped from: level name -> severity (lower is more severe). */
  declare levels?: Record<string, number>;

  /** @throws TypeError / RangeError naming the option when an option is missing, unknown or invalid. */
  constructor(options: WinstonTransportOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`Expected the options of cwbatch/winston to be an object, got ${options === null ? 'null' : typeof options}`);
    }
    const base: TransportStream.TransportStreamOptions = {};
    for (const key of WINSTON_KEYS) if (options[key] !== undefined) (base as Record<string, unknown>)[key] = options[key];
    super(base);
    const { service, flushFunction, flushOnExit, burstRecords } = options;
    const rest: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options)) {
      if (!(OWN_KEYS as readonly string[]).includes(key)) rest[key] = value;
    }
    this.sink = new TransportSink({
      name: 'cwbatch/winston',
      options: rest,
      service,
      flushFunction,
      report: (failure) => this.#warn(failure),
    });
    this.#intake = new TransportIntake({ name: 'cwbatch/winston', sink: this.sink, report: (failure) => this.#warn(failure) });
    // A record that leaves the stream (or the logger's pipe) without reaching log(): filtered by level, unpiped, destroyed.
    const moved = (): void => this.#intake.notifySoon();
    this.on('unpipe', moved).on('close', moved).on('drain', moved);
    if (flushOnExit !== undefined && typeof flushOnExit !== 'boolean') {
      throw new TypeError(`Expected \`flushOnExit\` to be a boolean, got ${typeof flushOnExit}`);
    }
    if (burstRecords !== undefined && !(typeof burstRecords === 'number' && burstRecords >= 1 && (Number.isInteger(burstRecords) || burstRecords === Infinity))) {
      throw new RangeError(`Expected \`burstRecords\` to be an integer >= 1 or Infinity, got ${String(burstRecords)}`);
    }
    this.#burstRecords = burstRecords ?? WINSTON_BURST_RECORDS;
    if (flushOnExit ?? true) this.#installExitHooks();
  }

  /**
   * winston-transport's hook: buffer one formatted line, then `'logged'` and `next()`.
   *
   * When the buffer can take the line at once (`tryAdd`), both happen synchronously, so no record
   * waits in winston's own stream buffers (a synchronous burst would otherwise queue every record
   * there, one microtask each). Otherwise (full under `'block'`, oversized, durable mode) the
   * record waits for `add()`, and every later record waits behind it, in order: `log()` may be
   * called again before the previous `next` (winston's exception and rejection streams call it
   * directly, beside the logger's pipe; {@link logv} hands over a batch).
   */
  override log(info: WinstonInfo, next: () => void): void {
    const message = messageOf(info);
    const timestamp = eventTimestamp(info.timestamp, Date.now);
    if (this.#waiting === 0 && this.#takeNow(info, timestamp, message)) {
      next();
      return;
    }
    // add() keeps the order of its calls (those that must wait queue first come, first served),
    // so a record that waits is handed over at once rather than after the one before it: in
    // durable mode, a burst that logv() hands over then shares one write to the spool.
    this.#waiting++;
    const added = this.#nextTurn === undefined ? this.sink.add(timestamp, message, info) : this.#nextTurn.then(() => this.sink.add(timestamp, message, info));
    void added.then(
      () => {
        this.#waiting--;
        this.emit('logged', info);
        next();
        this.#intake.notifySoon();
      },
      (error: unknown) => {
        this.#waiting--;
        this.#notBuffered(error);
        next();
        this.#intake.notifySoon();
      },
    );
  }

  /**
   * winston-transport's batched hook: the records its `_writev` found waiting in this transport's
   * stream buffer, handed over in one call, then `next()` once. Each is taken as by {@link log},
   * in order, and `next()` runs when all are accepted (at once when the buffer had room for all).
   * Without it, winston-transport calls `log()` for each and reports the whole batch written
   * before any was accepted: winston's stream lost its back-pressure for those records.
   *
   * winston-transport applies the transport's own `format` before `log()` but not before
   * `logv()`, so it is applied here, the same way: a record the format filters out is skipped;
   * a format that throws ends the batch there and the error propagates, as with `log()`.
   */
  override logv(writes: ReadonlyArray<{ chunk: WinstonInfo }>, next: () => void): void {
    let left = 1; // the loop itself, so that next() comes once, after the last record
    const settled = (): void => {
      if (--left === 0) next();
    };
    try {
      for (const { chunk } of writes) {
        const info = this.format === undefined ? chunk : this.format.transform({ ...chunk } as FormatInput, this.format.options);
        if (typeof info !== 'object' || info === null) continue;
        left++;
        this.log(info as WinstonInfo, settled);
      }
    } finally {
      settled();
    }
  }

  /**
   * Writable's `write()`, with a shortcut for what a logger's pipe writes most: when nothing
   * waits in this stream or in {@link log}, and the record needs no winston-transport handling
   * (no transport `format`, not `silent`, not an exception record, its level accepted), it is
   * taken here if the buffer has room, as `log()` would take it, and the stream never sees it.
   * Through the stream, each such record cost a write request, a callback and a
   * `process.nextTick`, which a synchronous burst of logging keeps alive until it ends.
   * Anything else, or a record that would have to wait, goes through the stream as before.
   */
  override write(chunk: unknown, ...rest: unknown[]): boolean {
    // Someone waits for the records on their way in (flush(), a held-back end()): this one moved.
    if (this.#intake.waited) this.#intake.notifySoon();
    if (rest.length === 0 && this.#takeDirectly(chunk)) return true;
    return (super.write as (...args: unknown[]) => boolean).call(this, chunk, ...rest);
  }

  /** See {@link write}: true when `chunk` was taken (or refused for good, and reported). */
  #takeDirectly(chunk: unknown): boolean {
    const state = (this as unknown as { _writableState?: WritableState })._writableState;
    if (state === undefined || state.length > 0 || state.corked > 0 || state.ending || state.destroyed) return false;
    if (this.#waiting > 0 || this.silent || this.format !== undefined || typeof chunk !== 'object' || chunk === null) return false;
    const info = chunk as WinstonInfo;
    // winston-transport's _write: exceptions only with handleExceptions; the transport's level, else the logger's.
    if (info['exception'] === true) return false;
    const level = this.level || this.parent?.level;
    if (level && !((this.levels?.[level] ?? NaN) >= (this.levels?.[info[LEVEL] as string] ?? NaN))) return false;
    return this.#takeNow(info, eventTimestamp(info.timestamp, Date.now), messageOf(info));
  }

  /**
   * Buffers a record if that needs no waiting: true when done with it (accepted and `'logged'`,
   * or refused for good and reported); false when it must wait for `add()`.
   */
  #takeNow(info: WinstonInfo, timestamp: number, message: string): boolean {
    if (++this.#taken > this.#burstRecords && this.#yield()) return false;
    let accepted: boolean;
    try {
      accepted = this.sink.tryAdd(timestamp, message, info);
    } catch (error) {
      this.#notBuffered(error);
      return true;
    }
    if (accepted) this.emit('logged', info);
    return accepted;
  }

  /**
   * `burstRecords` were taken in a row: true (the record must wait) until the event loop turns;
   * the count starts again then.
   */
  #yield(): boolean {
    if (this.#nextTurn === undefined) {
      this.#nextTurn = new Promise((resolve) => {
        setImmediate(() => {
          this.#taken = 0;
          this.#nextTurn = undefined;
          resolve();
        });
      });
    }
    return true;
  }

  #notBuffered(error: unknown): void {
    this.#warn(this.sink.notBuffered(error));
  }

  /**
   * Delivers everything logged so far: waits until winston has handed every record logged before
   * the call to this transport, then delivers, retrying failures, and resolves once nothing is
   * left or `timeoutMs` (default `shutdownTimeoutMs`) passed; resolves to the number of events
   * still buffered (0: all delivered, or rejected/dropped and reported). The transport stays
   * open: call it before a Lambda handler returns. Never rejects.
   */
  flush(timeoutMs: number = this.sink.shutdownTimeoutMs): Promise<number> {
    return this.#intake.flush(() => this.#caughtUp(), timeoutMs);
  }

  /** True when no record is waiting in the logger's or this transport's stream buffers. */
  #caughtUp(): boolean {
    const parent = this.parent;
    return (
      this.#waiting === 0 && this.writableLength === 0 && (parent?.readableLength ?? 0) === 0 && (parent?.writableLength ?? 0) === 0
    );
  }

  /** The buffer's counters (delivered, rejected, dropped, buffered, ...). */
  getMetrics(): BatchMetrics {
    return this.sink.getMetrics();
  }

  /**
   * Stops the buffer: delivers what is left within `shutdownTimeoutMs`, reports the rest as
   * dropped, removes the exit hooks. Resolves when done; idempotent; never rejects.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  /**
   * winston calls it when the transport is removed from a logger: starts {@link stop} (await
   * `stop()` instead to know when it is done).
   */
  override close(): void {
    this.stop().catch((error: unknown) => {
      this.#warn({ kind: 'error', reason: 'flush', count: 0, message: `cwbatch/winston: close failed: ${describe(error)}`, error });
    });
  }

  /**
   * Writable's `end()`, held back while the logger still queues records for this transport.
   * winston's `Logger#_final` ends its transports once its own writable side is done, while up to
   * a readable buffer's worth of records can still wait in the logger for a transport that holds
   * them back (a full buffer under `'block'`): written after `end()`, they failed with "write
   * after end" and were lost. So end once the logger's queue is empty (it empties as this transport
   * takes records, each a `write()` here); `'finish'` still comes after delivery.
   */
  override end(...args: unknown[]): this {
    const parent = this.parent;
    const held = (): boolean => this.parent === parent && (parent?.readableLength ?? 0) > 0 && !this.writableEnded && !this.destroyed;
    if (!held()) return (super.end as (...a: unknown[]) => this).apply(this, args);
    // Re-checked as records reach this transport (write(), 'unpipe', 'close'); no deadline, as
    // the logger's queue empties as fast as the buffer makes room.
    void this.#intake.until(() => !held(), Infinity).then(() => (super.end as (...a: unknown[]) => this).apply(this, args));
    return this;
  }

  /** Writable's `_final`: runs on `end()`, so `'finish'` (and the logger's) means delivered. */
  override _final(callback: (error?: Error | null) => void): void {
    this.stop().then(
      () => callback(),
      () => callback(),
    );
  }

  async #stop(): Promise<void> {
    this.#removeExitHooks();
    await this.sink.stop();
  }

  #installExitHooks(): void {
    this.#onBeforeExit = () => {
      if (this.#exitFlush !== undefined || this.sink.pending() === 0) return;
      // Delivering keeps the loop alive (sockets, ref'd timers); beforeExit fires again after.
      // Whatever still fails then is stopped and reported, so this never loops forever.
      this.#exitFlush = this.sink
        .deliver()
        .then(async (left) => {
          if (left > 0) await this.stop();
        })
        .finally(() => {
          this.#exitFlush = undefined;
        });
    };
    this.#onExit = () => {
      // Records winston still held for this transport (a full buffer under 'block', `burstRecords`) are lost too.
      const parent = this.parent;
      const queued = this.writableLength + (parent?.readableLength ?? 0) + (parent?.writableLength ?? 0);
      const left = this.sink.pending() + queued;
      if (left > 0) {
        const where = queued > 0 ? ` (${queued} of them still queued in winston's streams)` : '';
        this.#warn({
          kind: 'dropped',
          reason: 'shutdown',
          count: left,
          message: `cwbatch/winston: ${left} event(s) not delivered${where}: the process exited before they were flushed (await transport.flush() or logger.end() and 'finish' before process.exit())`,
        });
      }
    };
    process.on('beforeExit', this.#onBeforeExit);
    process.on('exit', this.#onExit);
  }

  #removeExitHooks(): void {
    if (this.#onBeforeExit !== undefined) process.off('beforeExit', this.#onBeforeExit);
    if (this.#onExit !== undefined) process.off('exit', this.#onExit);
    this.#onBeforeExit = undefined;
    this.#onExit = undefined;
  }

  /** 'warn' (winston re-emits it on the logger); console.warn when nobody would see it. */
  #warn(failure: TransportFailure): void {
    const warning = new DeliveryWarning(failure);
    // winston's logger listens on its transports' 'warn' to re-emit it; count the logger's listeners then.
    const listening = this.parent ? this.parent.listenerCount('warn') : this.listenerCount('warn');
    if (listening === 0) console.warn(`[${warning.name}] ${warning.message}`);
    this.emit('warn', warning);
  }
}

/** The line winston formatted; the info as JSON (or its `message`) when no format set one. */
function messageOf(info: WinstonInfo): string {
  const formatted = info[MESSAGE];
  if (typeof formatted === 'string' && formatted.length > 0) return formatted;
  try {
    const json = JSON.stringify(info);
    if (typeof json === 'string' && json.length > 0) return json;
  } catch {
    // Circular or BigInt: fall through.
  }
  return String(info['message'] ?? '(empty log record)');
}

export default CloudWatchTransport;
