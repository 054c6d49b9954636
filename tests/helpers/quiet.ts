/** Buffer options for tests: the one `quiet` of the tests. */
import type { BatchBufferOptions } from '../../src/batch/index.js';

/**
 * Options that make retries instant (no back-off delay, plain or throttled) and keep background
 * errors out of the console (`onError` ignores them); `extra` wins.
 */
export function quiet(extra: BatchBufferOptions = {}): BatchBufferOptions {
  return { retryBaseDelayMs: 0, throttleBaseDelayMs: 0, onError: () => undefined, ...extra };
}

/** {@link quiet}, and no flush timer (an hour): the test decides when a flush happens. */
export function quietNoTimer(extra: BatchBufferOptions = {}): BatchBufferOptions {
  return quiet({ flushIntervalMs: 3_600_000, ...extra });
}
