/**
 * `cwbatch/pino`: a pino (v7+) transport target that ships every record to CloudWatch Logs.
 *
 * ```js
 * const logger = pino(pino.transport({
 *   target: 'cwbatch/pino',
 *   sync: true, // pino's thread waits for this worker instead of queueing what it has not taken
 *   options: { logGroupName: '/app/api', logStreamName: '{hostname}/{pid}', clientConfig: { region: 'eu-west-1' } },
 * }));
 * ```
 *
 * It runs inside pino's worker thread (thread-stream), so:
 * - options are plain data (they are structured-cloned into the worker); the SDK client is built
 *   here, in the worker, from `clientConfig`;
 * - a full buffer holds pino back (back-pressure) for at most {@link MAX_BLOCK_MS}, then lines
 *   wait in this worker's memory: thread-stream gives up on a `sync` writer after 10 s;
 * - delivery failures are written to the process's stderr (fd 2, synchronously, so they are not
 *   lost when the main thread is blocked in pino's exit handler) and never emitted as a stream
 *   `'error'`, which would kill the worker and every log after it;
 * - `close` (the logger's transport ending, at exit or on `transport.end()`) delivers what is
 *   left within `shutdownTimeoutMs` (default 8 s here, under thread-stream's 10 s limit);
 * - `logger.flush(cb)` reaches CloudWatch: thread-stream (>= 4.1) forwards it to this stream's
 *   `flush()`, which resolves once everything written before it is delivered (or the same
 *   deadline passed; what is left stays buffered and is reported).
 */
import { writeSync } from 'node:fs';
import { isMainThread, parentPort } from 'node:worker_threads';
import build from 'pino-abstract-transport';
import type { Transform } from 'node:stream';
import { describe } from '../batch/errors.js';
import { TransportSink, type CloudWatchTransportOptions, type TransportFailure } from '../aws/transport.js';
import { settlesBy, TransportIntake } from '../aws/transport-intake.js';
import { keepStrings, lineTime, parseRecord, recordTime, splitLines, type LineTaker } from './lines.js';

/**
 * Options of the `cwbatch/pino` target: {@link CloudWatchTransportOptions} (log group and stream
 * name templates, evaluated per record: `{date}`/`{hour}` of the record's `time`, `{field:KEY}` of
 * its JSON; `clientConfig`, `createMissing`, the settings of groups it creates and every batch
 * setting). The function form of a name works only when this factory is called in the logger's own
 * thread (`pino(await cwbatchPinoTransport(options))`): `pino.transport()` clones options into a
 * worker, and functions do not clone.
 * Here `shutdownTimeoutMs` defaults to 8,000 ms, the deadline of `close` and of `logger.flush()`:
 * keep it under 10 s, after which thread-stream gives up waiting for the worker at exit; and
 * `maxBufferedBytes` to 4 MiB ({@link PINO_MAX_BUFFERED_BYTES}).
 */
export type PinoTransportOptions = CloudWatchTransportOptions;

/** The stream handed to pino: pino-abstract-transport's, plus `flush()` and `sink` for metrics. */
export type PinoTransportStream = Transform & {
  /** Resolves once every line written so far is delivered (or `shutdownTimeoutMs` passed). Never rejects. */
  flush(): Promise<void>;
  /** The buffer and its metrics. */
  readonly sink: TransportSink;
};

/** Default close and flush deadline: under thread-stream's 10 s wait for the worker at exit. */
export const PINO_SHUTDOWN_TIMEOUT_MS = 8_000;
/**
 * Default `maxBufferedBytes` of this transport, 4 MiB (the core's is 64 MiB): four full batches,
 * what `maxConcurrentFlushes` (4) requests of `maxBytes` (1 MiB) carry at once. With
 * `pino.transport({ sync: true })` pino's thread waits for room, so a larger bound adds memory
 * (the live heap is about twice the bytes counted, plus garbage) but no throughput. Issue 6's
 * 1,000,000-event burst, peak RSS of the whole process: 248-253 MiB at 4 MiB, 304-310 at 8 MiB,
 * 327-332 at 16 MiB, 386-397 at 64 MiB, at the same events/s (noisy: 78k-184k for all four).
 */
