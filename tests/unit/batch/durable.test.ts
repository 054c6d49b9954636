/**
 * The buffer's side of the spool (src/batch/durable.ts): replay of what a previous process left
 * is bounded by maxBufferedBytes. The spool is read a segment at a time and replayed as room
 * frees up; add()s issued while replay is pending wait behind it (older records first); stop()
 * with replay pending leaves the rest on disk.
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../src/batch/buffer.js';
import { BufferStoppedError } from '../../../src/batch/index.js';
import type { BatchMetrics, DropReason, InputLogEvent } from '../../../src/batch/index.js';
import { quietNoTimer } from '../../helpers/quiet.js';
import { crashCopy, DURABLE_GROUP } from '../../helpers/spool.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { waitFor } from '../../helpers/wait-for.js';
import { expectIdentity, recorder, type Call } from './helpers.js';

const G = DURABLE_GROUP;
const STREAMS = ['a', 'b', 'c'];
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
/** Bytes of one event as the buffer counts them (message bytes + 26). */
const EVENT_OVERHEAD = 26;


const event = (i: number): InputLogEvent => ({ timestamp: T0 + i, message: `old #${i} Grüße 日本 🚀 ${'x'.repeat(i % 50)}` });
const streamOf = (i: number): string => STREAMS[i % STREAMS.length] as string;
const sizeOf = (e: InputLogEvent): number => Buffer.byteLength(e.message, 'utf8') + EVENT_OVERHEAD;
const MAX_EVENT = Math.max(...Array.from({ length: 50 }, (_, i) => sizeOf(event(i))));

/**
 * What a previous process killed with `count` events accepted and none delivered leaves on disk
 * (many segments). Returns the directory.
 */
async function leftBehind(count: number): Promise<string> {
  const dir = tempDir();
  // Never answers: nothing is delivered (nor acked) by this process.
  const first = new BatchBufferImpl(() => new Promise(() => undefined), quietNoTimer({ spool: { dir, segmentBytes: 4_000 } }));
  await Promise.all(Array.from({ length: count }, (_, i) => first.add(G, streamOf(i), event(i))));
  const copy = crashCopy(dir);
  await first.stop({ timeoutMs: 0 });
  return copy;
}

/** The messages each stream received, in the order sent. */
function byStream(calls: readonly Call[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const call of calls) {
    let list = out.get(call.stream);
    if (list === undefined) out.set(call.stream, (list = []));
    for (const e of call.events) list.push(e.message);
  }
  return out;
}

function expected(count: number, stream: string): string[] {
  return Array.from({ length: count }, (_, i) => i)
    .filter((i) => streamOf(i) === stream)
    .map((i) => event(i).message);
}

const held = (m: BatchMetrics): number => m.bytesBuffered + m.bytesInFlight;

describe('bounded replay', () => {
  it('a spool far larger than maxBufferedBytes is replayed completely, in order, never above the bound (+ one event)', async () => {
    const count = 3_000;
    const dir = await leftBehind(count);
    expect(readdirSync(dir).filter((f) => f.endsWith('.log')).length).toBeGreaterThan(20);
    const bound = 4_000;
    let peak = 0;
    const rec = recorder(() => {
      peak = Math.max(peak, held(buffer.getMetrics()));
      expectIdentity(buffer.getMetrics());
    });
    // The flush function runs only after the constructor returned (a send starts after a microtask).
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ maxBufferedBytes: bound, spool: { dir, segmentBytes: 4_000 } }));
    const m = buffer.getMetrics();
    // Only what fits was read back; the rest is on disk and not accepted yet.
    expect(held(m)).toBeLessThanOrEqual(bound);
    expect(held(m)).toBeGreaterThan(bound - MAX_EVENT);
    expect(m.eventsAccepted).toBe(m.eventsBuffered);
    expect(m.eventsAccepted).toBeLessThan(count / 10);
    expectIdentity(m);
    await buffer.stop({ timeoutMs: 30_000 });
    expect(peak).toBeLessThanOrEqual(bound + MAX_EVENT);
    const sent = byStream(rec.calls);
    for (const stream of STREAMS) expect(sent.get(stream)).toEqual(expected(count, stream));
    const end = buffer.getMetrics();
    expect(end.eventsDelivered).toBe(count);
    expect(end.eventsAccepted).toBe(count);
    expectIdentity(end);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('with start(): the timer and full buffers keep replay moving until everything is delivered', async () => {
    const count = 1_000;
    const dir = await leftBehind(count);
    let peak = 0;
    const rec = recorder(async () => {
      peak = Math.max(peak, held(buffer.getMetrics()));
      // Answered on a later turn of the event loop (not at once): other work runs meanwhile.
      await new Promise((resolve) => setImmediate(resolve));
    });
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ maxBufferedBytes: 3_000, flushIntervalMs: 5, spool: { dir } }));
    buffer.start();
    await waitFor(() => buffer.getMetrics().eventsDelivered >= count, `${count} replayed events delivered`);
    expect(buffer.getMetrics().eventsDelivered).toBe(count);
    expect(peak).toBeLessThanOrEqual(3_000 + MAX_EVENT);
    const sent = byStream(rec.calls);
    for (const stream of STREAMS) expect(sent.get(stream)).toEqual(expected(count, stream));
    await buffer.stop();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('add() while replay is pending', () => {
  it("waits behind the replay ('block'): new events of a stream go out after all its replayed ones", async () => {
    const count = 1_200;
    const dir = await leftBehind(count);
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ maxBufferedBytes: 3_000, spool: { dir } }));
    let resolved = 0;
    const adds = Array.from({ length: 30 }, (_, i) =>
      buffer.add(G, streamOf(i), { timestamp: T0 + 1_000_000 + i, message: `new #${i}` }).then(() => resolved++),
    );
    // Waiting (the buffer sends meanwhile): not accepted while older records are on disk.
    expect(buffer.getMetrics().eventsAccepted).toBeLessThan(count);
    await Promise.resolve();
    expect(resolved).toBe(0);
    // Waiting add()s keep the buffer sending (as under 'block'), without start().
    await Promise.all(adds);
    expect(resolved).toBe(30);
    await buffer.stop({ timeoutMs: 30_000 });
    const sent = byStream(rec.calls);
    for (const stream of STREAMS) {
      const fresh = Array.from({ length: 30 }, (_, i) => i)
        .filter((i) => streamOf(i) === stream)
        .map((i) => `new #${i}`);
      expect(sent.get(stream)).toEqual([...expected(count, stream), ...fresh]);
    }
    expectIdentity(buffer.getMetrics());
    expect(buffer.getMetrics().eventsDelivered).toBe(count + 30);
    expect(readdirSync(dir)).toEqual([]);
  });

  it("under 'drop-newest' it waits too, up to maxBufferedBytes of waiting add()s; past that the new event is dropped", async () => {
    const count = 1_200;
    const dir = await leftBehind(count);
    const rec = recorder();
    const drops: Array<[DropReason, string]> = [];
    const buffer = new BatchBufferImpl(
      rec.flush,
      quietNoTimer({
        maxBufferedBytes: 3_000,
        overflowPolicy: 'drop-newest',
        spool: { dir },
        onDrop: (events, reason) => drops.push(...events.map((e): [DropReason, string] => [reason, e.message])),
      }),
    );
    const message = (i: number): string => `new #${String(i).padStart(2, '0')} ${'y'.repeat(66)}`; // 100 bytes as counted
    // Synchronously: nothing is delivered meanwhile, so replay stays pending for all of them.
    const adds = Array.from({ length: 40 }, (_, i) => buffer.add(G, 'a', { timestamp: T0 + 1_000_000 + i, message: message(i) }));
    // 30 x 100 bytes wait; the other 10 are dropped at once.
    expect(drops).toEqual(Array.from({ length: 10 }, (_, i) => ['overflow', message(30 + i)]));
    await Promise.all(adds);
    await buffer.stop({ timeoutMs: 30_000 });
    expect(byStream(rec.calls).get('a')).toEqual([...expected(count, 'a'), ...Array.from({ length: 30 }, (_, i) => message(i))]);
    expectIdentity(buffer.getMetrics());
  });
});

