/**
 * Admission alone, with fakes for what it is wired to: the memory bound written once, the
 * overflow policies, and waiting add()s served first come, first served.
 */
import { describe, expect, it } from 'vitest';
import { Admission, ADMITTED } from '../../../src/batch/admission.js';
import { Ledger } from '../../../src/batch/ledger.js';
import { Lifecycle } from '../../../src/batch/lifecycle.js';
import { Notices } from '../../../src/batch/notices.js';
import { StreamBuffer } from '../../../src/batch/stream-buffer.js';
import type { DropReason, InputLogEvent, OverflowPolicy } from '../../../src/batch/index.js';
import { ev, settle } from './helpers.js';

const SIZE = 100;
/** Event i with a message of SIZE bytes as AWS counts them (74 + 26). */
const e = (i: number): InputLogEvent => ev(i, 'x'.repeat(SIZE - 26));

function setup(policy: OverflowPolicy, maxBufferedBytes = 3 * SIZE) {
  const ledger = new Ledger();
  const lifecycle = new Lifecycle();
  const a = new StreamBuffer('g', 'a');
  const b = new StreamBuffer('g', 'b');
  const drops: Array<[string, DropReason, number[]]> = [];
  let sendIdle = 0;
  const admission = new Admission({
    policy,
    maxBufferedBytes,
    ledger,
    lifecycle,
    streams: { all: () => [a, b][Symbol.iterator]() },
    notices: new Notices({}),
    maxEvents: 10_000,
    maxBytes: 1_048_576,
    scheduler: { batchFull: () => undefined, buffered: () => undefined },
    recorder: undefined,
    drop: (target, events, reason) => drops.push([target.stream, reason, events.map((e) => e.timestamp - ev(0).timestamp)]),
    sendIdle: () => sendIdle++,
    armTimer: () => undefined,
    disk: undefined,
  });
  const add = (target: StreamBuffer, i: number): Promise<void> => admission.admit(target, e(i), SIZE);
  /** Delivers everything in memory (as settlement would) and says room was freed. */
  const deliverAll = (): void => {
    for (const target of [a, b]) {
      const taken = target.takeAll();
      ledger.unbuffered(taken.events.length, taken.bytes);
      ledger.dropped('failed', taken.events.length); // any settled state will do
    }
    admission.roomFreed();
  };
  return { admission, ledger, lifecycle, a, b, drops, add, deliverAll, sendIdle: () => sendIdle };
}

const timestamps = (events: InputLogEvent[]): number[] => events.map((e) => e.timestamp - ev(0).timestamp);

describe('Admission: the memory bound', () => {
  it('admits up to maxBufferedBytes, and always one event into an empty buffer', () => {
    const { admission, a, add } = setup('drop-newest', 2 * SIZE);
    expect(admission.fits(10 * SIZE)).toBe(true); // empty: anything fits
    expect(add(a, 0)).toBe(ADMITTED);
    expect(admission.fits(SIZE)).toBe(true);
    expect(admission.fits(SIZE + 1)).toBe(false);
    expect(add(a, 1)).toBe(ADMITTED);
    expect(admission.fits(1)).toBe(false);
  });
});

describe('Admission: overflow policies', () => {
  it("'drop-newest' accepts the new event only to drop it, and sends the idle streams", () => {
    const s = setup('drop-newest');
    for (let i = 0; i < 4; i++) void s.add(s.a, i);
    expect(s.drops).toEqual([['a', 'overflow', [3]]]);
    expect(s.ledger.metrics()).toMatchObject({ eventsAccepted: 4, eventsBuffered: 3 });
    expect(s.sendIdle()).toBe(1);
  });

  it("'drop-oldest' drops this stream's oldest first, then the other streams'", async () => {
    const s = setup('drop-oldest');
    await s.add(s.b, 0);
    await s.add(s.a, 1);
    await s.add(s.a, 2);
    await s.add(s.a, 3); // full: a's oldest (1) goes
    await s.add(s.b, 4); // full: b's oldest (0) goes
    expect(s.drops).toEqual([
      ['a', 'overflow', [1]],
      ['b', 'overflow', [0]],
    ]);
    expect(timestamps(s.a.takeAll().events)).toEqual([2, 3]);
    expect(timestamps(s.b.takeAll().events)).toEqual([4]);
  });

  it("'block' waits, first come first served, until room is freed; stop refuses the waiting", async () => {
    const s = setup('block', 2 * SIZE);
    await s.add(s.a, 0);
    await s.add(s.a, 1);
    const order: number[] = [];
    const waiting = [2, 3, 4].map((i) => s.add(i === 3 ? s.b : s.a, i).then(() => order.push(i)));
    expect(s.admission.waiting).toBe(true);
    s.deliverAll();
    await settle();
    expect(order).toEqual([2, 3]);
    s.lifecycle.close();
    s.admission.closeWaiters();
    await expect(waiting[2]).rejects.toMatchObject({ name: 'BufferStoppedError' });
    expect(s.admission.waiting).toBe(false);
  });

  it('a newcomer waits behind waiting add()s even when it would fit', async () => {
    const s = setup('block', 2 * SIZE);
    await s.add(s.a, 0);
    await s.add(s.a, 1);
    const big = s.admission.admit(s.a, ev(2, 'x'.repeat(2 * SIZE - 26)), 2 * SIZE);
    expect(s.admission.wouldWait(s.a, 1)).toBe(true);
    const small = s.add(s.a, 3);
    expect(small).not.toBe(ADMITTED);
    s.deliverAll();
    await big;
    let smallIn = false;
    void small.then(() => (smallIn = true));
    await settle();
    expect(smallIn).toBe(false); // the big one fills the bound now
    expect(timestamps(s.a.takeAll().events)).toEqual([2]);
    s.ledger.unbuffered(1, 2 * SIZE);
    s.admission.roomFreed();
    await small;
    expect(timestamps(s.a.takeAll().events)).toEqual([3]);
  });

  it('refuses after stop', async () => {
    const s = setup('block');
    s.lifecycle.close();
    await expect(s.add(s.a, 0)).rejects.toMatchObject({ name: 'BufferStoppedError' });
  });
});
