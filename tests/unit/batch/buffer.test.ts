import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BatchBufferImpl,
  BufferStoppedError,
  FlushFailedError,
  InvalidLogEventError,
  InvalidNameError,
  findBatchViolation,
  type BatchBufferOptions,
  type DropReason,
  type InputLogEvent,
  type OversizedEventInfo,
  type RejectReason,
  type RetryInfo,
} from '../../../src/batch/index.js';
import { G, S, T0, awsError, deferred, ev, expectIdentity, gatedRecorder, recorder, settle, type Deferred } from './helpers.js';
import { failOnProcessErrors } from '../../helpers/process-errors.js';
import { quiet } from '../../helpers/quiet.js';

failOnProcessErrors('file');
afterEach(() => {
  // Spies first: a spy on a faked setTimeout would otherwise restore the fake.
  vi.restoreAllMocks();
  vi.useRealTimers();
});

const size = (message: string): number => Buffer.byteLength(message, 'utf8') + 26;

interface Drop {
  events: InputLogEvent[];
  reason: DropReason;
  error: unknown;
}

function drops(): { list: Drop[]; onDrop: NonNullable<BatchBufferOptions['onDrop']> } {
  const list: Drop[] = [];
  return { list, onDrop: (events, reason, error) => list.push({ events: [...events], reason, error }) };
}

describe('buffer operations', () => {
  it('buffers events per stream and counts UTF-8 bytes + 26, not string length', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet());
    await buffer.add(G, S, { timestamp: T0, message: 'hello' });
    await buffer.add(G, S, { timestamp: T0, message: 'zwei ✓ 🚀' });
    await buffer.add(G, 'other', { timestamp: T0, message: 'x' });
    const m = buffer.getMetrics();
    expect(m.eventsBuffered).toBe(3);
    // 'zwei ✓ 🚀' is 9 UTF-16 units but 4 + 1 + 3 + 1 + 4 = 13 bytes.
    expect(m.bytesBuffered).toBe(5 + 26 + 13 + 26 + 1 + 26);
    expect(m.eventsAccepted).toBe(3);
    expect(rec.calls).toHaveLength(0);
    expectIdentity(m);
  });

  it('flush() sends one stream, sorted stably by timestamp, and counts delivery', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet());
    await buffer.add(G, S, { timestamp: T0 + 5, message: 'c' });
    await buffer.add(G, S, { timestamp: T0 + 1, message: 'a1' });
    await buffer.add(G, S, { timestamp: T0 + 1, message: 'a2' });
    await buffer.add(G, S, { timestamp: T0 + 3, message: 'b' });
    await buffer.add(G, 'other', { timestamp: T0, message: 'untouched' });
    await buffer.flush(G, S);
    expect(rec.calls).toHaveLength(1);
    expect(rec.calls[0]!.group).toBe(G);
    expect(rec.calls[0]!.stream).toBe(S);
    expect(rec.calls[0]!.events.map((e) => e.message)).toEqual(['a1', 'a2', 'b', 'c']);
    const m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(4);
    expect(m.bytesDelivered).toBe(size('a1') + size('a2') + size('b') + size('c'));
    expect(m.eventsBuffered).toBe(1);
    expect(m.flushesCompleted).toBe(1);
    expect(m.flushesPending).toBe(0);
    expectIdentity(m);
  });

  it('flush() of an unknown or empty stream does nothing; flushAll() sends every stream', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet());
    await buffer.flush(G, 'nobody');
    expect(rec.calls).toHaveLength(0);
    for (let i = 0; i < 5; i++) await buffer.add(G, `s${i}`, ev(i));
    await buffer.add('/other/group', 's0', ev(9));
    await buffer.flushAll();
    expect(rec.calls.map((c) => `${c.group}|${c.stream}`).sort()).toEqual(
      ['/app/logs|s0', '/app/logs|s1', '/app/logs|s2', '/app/logs|s3', '/app/logs|s4', '/other/group|s0'].sort(),
    );
    await buffer.flush(G, 's0');
    expect(rec.calls).toHaveLength(6);
    expect(buffer.getMetrics().eventsBuffered).toBe(0);
  });

  it('copies the event: mutating it after add() changes nothing', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet());
    const event = { timestamp: T0, message: 'original' };
    await buffer.add(G, S, event);
    event.message = 'changed';
    await buffer.flush(G, S);
    expect(rec.messages()).toEqual(['original']);
  });
});

describe('size-triggered flush (before a limit would break, never after)', () => {
  it('maxEvents: the add that would make maxEvents + 1 flushes the full batch first', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet({ maxEvents: 3 }));
    for (let i = 0; i < 3; i++) await buffer.add(G, S, ev(i));
    await settle();
    expect(rec.calls).toHaveLength(0);
    await buffer.add(G, S, ev(3));
    await settle();
    expect(rec.calls).toHaveLength(1);
    expect(rec.calls[0]!.events.map((e) => e.message)).toEqual(['message 0', 'message 1', 'message 2']);
    expect(buffer.getMetrics().eventsBuffered).toBe(1);
    expectIdentity(buffer.getMetrics());
  });

  it('maxBytes: flushes before the bytes would pass maxBytes', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet({ maxBytes: 262_144, maxEventBytes: 262_144 }));
    const big = 'x'.repeat(100_000);
    await buffer.add(G, S, ev(0, big));
    await buffer.add(G, S, ev(1, big)); // 200,052 bytes: fits
    await settle();
    expect(rec.calls).toHaveLength(0);
    await buffer.add(G, S, ev(2, big)); // would be 300,078 > 262,144
    await settle();
    expect(rec.calls).toHaveLength(1);
    expect(rec.calls[0]!.events).toHaveLength(2);
    for (const call of rec.calls) expect(findBatchViolation(call.events, { maxBytes: 262_144, maxEventBytes: 262_144 })).toBeUndefined();
  });

  it('cuts a large flush into batches that obey count, bytes and the 24 h span', async () => {
    const rec = recorder();
    const limits = { maxEvents: 7, maxBytes: 262_144, maxEventBytes: 262_144 };
    const buffer = new BatchBufferImpl(rec.flush, quiet(limits));
    const day = 24 * 3600 * 1000;
    const events: InputLogEvent[] = [];
    for (let i = 0; i < 40; i++) {
      events.push({ timestamp: T0 + ((i * 7919) % 13) * (day / 3), message: i % 5 === 0 ? 'y'.repeat(60_000) : `e${i} ü 😀` });
    }
    // Bypass the size trigger by adding into a buffer whose flushes are slow: add them all first.
    for (const e of events) await buffer.add(G, S, e);
    await buffer.flush(G, S);
    for (const call of rec.calls) expect(findBatchViolation(call.events, limits)).toBeUndefined();
    expect(rec.messages().sort()).toEqual(events.map((e) => e.message).sort());
    expectIdentity(buffer.getMetrics());
  });
});

