/**
 * installShutdownHandlers (src/batch/shutdown.ts), in this process: signals and `beforeExit` are
 * emitted with process.emit (nothing is really delivered) and process.exit is a spy, so every
 * branch can be watched without ending the test runner. The real thing, in a child process
 * killed with SIGTERM, is tests/integration/faults-shutdown.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { installShutdownHandlers, type BatchBuffer, type BatchMetrics, type ShutdownInfo } from '../../../src/batch/index.js';
import { deferred, settle, type Deferred } from './helpers.js';

/** SIGUSR2: nothing in the test runner listens for it, and emitting it only calls listeners. */
const SIGNAL = 'SIGUSR2';
const SIGNAL_EXIT_CODE = 128 + 12;

/** A buffer whose stop() resolves when the test says so. */
function fakeBuffer(): { buffer: BatchBuffer; stop: MockInstance; stopped: Deferred } {
  const stopped = deferred();
  const stop = vi.fn((_options?: { timeoutMs?: number }) => stopped.promise);
  const buffer = { stop, getMetrics: () => ({ eventsDelivered: 7 }) as BatchMetrics } as unknown as BatchBuffer;
  return { buffer, stop, stopped };
}

/** What onDone is told, as a promise. */
function done(): { onDone: (info: ShutdownInfo) => void; info: Promise<ShutdownInfo> } {
  const d = deferred<ShutdownInfo>();
  return { onDone: (info) => d.resolve(info), info: d.promise };
}

let exit: MockInstance;
let uninstall: (() => void) | undefined;
const before = { signal: 0, beforeExit: 0 };
beforeEach(() => {
  exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
  before.signal = process.listenerCount(SIGNAL);
  before.beforeExit = process.listenerCount('beforeExit');
});
afterEach(() => {
  uninstall?.();
  uninstall = undefined;
  vi.restoreAllMocks();
  // Every test leaves the process's listeners as it found them.
  expect(process.listenerCount(SIGNAL)).toBe(before.signal);
  expect(process.listenerCount('beforeExit')).toBe(before.beforeExit);
});

describe('options', () => {
  it.each([
    [null, {}, TypeError, /`buffer`/],
    [{}, {}, TypeError, /`buffer`/],
    [fakeBuffer().buffer, { signals: 'SIGTERM' }, TypeError, /`signals`.*SIGTERM/],
    [fakeBuffer().buffer, { signals: ['SIGNOPE'] }, RangeError, /`signals`.*SIGNOPE/],
    [fakeBuffer().buffer, { timeoutMs: -1 }, RangeError, /`timeoutMs`.*-1/],
    [fakeBuffer().buffer, { timeoutMs: Number.NaN }, RangeError, /`timeoutMs`.*NaN/],
    [fakeBuffer().buffer, { onDone: 'yes' }, TypeError, /`onDone`.*string/],
  ])('refuses %o with %o, naming the option and value', (buffer, options, type, message) => {
    expect(() => installShutdownHandlers(buffer as BatchBuffer, options as never)).toThrow(type);
    expect(() => installShutdownHandlers(buffer as BatchBuffer, options as never)).toThrow(message);
  });

  it('installs one listener per signal (duplicates too) and beforeExit unless told not to; the remover is idempotent', () => {
    const { buffer } = fakeBuffer();
    uninstall = installShutdownHandlers(buffer, { signals: [SIGNAL, SIGNAL] });
    expect(process.listenerCount(SIGNAL)).toBe(before.signal + 1);
    expect(process.listenerCount('beforeExit')).toBe(before.beforeExit + 1);
    uninstall();
    uninstall();
    expect(process.listenerCount(SIGNAL)).toBe(before.signal);
    const again = installShutdownHandlers(buffer, { signals: [], beforeExit: false });
    expect(process.listenerCount('beforeExit')).toBe(before.beforeExit);
    again();
  });
});

