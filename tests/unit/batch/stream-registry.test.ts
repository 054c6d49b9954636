import { describe, expect, it } from 'vitest';
import { BatchBufferImpl, type FlushResult } from '../../../src/batch/index.js';
import { StreamRegistry } from '../../../src/batch/stream-registry.js';
import { deferred, ev, expectIdentity, recorder, settle, T0 } from './helpers.js';
import { quiet } from '../../helpers/quiet.js';

/** A clock the test moves by hand. */
function clock(start = T0): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}


describe('StreamRegistry: releasing idle streams', () => {
  it('releases a stream idle for the timeout (after one sweep saw it idle), never before', () => {
    const c = clock();
    const released: string[] = [];
    const registry = new StreamRegistry({ idleTimeoutMs: 10_000, now: c.now, released: (t) => released.push(t.stream) });
    const a = registry.get('g', 'a');
    c.advance(2_500);
    expect(registry.sweep()).toBe(0); // touched by get() since the last scan: its idle time starts now
    c.advance(9_999);
    expect(registry.sweep()).toBe(0);
    expect(registry.find('g', 'a')).toBe(a);
    c.advance(2_500); // the next scan (a quarter of the timeout later)
    expect(registry.sweep()).toBe(1);
    expect(registry.find('g', 'a')).toBeUndefined();
    expect(registry.size).toBe(0);
    expect([...registry.all()]).toEqual([]);
    expect(released).toEqual(['a']);
    expect(registry.releasedCount).toBe(1);
    // It comes back as a new stream.
    const again = registry.get('g', 'a');
    expect(again).not.toBe(a);
    expect(registry.size).toBe(1);
  });

  it('an add() since the last sweep restarts the idle time (no clock read per add)', () => {
    const c = clock();
    const registry = new StreamRegistry({ idleTimeoutMs: 10_000, now: c.now });
    registry.get('g', 'a');
    registry.sweep();
    c.advance(8_000);
    registry.get('g', 'a'); // the fast path (last stream) marks it too
    registry.sweep();
    c.advance(9_000);
    expect(registry.sweep()).toBe(0); // idle 9 s since the sweep that saw the add
    c.advance(2_500);
    expect(registry.sweep()).toBe(1);
  });

  it('never releases a stream with events, a run (in flight) or a waiter; an empty one on the idle list goes', () => {
    const c = clock();
    const registry = new StreamRegistry({ idleTimeoutMs: 1_000, now: c.now });
    const withEvents = registry.get('g', 'events');
    withEvents.push(ev(1).timestamp, ev(1).message, 40);
    const running = registry.get('g', 'running');
    running.running = new Promise<void>(() => undefined);
    const listed = registry.get('g', 'listed');
    listed.listed = true; // on the scheduler's idle list but empty: the list drops such entries
    const waited = registry.get('g', 'waited');
    waited.passWaiters.push({ pass: 1, resolve: () => undefined, reject: () => undefined });
    registry.get('other', 'idle');
    for (let i = 0; i < 10; i++) {
      c.advance(5_000);
      registry.sweep();
    }
    expect(registry.find('other', 'idle')).toBeUndefined();
    expect(registry.find('g', 'listed')).toBeUndefined();
    expect(registry.size).toBe(3);
    for (const t of [withEvents, running, waited]) expect(registry.find('g', t.stream)).toBe(t);
    // Once idle, they go.
    withEvents.takeAll();
    running.running = undefined;
    waited.passWaiters = [];
    c.advance(5_000);
    registry.sweep();
    c.advance(5_000);
    registry.sweep();
    expect(registry.size).toBe(0);
  });

  it('releases nothing while canRelease() says no, and nothing at all with timeout 0', () => {
    const c = clock();
    let may = false;
    const registry = new StreamRegistry({ idleTimeoutMs: 1_000, now: c.now, canRelease: () => may });
    registry.get('g', 'a');
    c.advance(60_000);
    registry.sweep();
    c.advance(60_000);
    expect(registry.sweep()).toBe(0);
    may = true;
    registry.sweep();
    c.advance(60_000);
    expect(registry.sweep()).toBe(1);
    const never = new StreamRegistry({ idleTimeoutMs: 0, now: c.now });
    never.get('g', 'a');
    c.advance(1e12);
    expect(never.sweep()).toBe(0);
    expect(never.size).toBe(1);
  });

  it('scans at most once per sweep interval (a quarter of the timeout, at least 1 s)', () => {
    const c = clock();
    const registry = new StreamRegistry({ idleTimeoutMs: 40_000, now: c.now });
    registry.get('g', 'a'); // scans (nothing yet), then creates a
    c.advance(9_999);
    registry.sweep(); // within 10 s of the last scan: skipped, so a is still "touched"
    c.advance(1);
    registry.sweep(); // scans: a's idle time starts now
    c.advance(35_000);
    expect(registry.sweep()).toBe(0); // idle 35 s
    c.advance(5_000);
    expect(registry.sweep()).toBe(0); // idle 40 s, but within 10 s of the last scan: skipped
    c.advance(5_000);
    expect(registry.sweep()).toBe(1);
  });

  it('a new name triggers a sweep: memory stays flat when names churn', () => {
    const c = clock();
    const registry = new StreamRegistry({ idleTimeoutMs: 60_000, now: c.now });
    let most = 0;
    for (let day = 0; day < 50; day++) {
      for (let i = 0; i < 100; i++) registry.get('g', `app-${day}-${i}`);
      most = Math.max(most, registry.size);
      c.advance(86_400_000 / 4);
      registry.sweep();
      c.advance((86_400_000 * 3) / 4);
    }
    expect(most).toBeLessThanOrEqual(200);
    expect(registry.releasedCount).toBeGreaterThanOrEqual(4_800);
  });
});