describe('auto-flush timer (fake timers prove the real wiring)', () => {
  it('is armed only while something is buffered, unref()d, and fires at flushIntervalMs', async () => {
    vi.useFakeTimers({ now: T0 });
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet({ flushIntervalMs: 2_000 }));
    buffer.start();
    expect(vi.getTimerCount()).toBe(0); // nothing buffered: no timer
    await buffer.add(G, S, ev(0));
    expect(vi.getTimerCount()).toBe(1);
    const timer = spy.mock.results.at(-1)!.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
    await buffer.add(G, S, ev(1));
    expect(vi.getTimerCount()).toBe(1); // one timer, not one per add
    await vi.advanceTimersByTimeAsync(1_999);
    expect(rec.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.calls).toHaveLength(1);
    expect(rec.calls[0]!.events).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(0); // empty again: disarmed
    await vi.advanceTimersByTimeAsync(60_000);
    expect(rec.calls).toHaveLength(1);
    // Re-armed by the next add, measured from that add.
    await vi.advanceTimersByTimeAsync(500);
    await buffer.add(G, S, ev(2));
    await vi.advanceTimersByTimeAsync(1_999);
    expect(rec.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.calls).toHaveLength(2);
    spy.mockRestore();
    await buffer.stop();
  });

  it('is not armed before start(), and stop() clears it', async () => {
    vi.useFakeTimers({ now: T0 });
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet({ flushIntervalMs: 1_000 }));
    await buffer.add(G, S, ev(0));
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rec.calls).toHaveLength(0);
    buffer.start();
    expect(vi.getTimerCount()).toBe(1);
    await buffer.stop();
    expect(rec.calls).toHaveLength(1); // stop() flushed
    expect(vi.getTimerCount()).toBe(0);
    buffer.start(); // no effect after stop
    expect(vi.getTimerCount()).toBe(0);
  });

  it('flushes every stream that has events on each tick; a failing timer flush goes to onError, not unhandled', async () => {
    vi.useFakeTimers({ now: T0 });
    const errors: unknown[] = [];
    const rec = recorder((call) => {
      if (call.stream === 'bad') throw awsError('AccessDeniedException');
    });
    const buffer = new BatchBufferImpl(rec.flush, { flushIntervalMs: 1_000, onError: (e) => errors.push(e) });
    buffer.start();
    await buffer.add(G, 'a', ev(0));
    await buffer.add(G, 'b', ev(1));
    await buffer.add(G, 'bad', ev(2));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(rec.calls.map((c) => c.stream).sort()).toEqual(['a', 'b', 'bad']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(FlushFailedError);
    expect((errors[0] as FlushFailedError).code).toBe('FLUSH_FAILED');
    expectIdentity(buffer.getMetrics());
    const stopped = buffer.stop({ timeoutMs: 0 });
    await vi.advanceTimersByTimeAsync(1_000);
    await stopped;
    expect(buffer.getMetrics().droppedByReason.shutdown).toBe(1);
  });

  it('never keeps the process alive: a started buffer with events lets node exit (real process)', () => {
    const dist = fileURLToPath(new URL('../../../dist/batch/index.js', import.meta.url));
    const script = `
      const { BatchBufferImpl } = await import(${JSON.stringify(dist)});
      const buffer = new BatchBufferImpl(async () => {}, { flushIntervalMs: 600000 });
      buffer.start();
      await buffer.add('/g', 's', { timestamp: Date.now(), message: 'hi' });
      console.log('added', buffer.getMetrics().eventsBuffered);
    `;
    const started = Date.now();
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000, encoding: 'utf8' });
    expect(child.stderr).toBe('');
    expect(child.stdout.trim()).toBe('added 1');
    expect(child.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('1. every batch obeys the rules', () => {
  it('stable sort keeps the order of equal timestamps and of split parts', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet({ maxEventBytes: 262_144 }));
    await buffer.add(G, S, { timestamp: T0 + 10, message: 'late' });
    await buffer.add(G, S, { timestamp: T0, message: 'z'.repeat(600_000) });
    await buffer.add(G, S, { timestamp: T0, message: 'same ts after the split' });
    await buffer.flush(G, S);
    const flat = rec.calls.flatMap((c) => c.events);
    expect(flat.map((e) => e.message.length)).toEqual([262_118, 262_118, 600_000 - 2 * 262_118, 23, 4]);
    expect(flat.at(-1)!.message).toBe('late');
    for (const call of rec.calls) expect(findBatchViolation(call.events)).toBeUndefined();
  });
});

describe('2. input validation', () => {
  const cases: Array<[string, string, string, unknown, string, unknown]> = [
    // [label, group, stream, event, field, value]
    ['negative timestamp', G, S, { timestamp: -1, message: 'm' }, 'timestamp', -1],
    ['fractional timestamp', G, S, { timestamp: 1.5, message: 'm' }, 'timestamp', 1.5],
    ['NaN timestamp', G, S, { timestamp: Number.NaN, message: 'm' }, 'timestamp', Number.NaN],
    ['string timestamp', G, S, { timestamp: '1700000000000', message: 'm' }, 'timestamp', '1700000000000'],
    ['missing timestamp', G, S, { message: 'm' }, 'timestamp', undefined],
    ['empty message', G, S, { timestamp: T0, message: '' }, 'message', ''],
    ['number message', G, S, { timestamp: T0, message: 42 }, 'message', 42],
    ['missing message', G, S, { timestamp: T0 }, 'message', undefined],
    ['null event', G, S, null, 'event', null],
    ['string event', G, S, 'just a string', 'event', 'just a string'],
  ];
  for (const [label, group, stream, event, field, value] of cases) {
    it(`rejects ${label} with InvalidLogEventError naming \`${field}\` and the value; nothing buffered`, async () => {
      const rec = recorder();
      const buffer = new BatchBufferImpl(rec.flush, quiet());
      const error = await buffer.add(group, stream, event as InputLogEvent).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidLogEventError);
      const e = error as InvalidLogEventError;
      expect(e.name).toBe('InvalidLogEventError');
      expect(e.code).toBe('INVALID_EVENT');
      expect(e.field).toBe(field);
      expect(e.value).toEqual(value);
      expect(e.message).toContain(`\`${field}\``);
      expect(e.message).toContain(typeof value === 'string' ? JSON.stringify(value) : String(value));
      const m = buffer.getMetrics();
      expect(m.eventsAccepted).toBe(0);
      expect(m.eventsBuffered).toBe(0);
    });
  }

  const names: Array<[string, string, string, string, string]> = [
    ['group starting with aws/', 'aws/lambda', S, 'logGroupName', 'aws/lambda'],
    ['group with a space', 'bad group', S, 'logGroupName', 'bad group'],
    ['empty group', '', S, 'logGroupName', ''],
    ['group of 513 characters', 'g'.repeat(513), S, 'logGroupName', 'g'.repeat(513)],
    ['stream with a colon', G, 'a:b', 'logStreamName', 'a:b'],
    ['stream with a star', G, 'a*b', 'logStreamName', 'a*b'],
    ['empty stream', G, '', 'logStreamName', ''],
  ];
  for (const [label, group, stream, field, value] of names) {
    it(`rejects a ${label} with InvalidNameError naming ${field}`, async () => {
      const buffer = new BatchBufferImpl(recorder().flush, quiet());
      // A valid stream first, so that the last-stream fast path is warm and cannot skip the check.
      await buffer.add(G, S, ev(0));
      const error = await buffer.add(group, stream, ev(1)).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidNameError);
      const e = error as InvalidNameError;
      expect(e.code).toBe('INVALID_NAME');
      expect(e.field).toBe(field);
      expect(e.value).toBe(value);
      expect(e.message).toContain(field);
      expect(buffer.getMetrics().eventsAccepted).toBe(1);
      // And it stays refused the second time.
      await expect(buffer.add(group, stream, ev(2))).rejects.toBeInstanceOf(InvalidNameError);
    });
  }

  it('accepts timestamp 0, a 512-character group and a stream with spaces and unicode', async () => {
    const buffer = new BatchBufferImpl(recorder().flush, quiet());
    await buffer.add('g'.repeat(512), 'stream with spaces / ü 🚀', { timestamp: 0, message: 'm' });
    expect(buffer.getMetrics().eventsAccepted).toBe(1);
  });

  it('add() never throws synchronously, even for garbage', () => {
    const buffer = new BatchBufferImpl(recorder().flush, quiet());
    const p = buffer.add(undefined as unknown as string, S, ev(0));
    expect(p).toBeInstanceOf(Promise);
    return expect(p).rejects.toBeInstanceOf(InvalidNameError);
  });

  it('stores a lone surrogate as U+FFFD and sizes what is sent', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet());
    await buffer.add(G, S, ev(0, 'a\uD800b'));
    expect(buffer.getMetrics().bytesBuffered).toBe(1 + 3 + 1 + 26);
    await buffer.flush(G, S);
    expect(rec.messages()).toEqual(['a\uFFFDb']);
  });

  it('tryAdd() too: lone surrogates (and only they) become U+FFFD, ASCII and well-formed text pass as given', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet());
    const messages = ['plain ascii', '\uDC00x', 'é and 😀', 'x\uD83D'];
    for (const [i, message] of messages.entries()) expect(buffer.tryAdd(G, S, ev(i, message))).toBe(true);
    // 11 + (3 + 1) + (2 + 5 + 4) + (1 + 3) bytes, + 26 per event.
    expect(buffer.getMetrics().bytesBuffered).toBe(11 + 4 + 11 + 4 + 4 * 26);
    await buffer.flush(G, S);
    expect(rec.messages()).toEqual(['plain ascii', '\uFFFDx', 'é and 😀', 'x\uFFFD']);
  });
});

