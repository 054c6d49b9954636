/**
 * Replaying a spool (src/batch/spool/reader.ts): torn and corrupted records are skipped and reported,
 * nothing else is lost, and recovery from a corrupted segment is linear in its size.
 *
 * A crash is simulated by copying the spool directory (everything but LOCK) while the first
 * buffer still holds it (tests/helpers/spool.ts, crashCopy): the copy is what a kill -9 at that
 * moment leaves on disk. The real kill is in tests/integration/durable-kill.test.ts.
 */
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../../src/batch/buffer.js';
import { SpoolCorruptionError } from '../../../../src/batch/index.js';
import { Spool } from '../../../../src/batch/spool/index.js';
import { quietNoTimer } from '../../../helpers/quiet.js';
import { crashCopy, records, segments } from '../../../helpers/spool.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { recorder } from '../helpers.js';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { couldStartRecord, parseRecord } from '../../../../src/batch/spool/record.js';
import { G, S, event, plainEvent, record, drain } from './fixtures.js';

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

describe('torn and corrupted records', () => {
  async function spoolOf(count: number): Promise<{ dir: string; file: string; stop: () => Promise<void> }> {
    const dir = tempDir();
    const buffer = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }));
    for (let i = 0; i < count; i++) await buffer.add(G, S, event(i));
    const copy = crashCopy(dir);
    const [file] = segments(copy);
    return { dir: copy, file: join(copy, file!), stop: () => buffer.stop({ timeoutMs: 0 }) };
  }

  it('a torn last record (truncated mid-record) fails its checksum: skipped, reported, nothing else lost', async () => {
    const { dir, file, stop } = await spoolOf(20);
    const last = records(file).at(-1)!;
    truncateSync(file, last[0] + Math.floor(last[1] / 2));
    const errors: unknown[] = [];
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir }, onError: (e) => errors.push(e) }));
    await buffer.flushAll();
    expect(rec.messages()).toEqual(Array.from({ length: 19 }, (_, i) => event(i).message));
    expect(errors).toHaveLength(1);
    const error = errors[0] as SpoolCorruptionError;
    expect(error).toBeInstanceOf(SpoolCorruptionError);
    expect(error.code).toBe('SPOOL_CORRUPT');
    expect(error.offset).toBe(last[0]);
    expect(error.skippedBytes).toBe(Math.floor(last[1] / 2));
    expect(error.message).toMatch(/at the end/);
    await buffer.stop();
    await stop();
  });

  it('a torn header (fewer than 8 bytes) is reported too', async () => {
    const { dir, file, stop } = await spoolOf(5);
    const last = records(file).at(-1)!;
    truncateSync(file, last[0] + 3);
    const errors: unknown[] = [];
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir }, onError: (e) => errors.push(e) }));
    await buffer.flushAll();
    expect(rec.messages()).toHaveLength(4);
    expect(errors.map((e) => (e as Error).name)).toEqual(['SpoolCorruptionError']);
    await buffer.stop();
    await stop();
  });

  it.each([
    ['payload', 12],
    ['checksum', 5],
    ['length', 1],
  ])('a corrupted record in the middle (%s bytes flipped) is skipped; the records after it are recovered', async (_label, at) => {
    const { dir, file, stop } = await spoolOf(30);
    const victim = records(file)[10]!;
    const data = readFileSync(file);
    for (let i = 0; i < 3; i++) data[victim[0] + at + i]! ^= 0x5a;
    writeFileSync(file, data);
    const errors: unknown[] = [];
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir }, onError: (e) => errors.push(e) }));
    await buffer.flushAll();
    const expected = Array.from({ length: 30 }, (_, i) => event(i).message);
    expected.splice(10, 1);
    expect(rec.messages()).toEqual(expected);
    expect(errors).toHaveLength(1);
    expect((errors[0] as SpoolCorruptionError).offset).toBe(victim[0]);
    expect((errors[0] as SpoolCorruptionError).skippedBytes).toBe(victim[1]);
    expect((errors[0] as Error).message).toMatch(/corrupted record at byte/);
    await buffer.stop();
    await stop();
  });
});

describe('recovery of a corrupted segment', () => {
  it('16 MiB of random bytes then a valid record: recovered in well under a second of CPU, the record replayed', () => {
    const dir = tempDir();
    const valid = record(G, S, plainEvent(7));
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
    writeFileSync(join(dir, 'seg-0000000000000001.log'), Buffer.concat([noise(16 * 1024 * 1024), record(G, S, plainEvent(7))]));
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
    const adding = buffer.add(G, S, plainEvent(8)).then(() => (added = true));
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
    const bad = record(G, S, plainEvent(1));
    bad[bad.length - 1] = (bad[bad.length - 1] as number) ^ 0xff;
    writeFileSync(join(dir, 'seg-0000000000000001.log'), Buffer.concat([record(G, S, plainEvent(0)), bad, record(G, S, plainEvent(2))]));
    const errors: unknown[] = [];
    const spool = new Spool({ dir }, (e) => errors.push(e));
    expect(drain(spool).map((r) => r.event.message)).toEqual(['event #0', 'event #2']);
    expect(errors).toHaveLength(1);
    spool.close();
  });
});