describe('stop() with replay pending', () => {
  it('leaves what was not replayed (or delivered) on disk; the next buffer delivers it, in order, nothing twice', async () => {
    const count = 1_500;
    const dir = await leftBehind(count);
    // Delivers its first 3 calls, then the service is down.
    const first = recorder((_call, index) => {
      if (index >= 3) throw Object.assign(new Error('down'), { name: 'ServiceUnavailableException' });
    });
    const drops: DropReason[] = [];
    const buffer = new BatchBufferImpl(
      first.flush,
      quietNoTimer({ maxBufferedBytes: 3_000, spool: { dir }, onDrop: (events, reason) => drops.push(...events.map(() => reason)) }),
    );
    const waiting = buffer.add(G, 'a', { timestamp: T0 + 1_000_000, message: 'never accepted' }).then(
      () => 'accepted',
      (error: unknown) => error,
    );
    await buffer.stop({ timeoutMs: 50 });
    expect(await waiting).toBeInstanceOf(BufferStoppedError);
    const m = buffer.getMetrics();
    expectIdentity(m);
    // The calls after the third failed (and were retried until the deadline): only three delivered.
    const stored = first.calls.slice(0, 3);
    const delivered = stored.flatMap((c) => c.events);
    expect(delivered.length).toBeGreaterThan(0);
    expect(m.eventsDelivered).toBe(delivered.length);
    // Only what was replayed is accepted; of that, what was not delivered is dropped at shutdown (it stays on disk).
    expect(m.eventsAccepted).toBeLessThan(count);
    expect(m.eventsAccepted).toBe(m.eventsDelivered + m.droppedByReason.kept);
    expect(drops.every((reason) => reason === 'kept')).toBe(true);
    expect(readdirSync(dir)).not.toContain('LOCK');

    const rec = recorder();
    const next = new BatchBufferImpl(rec.flush, quietNoTimer({ maxBufferedBytes: 3_000, spool: { dir } }));
    await next.stop({ timeoutMs: 30_000 });
    expect(next.getMetrics().eventsDelivered).toBe(count - delivered.length);
    const before = byStream(stored);
    const after = byStream(rec.calls);
    for (const stream of STREAMS) {
      expect([...(before.get(stream) ?? []), ...(after.get(stream) ?? [])]).toEqual(expected(count, stream));
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('stop({ timeoutMs: 0 }) right after construction: nothing is lost, the next buffer replays it all', async () => {
    const count = 800;
    const dir = await leftBehind(count);
    const hang = new BatchBufferImpl(() => new Promise(() => undefined), quietNoTimer({ maxBufferedBytes: 2_000, spool: { dir } }));
    await hang.stop({ timeoutMs: 0 });
    expectIdentity(hang.getMetrics());
    const rec = recorder();
    const next = new BatchBufferImpl(rec.flush, quietNoTimer({ maxBufferedBytes: 2_000, spool: { dir } }));
    await next.stop({ timeoutMs: 30_000 });
    const sent = byStream(rec.calls);
    for (const stream of STREAMS) expect(sent.get(stream)).toEqual(expected(count, stream));
    expect(readdirSync(dir)).toEqual([]);
  });
});