describe('3. oversized events', () => {
  const maxEventBytes = 262_144;
  const maxMessage = maxEventBytes - 26;

  it("'split' (default): lossless parts on character boundaries, same timestamp, in order, counted and reported", async () => {
    const rec = recorder();
    const infos: OversizedEventInfo[] = [];
    const buffer = new BatchBufferImpl(rec.flush, quiet({ maxEventBytes, onOversized: (i) => infos.push(i) }));
    expect(buffer.config.oversizedEventPolicy).toBe('split');
    // 3-byte and 4-byte characters straddle every cut point.
    const message = '€😀'.repeat(90_000); // 630,000 bytes
    await buffer.add(G, S, { timestamp: T0, message });
    const m = buffer.getMetrics();
    expect(m.eventsSplit).toBe(1);
    expect(m.eventsAccepted).toBe(3);
    expect(infos).toEqual([{ logGroup: G, logStream: S, bytes: 630_026, action: 'split', parts: 3 }]);
    await buffer.flush(G, S);
    const parts = rec.calls.flatMap((c) => c.events);
    expect(parts).toHaveLength(3);
    expect(parts.map((p) => p.message).join('')).toBe(message);
    for (const part of parts) {
      expect(part.timestamp).toBe(T0);
      expect(part.message.isWellFormed()).toBe(true);
      expect(Buffer.byteLength(part.message)).toBeLessThanOrEqual(maxMessage);
    }
    for (const call of rec.calls) expect(findBatchViolation(call.events, { maxEventBytes })).toBeUndefined();
    expectIdentity(buffer.getMetrics());
  });

  it('an event of exactly maxEventBytes is not oversized; one byte more is', async () => {
    const infos: OversizedEventInfo[] = [];
    const buffer = new BatchBufferImpl(recorder().flush, quiet({ maxEventBytes, onOversized: (i) => infos.push(i) }));
    await buffer.add(G, S, ev(0, 'a'.repeat(maxMessage)));
    expect(infos).toHaveLength(0);
    await buffer.add(G, S, ev(1, 'a'.repeat(maxMessage + 1)));
    expect(infos).toEqual([{ logGroup: G, logStream: S, bytes: maxEventBytes + 1, action: 'split', parts: 2 }]);
  });

  it("'truncate' keeps the longest prefix that fits, on a character boundary", async () => {
    const rec = recorder();
    const infos: OversizedEventInfo[] = [];
    const buffer = new BatchBufferImpl(
      rec.flush,
      quiet({ maxEventBytes, oversizedEventPolicy: 'truncate', onOversized: (i) => infos.push(i) }),
    );
    const message = 'ab' + '😀'.repeat(70_000); // 280,002 bytes; 262,118 - 2 is not a multiple of 4
    await buffer.add(G, S, { timestamp: T0, message });
    await buffer.flush(G, S);
    const [sent] = rec.calls[0]!.events;
    expect(message.startsWith(sent!.message)).toBe(true);
    expect(Buffer.byteLength(sent!.message)).toBe(2 + Math.floor((maxMessage - 2) / 4) * 4);
    expect(sent!.message.isWellFormed()).toBe(true);
    const m = buffer.getMetrics();
    expect(m.eventsTruncated).toBe(1);
    expect(m.eventsAccepted).toBe(1);
    expect(m.eventsDelivered).toBe(1);
    expect(infos).toEqual([{ logGroup: G, logStream: S, bytes: 280_028, action: 'truncate', parts: 1 }]);
  });

  it("'drop' drops it with reason `oversized` through onDrop and the metrics", async () => {
    const rec = recorder();
    const d = drops();
    const infos: OversizedEventInfo[] = [];
    const buffer = new BatchBufferImpl(
      rec.flush,
      quiet({ maxEventBytes, oversizedEventPolicy: 'drop', onDrop: d.onDrop, onOversized: (i) => infos.push(i) }),
    );
    const message = 'q'.repeat(maxMessage + 1);
    await buffer.add(G, S, { timestamp: T0, message });
    await buffer.flush(G, S);
    expect(rec.calls).toHaveLength(0);
    expect(d.list).toEqual([{ events: [{ timestamp: T0, message }], reason: 'oversized', error: undefined }]);
    expect(infos[0]!.parts).toBe(0);
    const m = buffer.getMetrics();
    expect(m.eventsAccepted).toBe(1);
    expect(m.eventsDropped).toBe(1);
    expect(m.droppedByReason.oversized).toBe(1);
    expectIdentity(m);
  });
});

