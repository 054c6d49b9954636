/**
 * The spool's record format (src/batch/spool/record.ts): what a record holds and how it is framed,
 * the first (JSON) format still read, and segment names ordered by number whatever their width.
 *
 * A crash is simulated by copying the spool directory (everything but LOCK) while the first
 * buffer still holds it (tests/helpers/spool.ts, crashCopy): the copy is what a kill -9 at that
 * moment leaves on disk. The real kill is in tests/integration/durable-kill.test.ts.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../../src/batch/buffer.js';
import type { InputLogEvent } from '../../../../src/batch/index.js';
import { Spool, type ReplayedEvent } from '../../../../src/batch/spool/index.js';
import { quietNoTimer } from '../../../helpers/quiet.js';
import { crashCopy, segments } from '../../../helpers/spool.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { expectIdentity, recorder } from '../helpers.js';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { segmentName, segmentNumber } from '../../../../src/batch/spool/record.js';
import { G, S, T0, event, plainEvent, record, drain } from './fixtures.js';

const segmentBytes = (dir: string): number => segments(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

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
    for (let i = 0; i < 10; i++) await first.add(G, S, plainEvent(i));
    expect(readdirSync(dir)).toContain('seg-10000000000000000.log');
    await first.stop({ timeoutMs: 0 });
    expect(first.getMetrics().droppedByReason.kept).toBe(10);

    // Second process: replays the 17-digit segment; its own new segment comes after it.
    const rec = recorder();
    const second = new BatchBufferImpl(rec.flush, quietNoTimer({ spool: { dir } }));
    await second.add(G, S, plainEvent(10));
    await second.stop();
    expect(rec.calls.flatMap((c) => c.events.map((e) => e.message))).toEqual(Array.from({ length: 11 }, (_, i) => `event #${i}`));
    expect(second.getMetrics().eventsDelivered).toBe(11);
    expect(readdirSync(dir).filter((f) => f.endsWith('.log'))).toEqual([]);
  });

  it('segments of different widths are replayed in numeric order', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'seg-10000000000000000.log'), record(G, S, plainEvent(2)));
    writeFileSync(join(dir, 'seg-9999999999999999.log'), record(G, S, plainEvent(1)));
    writeFileSync(join(dir, 'seg-100000000000000000000.log'), record(G, S, plainEvent(3)));
    const spool = new Spool({ dir }, () => undefined);
    expect(drain(spool).map((r) => r.event.message)).toEqual(['event #1', 'event #2', 'event #3']);
    spool.close();
  });
});
