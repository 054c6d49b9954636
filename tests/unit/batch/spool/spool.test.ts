/**
 * The spool as a whole (src/batch/spool/spool.ts): segments are deleted once everything in them
 * is settled, and files it cannot read are reported once and left alone.
 *
 * A crash is simulated by copying the spool directory (everything but LOCK) while the first
 * buffer still holds it (tests/helpers/spool.ts, crashCopy): the copy is what a kill -9 at that
 * moment leaves on disk. The real kill is in tests/integration/durable-kill.test.ts.
 */
import { readdirSync, truncateSync, writeFileSync, existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../../src/batch/buffer.js';
import type { DropReason } from '../../../../src/batch/index.js';
import { Spool } from '../../../../src/batch/spool/index.js';
import { quietNoTimer } from '../../../helpers/quiet.js';
import { crashCopy, segments } from '../../../helpers/spool.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { expectIdentity, recorder } from '../helpers.js';
import { G, S, T0, event, plainEvent, record, drain } from './fixtures.js';

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
    for (let i = 0; i < 5; i++) await buffer.add(G, S, plainEvent(i));
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
    writeFileSync(file, record(G, S, plainEvent(0)));
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