describe('4. rejectedLogEventsInfo', () => {
  it('maps AWS indices to the exact events, reports each reason once and never re-sends them', async () => {
    const rejected: Array<{ messages: string[]; reason: RejectReason; group: string; stream: string }> = [];
    const rec = recorder((_call, i) =>
      i === 0 ? { rejectedLogEventsInfo: { tooOldLogEventEndIndex: 2, expiredLogEventEndIndex: 3, tooNewLogEventStartIndex: 8 } } : undefined,
    );
    const buffer = new BatchBufferImpl(
      rec.flush,
      quiet({ onRejected: (events, reason, group, stream) => rejected.push({ messages: events.map((e) => e.message), reason, group, stream }) }),
    );
    for (let i = 0; i < 10; i++) await buffer.add(G, S, ev(i, `m${i}`));
    await buffer.flush(G, S);
    expect(rejected).toEqual([
      { messages: ['m0', 'm1'], reason: 'too-old', group: G, stream: S },
      { messages: ['m2'], reason: 'expired', group: G, stream: S },
      { messages: ['m8', 'm9'], reason: 'too-new', group: G, stream: S },
    ]);
    let m = buffer.getMetrics();
    expect(m.eventsRejected).toBe(5);
    expect(m.rejectedByReason).toEqual({ 'too-old': 2, expired: 1, 'too-new': 2 });
    expect(m.eventsDelivered).toBe(5);
    expect(m.bytesDelivered).toBe(5 * size('m0'));
    expectIdentity(m);
    await buffer.flush(G, S);
    await buffer.stop();
    expect(rec.calls).toHaveLength(1);
    m = buffer.getMetrics();
    expect(m.eventsDropped).toBe(0);
    expectIdentity(m);
  });

  it('expired-only prefix (no too-old) and an out-of-range index are clamped', async () => {
    const rejected: Array<[string[], RejectReason]> = [];
    const rec = recorder(() => ({ rejectedLogEventsInfo: { expiredLogEventEndIndex: 1, tooNewLogEventStartIndex: 99 } }));
    const buffer = new BatchBufferImpl(rec.flush, quiet({ onRejected: (events, reason) => rejected.push([events.map((e) => e.message), reason]) }));
    for (let i = 0; i < 3; i++) await buffer.add(G, S, ev(i, `m${i}`));
    await buffer.flush(G, S);
    expect(rejected).toEqual([[['m0'], 'expired']]);
    expect(buffer.getMetrics().eventsDelivered).toBe(2);
    expectIdentity(buffer.getMetrics());
  });
});

describe('5. retries and back-off', () => {
  async function delaysFor(error: () => unknown, extra: BatchBufferOptions): Promise<{ times: number[]; retries: RetryInfo[] }> {
    vi.useFakeTimers({ now: T0 });
    const times: number[] = [];
    const retries: RetryInfo[] = [];
    const rec = recorder((_c, i) => {
      times.push(Date.now() - T0);
      if (i < 3) throw error();
    });
    const buffer = new BatchBufferImpl(rec.flush, {
      onError: () => undefined,
      random: () => 0.5,
      onRetry: (info) => retries.push(info),
      ...extra,
    });
    await buffer.add(G, S, ev(0));
    const done = buffer.flush(G, S);
    await vi.advanceTimersByTimeAsync(100_000);
    await done;
    expect(buffer.getMetrics().eventsDelivered).toBe(1);
    expect(buffer.getMetrics().retries).toBe(3);
    return { times, retries };
  }

  it('full jitter: delay = floor(random * min(cap, base * 2^(attempt-1))), exact with injected random', async () => {
    const { times, retries } = await delaysFor(() => awsError('ServiceUnavailableException', 503), { retryBaseDelayMs: 100 });
    expect(retries.map((r) => r.delayMs)).toEqual([50, 100, 200]);
    expect(retries.map((r) => r.attempt)).toEqual([1, 2, 3]);
    expect(times).toEqual([0, 50, 150, 350]);
  });

  it('throttling uses the longer base', async () => {
    const { times, retries } = await delaysFor(() => awsError('ThrottlingException', 400), {
      retryBaseDelayMs: 100,
      throttleBaseDelayMs: 500,
      adaptiveRate: false, // the fixed back-off; the adaptive pacer is tested in adaptive-rate.test.ts
    });
    expect(retries.map((r) => r.delayMs)).toEqual([250, 500, 1000]);
    expect(times).toEqual([0, 250, 750, 1750]);
  });

  it('the cap bounds each delay', async () => {
    const { retries } = await delaysFor(() => awsError('InternalFailure', 500), { retryBaseDelayMs: 100, retryMaxDelayMs: 150 });
    expect(retries.map((r) => r.delayMs)).toEqual([50, 75, 75]);
  });

  it('does not sleep before the delay is over (nothing sent early)', async () => {
    vi.useFakeTimers({ now: T0 });
    const rec = recorder((_c, i) => {
      if (i === 0) throw awsError('ServiceUnavailableException', 503);
    });
    const buffer = new BatchBufferImpl(rec.flush, { random: () => 0.999, retryBaseDelayMs: 1_000, onError: () => undefined });
    await buffer.add(G, S, ev(0));
    const done = buffer.flush(G, S);
    await vi.advanceTimersByTimeAsync(998);
    expect(rec.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.calls).toHaveLength(2);
    await done;
  });

  const retryable: Array<[string, () => unknown]> = [
    ['5xx by status only', () => Object.assign(new Error('boom'), { $metadata: { httpStatusCode: 502 } })],
    ['ECONNRESET', () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })],
    ['ETIMEDOUT', () => Object.assign(new Error('t'), { code: 'ETIMEDOUT' })],
    ['SDK TimeoutError', () => Object.assign(new Error('t'), { name: 'TimeoutError' })],
    ['$retryable', () => Object.assign(new Error('x'), { $retryable: {} })],
    ['network error as cause', () => new TypeError('fetch failed', { cause: Object.assign(new Error('c'), { code: 'ECONNREFUSED' }) })],
    ['a plain object with __type', () => ({ __type: 'com.amazonaws#ServiceUnavailableException:http://x', message: 'x' })],
  ];
  for (const [label, make] of retryable) {
    it(`retries ${label}`, async () => {
      const rec = recorder((_c, i) => {
        if (i === 0) throw make();
      });
      const buffer = new BatchBufferImpl(rec.flush, quiet());
      await buffer.add(G, S, ev(0));
      await buffer.flush(G, S);
      expect(rec.calls).toHaveLength(2);
      expect(buffer.getMetrics().retries).toBe(1);
      expect(buffer.getMetrics().eventsDelivered).toBe(1);
    });
  }

  it('InvalidSequenceTokenException invalidates the token and retries (with the expected token when given)', async () => {
    const rec = recorder((call, i) => {
      if (i === 0) return { nextSequenceToken: 'tok-1' };
      if (i === 1) throw awsError('InvalidSequenceTokenException', 400, { expectedSequenceToken: 'tok-9' });
      if (i === 2) throw awsError('InvalidSequenceTokenException', 400);
      return { nextSequenceToken: `after-${call.token ?? 'none'}` };
    });
    const buffer = new BatchBufferImpl(rec.flush, quiet());
    await buffer.add(G, S, ev(0));
    await buffer.flush(G, S);
    await buffer.add(G, S, ev(1));
    await buffer.flush(G, S);
    expect(rec.calls.map((c) => c.token)).toEqual([undefined, 'tok-1', 'tok-9', undefined]);
    await buffer.add(G, S, ev(2));
    await buffer.flush(G, S);
    expect(rec.calls[4]!.token).toBe('after-none');
    expect(buffer.getMetrics().eventsDelivered).toBe(3);
  });

  it('DataAlreadyAcceptedException counts the batch delivered and never sends it again', async () => {
    const rec = recorder((_c, i) => {
      if (i === 0) throw awsError('DataAlreadyAcceptedException');
    });
    const d = drops();
    const buffer = new BatchBufferImpl(rec.flush, quiet({ onDrop: d.onDrop }));
    await buffer.add(G, S, ev(0, 'stored'));
    await buffer.add(G, S, ev(1, 'stored too'));
    await buffer.flush(G, S);
    await buffer.flush(G, S);
    await buffer.stop();
    expect(rec.calls).toHaveLength(1);
    const m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(2);
    expect(m.bytesDelivered).toBe(size('stored') + size('stored too'));
    expect(m.retries).toBe(0);
    expect(m.eventsDropped).toBe(0);
    expect(d.list).toEqual([]);
  });
});

