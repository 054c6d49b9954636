/**
 * One call of the flush function, cut off after `flushTimeoutMs` or at stop()'s deadline. The
 * AbortSignal handed to the function is made only if the function reads it.
 */
import { BufferStoppedError, FlushTimeoutError } from './errors.js';
import type { Lifecycle } from './lifecycle.js';
import type { FlushContext, FlushFunction, InputLogEvent } from './types.js';

/** What a call needs from the lifecycle: abandonment and managed timers. */
export type CallLifecycle = Pick<Lifecycle, 'abandoned' | 'onAbandon' | 'offAbandon' | 'timer' | 'clearTimer' | 'markUnanswered'>;

/**
 * The context a call hands the flush function. Its AbortController is made on first use: most
 * flush functions never look at the signal, and every call that settles in time would pay for a
 * controller. The getter is the class's, not an object literal's: V8 makes the accessor pair of
 * a literal's getter in the old generation, one per call, and that dead pair then kept the call's
 * closure, its batch and every event in it alive through young-generation collections until the
 * next full one (nearly every event sent was promoted: bench:core spent ~700 instructions per
 * add() in the scavenger on Node 22, whose events are not pretenured, and real messages are fresh
 * strings on every line).
 */
class CallContext implements FlushContext {
  #controller: AbortController | undefined = undefined;

  get signal(): AbortSignal {
    return this.#made().signal;
  }

  /**
   * Aborts the call's signal (made now if nobody read it yet: a signal read after the abort must
   * read as aborted). Static, so that the flush function's context offers no way to abort.
   */
  static abort(context: CallContext, reason: unknown): void {
    context.#made().abort(reason);
  }

  #made(): AbortController {
    return (this.#controller ??= new AbortController());
  }
}

/** Calls `flushFunction` once; settles with its answer, its error, a FlushTimeoutError or a BufferStoppedError. */
export function callFlushFunction(
  flushFunction: FlushFunction,
  group: string,
  stream: string,
  events: InputLogEvent[],
  token: string | undefined,
  timeoutMs: number,
  lifecycle: CallLifecycle,
): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    // Past stop()'s deadline, do not call at all.
    if (lifecycle.abandoned) {
      reject(new BufferStoppedError());
      return;
    }
    const context = new CallContext();
    let settled = false;
    const finish = (): boolean => {
      if (settled) return false;
      settled = true;
      lifecycle.clearTimer(timer);
      lifecycle.offAbandon(onAbandon);
      return true;
    };
    const onAbandon = (): void => {
      if (!finish()) return;
      // The request may have reached the service: its events' outcome is unknown (settlement.ts).
      lifecycle.markUnanswered(events);
      CallContext.abort(context, new BufferStoppedError());
      reject(new BufferStoppedError());
    };
    const timer = lifecycle.timer(() => {
      if (!finish()) return;
      lifecycle.markUnanswered(events);
      const error = new FlushTimeoutError(timeoutMs);
      CallContext.abort(context, error);
      reject(error);
    }, timeoutMs);
    lifecycle.onAbandon(onAbandon);
    let pending: unknown;
    try {
      pending = flushFunction(group, stream, events, token, context);
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
