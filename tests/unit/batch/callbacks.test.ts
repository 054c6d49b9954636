/**
 * User callbacks (notices.ts): onDrop carries the log group and stream, and no callback runs in
 * the middle of a state change: when one runs, the change that caused it is complete.
 */
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../src/batch/index.js';
import type { BatchMetrics, DropReason } from '../../../src/batch/index.js';
import { awsError, ev, expectIdentity, G, recorder, S, settle } from './helpers.js';

const each = 26 + 'message 0'.length;

describe('onDrop also gets the log group and stream', () => {
  it('for every drop reason, with the old three arguments unchanged', async () => {
    const seen: Array<[DropReason, string, string, boolean]> = [];
    let first = true;
    const rec = recorder((call) => {
      if (call.stream === 'fails') throw awsError('AccessDeniedException', 403);
      if (call.stream === 'invalid') throw awsError('InvalidParameterException');
      if (call.stream === 'down' || (call.stream === 'slow' && first)) {
        first = false;
        throw awsError('ServiceUnavailableException', 503);
      }
      return undefined;
    });
    const buffer = new BatchBufferImpl(rec.flush, {
      maxEventBytes: 262_144,
      maxBytes: 262_144,
      oversizedEventPolicy: 'drop',
      maxRetries: 0,
      maxRequeues: 0,
      retryBaseDelayMs: 0,
      onError: () => undefined,
      onDrop: (events, reason, error, logGroup, logStream) => seen.push([reason, logGroup, logStream, events.length > 0 && (error === undefined) === (reason === 'oversized' || reason === 'shutdown')]),
    });
    await buffer.add(G, 'big', ev(0, 'x'.repeat(300_000)));
    await buffer.add(G, 'fails', ev(1));
    await buffer.add(G, 'invalid', ev(2));
    await buffer.flushAll().catch(() => undefined);
    await buffer.add(G, 'down', ev(3));
    await buffer.stop({ timeoutMs: 0 });
    expect(seen.sort()).toEqual([
      ['failed', G, 'fails', true],
      ['invalid', G, 'invalid', true],
      ['oversized', G, 'big', true],
      ['shutdown', G, 'down', true],
    ]);
  });

  it("for 'overflow' under 'drop-oldest' and 'drop-newest', naming the stream the events were in", async () => {
    const seen: string[] = [];
    const onDrop = (events: unknown[], reason: DropReason, _e: unknown, logGroup: string, logStream: string): void => {
      seen.push(`${reason} ${logGroup} ${logStream} ${events.length}`);
    };
    const hold = new Promise<void>(() => undefined);
    const oldest = new BatchBufferImpl(() => hold, { maxBufferedBytes: each * 2, overflowPolicy: 'drop-oldest', onDrop });
    await oldest.add(G, 'a', ev(0));
    await oldest.add(G, 'b', ev(1));
    await oldest.add(G, 'b', ev(2));
    const newest = new BatchBufferImpl(() => hold, { maxBufferedBytes: each, overflowPolicy: 'drop-newest', onDrop });
    await newest.add(G, 'c', ev(3));
    await newest.add(G, 'd', ev(4));
    expect(seen).toEqual([`overflow ${G} b 1`, `overflow ${G} d 1`]);
  });
});

describe('callbacks run once the state change that caused them is complete', () => {
  it("'drop-oldest' freeing room across streams: every onDrop sees both drops counted and the new event in", async () => {
    const snapshots: BatchMetrics[] = [];
    const hold = new Promise<void>(() => undefined);
    const buffer: BatchBufferImpl = new BatchBufferImpl(() => hold, {
      maxBufferedBytes: each * 3,
      overflowPolicy: 'drop-oldest',
      onDrop: () => snapshots.push(buffer.getMetrics()),
    });
    await buffer.add(G, 'a', ev(0));
    await buffer.add(G, 'b', ev(1));
    await buffer.add(G, 'c', ev(2));
    // Needs the room of two events: c's own oldest, then a's, are dropped; the new event goes in.
    await buffer.add(G, 'c', ev(3, 'message 3'.padEnd(2 * 'message 0'.length + 26, '.')));
    expect(snapshots).toHaveLength(2);
    for (const m of snapshots) {
      expect(m.droppedByReason.overflow).toBe(2);
      expect(m.eventsAccepted).toBe(4);
      expect(m.eventsBuffered + m.eventsInFlight).toBe(2);
      expectIdentity(m);
    }
  });

  it('onRejected and onDrop from one answer run after the batch is fully settled', async () => {
    const snapshots: BatchMetrics[] = [];
    const rec = recorder(() => ({ rejectedLogEventsInfo: { tooOldLogEventEndIndex: 1, tooNewLogEventStartIndex: 2 } }));
    const buffer: BatchBufferImpl = new BatchBufferImpl(rec.flush, { onRejected: () => snapshots.push(buffer.getMetrics()) });
    for (let i = 0; i < 3; i++) await buffer.add(G, S, ev(i));
    await buffer.flush(G, S);
    await settle();
    expect(snapshots).toHaveLength(2);
    for (const m of snapshots) {
      expect(m).toMatchObject({ eventsDelivered: 1, eventsRejected: 2, eventsInFlight: 0, flushesCompleted: 1 });
      expectIdentity(m);
    }
  });
});