describe('6. failure', () => {
  it('exhausted retries: events go back to the front in order, flushesFailed counts, flush() rejects, a later flush delivers', async () => {
    let failing = true;
    const rec = recorder(() => {
      if (failing) throw awsError('ServiceUnavailableException', 503);
    });
    // One request at a time, so that the order of sends is the order of batches (pipelining is tested below).
    const buffer = new BatchBufferImpl(rec.flush, quiet({ maxRetries: 2, maxEvents: 2, maxConcurrentFlushes: 1 }));
    for (let i = 0; i < 5; i++) await buffer.add(G, S, ev(i));
    // The size trigger sent [0, 1] in the background (3 attempts), which failed and went back.
    await settle(200);
    const error = await buffer.flush(G, S).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(FlushFailedError);
    expect((error as FlushFailedError).eventCount).toBe(5);
    let m = buffer.getMetrics();
    expect(m.flushesFailed).toBe(2);
    expect(m.retries).toBe(4);
    expect(m.eventsBuffered).toBe(5);
    expect(m.eventsInFlight).toBe(0);
    expect(m.eventsDropped).toBe(0);
    expectIdentity(m);
    await buffer.add(G, S, ev(5));
    failing = false;
    const before = rec.calls.length;
    await buffer.flush(G, S);
    expect(rec.calls.slice(before).flatMap((c) => c.events.map((e) => e.message))).toEqual(
      [0, 1, 2, 3, 4, 5].map((i) => `message ${i}`),
    );
    m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(6);
    expectIdentity(m);
  });

  it('a failure mid-flush requeues the failed batch and the unsent rest, in order, ahead of newer events', async () => {
    // The batch holding event 2 fails once: in the pass that took the events flush() waits for.
    const failedCalls = new Set<number>();
    const rec = recorder((call, i) => {
      if (failedCalls.size < 1 && call.events.some((e) => e.message === 'message 2')) {
        failedCalls.add(i);
        throw awsError('ServiceUnavailableException', 503);
      }
    });
    const buffer = new BatchBufferImpl(rec.flush, quiet({ maxRetries: 0, maxEvents: 2, maxConcurrentFlushes: 1 }));
    // Added in one go, then one flush: batches [0, 1], [2, 3], [4]; the second fails.
    const adds = [0, 1, 2, 3, 4].map((i) => buffer.add(G, S, ev(i)));
    await Promise.all(adds);
    await buffer.flush(G, S).catch(() => undefined);
    expect(failedCalls.size).toBe(1);
    expect(buffer.getMetrics().eventsBuffered).toBe(3);
    await buffer.add(G, S, ev(5));
    await buffer.flush(G, S);
    const delivered = rec.calls.filter((_c, i) => !failedCalls.has(i)).flatMap((c) => c.events.map((e) => e.message));
    expect(delivered).toEqual([0, 1, 2, 3, 4, 5].map((i) => `message ${i}`));
    expect(buffer.getMetrics().eventsDelivered).toBe(6);
  });

  it('a retryable outage of any length loses nothing', async () => {
    let down = true;
    const rec = recorder(() => {
      if (down) throw Object.assign(new Error('down'), { code: 'ECONNREFUSED' });
    });
    const buffer = new BatchBufferImpl(rec.flush, quiet({ maxRetries: 1, maxRequeues: 1 }));
    for (let i = 0; i < 3; i++) await buffer.add(G, S, ev(i));
    for (let round = 0; round < 20; round++) await expect(buffer.flush(G, S)).rejects.toBeInstanceOf(FlushFailedError);
    expect(buffer.getMetrics().eventsDropped).toBe(0);
    expect(buffer.getMetrics().flushesFailed).toBe(20);
    down = false;
    await buffer.flush(G, S);
    expect(buffer.getMetrics().eventsDelivered).toBe(3);
  });

  it('non-retryable errors: no retries, requeued at most maxRequeues times, then dropped `failed` via onDrop with the error', async () => {
    const denied = awsError('AccessDeniedException');
    const rec = recorder(() => {
      throw denied;
    });
    const d = drops();
    const buffer = new BatchBufferImpl(rec.flush, quiet({ maxRequeues: 2, onDrop: d.onDrop }));
    await buffer.add(G, S, ev(0));
    await buffer.add(G, S, ev(1));
    await expect(buffer.flush(G, S)).rejects.toBeInstanceOf(FlushFailedError);
    await expect(buffer.flush(G, S)).rejects.toBeInstanceOf(FlushFailedError);
    expect(buffer.getMetrics().eventsBuffered).toBe(2);
    expect(d.list).toEqual([]);
    // Third failure: over maxRequeues.
    await buffer.flush(G, S).catch(() => undefined);
    expect(rec.calls).toHaveLength(3);
    expect(buffer.getMetrics().retries).toBe(0);
    expect(d.list).toHaveLength(1);
    expect(d.list[0]!.reason).toBe('failed');
    expect(d.list[0]!.error).toBe(denied);
    expect(d.list[0]!.events.map((e) => e.message)).toEqual(['message 0', 'message 1']);
    const m = buffer.getMetrics();
    expect(m.droppedByReason.failed).toBe(2);
    expect(m.eventsBuffered).toBe(0);
    expectIdentity(m);
  });

  it('InvalidParameterException bisects the batch: only the refused events are dropped `invalid`, the rest delivered', async () => {
    const rec = recorder((call) => {
      if (call.events.some((e) => e.message.startsWith('bad'))) throw awsError('InvalidParameterException');
    });
    const d = drops();
    const buffer = new BatchBufferImpl(rec.flush, quiet({ onDrop: d.onDrop }));
    const messages = ['ok0', 'ok1', 'bad2', 'ok3', 'ok4', 'ok5', 'bad6', 'ok7', 'ok8'];
    for (let i = 0; i < messages.length; i++) await buffer.add(G, S, ev(i, messages[i]));
    await buffer.flush(G, S);
    expect(d.list.map((x) => [x.reason, x.events.map((e) => e.message)])).toEqual([
      ['invalid', ['bad2']],
      ['invalid', ['bad6']],
    ]);
    const deliveredCalls = rec.calls.filter((c) => !c.events.some((e) => e.message.startsWith('bad')));
    expect(deliveredCalls.flatMap((c) => c.events.map((e) => e.message))).toEqual(messages.filter((x) => x.startsWith('ok')));
    const m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(7);
    expect(m.droppedByReason.invalid).toBe(2);
    expect(m.bytesDelivered).toBe(messages.filter((x) => x.startsWith('ok')).reduce((n, x) => n + size(x), 0));
    expectIdentity(m);
    await buffer.flush(G, S);
    expect(m.eventsBuffered).toBe(0);
  });
});