export const PINO_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** Keys pino adds to a target's options (thread-stream adds `$`-prefixed ones, e.g. `$context`; skipped). */
const PINO_KEYS = ['pinoWillSendConfig'] as const;
/** Background flush failures are retried; say so at most this often. */
const ERROR_REPORT_INTERVAL_MS = 5_000;
/**
 * How long a full buffer may hold pino back: from the first wait for room while lines are
 * pending in the stream, until the stream is empty again. Past it, this worker reads on and the
 * lines wait in its memory (add() calls waiting for room, in order; nothing is dropped) until
 * room frees up. Why a limit: with `pino.transport({ sync: true })` (the README's
 * recommendation) pino's thread waits while this worker does not take its write, and
 * thread-stream destroys the transport, worker and buffer included, once it has waited 10 s
 * ("_flushSync took too long (10s)"): an outage would lose every buffered event and throw in the
 * application. A healthy endpoint frees room within a request's round trip, well under this.
 */
const MAX_BLOCK_MS = 5_000;
/** Durable mode: lines handed to add() before the line walk waits for them (they wait in order in the buffer). */
const MAX_UNSETTLED = 1_024;

/** The pino transport factory (the target's default export). */
export default async function cwbatchPinoTransport(options: PinoTransportOptions): Promise<PinoTransportStream> {
  const report = stderrReporter();
  let sink: TransportSink;
  try {
    sink = new TransportSink({
      name: 'cwbatch/pino',
      options: withoutThreadStreamKeys(options),
      ownKeys: PINO_KEYS,
      defaults: { shutdownTimeoutMs: PINO_SHUTDOWN_TIMEOUT_MS, maxBufferedBytes: PINO_MAX_BUFFERED_BYTES },
      report,
    });
  } catch (error) {
    // A bad option, or a spool directory held by another live process: the application's logger
    // must keep running. A rejected factory would kill the worker and raise an unhandled 'error'
    // on the transport's stream in the application's thread.
    return disabledTransport(error, report);
  }
  return workingTransport(sink, report);
}

/**
 * The stream of a transport that could not start: it takes every line (pino is never held back)
 * and ships none. Says why once at start, through the error channel (stderr) and as a process
 * warning in the application's thread, and how many lines it discarded when it closes.
 * Its `sink` is `undefined` and `flush()` resolves at once.
 */
function disabledTransport(error: unknown, report: (failure: TransportFailure) => void): PinoTransportStream {
  const why = `cwbatch/pino: cannot start, log lines are not shipped: ${describe(error)}`;
  report({ kind: 'dropped', reason: 'invalid', count: 0, message: why, error });
  warnApplication(why, error);
  let discarded = 0;
  const stream = build(
    async (source) => {
      for await (const line of source as AsyncIterable<unknown>) if (line !== null) discarded++;
    },
    {
      parseLine: (line: string) => (line.length === 0 ? null : line),
      close: async () => {
        if (discarded > 0) report({ kind: 'dropped', reason: 'invalid', count: discarded, message: `cwbatch/pino: ${discarded} log line(s) discarded: the transport could not start (${describe(error)})` });
      },
      metadata: false,
    },
  ) as unknown as PinoTransportStream;
  Object.defineProperty(stream, 'flush', { value: async (): Promise<void> => undefined, configurable: true, writable: true });
  Object.defineProperty(stream, 'sink', { value: undefined });
  return stream;
}

/**
 * A process warning in the application's thread (thread-stream turns a worker's `WARNING`
 * message into `process.emitWarning`); nothing when not running in a worker.
 */
function warnApplication(message: string, error: unknown): void {
  if (isMainThread || parentPort === null) return;
  // A plain Error: a structured clone keeps the message (and code), not a custom name.
  const warning = new Error(message);
  if (error instanceof Error) (warning as Error & { code?: unknown }).code = (error as Error & { code?: unknown }).code;
  try {
    parentPort.postMessage({ code: 'WARNING', err: warning });
  } catch {
    // The message could not be cloned or the port is closed: stderr already has it.
  }
}

/**
 * The transport's stream over a working sink. The per-line path stays here, in one closure (it
 * is measured): {@link splitLines} hands each line, inside the stream's transform, to `take`,
 * which buffers it at once when it can and otherwise hands it to {@link LineIntake}, which says
 * when the walk must wait.
 */
