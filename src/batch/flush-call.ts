/**
 * One call of the flush function, cut off after `flushTimeoutMs` or at stop()'s deadline. The
 * AbortSignal handed to the function is made only if the function reads it.
 */
import { BufferStoppedError, FlushTimeoutError } from './errors.js';
import type { Lifecycle } from './lifecycle.js';
import type { FlushFunction, InputLogEvent } from './types.js';

/** What a call needs from the lifecycle: abandonment and managed timers. */
export type CallLifecycle = Pick<Lifecycle, 'abandoned' | 'onAbandon' | 'offAbandon' | 'timer' | 'clearTimer' | 'markUnanswered'>;

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
    // Made on first use: most flush functions that never look at the signal (and every call
    // that settles in time) skip the cost of an AbortController per call.
    let controller: AbortController | undefined;
    // (A signal read only after the abort must still read as aborted: make it, then abort it.)
    const abort = (reason: unknown): void => (controller ??= new AbortController()).abort(reason);
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
      abort(new BufferStoppedError());
      reject(new BufferStoppedError());
    };
    const timer = lifecycle.timer(() => {
      if (!finish()) return;
      lifecycle.markUnanswered(events);
      const error = new FlushTimeoutError(timeoutMs);
      abort(error);
      reject(error);
    }, timeoutMs);
    lifecycle.onAbandon(onAbandon);
    let pending: unknown;
    try {
      pending = flushFunction(group, stream, events, token, {
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