describe('7. memory bound', () => {
  const each = size('message 0'); // 35 bytes

  it("'block' (default): add() waits for room and resolves once a flush frees it", async () => {
    const gate = deferred();
    const rec = recorder(() => gate.promise);
    const buffer = new BatchBufferImpl(rec.flush, quiet({ maxBufferedBytes: each * 3 }));
    expect(buffer.config.overflowPolicy).toBe('block');
    for (let i = 0; i < 3; i++) await buffer.add(G, S, ev(i));
    let admitted = false;
    const pending = buffer.add(G, S, ev(3)).then(() => {
      admitted = true;
    });
    await settle();
    expect(admitted).toBe(false);
    expect(rec.calls).toHaveLength(1); // the wait started a flush to make room
    let m = buffer.getMetrics();
    expect(m.eventsAccepted).toBe(3);
    expect(m.eventsInFlight).toBe(3);
    expectIdentity(m);
    gate.resolve();
    await pending;
    expect(admitted).toBe(true);
    m = buffer.getMetrics();
    expect(m.eventsAccepted).toBe(4);
    expect(m.eventsBuffered).toBe(1);
    expect(m.bytesBuffered + m.bytesInFlight).toBeLessThanOrEqual(each * 3);
    expectIdentity(m);
    await buffer.stop();
    expect(buffer.getMetrics().eventsDelivered).toBe(4);
  });

  it("'block': stop() rejects adds still waiting for room with BufferStoppedError", async () => {
    const rec = recorder(() => new Promise<void>(() => undefined));
    const buffer = new BatchBufferImpl(rec.flush, quiet({ maxBufferedBytes: each, flushTimeoutMs: 10 }));
    await buffer.add(G, S, ev(0));
    const waiting = buffer.add(G, S, ev(1));
    const stopped = buffer.stop({ timeoutMs: 0 });
    await expect(waiting).rejects.toBeInstanceOf(BufferStoppedError);
    await stopped;
    const m = buffer.getMetrics();
    expect(m.eventsAccepted).toBe(1);
    // Its call never answered: the outcome is unknown, not "not delivered".
    expect(m.droppedByReason.unknown).toBe(1);
    expectIdentity(m);
  });

  it("'drop-oldest' drops the oldest buffered events (this stream's first), reported `overflow`, and starts sending", async () => {
    const d = drops();
    const gate = deferred();
    const rec = recorder(() => gate.promise);
    const buffer = new BatchBufferImpl(rec.flush, quiet({ maxBufferedBytes: each * 4, overflowPolicy: 'drop-oldest', onDrop: d.onDrop }));
    await buffer.add(G, 'other', ev(0, 'other 0'));
    for (let i = 0; i < 3; i++) await buffer.add(G, S, ev(i));
    await buffer.add(G, S, ev(3));
    expect(d.list.map((x) => [x.reason, x.events.map((e) => e.message)])).toEqual([['overflow', ['message 0']]]);
    let m = buffer.getMetrics();
    expect(m.droppedByReason.overflow).toBe(1);
    expect(m.bytesBuffered + m.bytesInFlight).toBeLessThanOrEqual(each * 4);
    expectIdentity(m);
    // In-flight events cannot be taken back: with everything on its way out, the new event goes.
    await settle();
    expect(rec.calls.length).toBeGreaterThan(0);
    await buffer.add(G, S, ev(4));
    expect(d.list.at(-1)!.events.map((e) => e.message)).toEqual(['message 4']);
    gate.resolve();
    await buffer.flushAll();
    m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(4);
    expect(m.droppedByReason.overflow).toBe(2);
    expectIdentity(m);
    expect(rec.messages().sort()).toEqual(['message 1', 'message 2', 'message 3', 'other 0']);
  });

  it("'drop-newest' drops the new event, reported `overflow`", async () => {
    const d = drops();
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet({ maxBufferedBytes: each * 3, overflowPolicy: 'drop-newest', onDrop: d.onDrop }));
    for (let i = 0; i < 5; i++) await buffer.add(G, S, ev(i));
    expect(d.list.map((x) => x.events[0]!.message)).toEqual(['message 3', 'message 4']);
    expect(d.list.every((x) => x.reason === 'overflow')).toBe(true);
    await buffer.flush(G, S);
    expect(rec.messages()).toEqual(['message 0', 'message 1', 'message 2']);
    expectIdentity(buffer.getMetrics());
  });
});

