/**
 * The flush and close logic the pino and winston transports share. Lines travel from the logger
 * through the transport's stream into a {@link TransportSink}; a flush waits until every line
 * written before it is in the buffer, then delivers within the deadline, and a close lets the
 * lines still on their way in, then stops the buffer within the deadline.
 *
 * Nothing here polls: a transport says when lines may have come in ({@link TransportIntake.notify}),
 * and each wait is a promise that resolves when its condition holds, bounded by its deadline with
 * an unref()'d timer (whatever the wait depends on keeps the process alive by itself: a stream
 * that is being written, add() calls waiting for room keep the buffer's timers ref()'d).
 */
import { describe } from '../batch/errors.js';
import type { TransportFailure, TransportSink } from './transport.js';

/** Options of {@link TransportIntake}. */
export interface TransportIntakeOptions {
  /** Name used in messages, e.g. `cwbatch/pino`. */
  name: string;
  /** The sink the lines go into. */
  sink: TransportSink;
  /** Where a flush that left events behind is reported (kind `error`, reason `flush`). */
  report: (failure: TransportFailure) => void;
  /** The clock, ms since the epoch. Default `Date.now`. */
  now?: (() => number) | undefined;
}

/** What {@link TransportIntake.close} waits for before it stops the sink. */
export interface LinesIn {
  /** Settles when the transport's input loop has handed over its last line (it may never, if blocked on a full buffer). */
  loopDone?: Promise<unknown> | undefined;
  /** True once no line handed to `add()` still waits for room (re-checked at each {@link TransportIntake.notify}). */
  settled: () => boolean;
}

interface Waiter {
  condition: () => boolean;
  resolve: (held: boolean) => void;
  timer: NodeJS.Timeout | undefined;
}

/**
 * The stretch between a logger and its {@link TransportSink}: waits on it, and the transports'
 * `flush()` and close built on those waits.
 */
export class TransportIntake {
  readonly #name: string;
  readonly #sink: TransportSink;
  readonly #report: (failure: TransportFailure) => void;
  readonly #now: () => number;
  readonly #waiters = new Set<Waiter>();
  #notifyScheduled = false;

  constructor(options: TransportIntakeOptions) {
    this.#name = options.name;
    this.#sink = options.sink;
    this.#report = options.report;
    this.#now = options.now ?? Date.now;
  }

  /** Whether a wait is pending: a transport's per-line path calls {@link notify} only then. */
  get waited(): boolean {
    return this.#waiters.size > 0;
  }

  /** Re-checks every pending wait's condition now; call it after anything that may have made one true. */
  notify(): void {
    for (const waiter of this.#waiters) {
      if (waiter.condition()) this.#settle(waiter, true);
    }
  }

  /**
   * {@link notify} once the current run of code and its microtasks and ticks are over (a stream
   * that just took a line may still move others in them); several calls before then check once.
   */
  notifySoon(): void {
    if (this.#notifyScheduled || this.#waiters.size === 0) return;
    this.#notifyScheduled = true;
    setImmediate(() => {
      this.#notifyScheduled = false;
      this.notify();
    });
  }

  /**
   * Resolves to `true` once `condition()` holds (checked now and at every {@link notify}), or to
   * `false` once `deadline` (ms since the epoch; `Infinity`: none) has passed.
   */
  until(condition: () => boolean, deadline: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    const left = deadline - this.#now();
    if (left <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = { condition, resolve, timer: undefined };
      if (Number.isFinite(left)) {
        waiter.timer = setTimeout(() => this.#settle(waiter, false), left);
        waiter.timer.unref();
      }
      this.#waiters.add(waiter);
    });
  }

  /**
   * Delivers every line written before the call: waits until `caughtUp()` (re-checked at each
   * {@link notify}), then delivers what is buffered, retrying, with what is left of `timeoutMs`.
   * Reports what is still buffered then (it stays buffered for a later flush). Never rejects;
   * resolves to the number of events still buffered or in flight (0: all delivered, or rejected
   * or dropped and reported).
   */
  async flush(caughtUp: () => boolean, timeoutMs: number): Promise<number> {
    const deadline = this.#now() + timeoutMs;
    await this.until(caughtUp, deadline);
    const left = await this.#sink.deliver(Math.max(0, deadline - this.#now()));
    if (left > 0) {
      const cause = this.#sink.lastError === undefined ? '' : `; last error: ${describe(this.#sink.lastError)}`;
      const message = `${this.#name}: flush: ${left} event(s) not delivered within ${timeoutMs} ms; still buffered, delivery continues${cause}`;
      try {
        this.#report({ kind: 'error', reason: 'flush', count: 0, message });
      } catch {
        // A reporter that throws must not break the flush.
      }
    }
    return left;
  }

  /**
   * Stops the sink within `timeoutMs` (its own delivery and reports included): first lets the
   * lines still on their way in (the input loop's last lines, then the add() calls waiting for
   * room: stop() would refuse them), each wait bounded by the same deadline. Never rejects.
   */
  async close(lines: LinesIn, timeoutMs: number): Promise<void> {
    const deadline = this.#now() + timeoutMs;
    if (lines.loopDone !== undefined) await settlesBy(lines.loopDone, deadline, this.#now);
    await this.until(lines.settled, deadline);
    await this.#sink.stop(Math.max(0, deadline - this.#now()));
  }

  #settle(waiter: Waiter, held: boolean): void {
    if (!this.#waiters.delete(waiter)) return;
    if (waiter.timer !== undefined) clearTimeout(waiter.timer);
    waiter.resolve(held);
  }
}

/**
 * `true` once `promise` settled (either way), `false` once `deadline` (ms since the epoch) passed
 * first. The deadline's timer is unref()'d: whatever settles the promise keeps the process alive.
 */
export function settlesBy(promise: Promise<unknown>, deadline: number, now: () => number = Date.now): Promise<boolean> {
  const left = deadline - now();
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), Math.max(0, left));
    timer.unref();
    const settled = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    promise.then(settled, settled);
  });
}
