/**
 * Opt-in process shutdown handling: flush a buffer on SIGTERM / SIGINT / `beforeExit`, then let
 * the process exit. The library never installs these by itself (a library that grabs signals
 * takes the decision away from the application); call {@link installShutdownHandlers} once, in
 * the application's entry point.
 */
import { constants } from 'node:os';
import type { BatchBuffer, BatchMetrics } from './types.js';

/** Why the shutdown handler ran. */
export type ShutdownReason = NodeJS.Signals | 'beforeExit';

/** What {@link ShutdownHandlerOptions.onDone} is told once the buffer has stopped. */
export interface ShutdownInfo {
  /** The signal that was received, or `'beforeExit'`. */
  reason: ShutdownReason;
  /** The buffer's metrics after `stop()` settled (what was delivered, rejected, dropped). */
  metrics: BatchMetrics;
  /** Set when `stop()` rejected (it is documented never to, but a custom buffer might). */
  error?: unknown;
  /**
   * The exit code the handler is about to use for a signal (128 + the signal's number, e.g. 143
   * for SIGTERM, 130 for SIGINT); `undefined` for `beforeExit`, where the process exits by itself.
   */
  exitCode: number | undefined;
}

/** Options of {@link installShutdownHandlers}. */
export interface ShutdownHandlerOptions {
  /** Signals to handle. Default `['SIGTERM', 'SIGINT']`. Pass `[]` for `beforeExit` only. */
  signals?: readonly NodeJS.Signals[] | undefined;
  /** Deadline handed to `buffer.stop({ timeoutMs })`, ms. Default: the buffer's `shutdownTimeoutMs`. */
  timeoutMs?: number | undefined;
  /** Also flush on `beforeExit` (the event loop ran dry with events still buffered). Default `true`. */
  beforeExit?: boolean | undefined;
  /**
   * Called once the buffer has stopped, before the process exits. Runs synchronously; calling
   * `process.exit(code)` in it overrides the exit code. A throwing callback is ignored.
   */
  onDone?: ((info: ShutdownInfo) => void) | undefined;
}

/**
 * Installs handlers that flush `buffer` before the process ends:
 *
 * - On one of `signals` (default SIGTERM and SIGINT): calls `buffer.stop({ timeoutMs })`, then
 *   `onDone`, then removes every listener it installed. If no other listener for that signal is
 *   left, the process exits with code `128 + signal number` (the shell convention: SIGTERM 143,
 *   SIGINT 130), as it would have without a handler. If the application has its own listener for
 *   the signal, the exit is left to it (the listener already received the signal).
 *   A second arrival of the same signal while the buffer is stopping exits at once with that code
 *   (an impatient Ctrl-C twice, or an orchestrator's escalation).
 * - On `beforeExit` (the event loop is empty, events may still be buffered: the buffer's timers
 *   are `unref()`'d): calls `buffer.stop({ timeoutMs })`; once it settles the handlers are removed
 *   and the process exits on its own with its `process.exitCode`. `beforeExit` is not emitted for
 *   `process.exit()` or an uncaught exception: nothing can flush asynchronously then.
 *
 * `stop()` delivers what it can within `timeoutMs` and reports what is left as dropped (reason
 * `shutdown`) through the buffer's `onDrop`, so the process never hangs past the deadline.
 *
 * @returns a function that removes the handlers (idempotent); it does not stop the buffer.
 * @throws TypeError / RangeError naming the option when an option is invalid.
 */
export function installShutdownHandlers(buffer: BatchBuffer, options: ShutdownHandlerOptions = {}): () => void {
  const handlers = new ShutdownHandlers(buffer, checkOptions(buffer, options));
  handlers.install();
  return () => handlers.uninstall();
}

/** {@link ShutdownHandlerOptions}, checked and defaulted. */
interface ShutdownConfig {
  signals: ReadonlySet<NodeJS.Signals>;
  timeoutMs: number | undefined;
  beforeExit: boolean;
  onDone: ((info: ShutdownInfo) => void) | undefined;
}