describe('8. concurrency', () => {
  it('one flush at a time per stream; a flush() during another waits for it, then sends what is left', async () => {
    const rec = gatedRecorder();
    const gates = rec.gates;
    const buffer = new BatchBufferImpl(rec.flush, quiet());
    await buffer.add(G, S, ev(0));
    const first = buffer.flush(G, S);
    await settle();
    expect(rec.calls).toHaveLength(1);
    await buffer.add(G, S, ev(1));
    let secondDone = false;
    const second = buffer.flush(G, S).then(() => {
      secondDone = true;
    });
    await settle();
    expect(rec.calls).toHaveLength(1); // not in parallel on the same stream
    expect(secondDone).toBe(false);
    gates[0]!.resolve();
    await settle();
    expect(rec.calls).toHaveLength(2);
    expect(rec.calls[1]!.events.map((e) => e.message)).toEqual(['message 1']);
    expect(secondDone).toBe(false);
    gates[1]!.resolve();
    await Promise.all([first, second]);
    expect(rec.maxActive()).toBe(1);
    expect(buffer.getMetrics().eventsBuffered).toBe(0);
    expect(buffer.getMetrics().eventsDelivered).toBe(2);
  });

  it('a flush() never returns with events still buffered, whenever it arrives during a finishing flush', async () => {
    // Probe every microtask offset between a background flush finishing and flush() being called.
    for (let offset = 0; offset < 40; offset++) {
      const gate = deferred();
      let calls = 0;
      const buffer = new BatchBufferImpl(
        async () => {
          calls++;
          if (calls === 1) await gate.promise;
        },
        quiet(),
      );
      await buffer.add(G, S, ev(0));
      const background = buffer.flush(G, S);
      gate.resolve();
      for (let i = 0; i < offset; i++) await Promise.resolve();
      await buffer.add(G, S, ev(1));
      await buffer.flush(G, S);
      expect({ offset, buffered: buffer.getMetrics().eventsBuffered }).toEqual({ offset, buffered: 0 });
      await background;
    }
  });

  it('different streams flush in parallel, at most maxConcurrentFlushes at once', async () => {
    const rec = gatedRecorder();
    const gates = rec.gates;
    const buffer = new BatchBufferImpl(rec.flush, quiet({ maxConcurrentFlushes: 3 }));
    for (let i = 0; i < 7; i++) await buffer.add(G, `s${i}`, ev(i));
    const all = buffer.flushAll();
    await settle();
    expect(rec.calls).toHaveLength(3);
    expect(buffer.getMetrics().flushesPending).toBe(3);
    expect(buffer.getMetrics().eventsInFlight).toBe(7);
    while (gates.some((g, i) => i < rec.calls.length)) {
      const gate = gates.shift();
      if (gate === undefined) break;
      gate.resolve();
      await settle();
      expect(rec.active()).toBeLessThanOrEqual(3);
    }
    await all;
    expect(rec.calls).toHaveLength(7);
    expect(rec.maxActive()).toBe(3);
    expect(buffer.getMetrics().eventsDelivered).toBe(7);
  });

  it('the default allows 4 in parallel', async () => {
    const gate = deferred();
    const rec = recorder(() => gate.promise);
    const buffer = new BatchBufferImpl(rec.flush, quiet());
    for (let i = 0; i < 6; i++) await buffer.add(G, `s${i}`, ev(i));
    const all = buffer.flushAll();
    await settle();
    expect(rec.calls).toHaveLength(4);
    gate.resolve();
    await all;
    expect(rec.calls).toHaveLength(6);
  });

  it('a hung flush function is cut off after flushTimeoutMs (signal aborted) and retried', async () => {
    vi.useFakeTimers({ now: T0 });
    const retries: RetryInfo[] = [];
    const rec = recorder((_c, i) => (i === 0 ? new Promise<void>(() => undefined) : undefined));
    const buffer = new BatchBufferImpl(rec.flush, quiet({ flushTimeoutMs: 1_000, onRetry: (r) => retries.push(r) }));
    await buffer.add(G, S, ev(0));
    const done = buffer.flush(G, S);
    await vi.advanceTimersByTimeAsync(999);
    expect(rec.calls).toHaveLength(1);
    expect(rec.calls[0]!.signal!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.calls[0]!.signal!.aborted).toBe(true);
    await vi.advanceTimersByTimeAsync(0);
    await done;
    expect(rec.calls).toHaveLength(2);
    expect((retries[0]!.error as { code: string }).code).toBe('FLUSH_TIMEOUT');
    const m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(1);
    expect(m.retries).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('9. start/stop', () => {
  it('stop() is idempotent: same promise, one delivery', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet());
    await buffer.add(G, S, ev(0));
    const a = buffer.stop();
    const b = buffer.stop();
    expect(a).toBe(b);
    await a;
    await buffer.stop();
    expect(rec.calls).toHaveLength(1);
    expect(buffer.getMetrics().eventsDelivered).toBe(1);
  });

  it('add() and addStructured() after stop() reject with BufferStoppedError; nothing is counted', async () => {
    const buffer = new BatchBufferImpl(recorder().flush, quiet());
    await buffer.stop();
    const e = await buffer.add(G, S, ev(0)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(BufferStoppedError);
    expect((e as BufferStoppedError).code).toBe('BUFFER_STOPPED');
    await expect(buffer.addStructured(G, S, { level: 'info', message: 'x' })).rejects.toBeInstanceOf(BufferStoppedError);
    expect(buffer.getMetrics().eventsAccepted).toBe(0);
  });

  it('keeps retrying retryable failures with back-off until shutdownTimeoutMs, then drops what is left with `shutdown`', async () => {
    vi.useFakeTimers({ now: T0 });
    const d = drops();
    const times: number[] = [];
    const rec = recorder(() => {
      times.push(Date.now() - T0);
      throw awsError('ServiceUnavailableException', 503);
    });
    const buffer = new BatchBufferImpl(rec.flush, {
      shutdownTimeoutMs: 5_000,
      maxRetries: 1,
      retryBaseDelayMs: 100,
      random: () => 0.5,
      onDrop: d.onDrop,
      onError: () => undefined,
    });
    for (let i = 0; i < 3; i++) await buffer.add(G, S, ev(i));
    let resolved = false;
    const stopped = buffer.stop().then(() => {
      resolved = true;
    });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(resolved).toBe(false);
    expect(rec.calls.length).toBeGreaterThan(2); // more than maxRetries: stop() retries until the deadline
    // The usual back-off: 50, 100, 200, ... never hammering.
    expect(times.slice(0, 4)).toEqual([0, 50, 150, 350]);
    await vi.advanceTimersByTimeAsync(1);
    await stopped;
    expect(resolved).toBe(true);
    expect(d.list.map((x) => [x.reason, x.events.length])).toEqual([['shutdown', 3]]);
    const m = buffer.getMetrics();
    expect(m.droppedByReason.shutdown).toBe(3);
    expect(m.eventsBuffered + m.eventsInFlight).toBe(0);
    expectIdentity(m);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stop({ timeoutMs }) sets the deadline for that call, and a hung call is abandoned at it', async () => {
    vi.useFakeTimers({ now: T0 });
    const d = drops();
    const rec = recorder(() => new Promise<void>(() => undefined));
    const buffer = new BatchBufferImpl(rec.flush, quiet({ onDrop: d.onDrop, shutdownTimeoutMs: 60_000 }));
    await buffer.add(G, S, ev(0));
    let resolved = false;
    const stopped = buffer.stop({ timeoutMs: 250 }).then(() => {
      resolved = true;
    });
    await vi.advanceTimersByTimeAsync(249);
    expect(resolved).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await stopped;
    expect(rec.calls[0]!.signal!.aborted).toBe(true);
    expect(d.list.map((x) => x.reason)).toEqual(['unknown']);
    expectIdentity(buffer.getMetrics());
  });

  it('stop() delivers events that recover before the deadline and drops nothing', async () => {
    vi.useFakeTimers({ now: T0 });
    const rec = recorder((_c, i) => {
      if (i < 6) throw awsError('ThrottlingException');
    });
    const buffer = new BatchBufferImpl(rec.flush, { maxRetries: 0, random: () => 0.5, onError: () => undefined });
    for (let i = 0; i < 3; i++) await buffer.add(G, S, ev(i));
    const stopped = buffer.stop();
    await vi.advanceTimersByTimeAsync(30_000);
    await stopped;
    const m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(3);
    expect(m.eventsDropped).toBe(0);
  });

  it('stop() rejects a bad timeoutMs with RangeError and can then be called properly', async () => {
    const buffer = new BatchBufferImpl(recorder().flush, quiet());
    await expect(buffer.stop({ timeoutMs: -1 })).rejects.toBeInstanceOf(RangeError);
    await buffer.stop();
  });
});

describe('10. addStructured', () => {
  it('writes level, message, traceId, requestId at the top, fields beside, never overwriting', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet({ now: () => 1_234 }));
    await buffer.addStructured(G, S, {
      level: 'info',
      message: 'User login',
      traceId: 'abc-123',
      requestId: 'req-456',
      fields: { userId: 'user-789', level: 'HACKED', message: 'HACKED', traceId: 'x', requestId: 'y', n: 1 },
    });
    await buffer.flush(G, S);
    const [event] = rec.calls[0]!.events;
    expect(event!.timestamp).toBe(1_234);
    const parsed = JSON.parse(event!.message) as Record<string, unknown>;
    expect(Object.keys(parsed)).toEqual(['level', 'message', 'traceId', 'requestId', 'userId', 'n']);
    expect(parsed).toEqual({ level: 'info', message: 'User login', traceId: 'abc-123', requestId: 'req-456', userId: 'user-789', n: 1 });
  });

  it('keeps an explicit timestamp and never throws on awkward fields', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quiet());
    const circular: Record<string, unknown> = { name: 'loop' };
    circular['self'] = circular;
    const error = new Error('kaput', { cause: new Error('root') });
    await buffer.addStructured(G, S, {
      level: 'error',
      message: 'awkward',
      timestamp: T0,
      fields: { circular, big: 10n, error, missing: undefined, fn: () => 1 },
    });
    await buffer.flush(G, S);
    const [event] = rec.calls[0]!.events;
    expect(event!.timestamp).toBe(T0);
    const parsed = JSON.parse(event!.message) as Record<string, any>;
    expect(parsed['circular']).toEqual({ name: 'loop', self: '[Circular]' });
    expect(parsed['big']).toBe('10');
    expect(parsed['error'].name).toBe('Error');
    expect(parsed['error'].message).toBe('kaput');
    expect(parsed['error'].stack).toContain('kaput');
    expect(parsed['error'].cause.message).toBe('root');
    expect('missing' in parsed).toBe(false);
    expect('fn' in parsed).toBe(false);
    expect('traceId' in parsed).toBe(false);
  });

  it('rejects a non-object with InvalidLogEventError and an invalid timestamp like add()', async () => {
    const buffer = new BatchBufferImpl(recorder().flush, quiet());
    await expect(buffer.addStructured(G, S, null as never)).rejects.toBeInstanceOf(InvalidLogEventError);
    await expect(buffer.addStructured(G, S, { level: 'info', message: 'x', timestamp: -5 })).rejects.toMatchObject({ field: 'timestamp' });
  });
});

