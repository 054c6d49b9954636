/**
 * add()'s turn of the event loop (src/batch/fairness.ts): a burst of awaited add() calls yields
 * once per batch's worth to requests waiting for I/O, and never while requests settle in
 * microtasks.
 */
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../src/batch/index.js';
import type { InputLogEvent } from '../../../src/batch/index.js';
import { G, S, settle, T0, gate } from './helpers.js';
import { quiet } from '../../helpers/quiet.js';

describe('a burst of awaited add() calls gives requests in progress the event loop', () => {
  // 1,000 bytes per event with the overhead; a batch's worth is maxBytes (its smallest, 256 KiB).
  const big = (i: number): InputLogEvent => ({ timestamp: T0, message: `${i}`.padEnd(974, '.') });
  const options = quiet({ maxBytes: 262_144 });

  it("once per batch's worth while a request waits for I/O, add() resolves after one turn of the event loop", async () => {
    const g = gate();
    const buffer = new BatchBufferImpl(g.flush, options);
    // Awaited adds resolve at once (microtasks) until the request started by the first full
    // batch (held by the gate) has waited a batch's worth without settling.
    let i = 0;
    let resolved = true;
    let adding: Promise<void> = Promise.resolve();
    while (resolved && i < 5_000) {
      resolved = false;
      adding = buffer.add(G, S, big(i++)).then(() => {
        resolved = true;
      });
      await settle(5);
    }
    // This add() took its event (accepted, in the buffer) but waits for the event loop.
    expect(resolved).toBe(false);
    expect(g.pending).toHaveLength(1);
    expect(buffer.getMetrics().eventsAccepted).toBe(i);
    await new Promise((r) => setImmediate(r));
    await settle(5);
    expect(resolved).toBe(true);
    await adding;
    expect(i).toBeGreaterThan(262);
    expect(i).toBeLessThan(3 * 263);
    // tryAdd() never refuses to give the loop a turn: a synchronous caller could not take it.
    for (let k = 0; k < 1_000; k++) expect(buffer.tryAdd(G, S, big(i + k))).toBe(true);
    for (const p of g.pending) p.answer.resolve(undefined);
    await buffer.stop({ timeoutMs: 0 });
  });

  it('never while requests settle (a flush function that resolves in microtasks)', async () => {
    const buffer = new BatchBufferImpl(async () => undefined, options);
    // 3 MB: a dozen batches, each sent and settled while the adds are awaited.
    for (let i = 0; i < 3_000; i++) {
      let resolved = false;
      const adding = buffer.add(G, S, big(i)).then(() => {
        resolved = true;
      });
      await settle(5);
      expect(resolved).toBe(true);
      await adding;
    }
    expect(buffer.getMetrics().eventsDelivered).toBeGreaterThan(2_500);
    await buffer.stop();
  });
});
