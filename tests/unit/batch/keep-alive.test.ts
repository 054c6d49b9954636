/**
 * Review findings: an add() waiting for room keeps the process alive through the back-off (it
 * used to exit silently, losing what was buffered); the parts of a split event stay together
 * even when another add() follows at once.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../src/batch/index.js';
import { recorder, T0 } from './helpers.js';
import { tempDir } from '../../helpers/temp-dir.js';

const fixture = fileURLToPath(new URL('../../fixtures/core/blocked-add.mjs', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../../dist/batch/index.js', import.meta.url)));

describe('keep-alive while add() waits for room', () => {
  it.skipIf(!built)('a process whose only work is a blocked add() stays until the events are delivered', async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [fixture], { timeout: 20_000 });
    expect(stdout).toContain('all added');
    expect(stdout.trim().split('\n').at(-1)).toBe('exit delivered=6 calls=' + stdout.match(/calls=(\d+)/)![1]);
  });
});

describe('split events stay in one piece', () => {
  it('an add() right after an oversized one lands after all of its parts', async () => {
    const rec = recorder();
    const buffer = new BatchBufferImpl(rec.flush, { maxEventBytes: 262_144, maxBytes: 1_048_576, onError: () => undefined });
    const big = 'b'.repeat(600_000); // 3 parts
    const first = buffer.add('/g', 's', { timestamp: T0, message: big });
    const second = buffer.add('/g', 's', { timestamp: T0, message: 'small' });
    await Promise.all([first, second]);
    await buffer.flush('/g', 's');
    const messages = rec.messages();
    expect(messages).toHaveLength(4);
    expect(messages.slice(0, 3).join('')).toBe(big);
    expect(messages[3]).toBe('small');
  });
});

describe('second review', () => {
  it('a split event whose first part is in is never half-refused at stop(): the rest is taken and delivered or reported', async () => {
    let release: (() => void) | undefined;
    const sent: number[] = [];
    const dropped: number[] = [];
    const buffer = new BatchBufferImpl(
      (_g, _s, events) => {
        sent.push(...events.map((e) => e.message.length));
        return new Promise<undefined>((resolve) => {
          release = () => resolve(undefined);
        });
      },
      {
        maxBufferedBytes: 300_000,
        maxEventBytes: 262_144,
        maxBytes: 262_144,
        onError: () => undefined,
        onDrop: (events) => dropped.push(...events.map((e) => e.message.length)),
      },
    );
    const big = 'x'.repeat(600_000); // 3 parts; only the first fits under the bound
    const added = buffer.add('/g', 's', { timestamp: T0, message: big }).then(
      () => 'accepted',
      (e: unknown) => `rejected ${(e as Error).name}`,
    );
    await new Promise((resolve) => setImmediate(resolve));
    const stopping = buffer.stop({ timeoutMs: 1_000 });
    release!();
    await stopping;
    expect(await added).toBe('accepted');
    // Every part is accounted for: delivered or reported dropped, and they add up to the message.
    const m = buffer.getMetrics();
    expect(m.eventsAccepted).toBe(3);
    expect(m.eventsDelivered + m.eventsDropped).toBe(3);
    expect(sent.concat(dropped).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(big.length);
  });

  it('the accounting identity holds inside onError for a flush function that resolves to nonsense', async () => {
    const gaps: number[] = [];
    const buffer = new BatchBufferImpl(async () => 'ok' as unknown as undefined, {
      onError: () => {
        const m = buffer.getMetrics();
        gaps.push(m.eventsAccepted - (m.eventsDelivered + m.eventsRejected + m.eventsDropped + m.eventsBuffered + m.eventsInFlight));
      },
    });
    await buffer.add('/g', 's', { timestamp: T0, message: 'x' });
    await buffer.flush('/g', 's');
    expect(gaps).toEqual([0]);
  });
});

describe('stop() deadline and the spool bound (reviews)', () => {
  it('no flush call starts after stop()\'s deadline, even for a batch that was waiting for a slot', async () => {
    const calls: string[] = [];
    const flush = (_g: string, stream: string, _e: unknown, _t: unknown, context?: { signal: AbortSignal }) => {
      calls.push(`${stream}:${context!.signal.aborted ? 'aborted' : 'live'}`);
      // Hangs until aborted.
      return new Promise<undefined>((_resolve, reject) => context!.signal.addEventListener('abort', () => reject(context!.signal.reason)));
    };
    const buffer = new BatchBufferImpl(flush, { maxConcurrentFlushes: 1, flushTimeoutMs: 60_000, onError: () => undefined });
    await buffer.add('/g', 'a', { timestamp: T0, message: 'a' });
    await buffer.add('/g', 'b', { timestamp: T0, message: 'b' });
    const started = Date.now();
    await buffer.stop({ timeoutMs: 100 });
    // Before the fix, stream b got the slot of a's aborted call and waited out flushTimeoutMs.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(calls).toEqual(['a:live']);
    // a's call was in flight at the deadline (it may have been stored); b's never started.
    expect(buffer.getMetrics().droppedByReason).toMatchObject({ unknown: 1, shutdown: 1 });
  });

  it('drop-oldest with a full spool drops only the new event: freeing memory cannot free disk', async () => {
    const dir = tempDir('cwbatch-dropoldest-');
    const dropped: string[] = [];
    const buffer = new BatchBufferImpl(() => new Promise(() => undefined), {
      spool: { dir, maxBytes: 250 },
      overflowPolicy: 'drop-oldest',
      maxBufferedBytes: 250,
      onError: () => undefined,
      onDrop: (events, reason) => dropped.push(...events.map((e) => `${e.message.slice(0, 2)}:${reason}`)),
    });
    const message = (tag: string): string => `${tag}:`.padEnd(74, '.');
    for (const tag of ['e1', 'e2', 'e3']) await buffer.add('/g', 's', { timestamp: T0, message: message(tag) });
    expect(dropped).toEqual(['e3:overflow']);
    await buffer.stop({ timeoutMs: 0 });
  });
});
