/**
 * Bad input: every awkward value either gives a typed error (nothing buffered) or a reported drop,
 * nothing else is lost, and the process never sees an unhandled rejection or an uncaught
 * exception. The flush function is an in-memory fake that validates each batch against the
 * shared rules (findBatchViolation), so a batch AWS would refuse fails the test.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl, findBatchViolation } from '../../../src/batch/index.js';
import type { FlushFunction, InputLogEvent } from '../../../src/batch/index.js';
import { identityHolds } from '../../fixtures/faults/harness.js';
import { failOnProcessErrors } from '../../helpers/process-errors.js';
import { reportingBuffer } from './helpers.js';

const G = 'group';
const S = 'stream';
const NOW = Date.UTC(2026, 10, 26, 12);

failOnProcessErrors();

interface Sink {
  flush: FlushFunction;
  stored: InputLogEvent[];
  violations: string[];
}

function sink(): Sink {
  const stored: InputLogEvent[] = [];
  const violations: string[] = [];
  const flush: FlushFunction = (_g, _s, events) => {
    const v = findBatchViolation(events);
    if (v !== undefined) violations.push(JSON.stringify(v).slice(0, 200));
    stored.push(...events);
    return Promise.resolve({});
  };
  return { flush, stored, violations };
}

async function errorOf(p: Promise<unknown>): Promise<{ name?: string; code?: string }> {
  return p.then(
    () => ({ name: 'resolved' }),
    (e: unknown) => e as { name?: string; code?: string },
  );
}

describe('bad events give typed errors, nothing buffered', () => {
  it('non-string and empty messages, bad timestamps, non-object events', async () => {
    const { flush, stored } = sink();
    const { b } = reportingBuffer(flush);
    const bad: unknown[] = [
      { timestamp: NOW, message: 42 },
      { timestamp: NOW, message: null },
      { timestamp: NOW, message: { toString: () => 'x' } },
      { timestamp: NOW, message: '' },
      { timestamp: NOW, message: Symbol('x') },
      { timestamp: Number.NaN, message: 'm' },
      { timestamp: -1, message: 'm' },
      { timestamp: 1.5, message: 'm' },
      { timestamp: Number.POSITIVE_INFINITY, message: 'm' },
      { timestamp: '123', message: 'm' },
      { timestamp: 2 ** 60, message: 'm' },
      { message: 'm' },
      null,
      undefined,
      'just a string',
    ];
    for (const event of bad) {
      const error = await errorOf(b.add(G, S, event as InputLogEvent));
      expect(error.code, JSON.stringify(String(event))).toBe('INVALID_EVENT');
    }
    const m = b.getMetrics();
    expect(m.eventsAccepted).toBe(0);
    await b.stop();
    expect(stored).toEqual([]);
  });

  it('invalid group and stream names (fast-check)', async () => {
    const { flush } = sink();
    const { b } = reportingBuffer(flush);
    const badGroups = fc.oneof(
      fc.constant(''),
      fc.constant('a'.repeat(513)),
      fc.constant('aws/reserved'),
      fc.string({ minLength: 1, maxLength: 20 }).map((s) => `${s}:bad*`),
      fc.constantFrom(null, undefined, 5, {}),
    );
    const badStreams = fc.oneof(fc.constant(''), fc.constant('s'.repeat(513)), fc.constant('a:b'), fc.constant('a*b'), fc.constantFrom(null, 7));
    await fc.assert(
      fc.asyncProperty(badGroups, async (group) => {
        const error = await errorOf(b.add(group as string, S, { timestamp: NOW, message: 'm' }));
        expect(error.code).toBe('INVALID_NAME');
      }),
      { numRuns: 100 },
    );
    await fc.assert(
      fc.asyncProperty(badStreams, async (stream) => {
        const error = await errorOf(b.add(G, stream as string, { timestamp: NOW, message: 'm' }));
        expect(error.code).toBe('INVALID_NAME');
      }),
      { numRuns: 50 },
    );
    expect(b.getMetrics().eventsAccepted).toBe(0);
    await b.stop();
  });
});

describe('awkward but valid input is delivered intact or reported', () => {
  it('lone surrogates and invalid UTF-16 become U+FFFD, NUL bytes pass through; every batch is valid (fast-check)', async () => {
    const { flush, stored, violations } = sink();
    const { b, dropped } = reportingBuffer(flush, { maxEvents: 50 });
    const weird = fc.oneof(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
      fc.string({ unit: fc.constantFrom('\uD800', '\uDFFF', '\u0000', 'a', '😀', '\uDBFF\uDC00'), minLength: 1, maxLength: 40 }),
    );
    let sent = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(weird, { minLength: 1, maxLength: 30 }), async (messages) => {
        for (const message of messages) await b.add(G, S, { timestamp: NOW, message });
        sent += messages.length;
        await b.flushAll();
      }),
      { numRuns: 100 },
    );
    await b.stop();
    expect(violations).toEqual([]);
    expect(dropped).toEqual([]);
    expect(stored).toHaveLength(sent);
    for (const e of stored) expect(e.message.isWellFormed()).toBe(true);
    expect(stored.some((e) => e.message.includes('\u0000'))).toBe(true);
  });

  it('a 10 MB message is split into valid parts, in order, losslessly (default policy)', async () => {
    const { flush, stored, violations } = sink();
    const { b, dropped } = reportingBuffer(flush);
    const big = 'abcdefghij'.repeat(1_048_576); // 10 MiB of ASCII
    await b.add(G, S, { timestamp: NOW, message: big });
    await b.stop();
    expect(violations).toEqual([]);
    expect(dropped).toEqual([]);
    expect(stored.length).toBeGreaterThanOrEqual(10);
    expect(stored.map((e) => e.message).join('')).toBe(big);
    expect(b.getMetrics().eventsSplit).toBe(1);
  });

  it("a 10 MB message under 'drop' is a reported drop; under 'truncate' one valid event", async () => {
    const big = 'x'.repeat(10 * 1024 * 1024);
    const a = sink();
    const dropping = reportingBuffer(a.flush, { oversizedEventPolicy: 'drop' });
    await dropping.b.add(G, S, { timestamp: NOW, message: big });
    await dropping.b.stop();
    expect(dropping.dropped.map((d) => d.reason)).toEqual(['oversized']);
    expect(a.stored).toEqual([]);
    const t = sink();
    const truncating = reportingBuffer(t.flush, { oversizedEventPolicy: 'truncate' });
    await truncating.b.add(G, S, { timestamp: NOW, message: big });
    await truncating.b.stop();
    expect(t.violations).toEqual([]);
    expect(t.stored).toHaveLength(1);
  });

  it('far-future and very old timestamps reach the service, which rejects them one by one (reported)', async () => {
    const calls: InputLogEvent[][] = [];
    const flush: FlushFunction = (_g, _s, events) => {
      calls.push(events);
      // AWS: events more than 2 h in the future are a rejected suffix.
      const start = events.findIndex((e) => e.timestamp > NOW + 2 * 3_600_000);
      return Promise.resolve(start === -1 ? {} : { rejectedLogEventsInfo: { tooNewLogEventStartIndex: start } });
    };
    const rejected: InputLogEvent[] = [];
    const b = new BatchBufferImpl(flush, { now: () => NOW, onRejected: (events) => rejected.push(...events) });
    await b.add(G, S, { timestamp: NOW, message: 'now' });
    await b.add(G, S, { timestamp: 8_640_000_000_000_000, message: 'year 275760' });
    await b.add(G, S, { timestamp: 0, message: 'epoch' });
    await b.stop();
    for (const batch of calls) expect(findBatchViolation(batch)).toBeUndefined();
    const m = b.getMetrics();
    expect(rejected.map((e) => e.message)).toEqual(['year 275760']);
    expect(m.eventsDelivered + m.eventsRejected).toBe(3);
    expect(identityHolds(m)).toBe(true);
  });

  it('addStructured with circular, BigInt, Error, throwing getter and toJSON fields never throws', async () => {
    const { flush, stored } = sink();
    const { b } = reportingBuffer(flush);
    const circular: Record<string, unknown> = { a: 1 };
    circular['self'] = circular;
    const getter = Object.defineProperty({}, 'boom', {
      enumerable: true,
      get() {
        throw new Error('getter');
      },
    });
    const fieldSets: Array<Record<string, unknown>> = [
      { circular },
      { big: 10n, nested: { deeper: 2n ** 70n } },
      { error: new Error('outer', { cause: new Error('inner') }) },
      { getter },
      { toJSON: () => { throw new Error('toJSON'); } },
      { fn: () => 1, sym: Symbol('s'), undef: undefined },
    ];
    for (const fields of fieldSets) await b.addStructured(G, S, { level: 'info', message: 'm', fields });
    await expect(b.addStructured(G, S, null as never)).rejects.toMatchObject({ code: 'INVALID_EVENT' });
    await fc.assert(
      fc.asyncProperty(fc.anything({ withBigInt: true, withMap: true, withSet: true, withNullPrototype: true }), async (value) => {
        await b.addStructured(G, S, { level: 'info', message: 'any', fields: { value } });
      }),
      { numRuns: 200 },
    );
    await b.stop();
    expect(stored).toHaveLength(fieldSets.length + 200);
    for (const e of stored) expect(() => JSON.parse(e.message) as unknown).not.toThrow();
    expect(stored[0]!.message).toContain('[Circular]');
    expect(stored[1]!.message).toContain('"10"');
  });
});