describe('on a signal', () => {
  it('stops the buffer with the deadline, tells onDone, removes its listeners, then exits with 128 + the signal number', async () => {
    const { buffer, stop, stopped } = fakeBuffer();
    const { onDone, info } = done();
    uninstall = installShutdownHandlers(buffer, { signals: [SIGNAL], timeoutMs: 1_234, onDone });
    process.emit(SIGNAL, SIGNAL);
    expect(stop).toHaveBeenCalledWith({ timeoutMs: 1_234 });
    await settle();
    expect(exit).not.toHaveBeenCalled(); // not before stop() settles
    stopped.resolve();
    expect(await info).toEqual({ reason: SIGNAL, metrics: { eventsDelivered: 7 }, exitCode: SIGNAL_EXIT_CODE });
    expect(process.listenerCount(SIGNAL)).toBe(before.signal);
    expect(exit).toHaveBeenCalledWith(SIGNAL_EXIT_CODE);
  });

  it("leaves the exit to the application's own listener for the signal", async () => {
    const { buffer, stopped } = fakeBuffer();
    const { onDone, info } = done();
    const own = vi.fn();
    process.on(SIGNAL, own);
    try {
      uninstall = installShutdownHandlers(buffer, { signals: [SIGNAL], onDone });
      process.emit(SIGNAL, SIGNAL);
      stopped.resolve();
      expect((await info).exitCode).toBe(SIGNAL_EXIT_CODE);
      expect(own).toHaveBeenCalledOnce();
      expect(exit).not.toHaveBeenCalled();
    } finally {
      process.off(SIGNAL, own);
    }
  });

  it('the same signal again while stopping exits at once; stop() is called once', async () => {
    const { buffer, stop } = fakeBuffer();
    uninstall = installShutdownHandlers(buffer, { signals: [SIGNAL] });
    process.emit(SIGNAL, SIGNAL);
    expect(exit).not.toHaveBeenCalled();
    process.emit(SIGNAL, SIGNAL);
    expect(exit).toHaveBeenCalledWith(SIGNAL_EXIT_CODE);
    expect(stop).toHaveBeenCalledOnce();
    expect(process.listenerCount(SIGNAL)).toBe(before.signal);
  });

  it('a stop() that rejects or throws is reported to onDone as `error`; a throwing onDone is ignored', async () => {
    const failure = new Error('stop failed');
    const seen: ShutdownInfo[] = [];
    for (const stop of [() => Promise.reject(failure), () => { throw failure; }]) {
      const { onDone, info } = done();
      const buffer = { stop, getMetrics: () => ({}) as BatchMetrics } as unknown as BatchBuffer;
      uninstall = installShutdownHandlers(buffer, {
        signals: [SIGNAL],
        onDone: (i) => {
          onDone(i);
          throw new Error('onDone failed');
        },
      });
      process.emit(SIGNAL, SIGNAL);
      seen.push(await info);
      await settle();
    }
    expect(seen.map((i) => i.error)).toEqual([failure, failure]);
    expect(exit).toHaveBeenCalledTimes(2);
  });
});

describe('on beforeExit', () => {
  it('stops the buffer and lets the process exit by itself (no exit code, no process.exit)', async () => {
    const { buffer, stop, stopped } = fakeBuffer();
    const { onDone, info } = done();
    uninstall = installShutdownHandlers(buffer, { signals: [SIGNAL], onDone });
    process.emit('beforeExit', 0);
    expect(stop).toHaveBeenCalledWith();
    process.emit('beforeExit', 0); // the loop runs dry again while stopping: one stop() only
    expect(stop).toHaveBeenCalledOnce();
    stopped.resolve();
    expect(await info).toMatchObject({ reason: 'beforeExit', exitCode: undefined });
    expect(exit).not.toHaveBeenCalled();
    expect(process.listenerCount('beforeExit')).toBe(before.beforeExit);
  });

  it('a signal during the beforeExit flush exits with the signal\'s code once the flush is done', async () => {
    const { buffer, stop, stopped } = fakeBuffer();
    const { onDone, info } = done();
    uninstall = installShutdownHandlers(buffer, { signals: [SIGNAL], onDone });
    process.emit('beforeExit', 0);
    process.emit(SIGNAL, SIGNAL);
    expect(stop).toHaveBeenCalledOnce();
    expect(exit).not.toHaveBeenCalled();
    stopped.resolve();
    expect(await info).toMatchObject({ reason: SIGNAL, exitCode: SIGNAL_EXIT_CODE });
    expect(exit).toHaveBeenCalledWith(SIGNAL_EXIT_CODE);
  });
});