describe('11. metrics and errors', () => {
  it('has the seed five plus the new fields', () => {
    const m = new BatchBufferImpl(recorder().flush).getMetrics();
    for (const key of [
      'eventsBuffered',
      'bytesBuffered',
      'flushesPending',
      'flushesCompleted',
      'flushesFailed',
      'eventsAccepted',
      'eventsInFlight',
      'eventsDelivered',
      'eventsRejected',
      'eventsDropped',
      'bytesDelivered',
      'retries',
    ]) {
      expect(m).toHaveProperty(key, 0);
    }
  });

  it('the accounting identity holds at every step of a mixed run', async () => {
    const gates: Deferred[] = [];
    const rec = recorder(async (call, i) => {
      const gate = deferred();
      gates.push(gate);
      await gate.promise;
      if (i % 4 === 1) throw awsError('ServiceUnavailableException', 503);
      if (i % 4 === 2) return { rejectedLogEventsInfo: { tooOldLogEventEndIndex: 1 } };
      if (call.events.some((e) => e.message === 'bad')) throw awsError('InvalidParameterException');
      return undefined;
    });
    const buffer = new BatchBufferImpl(
      rec.flush,
      quiet({ maxEvents: 3, maxRetries: 1, maxBufferedBytes: 2_000, overflowPolicy: 'drop-oldest', maxEventBytes: 262_144, maxBytes: 262_144 }),
    );
    const checks: Array<() => void> = [];
    const check = (): void => {
      expectIdentity(buffer.getMetrics());
      checks.push(() => undefined);
    };
    for (let i = 0; i < 60; i++) {
      await buffer.add(G, `s${i % 3}`, ev(i, i === 17 ? 'bad' : `m${i}`));
      check();
      if (i % 5 === 0) {
        gates.shift()?.resolve();
        check();
        await settle(5);
        check();
      }
    }
    const stopped = buffer.stop({ timeoutMs: 10_000 });
    for (let round = 0; round < 500 && gates.length + 1 > 0; round++) {
      gates.shift()?.resolve();
      await settle(5);
      check();
      const m = buffer.getMetrics();
      if (m.eventsBuffered + m.eventsInFlight === 0 && gates.length === 0) break;
    }
    await stopped;
    check();
    const m = buffer.getMetrics();
    expect(m.eventsAccepted).toBe(60);
    expect(m.eventsBuffered + m.eventsInFlight).toBe(0);
    expect(checks.length).toBeGreaterThan(60);
  });

  it('callbacks that throw are reported to onError, never thrown at the caller', async () => {
    const errors: unknown[] = [];
    const boom = new Error('callback boom');
    const buffer = new BatchBufferImpl(
      recorder(() => ({ rejectedLogEventsInfo: { tooNewLogEventStartIndex: 0 } })).flush,
      {
        onRejected: () => {
          throw boom;
        },
        onError: (e) => errors.push(e),
      },
    );
    await buffer.add(G, S, ev(0));
    await buffer.flush(G, S);
    expect(errors).toEqual([boom]);
    expectIdentity(buffer.getMetrics());
  });

  it('a throwing onError does not escape either', async () => {
    const buffer = new BatchBufferImpl(
      recorder(() => {
        throw awsError('AccessDeniedException');
      }).flush,
      {
        maxEvents: 1,
        onError: () => {
          throw new Error('onError itself failed');
        },
      },
    );
    await buffer.add(G, S, ev(0));
    await buffer.add(G, S, ev(1)); // background size-triggered flush fails
    await settle(100);
    await buffer.stop({ timeoutMs: 0 });
    expectIdentity(buffer.getMetrics());
  });

  it('a flush function that throws synchronously or resolves to garbage is handled', async () => {
    const errors: unknown[] = [];
    let i = 0;
    const buffer = new BatchBufferImpl(
      ((): never | Promise<unknown> => {
        i++;
        if (i === 1) throw awsError('ServiceUnavailableException', 503);
        return Promise.resolve(42);
      }) as never,
      { retryBaseDelayMs: 0, onError: (e) => errors.push(e) },
    );
    await buffer.add(G, S, ev(0));
    await buffer.flush(G, S);
    expect(buffer.getMetrics().eventsDelivered).toBe(1);
    expect((errors[0] as { code: string }).code).toBe('INVALID_FLUSH_RESULT');
  });

  it('rejects bad options and hooks at construction, naming them', () => {
    expect(() => new BatchBufferImpl(recorder().flush, { maxEvents: 0 })).toThrow(/`maxEvents`.*got 0/);
    expect(() => new BatchBufferImpl(recorder().flush, { onDrop: 'nope' as never })).toThrow(TypeError);
    expect(() => new BatchBufferImpl('nope' as never)).toThrow(/`flushFunction`/);
  });
});
