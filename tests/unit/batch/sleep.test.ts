/**
 * The abortable sleep (src/batch/sleep.ts) that the AWS service's create retries and the CLI's
 * pollers share. Time is faked: nothing here waits for real time.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sleep } from '../../../src/batch/sleep.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('sleep', () => {
  it('resolves once ms have passed, not before', async () => {
    vi.useFakeTimers();
    let woke = false;
    const sleeping = sleep(1_000).then(() => (woke = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(woke).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await sleeping;
    expect(woke).toBe(true);
  });

  it('ends early when the signal aborts, clears its timer and its listener; never rejects', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const sleeping = sleep(60_000, controller.signal);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort(new Error('stop'));
    await expect(sleeping).resolves.toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
    expect(remove).toHaveBeenCalledWith('abort', expect.any(Function));
  });

  it('with a signal that has already aborted: resolves at once, no timer armed', async () => {
    vi.useFakeTimers();
    const sleeping = sleep(60_000, AbortSignal.abort());
    expect(vi.getTimerCount()).toBe(0);
    await expect(sleeping).resolves.toBeUndefined();
  });

  it('a sleep that ran out removes its abort listener (no listener piles up on a long-lived signal)', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    for (let i = 0; i < 3; i++) {
      const sleeping = sleep(10, controller.signal);
      await vi.advanceTimersByTimeAsync(10);
      await sleeping;
    }
    expect(add).toHaveBeenCalledTimes(3);
    expect(remove).toHaveBeenCalledTimes(3);
  });
});