describe('BatchBufferImpl with streamIdleTimeoutMs', () => {
  it('releases an idle stream (getMetrics().streams), forgets its token, and a stream that comes back works', async () => {
    const c = clock();
    const rec = recorder((call): FlushResult => ({ nextSequenceToken: `token-${call.stream}` }));
    const buffer = new BatchBufferImpl(rec.flush, quiet({ now: c.now, streamIdleTimeoutMs: 10_000, flushIntervalMs: 1_000_000 }));
    await buffer.add('g', 'a', ev(1));
    await buffer.flush('g', 'a');
    await buffer.add('g', 'a', ev(2));
    await buffer.flush('g', 'a');
    expect(rec.calls[1]?.token).toBe('token-a'); // the legacy token is kept while the stream is held
    expect(buffer.getMetrics().streams).toBe(1);
    c.advance(3_000);
    await buffer.add('g', 'b', ev(3)); // a new name sweeps: a's idle time starts
    c.advance(11_000);
    await buffer.add('g', 'c', ev(4)); // a idle for 11 s: released
    expect(buffer.getMetrics().streams).toBe(2);
    await buffer.add('g', 'a', ev(5));
    await buffer.flushAll();
    const last = rec.calls.filter((call) => call.stream === 'a').at(-1);
    expect(last?.events.map((e) => e.message)).toEqual(['message 5']);
    expect(last?.token).toBeUndefined(); // the cost: the token was forgotten with the stream
    const m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(5);
    expect(m.streams).toBe(3);
    expectIdentity(m);
    await buffer.stop();
  });

  it('never releases a stream with events buffered or in flight', async () => {
    const c = clock();
    const gate = deferred();
    const rec = recorder(async (call) => {
      if (call.stream === 'busy') await gate.promise;
    });
    const buffer = new BatchBufferImpl(rec.flush, quiet({ now: c.now, streamIdleTimeoutMs: 1_000, flushIntervalMs: 1_000_000 }));
    await buffer.add('g', 'busy', ev(1));
    const flushing = buffer.flush('g', 'busy'); // in flight until the gate opens
    await buffer.add('g', 'held', ev(2)); // buffered, never flushed
    for (let i = 0; i < 20; i++) {
      c.advance(10_000);
      await buffer.add('g', `churn-${i}`, ev(3 + i));
      await buffer.flush('g', `churn-${i}`);
    }
    await settle();
    // busy (in flight) and held (buffered) stay; the churn streams come and go.
    expect(rec.calls.filter((call) => call.stream === 'busy')).toHaveLength(1);
    expect(buffer.getMetrics().streams).toBeLessThanOrEqual(5);
    expect(buffer.getMetrics().eventsInFlight).toBe(1);
    gate.resolve();
    await flushing;
    // Still known: flush('held') finds it and sends its event.
    await buffer.flush('g', 'held');
    expect(rec.calls.some((call) => call.stream === 'held' && call.events[0]?.message === 'message 2')).toBe(true);
    const m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(22);
    expectIdentity(m);
    await buffer.stop();
  });

  it('keeps every stream with streamIdleTimeoutMs 0', async () => {
    const c = clock();
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet({ now: c.now, streamIdleTimeoutMs: 0 }));
    for (let i = 0; i < 50; i++) {
      c.advance(3_600_000);
      await buffer.add('g', `s-${i}`, ev(i));
      await buffer.flush('g', `s-${i}`);
    }
    expect(buffer.getMetrics().streams).toBe(50);
    await buffer.stop();
  });
});
