/**
 * The abortable sleep of the AWS service's create retries and the CLI's pollers, written once
 * (`src/aws` and `src/cli` may import from `src/batch`, not the other way round).
 */

/**
 * Resolves after `ms` milliseconds, or as soon as `signal` aborts (at once when it already has).
 * Never rejects. The timer is left referenced: a caller that sleeps is one that means to keep
 * the process running meanwhile (a create retry in flight, a follower waiting for its file to
 * grow); the abort listener is removed once the sleep ends either way.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
