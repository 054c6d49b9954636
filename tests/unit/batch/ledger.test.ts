import { describe, expect, it } from 'vitest';
import { Ledger } from '../../../src/batch/ledger.js';
import { expectIdentity } from './helpers.js';

describe('Ledger (counters and the accounting identity)', () => {
  it('keeps the identity through every move an event can make', () => {
    const ledger = new Ledger();
    for (let i = 0; i < 10; i++) ledger.buffered(100);
    expectIdentity(ledger.metrics());
    ledger.taken(6, 600);
    expect(ledger.bytesInMemory).toBe(1_000);
    ledger.landed(2, 200);
    ledger.delivered(1, 100);
    ledger.rejected('too-old', 1);
    expectIdentity(ledger.metrics());
    ledger.requeued(2, 200);
    ledger.landed(2, 200);
    ledger.dropped('invalid', 2);
    ledger.unbuffered(3, 300);
    ledger.dropped('overflow', 3);
    ledger.acceptedForDrop();
    ledger.dropped('oversized', 1);
    const m = ledger.metrics();
    expectIdentity(m);
    expect(m).toMatchObject({
      eventsAccepted: 11,
      eventsBuffered: 3,
      eventsInFlight: 0,
      eventsDelivered: 1,
      eventsRejected: 1,
      eventsDropped: 6,
      bytesBuffered: 300,
      bytesInFlight: 0,
    });
    expect(ledger.eventsPending).toBe(3);
    expect(ledger.bytesInMemory).toBe(300);
  });

  it('hands out copies: a caller that edits a snapshot changes nothing', () => {
    const ledger = new Ledger();
    ledger.buffered(10);
    ledger.unbuffered(1, 10);
    ledger.dropped('overflow', 1);
    const m = ledger.metrics();
    m.droppedByReason.overflow = 99;
    m.rejectedByReason['too-new'] = 5;
    expect(ledger.metrics().droppedByReason.overflow).toBe(1);
    expect(ledger.metrics().rejectedByReason['too-new']).toBe(0);
  });

  it('counts calls in progress as flushesPending', () => {
    const ledger = new Ledger();
    ledger.callStarted();
    ledger.callStarted();
    ledger.callEnded();
    ledger.flushCompleted();
    ledger.flushFailed();
    ledger.retried();
    expect(ledger.metrics()).toMatchObject({ flushesPending: 1, flushesCompleted: 1, flushesFailed: 1, retries: 1 });
  });
});
