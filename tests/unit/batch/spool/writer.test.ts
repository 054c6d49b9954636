/**
 * Writing segments (src/batch/spool/writer.ts): rotation at segmentBytes, fsync policies, and the
 * maxBytes bound on disk.
 *
 * A crash is simulated by copying the spool directory (everything but LOCK) while the first
 * buffer still holds it (tests/helpers/spool.ts, crashCopy): the copy is what a kill -9 at that
 * moment leaves on disk. The real kill is in tests/integration/durable-kill.test.ts.
 */
import { readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../../src/batch/buffer.js';
import type { DropReason } from '../../../../src/batch/index.js';
import { quietNoTimer } from '../../../helpers/quiet.js';
import { crashCopy, records, segments } from '../../../helpers/spool.js';
import { tempDir } from '../../../helpers/temp-dir.js';
import { expectIdentity, recorder } from '../helpers.js';
import { Buffer } from 'node:buffer';
import { G, S, event } from './fixtures.js';

const segmentBytes = (dir: string): number => segments(dir).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

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
