import { describe, expect, it, vi } from 'vitest';
import { Lifecycle } from '../../../src/batch/lifecycle.js';

describe('Lifecycle (timers, keep-alive, the stop deadline, one abandonment signal)', () => {
  it('abandons once: every listener runs once, removed ones never, and later sleeps end at once', async () => {
    const life = new Lifecycle();
    const seen: string[] = [];
    const a = (): void => void seen.push('a');
    const b = (): void => void seen.push('b');
    life.onAbandon(a);
    life.onAbandon(b);
    life.offAbandon(b);
    life.abandon();
    life.abandon();
    expect(seen).toEqual(['a']);
    expect(life.abandoned).toBe(true);
    await life.sleep(60_000); // resolves at once: nothing would end it at the deadline any more
  });

  it('a sleep in progress ends when the buffer is abandoned', async () => {
    vi.useFakeTimers();
    try {
      const life = new Lifecycle();
      let woke = false;
      const sleeping = life.sleep(60_000).then(() => (woke = true));
      await vi.advanceTimersByTimeAsync(1_000);
      expect(woke).toBe(false);
      life.abandon();
      await sleeping;
      expect(woke).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it("keeps timers ref()'d only while someone waits (a caller, or add()s waiting for room)", () => {
    const life = new Lifecycle();
    const timer = life.timer(() => undefined, 60_000);
    try {
      expect(timer.hasRef()).toBe(false);
      life.hold();
      expect(timer.hasRef()).toBe(true);
      const later = life.timer(() => undefined, 60_000);
      expect(later.hasRef()).toBe(true);
      life.release();
      expect(timer.hasRef()).toBe(false);
      expect(later.hasRef()).toBe(false);
      life.setAddsWaiting(true);
      expect(timer.hasRef()).toBe(true);
      life.setAddsWaiting(false);
      expect(timer.hasRef()).toBe(false);
      life.clearTimer(later);
    } finally {
      life.clearTimer(timer);
    }
  });

  it('start() after close() does nothing; the deadline is now + timeoutMs and abandons when it fires', () => {
    vi.useFakeTimers();
    try {
      const life = new Lifecycle();
      expect(life.start()).toBe(true);
      life.close();
      expect(life.started).toBe(false);
      expect(life.start()).toBe(false);
      life.startDeadline(1_000, 250);
      expect(life.deadline).toBe(1_250);
      vi.advanceTimersByTime(249);
      expect(life.abandoned).toBe(false);
      vi.advanceTimersByTime(1);
      expect(life.abandoned).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
