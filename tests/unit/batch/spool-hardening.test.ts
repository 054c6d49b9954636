/**
 * Spool hardening (issue 21): segment names ordered by number whatever their width, files the
 * spool cannot read reported once and not counted against maxBytes, and recovery from a
 * corrupted segment linear in its size.
 */
import { existsSync, mkdirSync, readdirSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../src/batch/buffer.js';
import type { InputLogEvent } from '../../../src/batch/index.js';
import { Spool, type ReplayedEvent } from '../../../src/batch/spool/index.js';
import {
  couldStartRecord,
  encodeNames,
  maxEventRecordBytes,
  parseRecord,
  segmentName,
  segmentNumber,
  writeEventRecord,
} from '../../../src/batch/spool/record.js';
import { quietNoTimer } from '../../helpers/quiet.js';
import { DURABLE_GROUP } from '../../helpers/spool.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { recorder } from './helpers.js';

const G = DURABLE_GROUP;
const S = 'stream-1';
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);


const event = (i: number): InputLogEvent => ({ timestamp: T0 + i, message: `event #${i}` });

/** One record as the writer encodes it. */
function record(group: string, stream: string, e: InputLogEvent): Buffer {
  const names = encodeNames(group, stream);
  const slab = Buffer.alloc(maxEventRecordBytes(names, e.message));
  return slab.subarray(0, writeEventRecord(slab, 0, names, e));
}

/** Deterministic "random" bytes (xorshift32), so a failure can be replayed. */
function noise(bytes: number, seed = 0x9e3779b9): Buffer {
  const out = Buffer.allocUnsafe(bytes);
  let x = seed >>> 0;
  for (let i = 0; i + 4 <= bytes; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  return out;
}

/** Every record replay hands out; `pauses` counts the peek()s that paused in a corrupted region. */
function drain(spool: Spool, stats = { pauses: 0 }): ReplayedEvent[] {
  const out: ReplayedEvent[] = [];
  for (;;) {
    const next = spool.peekReplay();
    if (next === undefined) {
      if (!spool.replayPending) return out;
      stats.pauses++;
      continue;
    }
    out.push(next);
    spool.takeReplay();
  }
}

describe('segment names by number, whatever their width', () => {
  it('property: segmentNumber(segmentName(n)) is n, and names order like their numbers', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 10n ** 30n }), fc.bigInt({ min: 0n, max: 10n ** 30n }), (a, b) => {
        expect(segmentNumber(`${segmentName(a)}.log`)).toBe(a);
        expect(segmentName(a).length).toBeGreaterThanOrEqual(4 + 16);
        expect(segmentNumber(`${segmentName(a)}.ack`)).toBeUndefined();
        expect(a < b).toBe((segmentNumber(`${segmentName(a)}.log`) as bigint) < (segmentNumber(`${segmentName(b)}.log`) as bigint));
      }),
    );
  });

  it('a stray seg-9999999999999999.log loses no acknowledged event across a restart', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'seg-9999999999999999.log'), '');
    // First process: every add() resolves (acknowledged: on disk), nothing is delivered.
    const first = new BatchBufferImpl(() => new Promise<undefined>(() => undefined), quietNoTimer({ spool: { dir } }));
    for (let i = 0; i < 10; i++) await first.add(G, S, event(i));
    expect(readdirSync(dir)).toContain('seg-10000000000000000.log');
    await first.stop({ timeoutMs: 0 });
    expect(first.getMetrics().droppedByReason.kept).toBe(10);

    // Second process: replays the 17-digit segment; its own new segment comes after it.
    const rec = recorder();
    const second = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir } }));
    await second.add(G, S, event(10));
    await second.stop();
    expect(rec.calls.flatMap((c) => c.events.map((e) => e.message))).toEqual(Array.from({ length: 11 }, (_, i) => `event #${i}`));
    expect(second.getMetrics().eventsDelivered).toBe(11);
    expect(readdirSync(dir).filter((f) => f.endsWith('.log'))).toEqual([]);
  });

  it('segments of different widths are replayed in numeric order', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'seg-10000000000000000.log'), record(G, S, event(2)));
    writeFileSync(join(dir, 'seg-9999999999999999.log'), record(G, S, event(1)));
    writeFileSync(join(dir, 'seg-100000000000000000000.log'), record(G, S, event(3)));
    const spool = new Spool({ dir }, () => undefined);
    expect(drain(spool).map((r) => r.event.message)).toEqual(['event #1', 'event #2', 'event #3']);
    spool.close();
  });
});