/** Checks `buffer` and every option; throws TypeError / RangeError naming the bad one. */
function checkOptions(buffer: BatchBuffer, options: ShutdownHandlerOptions): ShutdownConfig {
  if (buffer === null || typeof buffer !== 'object' || typeof buffer.stop !== 'function') {
    throw new TypeError('Expected `buffer` to be a BatchBuffer (an object with a `stop` method)');
  }
  const signals = options.signals ?? (['SIGTERM', 'SIGINT'] as const);
  if (!Array.isArray(signals)) throw new TypeError(`Expected \`signals\` to be an array of signal names, got ${String(signals)}`);
  for (const signal of signals) {
    if (typeof signal !== 'string' || !(signal in constants.signals)) {
      throw new RangeError(`Expected \`signals\` to contain signal names such as 'SIGTERM', got ${String(signal)}`);
    }
  }
  const timeoutMs = options.timeoutMs;
  if (timeoutMs !== undefined && !(typeof timeoutMs === 'number' && Number.isFinite(timeoutMs) && timeoutMs >= 0)) {
    throw new RangeError(`Expected \`timeoutMs\` to be a number >= 0, got ${String(timeoutMs)}`);
  }
  const onDone = options.onDone;
  if (onDone !== undefined && typeof onDone !== 'function') {
    throw new TypeError(`Expected \`onDone\` to be a function, got ${typeof onDone}`);
  }
  return { signals: new Set(signals), timeoutMs, beforeExit: options.beforeExit ?? true, onDone };
}

/**
 * The listeners of one {@link installShutdownHandlers} call and what they share: whether a stop
 * is under way (and for which reason), and whether they are still installed.
 */
class ShutdownHandlers {
  readonly #buffer: BatchBuffer;
  readonly #config: ShutdownConfig;
  readonly #listeners = new Map<NodeJS.Signals, () => void>();
  readonly #onBeforeExit = (): void => {
    if (this.#stopping === undefined) this.#run('beforeExit');
  };
  #installed = false;
  /** Why the buffer is being stopped; a signal during a beforeExit flush replaces `'beforeExit'`. */
  #stopping: ShutdownReason | undefined;

  constructor(buffer: BatchBuffer, config: ShutdownConfig) {
    this.#buffer = buffer;
    this.#config = config;
  }

  install(): void {
    this.#installed = true;
    for (const signal of this.#config.signals) {
      const listener = (): void => this.#onSignal(signal);
      this.#listeners.set(signal, listener);
      process.on(signal, listener);
    }
    if (this.#config.beforeExit) process.on('beforeExit', this.#onBeforeExit);
  }

  /** Removes every listener installed; idempotent. */
  uninstall(): void {
    if (!this.#installed) return;
    this.#installed = false;
    for (const [signal, listener] of this.#listeners) process.removeListener(signal, listener);
    this.#listeners.clear();
    if (this.#config.beforeExit) process.removeListener('beforeExit', this.#onBeforeExit);
  }

  #onSignal(signal: NodeJS.Signals): void {
    const stopping = this.#stopping;
    if (stopping === undefined) {
      this.#run(signal);
      return;
    }
    // A signal during a beforeExit flush: exit with the signal's code once the flush is done.
    if (stopping === 'beforeExit') {
      this.#stopping = signal;
      return;
    }
    // The same signal again while stopping: the sender insists. Exit now.
    if (stopping === signal) {
      this.uninstall();
      process.exit(exitCodeFor(signal));
    }
  }

  #run(reason: ShutdownReason): void {
    this.#stopping = reason;
    const { timeoutMs } = this.#config;
    let stopped: Promise<void>;
    try {
      stopped = Promise.resolve(timeoutMs === undefined ? this.#buffer.stop() : this.#buffer.stop({ timeoutMs }));
    } catch (error) {
      stopped = Promise.reject(error);
    }
    stopped.then(
      () => this.#finish(reason, undefined, false),
      (error: unknown) => this.#finish(reason, error, true),
    );
  }

  #finish(started: ShutdownReason, error: unknown, hasError: boolean): void {
    const reason = this.#stopping ?? started;
    const exitCode = reason === 'beforeExit' ? undefined : exitCodeFor(reason);
    const info: ShutdownInfo = { reason, metrics: safeMetrics(this.#buffer), exitCode };
    if (hasError) info.error = error;
    try {
      this.#config.onDone?.(info);
    } catch {
      // The process is on its way out; a throwing callback must not keep it alive or crash it.
    }
    this.uninstall();
    if (exitCode !== undefined && process.listenerCount(reason) === 0) process.exit(exitCode);
  }
}

/** 128 + the signal's number: what a shell reports for a process killed by that signal. */
function exitCodeFor(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 15);
}

function safeMetrics(buffer: BatchBuffer): BatchMetrics {
  try {
    return buffer.getMetrics();
  } catch {
    return {} as BatchMetrics;
  }
}
