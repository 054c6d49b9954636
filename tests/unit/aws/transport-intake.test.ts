/**
 * TransportIntake: the flush and close logic the pino and winston transports share. Waits are
 * events (notify) bounded by deadlines; deadlines are driven by fake timers, never slept.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { settlesBy, TransportIntake } from '../../../src/aws/transport-intake.js';
import { TransportSink, type TransportFailure } from '../../../src/aws/transport.js';
import type { InputLogEvent } from '../../../src/batch/types.js';

const sinks: TransportSink[] = [];
afterEach(async () => {
  vi.useRealTimers();
  for (const s of sinks.splice(0)) await s.stop(0);
});

/** A sink whose sends wait for `open()`; what was sent lands in `delivered`. */
function gatedSink(): { sink: TransportSink; delivered: string[]; open: () => void; failures: TransportFailure[] } {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  const delivered: string[] = [];
  const failures: TransportFailure[] = [];
  const sink = new TransportSink({
    name: 'test',
    options: { logGroupName: '/g', logStreamName: 's', flushIntervalMs: 3_600_000 },
    flushFunction: async (_group: string, _stream: string, events: InputLogEvent[]) => {
      await gate;
      delivered.push(...events.map((e) => e.message));
      return {};
    },
    report: (f) => failures.push(f),
  });
  sinks.push(sink);
  return { sink, delivered, open, failures };
}

function intakeOf(sink: TransportSink, failures: TransportFailure[] = []): TransportIntake {
  return new TransportIntake({ name: 'test', sink, report: (f) => failures.push(f) });
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TransportIntake.until', () => {
  it('resolves true at the notify() after which the condition holds, not before', async () => {
    const intake = intakeOf(gatedSink().sink);
    let ready = false;
    let result: boolean | undefined;
    void intake.until(() => ready, Date.now() + 60_000).then((r) => (result = r));
    expect(intake.waited).toBe(true);
    intake.notify(); // still false: keeps waiting
    await turn();
    expect(result).toBeUndefined();
    ready = true;
    await turn();
    expect(result).toBeUndefined(); // nobody said anything moved
    intake.notify();
    await turn();
    expect(result).toBe(true);
    expect(intake.waited).toBe(false);
  });

  it('resolves false at the deadline (an unref()d timer), true at once when the condition already holds', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const intake = intakeOf(gatedSink().sink);
    let result: boolean | undefined;
    void intake.until(() => false, Date.now() + 1_000).then((r) => (result = r));
    await vi.advanceTimersByTimeAsync(999);
    expect(result).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(result).toBe(false);
    expect(intake.waited).toBe(false);
    expect(await intake.until(() => true, Date.now() - 1)).toBe(true);
    expect(await intake.until(() => false, Date.now())).toBe(false);
  });

  it('Infinity: no deadline, no timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const intake = intakeOf(gatedSink().sink);
    const before = vi.getTimerCount();
    let ready = false;
    const waited = intake.until(() => ready, Infinity);
    expect(vi.getTimerCount()).toBe(before);
    ready = true;
    intake.notify();
    expect(await waited).toBe(true);
  });

  it('notifySoon(): several calls in one run of code check each waiter once, after it', async () => {
    const intake = intakeOf(gatedSink().sink);
    let checks = 0;
    let ready = false;
    const waited = intake.until(() => {
      checks++;
      return ready;
    }, Infinity);
    expect(checks).toBe(1);
    intake.notifySoon();
    intake.notifySoon();
    ready = true; // set after the calls, in the same run of code: seen by the one check
    intake.notifySoon();
    expect(checks).toBe(1);
    expect(await waited).toBe(true);
    expect(checks).toBe(2);
  });
});

describe('settlesBy', () => {
  it('true once the promise settles either way, false at the deadline', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    expect(await settlesBy(Promise.reject(new Error('x')), Date.now() + 10)).toBe(true);
    const never = settlesBy(new Promise(() => undefined), Date.now() + 10);
    await vi.advanceTimersByTimeAsync(10);
    expect(await never).toBe(false);
  });
});

describe('TransportIntake.flush', () => {
  it('waits until caught up, then delivers what is buffered: resolves 0, nothing reported', async () => {
    const { sink, delivered, open, failures } = gatedSink();
    const intake = intakeOf(sink, failures);
    let caughtUp = false;
    const flushed = intake.flush(() => caughtUp, 60_000);
    expect(sink.tryAdd(Date.now(), 'a')).toBe(true);
    open();
    await turn();
    expect(delivered).toEqual([]); // not caught up: nothing forced out yet
    expect(sink.tryAdd(Date.now(), 'b')).toBe(true);
    caughtUp = true;
    intake.notify();
    expect(await flushed).toBe(0);
    expect(delivered).toEqual(['a', 'b']);
    expect(failures).toEqual([]);
  });

  it('what the deadline leaves buffered is reported (error, flush) with the count, and stays buffered', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { sink, failures } = gatedSink(); // never opened
    const intake = intakeOf(sink, failures);
    expect(sink.tryAdd(Date.now(), 'a')).toBe(true);
    const flushed = intake.flush(() => true, 500);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(await flushed).toBe(1);
    expect(failures.map((f) => [f.kind, f.reason])).toEqual([['error', 'flush']]);
    expect(failures[0]?.message).toMatch(/^test: flush: 1 event\(s\) not delivered within 500 ms; still buffered/);
    expect(sink.pending()).toBe(1);
  });
});

describe('TransportIntake.close', () => {
  it('lets the input loop finish and the waiting lines settle before it stops the sink', async () => {
    const { sink, delivered, open } = gatedSink();
    const intake = intakeOf(sink);
    const stop = vi.spyOn(sink, 'stop');
    let loopEnd!: () => void;
    const loopDone = new Promise<void>((resolve) => (loopEnd = resolve));
    let settled = false;
    const closed = intake.close({ loopDone, settled: () => settled }, 60_000);
    await turn();
    expect(stop).not.toHaveBeenCalled();
    loopEnd();
    await turn();
    expect(stop).not.toHaveBeenCalled(); // a line still waits for room
    expect(sink.tryAdd(Date.now(), 'last')).toBe(true);
    settled = true;
    intake.notify();
    open();
    await closed;
    expect(stop).toHaveBeenCalledTimes(1);
    expect(delivered).toEqual(['last']);
  });

  it('a loop that never ends (blocked on a full buffer) does not hold it past the deadline', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const { sink } = gatedSink();
    const intake = intakeOf(sink);
    const stop = vi.spyOn(sink, 'stop');
    let done = false;
    void intake.close({ loopDone: new Promise(() => undefined), settled: () => true }, 1_000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(stop).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(stop).toHaveBeenCalledTimes(1);
    expect(stop.mock.calls[0]?.[0]).toBe(0); // nothing of the deadline left for stop()
    await vi.advanceTimersByTimeAsync(0);
    expect(done).toBe(true);
  });
});
