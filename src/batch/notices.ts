/**
 * User callbacks (onDrop, onRejected, onRetry, onOversized, onError) and the reporting of
 * background errors. A callback never runs inside a loop that is still changing the buffer's
 * state: code that changes state holds the notices ({@link Notices.hold}) and releases them once
 * the state is consistent; what was posted meanwhile runs then, in order. A callback that throws
 * is reported through onError (or a console warning), never propagated.
 */
import { describe } from './errors.js';
import type { BatchHooks } from './types.js';

/** The queue of user callbacks. */
export class Notices {
  /** The caller's options, read at each use (as the buffer always has). */
  readonly #hooks: Pick<BatchHooks, 'onError'>;
  #queue: Array<() => void> = [];
  #holds = 0;

  /** @param hooks holds `onError`, where background errors and throwing callbacks go; default a console warning. */
  constructor(hooks: Pick<BatchHooks, 'onError'>) {
    this.#hooks = hooks;
  }

  /** Defers callbacks until the matching {@link release}. Holds nest. */
  hold(): void {
    this.#holds++;
  }

  /** Ends a {@link hold}; the last one runs what was posted meanwhile. */
  release(): void {
    if (--this.#holds > 0) return;
    while (this.#queue.length > 0) {
      const queue = this.#queue;
      this.#queue = [];
      for (const run of queue) run();
    }
  }

  /** Calls a user callback now, or after the current hold; one that throws is reported. */
  call<A extends unknown[]>(callback: ((...args: A) => void) | undefined, ...args: A): void {
    if (callback === undefined) return;
    const run = (): void => {
      try {
        callback(...args);
      } catch (error) {
        this.#report(error);
      }
    };
    if (this.#holds > 0) this.#queue.push(run);
    else run();
  }

  /** Reports a background error through onError (now, or after the current hold). */
  report(error: unknown): void {
    if (this.#holds > 0) this.#queue.push(() => this.#report(error));
    else this.#report(error);
  }

  #report(error: unknown): void {
    try {
      const onError = this.#hooks.onError;
      if (onError !== undefined) onError(error);
      else console.warn(`[cwbatch] ${describe(error)}`);
    } catch {
      // A throwing onError must not take the host application down.
    }
  }
}
