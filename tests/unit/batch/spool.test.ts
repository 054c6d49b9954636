/**
 * Durable mode (issue 8): the spool on its own and through BatchBufferImpl. A crash is simulated
 * by copying the spool directory (everything but LOCK) while the first buffer still holds it:
 * the copy is what a kill -9 at that moment leaves on disk. The real kill is in
 * tests/integration/durable-kill.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../src/batch/buffer.js';
import { SpoolCorruptionError, SpoolLockedError } from '../../../src/batch/index.js';
import type { DropReason, InputLogEvent } from '../../../src/batch/index.js';
import { removeStaleLock, Spool, type ReplayedEvent } from '../../../src/batch/spool/index.js';
import { quietNoTimer } from '../../helpers/quiet.js';
import { crashCopy, DURABLE_GROUP, records, segments } from '../../helpers/spool.js';
import { tempDir } from '../../helpers/temp-dir.js';
import { expectIdentity, recorder } from './helpers.js';

const G = DURABLE_GROUP;
const S = 'stream-1';
const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);



const segmentBytes = (dir: string): number => segments(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

const event = (i: number): InputLogEvent => ({ timestamp: T0 + i, message: `event #${i} Grüße 日本 🚀 "quoted" \\ back\nline` });


describe('records', () => {
  it('round-trip: group, stream, timestamp and message come back exactly, in order', async () => {
    const dir = tempDir();
    const spool = new Spool({ dir }, () => undefined);
    const input = Array.from({ length: 50 }, (_, i) => event(i));
    input.push({ timestamp: T0, message: '\u0000\u001f lone control chars, 𝄞 astral, \u2028 line sep' });
    for (const e of input) spool.append(G, `s-${input.indexOf(e) % 3}`, e);
    // One commit (a microtask, one writeSync) writes everything appended in this run of code.
    expect(segmentBytes(dir)).toBe(0);
    await spool.durable();
    const copy = crashCopy(dir);
    spool.close();
    const replayed: ReplayedEvent[] = [];
    const errors: unknown[] = [];
    const again = new Spool({ dir: copy }, (e) => errors.push(e));
    for (let r = again.peekReplay(); r !== undefined; r = again.peekReplay()) {
      // The same record until taken.
      expect(again.peekReplay()).toBe(r);
      again.takeReplay();
      replayed.push(r);
    }
    expect(again.replayPending).toBe(false);
    expect(errors).toEqual([]);
    expect(replayed.map((r) => [r.group, r.stream, r.event])).toEqual(input.map((e, i) => [G, `s-${i % 3}`, e]));
    again.close();
  });

  it('the record is binary: format byte, f64 timestamp, u16 name lengths, then names and message in UTF-8', async () => {
    const dir = tempDir();
    const spool = new Spool({ dir }, () => undefined);
    const e = { timestamp: T0, message: 'Grüße 🚀' };
    spool.append('/g/日本', 's', e);
    await spool.durable();
    spool.close();
    // close() deletes a segment nothing is outstanding in; here the event is still outstanding.
    const data = readFileSync(join(dir, segments(dir)[0]!));
    const payload = data.subarray(8, 8 + data.readUInt32LE(0));
    expect(data.readUInt32LE(4)).toBe(crc32(payload));
    expect(payload[0]).toBe(1);
    expect(payload.readDoubleLE(1)).toBe(T0);
    const groupBytes = Buffer.byteLength('/g/日本');
    expect([payload.readUInt16LE(9), payload.readUInt16LE(11)]).toEqual([groupBytes, 1]);
    expect(payload.subarray(13).toString('utf8')).toBe(`/g/日本s${e.message}`);
    expect(payload.length).toBe(13 + groupBytes + 1 + Buffer.byteLength(e.message));
  });

  it('a spool written in the first format (JSON payloads) is still replayed', async () => {
    const dir = tempDir();
    const legacy = (group: string, stream: string, e: InputLogEvent): Buffer => {
      const payload = Buffer.from(JSON.stringify([group, stream, e.timestamp, e.message]), 'utf8');
      const header = Buffer.alloc(8);
      header.writeUInt32LE(payload.length, 0);
      header.writeUInt32LE(crc32(payload), 4);
      return Buffer.concat([header, payload]);
    };
    const input = Array.from({ length: 5 }, (_, i) => event(i));
    writeFileSync(join(dir, 'seg-0000000000000001.log'), Buffer.concat(input.map((e) => legacy(G, S, e))));
    const errors: unknown[] = [];
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir }, onError: (e) => errors.push(e) }));
    await buffer.add(G, S, { timestamp: T0 + 1000, message: 'new, binary' });
    await buffer.flushAll();
    expect(errors).toEqual([]);
    expect(rec.messages()).toEqual([...input.map((e) => e.message), 'new, binary']);
    await buffer.stop();
    expect(segments(dir)).toEqual([]);
  });

  it('through the buffer: events added but not delivered are replayed first by the next buffer, and delivered once', async () => {
    const dir = tempDir();
    const first = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }));
    for (let i = 0; i < 100; i++) await first.add(G, S, event(i));
    const copy = crashCopy(dir);
    const rec = recorder();
    const second = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir: copy } }));
    await second.add(G, S, { timestamp: T0 + 1000, message: 'new' });
    await second.flushAll();
    expect(rec.messages()).toEqual([...Array.from({ length: 100 }, (_, i) => event(i).message), 'new']);
    expectIdentity(second.getMetrics());
    await second.stop();
    expect(segments(copy)).toEqual([]);
    await first.stop({ timeoutMs: 0 });
  });
});

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

describe('lock', () => {
  it('a second buffer on the same directory throws SpoolLockedError while the first is alive; free again after stop()', async () => {
    const dir = tempDir();
    const first = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }));
    expect(() => new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }))).toThrow(SpoolLockedError);
    expect(() => new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir: join(dir, '.') } }))).toThrow(/in use by process/);
    await first.stop();
    const second = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }));
    await second.stop();
  });

  it('a LOCK held by another live process is respected', () => {
    const dir = tempDir();
    // The parent of this test process is alive and is not us.
    writeFileSync(join(dir, 'LOCK'), String(process.ppid));
    let caught: unknown;
    try {
      new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(SpoolLockedError);
    expect((caught as SpoolLockedError).pid).toBe(process.ppid);
    expect((caught as SpoolLockedError).code).toBe('SPOOL_LOCKED');
  });

  it('a stale LOCK with a dead pid (and its segments) is taken over', async () => {
    const source = tempDir();
    const first = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir: source } }));
    await first.add(G, S, event(1));
    const dir = crashCopy(source);
    await first.stop({ timeoutMs: 0 });
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'LOCK'), dead.stdout);
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir } }));
    expect(readFileSync(join(dir, 'LOCK'), 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+\n$`));
    await buffer.flushAll();
    expect(rec.messages()).toEqual([event(1).message]);
    await buffer.stop();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a LOCK with our own pid but another start time (an earlier process had the pid, e.g. pid 1 in a container) is stale', async () => {
    for (const text of [String(process.pid), `${process.pid} 1\n`]) {
      const dir = tempDir();
      writeFileSync(join(dir, 'LOCK'), text);
      const buffer = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }));
      // Taken over: the LOCK now names this process with its own start time.
      const lock = readFileSync(join(dir, 'LOCK'), 'utf8');
      expect(lock).toMatch(new RegExp(`^${process.pid} \\d+\n$`));
      expect(lock).not.toBe(text);
      await buffer.stop();
    }
  });

  it('a LOCK with our pid and start time that this thread does not hold (another worker thread: pino) is respected', async () => {
    const held = tempDir();
    const first = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir: held } }));
    const dir = tempDir();
    writeFileSync(join(dir, 'LOCK'), readFileSync(join(held, 'LOCK')));
    expect(() => new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir } }))).toThrow(SpoolLockedError);
    await first.stop();
  });
});

describe('taking over a stale lock', () => {
  it('removes the lock only while it still holds the stale text: a fresh lock another process just made stays', () => {
    const dir = tempDir();
    const lock = join(dir, 'LOCK');
    writeFileSync(lock, '999999999 1\n');
    removeStaleLock(lock, '999999999 1\n');
    expect(readdirSync(dir)).toEqual([]);
    // Between reading the stale text and getting here, another process took the lock over.
    writeFileSync(lock, `${process.pid} fresh\n`);
    removeStaleLock(lock, '999999999 1\n');
    expect(readFileSync(lock, 'utf8')).toBe(`${process.pid} fresh\n`);
    expect(readdirSync(dir)).toEqual(['LOCK']);
    // Gone meanwhile: nothing to do.
    rmSync(lock);
    expect(() => removeStaleLock(lock, '999999999 1\n')).not.toThrow();
  });
});

describe('settling and deleting segments', () => {
  it('a segment is deleted once all its events are delivered, rejected or dropped; settled events are not replayed', async () => {
    const dir = tempDir();
    const drops: Array<[DropReason, number]> = [];
    const rec = recorder((call) => {
      if (call.events.some((e) => e.message.startsWith('bad'))) {
        throw Object.assign(new Error('bad'), { name: 'InvalidParameterException' });
      }
      // The first event of each call is refused as too old.
      return { rejectedLogEventsInfo: { tooOldLogEventEndIndex: 1 } };
    });
    const buffer = new BatchBufferImpl(
      rec.flush,
      quietNoTimer({ spool: { dir, segmentBytes: 600 }, onDrop: (events, reason) => drops.push([reason, events.length]) }),
    );
    for (let i = 0; i < 40; i++) await buffer.add(G, S, i === 25 ? { timestamp: T0 + i, message: 'bad one' } : event(i));
    const before = segments(dir).length;
    expect(before).toBeGreaterThan(4);
    await buffer.flushAll();
    const m = buffer.getMetrics();
    expect(m.eventsRejected).toBeGreaterThan(0);
    expect(drops).toEqual([['invalid', 1]]);
    expectIdentity(m);
    // Everything is settled: only the segment still being appended to is left.
    expect(segments(dir).length).toBe(1);
    // A crash now: the next process finds nothing to send (acks of the open segment survived).
    const copy = crashCopy(dir);
    const rec2 = recorder();
    const next = new BatchBufferImpl(rec2.flush, quietNoTimer({ spool: { dir: copy } }));
    await next.flushAll();
    expect(rec2.calls).toEqual([]);
    await next.stop();
    expect(readdirSync(copy)).toEqual([]);
    await buffer.stop();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('partly delivered: only the undelivered events of a segment are replayed after a crash', async () => {
    const dir = tempDir();
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir } }));
    for (let i = 0; i < 10; i++) await buffer.add(G, 'a', event(i));
    for (let i = 10; i < 20; i++) await buffer.add(G, 'b', event(i));
    await buffer.flush(G, 'a');
    expect(segments(dir)).toHaveLength(1);
    const copy = crashCopy(dir);
    const rec2 = recorder();
    const next = new BatchBufferImpl(rec2.flush, quietNoTimer({ spool: { dir: copy } }));
    await next.flushAll();
    expect(rec2.calls.map((c) => c.stream)).toEqual(['b']);
    expect(rec2.messages()).toEqual(Array.from({ length: 10 }, (_, i) => event(10 + i).message));
    await next.stop();
    await buffer.stop();
  });

  it('shutdown drops stay on disk and are replayed by the next buffer, in order', async () => {
    const dir = tempDir();
    const failing = recorder(() => {
      throw Object.assign(new Error('down'), { name: 'ServiceUnavailableException' });
    });
    const drops: DropReason[] = [];
    const first = new BatchBufferImpl(failing.flush, quietNoTimer({ spool: { dir }, onDrop: (_e, reason) => drops.push(reason) }));
    for (let i = 0; i < 25; i++) await first.add(G, S, event(i));
    await first.stop({ timeoutMs: 20 });
    expect(drops).toContain('kept');
    expect(first.getMetrics().droppedByReason.kept).toBe(25);
    expect(segments(dir)).toHaveLength(1);
    expect(readdirSync(dir)).not.toContain('LOCK');
    const rec = recorder();
    const second = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir } }));
    expect(second.getMetrics().eventsBuffered).toBe(25);
    await second.stop();
    expect(rec.messages()).toEqual(Array.from({ length: 25 }, (_, i) => event(i).message));
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('limits', () => {
  it('rotates at segmentBytes', async () => {
    const dir = tempDir();
    const buffer = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir, segmentBytes: 1000 } }));
    for (let i = 0; i < 100; i++) await buffer.add(G, S, event(i));
    const files = segments(dir);
    const recordBytes = statSync(join(dir, files[0]!)).size / records(join(dir, files[0]!)).length;
    expect(files.length).toBe(Math.ceil(100 / Math.ceil(1000 / recordBytes)));
    for (const file of files.slice(0, -1)) {
      const size = statSync(join(dir, file)).size;
      // A new segment starts once one reaches segmentBytes: never more than one record past it.
      expect(size).toBeGreaterThanOrEqual(1000);
      expect(size).toBeLessThan(1000 + recordBytes + 1);
    }
    await buffer.stop();
  });

  it("'batch' fsyncs in the background: segments rotated while one runs are closed once it ends, no descriptor leaks, nothing lost", async () => {
    const dir = realpathSync(tempDir());
    /** Descriptors of this process open on a file in the spool directory. */
    const openInDir = (): number =>
      readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`).startsWith(`${dir}/`);
        } catch {
          return false; // closed meanwhile
        }
      }).length;
    const buffer = new BatchBufferImpl(recorder().flush, quietNoTimer({ spool: { dir, fsync: 'batch', segmentBytes: 300 } }));
    // Awaited one by one: every add() is a commit (and a background fsync), every fourth or so a new segment.
    for (let i = 0; i < 200; i++) await buffer.add(G, S, event(i));
    expect(segments(dir).length).toBeGreaterThanOrEqual(40);
    const copy = crashCopy(dir);
    await buffer.stop({ timeoutMs: 0 });
    // The last background fsync ends in the thread pool: wait for its callback (I/O, not time).
    for (let turn = 0; turn < 10_000 && openInDir() > 0; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(openInDir()).toBe(0);
    const rec = recorder();
    const next = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir: copy } }));
    await next.flushAll();
    expect(rec.messages()).toEqual(Array.from({ length: 200 }, (_, i) => event(i).message));
    await next.stop();
  });

  it('maxBytes is honoured: events past it follow the overflow policy; room comes back once delivered', async () => {
    const dir = tempDir();
    const drops: Array<[DropReason, number]> = [];
    const rec = recorder();
    const buffer = new BatchBufferImpl(
      rec.flush,
      quietNoTimer({ overflowPolicy: 'drop-newest', spool: { dir, maxBytes: 2_000 }, onDrop: (events, reason) => drops.push([reason, events.length]) }),
    );
    // Long names count: the record holds them, so the check must too.
    const stream = 's'.repeat(200);
    // Synchronous adds: nothing can be delivered meanwhile, so the spool fills up.
    const adds = Array.from({ length: 100 }, (_, i) => buffer.add(G, stream, event(i)));
    expect(segmentBytes(dir)).toBeLessThanOrEqual(2_000);
    const accepted = buffer.getMetrics().eventsBuffered + buffer.getMetrics().eventsInFlight;
    // Exactly as many as fit: the bound counts each record's real size (header, names, UTF-8 message).
    const recordSize = (i: number): number => 8 + 13 + Buffer.byteLength(G) + stream.length + Buffer.byteLength(event(i).message);
    let fit = 0;
    for (let total = recordSize(0); total <= 2_000; total += recordSize(++fit));
    expect(accepted).toBe(fit);
    expect(drops.reduce((n, [reason, count]) => n + (reason === 'overflow' ? count : 0), 0)).toBe(100 - accepted);
    await Promise.all(adds);
    await buffer.flushAll();
    // The one segment (segmentBytes is 8 MiB) is settled: it gives its room back.
    drops.length = 0;
    for (let i = 100; i < 105; i++) await buffer.add(G, stream, event(i));
    expect(drops).toEqual([]);
    expect(segmentBytes(dir)).toBeLessThanOrEqual(2_000);
    expectIdentity(buffer.getMetrics());
    await buffer.stop();
    expect(rec.messages()).toHaveLength(accepted + 5);
  });

  it("maxBytes with 'block': add() waits for room on disk and is admitted once events are delivered", async () => {
    const dir = tempDir();
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ overflowPolicy: 'block', spool: { dir, maxBytes: 1_500 } }));
    buffer.start();
    for (let i = 0; i < 60; i++) await buffer.add(G, S, event(i));
    await buffer.stop();
    expect(rec.messages()).toEqual(Array.from({ length: 60 }, (_, i) => event(i).message));
    expect(readdirSync(dir)).toEqual([]);
  });

  it("'drop-oldest' does not let the spool grow past maxBytes (dropping buffered events frees no disk)", async () => {
    const dir = tempDir();
    const buffer = new BatchBufferImpl(recorder().flush, quietNoTimer({ overflowPolicy: 'drop-oldest', spool: { dir, maxBytes: 1_500 } }));
    for (let i = 0; i < 60; i++) await buffer.add(G, S, event(i));
    expect(segmentBytes(dir)).toBeLessThanOrEqual(1_500);
    expectIdentity(buffer.getMetrics());
    await buffer.stop();
  });

  it("fsync 'always': add() resolves after the group commit; many adds in one turn share it", async () => {
    const dir = tempDir();
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir, fsync: 'always' } }));
    await Promise.all(Array.from({ length: 500 }, (_, i) => buffer.add(G, S, event(i))));
    expect(records(join(dir, segments(dir)[0]!))).toHaveLength(500);
    await buffer.stop();
    expect(rec.messages()).toHaveLength(500);
  });

  it('bad options name the option', () => {
    const dir = tempDir();
    expect(() => new BatchBufferImpl(recorder().flush, { spool: { dir: '' } })).toThrow(/spool\.dir/);
    expect(() => new BatchBufferImpl(recorder().flush, { spool: { dir, fsync: 'sometimes' as never } })).toThrow(/spool\.fsync/);
    expect(() => new BatchBufferImpl(recorder().flush, { spool: { dir, maxBytes: 0 } })).toThrow(/spool\.maxBytes/);
    expect(() => new BatchBufferImpl(recorder().flush, { spool: { dir, segmentBytes: 1.5 } })).toThrow(/spool\.segmentBytes/);
  });
});