function workingTransport(sink: TransportSink, report: (failure: TransportFailure) => void): PinoTransportStream {
  const usesRecord = sink.usesRecord;
  /** Lines seen by `take`, and of those, lines in the buffer (or refused and reported). */
  let produced = 0;
  let consumed = 0;

  /** Buffers a line if that needs no waiting (true), counting it; false when add() would wait. */
  function tryAccept(time: number, line: string, record: unknown): boolean {
    try {
      if (!sink.tryAdd(time, line, record)) return false;
    } catch (error) {
      notBuffered(error);
    }
    consumed++;
    return true;
  }

  function notBuffered(error: unknown): void {
    report(sink.notBuffered(error));
  }

  const intake = new TransportIntake({ name: 'cwbatch/pino', sink, report });
  const lines = new LineIntake(sink, intake, {
    notBuffered,
    taken: () => {
      consumed++;
    },
  });
  const take = (line: string): Promise<void> | undefined => {
    if (line.length === 0 || (line.charCodeAt(0) !== 123 /* { */ && line.trim().length === 0)) return undefined; // blank: skipped, as pino-abstract-transport does
    produced++;
    // Names with {field:...} (or a function) read the record: parse it once, for them and the time.
    const record = usesRecord ? parseRecord(line) : undefined;
    const time = usesRecord ? recordTime(record) : lineTime(line);
    // The fast path: no object, no promise. Only while nothing of ours waits for room (tryAdd
    // also refuses while other add() calls wait), so that no line overtakes another.
    if (lines.unsettled === 0 && tryAccept(time, line, record)) return undefined;
    return lines.add(time, line, record);
  };
  return transportStream(sink, intake, lines, take, report, {
    produced: () => produced,
    consumed: () => consumed,
  });
}

/**
 * pino-abstract-transport's stream, its line splitting replaced ({@link splitLines} over `take`),
 * with `flush()` and close built on the shared {@link TransportIntake}, and `sink`. Nothing goes
 * through the stream's readable side: the function pino-abstract-transport runs over it only
 * reads it to its end.
 */
function transportStream(
  sink: TransportSink,
  intake: TransportIntake,
  lines: LineIntake,
  take: LineTaker,
  report: (failure: TransportFailure) => void,
  counts: { produced: () => number; consumed: () => number },
): PinoTransportStream {
  let loopDone: Promise<void> = Promise.resolve();
  const stream = build(
    (source) => {
      // `source` is the stream build() returns (called before that returns).
      loopDone = drain(source as unknown as AsyncIterable<unknown>, report);
      return loopDone;
    },
    {
      // Not awaiting the input after its deadline: on a destroy (not an end) its end comes only
      // once this close has returned.
      close: () => intake.close({ loopDone, settled: () => lines.unsettled === 0 }, sink.shutdownTimeoutMs),
      metadata: false,
    },
  ) as unknown as PinoTransportStream;
  keepStrings(stream);
  splitLines(stream, take, (length) => lines.chunkDone(stream.writableLength <= length));
  /** A condition true once every line written to the stream before the call is in the buffer (or refused and reported). */
  const writtenSoFar = (): (() => boolean) => {
    if (!stream.writable) {
      const target = counts.produced();
      return () => counts.consumed() >= target;
    }
    // Writes are taken in order: this empty one's callback runs once every earlier chunk's lines
    // were handed over (a chunk's write waits while the buffer holds the stream back).
    let target = -1;
    stream.write('', () => {
      target = counts.produced();
      intake.notify();
    });
    return () => target >= 0 && counts.consumed() >= target;
  };
  const flush = async (): Promise<void> => {
    await intake.flush(writtenSoFar(), sink.shutdownTimeoutMs);
  };
  Object.defineProperty(stream, 'flush', { value: flush, configurable: true, writable: true });
  Object.defineProperty(stream, 'sink', { value: sink });
  return stream;
}

/** Reads the stream's readable side (nothing is pushed there) to its end; never rejects. */
async function drain(source: AsyncIterable<unknown>, report: (failure: TransportFailure) => void): Promise<void> {
  try {
    for await (const _ of source) {
      // Nothing is pushed to the readable side: the lines went to the buffer from the transform.
    }
  } catch (error) {
    // The source was destroyed under us (an error upstream): close() still delivers what we have.
    report({ kind: 'error', reason: 'flush', count: 0, message: `cwbatch/pino: input stream failed: ${describe(error)}`, error });
  }
}

/** What {@link LineIntake} needs of the per-line path in {@link workingTransport}. */
interface LineCounts {
  /** Reports a line add() refused for good. */
  notBuffered(error: unknown): void;
  /** A line handed to add() is in the buffer (or refused and reported). */
  taken(): void;
}

