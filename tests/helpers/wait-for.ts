/**
 * Waiting on observable state (stored events, a child's output, a metric), never on time: the
 * condition is looked at every few ms until it holds, with a deadline that only turns a hang
 * into a clear failure. The one `waitFor` of the tests.
 */

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Fail after this long, ms. Default 20,000. */
  timeoutMs?: number;
  /** How often to look, ms. Default 10. */
  intervalMs?: number;
}

/**
 * Resolves once `condition` returns true (it may be async); throws naming `what` when it still
 * does not hold after `timeoutMs`. A throwing condition fails at once.
 */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, options: WaitForOptions | number = {}): Promise<void> {
  const { timeoutMs = 20_000, intervalMs = 10 } = typeof options === 'number' ? { timeoutMs: options } : options;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