describe('files the spool cannot read', () => {
  it('a directory and a 3 GiB sparse file named like segments: reported once each, left, not counted; add() does not wait', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'seg-0000000000000001.log'));
    const sparse = join(dir, 'seg-0000000000000002.log');
    writeFileSync(sparse, '');
    truncateSync(sparse, 3 * 1024 ** 3);
    const errors: unknown[] = [];
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir, maxBytes: 64 * 1024 }, onError: (e) => errors.push(e) }));
    // Before: the 3 GiB counted against maxBytes, and this add() waited for ever.
    for (let i = 0; i < 5; i++) await buffer.add(G, S, event(i));
    await buffer.flushAll();
    await buffer.stop();
    expect(rec.calls.flatMap((c) => c.events)).toHaveLength(5);
    const codes = errors.map((e) => (e as { code?: string; message: string }).code);
    expect(codes).toEqual(['SPOOL_READ', 'SPOOL_READ']);
    expect(existsSync(sparse)).toBe(true);
    expect(existsSync(join(dir, 'seg-0000000000000001.log'))).toBe(true);
  });

  it('a segment that cannot be read when replay reaches it: reported once, no longer counted', () => {
    const dir = tempDir();
    const file = join(dir, 'seg-0000000000000001.log');
    writeFileSync(file, record(G, S, event(0)));
    const errors: unknown[] = [];
    const spool = new Spool({ dir }, (e) => errors.push(e));
    expect(spool.bytes).toBeGreaterThan(0);
    unlinkSync(file);
    expect(drain(spool)).toEqual([]);
    expect(drain(spool)).toEqual([]);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['SPOOL_READ']);
    expect(spool.bytes).toBe(0);
    spool.close();
  });
});

describe('recovery of a corrupted segment', () => {
  it('16 MiB of random bytes then a valid record: recovered in well under a second of CPU, the record replayed', () => {
    const dir = tempDir();
    const valid = record(G, S, event(7));
    writeFileSync(join(dir, 'seg-0000000000000001.log'), Buffer.concat([noise(16 * 1024 * 1024), valid]));
    const errors: unknown[] = [];
    const spool = new Spool({ dir }, (e) => errors.push(e));
    const before = process.cpuUsage();
    const stats = { pauses: 0 };
    const replayed = drain(spool, stats);
    const used = process.cpuUsage(before);
    const cpuMs = (used.user + used.system) / 1000;
    console.info('[spool recovery 16 MiB]', JSON.stringify({ cpuMs: Math.round(cpuMs), reports: errors.length, pauses: stats.pauses }));
    // Scanned 1 MiB per peek() at most: the caller gets the event loop back in between.
    expect(stats.pauses).toBeGreaterThanOrEqual(15);
    // Quadratic before: 22 s for 16 MiB. Linear: about 0.1 s; the bound is generous for a loaded machine.
    expect(cpuMs).toBeLessThan(1_500);
    expect(replayed.map((r) => r.event.message)).toEqual(['event #7']);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    expect(errors.every((e) => (e as { code?: string }).code === 'SPOOL_CORRUPT')).toBe(true);
    spool.close();
  });

  it('through the buffer: the constructor returns at once, replay goes on over later turns of the event loop', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'seg-0000000000000001.log'), Buffer.concat([noise(16 * 1024 * 1024), record(G, S, event(7))]));
    const errors: unknown[] = [];
    const rec = recorder();
    const before = process.cpuUsage();
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir }, onError: (e) => errors.push(e) }));
    const used = process.cpuUsage(before);
    // The first turn scans 1 MiB (plus reading the file), not 16.
    expect((used.user + used.system) / 1000).toBeLessThan(300);
    expect(buffer.getMetrics().eventsAccepted).toBe(0);
    // A new add() waits behind replay; it resolves once replay is over.
    let turns = 0;
    let added = false;
    const adding = buffer.add(G, S, event(8)).then(() => (added = true));
    while (!added) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      turns++;
    }
    await adding;
    expect(turns).toBeGreaterThanOrEqual(10);
    await buffer.stop();
    expect(rec.calls.flatMap((c) => c.events.map((e) => e.message))).toEqual(['event #7', 'event #8']);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['SPOOL_CORRUPT']);
  });

  it('property: every record the writer encodes passes the cheap checks (resync never skips a valid record)', () => {
    const name = fc.string({ minLength: 1, maxLength: 512, unit: 'grapheme' }).filter((s) => s.length <= 512);
    fc.assert(
      fc.property(name, name, fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.string({ minLength: 1, maxLength: 2000, unit: 'binary' }), (group, stream, timestamp, message) => {
        const bytes = record(group, stream, { timestamp, message });
        expect(couldStartRecord(bytes, 0)).toBe(true);
        expect(parseRecord(bytes, 0)?.end).toBe(bytes.length);
      }),
      { numRuns: 300 },
    );
  });

  it('a corrupted record between valid ones: only it is lost', () => {
    const dir = tempDir();
    const bad = record(G, S, event(1));
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
    writeFileSync(join(dir, 'seg-0000000000000001.log'), Buffer.concat([record(G, S, event(0)), bad, record(G, S, event(2))]));
    const errors: unknown[] = [];
    const spool = new Spool({ dir }, (e) => errors.push(e));
    expect(drain(spool).map((r) => r.event.message)).toEqual(['event #0', 'event #2']);
    expect(errors).toHaveLength(1);
    spool.close();
  });
});