/**
 * The lines the buffer could not take at once: each is handed to add(), in order, and the line
 * walk waits for room (the back-pressure) for at most {@link MAX_BLOCK_MS} from the first wait
 * while the stream had writes pending. Past it the walk goes on and lines wait in this worker's
 * memory (add() calls waiting for room, in order; nothing is dropped) until room frees up.
 */
class LineIntake {
  /** Of the lines handed to add(), those still waiting for room in the buffer. */
  unsettled = 0;
  readonly #sink: TransportSink;
  readonly #intake: TransportIntake;
  readonly #counts: LineCounts;
  /** True while lines are handed to add() without waiting for it (the buffer held the stream back for {@link MAX_BLOCK_MS}). */
  #holding = false;
  /** When the walk first waited for room since the stream was last seen with nothing more to take; 0: not waiting. */
  #blockedSince = 0;
  /** The last add() handed over (settled when every earlier one is: they settle in order); never rejects. */
  #last: Promise<void> = Promise.resolve();

  constructor(sink: TransportSink, intake: TransportIntake, counts: LineCounts) {
    this.#sink = sink;
    this.#intake = intake;
    this.#counts = counts;
  }

  /**
   * Hands a line to add(). Returns what the walk must wait for before the next line: under the
   * memory bound, this line's room (the buffer is full: the lines after it would not fit either);
   * in durable mode nothing until {@link MAX_UNSETTLED} lines are handed over, so that they share
   * one write to the spool instead of one each.
   */
  add(time: number, line: string, record: unknown): Promise<void> | undefined {
    this.unsettled++;
    this.#last = this.#sink.add(time, line, record).then(this.#settled, (error: unknown) => {
      this.#counts.notBuffered(error);
      this.#settled();
    });
    if (this.#holding || (this.#sink.durable && this.unsettled < MAX_UNSETTLED)) return undefined;
    return this.#wait();
  }

  /**
   * At the end of a chunk: what to wait for before the stream may take the next one (the lines
   * handed over, unless holding). `caughtUp`: no other write is pending in the stream (a wait
   * from here on starts a new {@link MAX_BLOCK_MS}).
   */
  chunkDone(caughtUp: boolean): Promise<void> | undefined {
    if (caughtUp) this.#blockedSince = 0;
    if (this.unsettled === 0 || this.#holding) return undefined;
    return this.#wait();
  }

  /** Waits for the last line handed over, or until {@link MAX_BLOCK_MS} from the first wait (then holds). Never rejects. */
  #wait(): Promise<void> | undefined {
    const now = Date.now();
    if (this.#blockedSince === 0) this.#blockedSince = now;
    const deadline = this.#blockedSince + MAX_BLOCK_MS;
    if (deadline > now) {
      return settlesBy(this.#last, deadline).then((inTime) => {
        if (!inTime) this.#hold();
      });
    }
    this.#hold();
    return undefined;
  }

  #hold(): void {
    this.#holding = true;
    this.#blockedSince = 0;
  }

  readonly #settled = (): void => {
    this.unsettled--;
    if (this.unsettled === 0) this.#holding = false;
    this.#counts.taken();
    if (this.#intake.waited) this.#intake.notify();
  };
}

function withoutThreadStreamKeys(options: PinoTransportOptions): Record<string, unknown> {
  if (options === null || typeof options !== 'object') return options;
  return Object.fromEntries(Object.entries(options).filter(([key]) => !key.startsWith('$')));
}

/**
 * Writes failures to fd 2 synchronously: the worker's `process.stderr` is relayed through the
 * main thread, which is blocked (Atomics.wait) while pino's exit handler waits for this worker,
 * so asynchronous writes made during close could be lost. Background flush failures (kept and
 * retried) are rate-limited; losses are always written.
 */
function stderrReporter(): (failure: TransportFailure) => void {
  let lastErrorAt = 0;
  let suppressed = 0;
  return (failure) => {
    if (failure.kind === 'error') {
      const now = Date.now();
      if (now - lastErrorAt < ERROR_REPORT_INTERVAL_MS) {
        suppressed++;
        return;
      }
      lastErrorAt = now;
    }
    const more = failure.kind === 'error' && suppressed > 0 ? ` (${suppressed} similar message(s) suppressed)` : '';
    if (failure.kind === 'error') suppressed = 0;
    const text = `${failure.message}${more}\n`;
    try {
      writeSync(2, text);
    } catch {
      process.stderr.write(text);
    }
  };
}
