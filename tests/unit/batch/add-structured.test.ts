/**
 * addStructured() never throws on awkward values (issue 21): a timestamp getter that throws, a
 * Proxy whose every trap throws, and fields whose toJSON and the message's toString both throw.
 * What cannot be read rejects the promise (InvalidLogEventError naming the field), as add() does.
 */
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl, InvalidLogEventError } from '../../../src/batch/index.js';
import type { StructuredLogEvent } from '../../../src/batch/index.js';
import { expectIdentity, recorder } from './helpers.js';

const G = '/g';
const S = 's';
const NOW = Date.UTC(2026, 0, 1);

function make() {
  const rec = recorder();
  const buffer = new BatchBufferImpl(rec.flush, { now: () => NOW, onError: () => undefined });
  return { rec, buffer };
}

/** Calls addStructured and records whether it threw synchronously. */
function call(buffer: BatchBufferImpl, event: unknown): { threw: unknown; promise: Promise<void> | undefined } {
  try {
    return { threw: undefined, promise: buffer.addStructured(G, S, event as StructuredLogEvent) };
  } catch (error) {
    return { threw: error ?? 'thrown', promise: undefined };
  }
}

describe('addStructured() with awkward values', () => {
  it('a throwing timestamp getter: the promise rejects with InvalidLogEventError naming timestamp; nothing is buffered', async () => {
    const { buffer } = make();
    const event = {
      level: 'info',
      message: 'm',
      get timestamp(): number {
        throw new Error('boom');
      },
    };
    const { threw, promise } = call(buffer, event);
    expect(threw).toBeUndefined();
    await expect(promise).rejects.toBeInstanceOf(InvalidLogEventError);
    await expect(promise).rejects.toMatchObject({ field: 'timestamp' });
    expect(buffer.getMetrics().eventsAccepted).toBe(0);
    expectIdentity(buffer.getMetrics());
  });

  it('a Proxy whose every trap throws: rejected, never thrown', async () => {
    const { buffer } = make();
    const hostile = new Proxy({}, {
      get() {
        throw new Error('get');
      },
      ownKeys() {
        throw new Error('ownKeys');
      },
      has() {
        throw new Error('has');
      },
      getOwnPropertyDescriptor() {
        throw new Error('descriptor');
      },
    });
    const { threw, promise } = call(buffer, hostile);
    expect(threw).toBeUndefined();
    await expect(promise).rejects.toBeDefined();
    expectIdentity(buffer.getMetrics());
  });

  // (A message whose toString throws as well is the serialiser's case, fixed and tested on main.)
  it('a field whose toJSON throws and no timestamp: buffered (described), timestamp now', async () => {
    const { rec, buffer } = make();
    const fields = {
      bad: {
        toJSON: () => {
          throw new Error('toJSON');
        },
      },
    };
    const { threw, promise } = call(buffer, { level: 'info', message: 'm', fields });
    expect(threw).toBeUndefined();
    await promise;
    await buffer.flushAll();
    const sent = rec.calls.flatMap((c) => c.events);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.timestamp).toBe(NOW);
    expect(() => JSON.parse(sent[0]!.message) as unknown).not.toThrow();
    await buffer.stop();
  });

  it('a timestamp getter that answers once: read once, used as given', async () => {
    const { rec, buffer } = make();
    let reads = 0;
    const event = {
      level: 'info',
      message: 'm',
      get timestamp(): number {
        reads++;
        return reads === 1 ? NOW - 5 : Number.NaN;
      },
    };
    await buffer.addStructured(G, S, event);
    await buffer.flushAll();
    expect(rec.calls.flatMap((c) => c.events).map((e) => e.timestamp)).toEqual([NOW - 5]);
    await buffer.stop();
  });
});
