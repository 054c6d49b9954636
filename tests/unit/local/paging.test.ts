/**
 * The endpoint's operations called directly (no HTTP): paging tokens that survive creation,
 * deletion and late events between pages (property-based), stable event ids, FilterLogEvents
 * yielding to other work, metric filter counting, and the fault draw and token bucket.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FaultInjector } from '../../../src/local/faults.js';
import type { OperationContext } from '../../../src/local/operations.js';
import { OPERATIONS, ServiceError } from '../../../src/local/operations.js';
import { LocalStore } from '../../../src/local/store.js';

const NOW = Date.UTC(2026, 11, 5, 12);

function context(): OperationContext {
  return {
    store: new LocalStore(true),
    now: () => NOW,
    maxEventBytes: 1_048_576,
    region: 'us-east-1',
    accountId: '000000000000',
    stats: { eventsStored: 0, tooOld: 0, tooNew: 0, expired: 0 },
  };
}

async function call(ctx: OperationContext, op: string, body: Record<string, unknown>): Promise<any> {
  const handler = OPERATIONS.get(op);
  if (handler === undefined) throw new Error(`no ${op}`);
  return await handler(ctx, body);
}

async function put(ctx: OperationContext, group: string, stream: string, events: Array<{ timestamp: number; message: string }>): Promise<void> {
  if (!ctx.store.groups.get(group)?.streams.has(stream)) {
    if (!ctx.store.groups.has(group)) await call(ctx, 'CreateLogGroup', { logGroupName: group });
    await call(ctx, 'CreateLogStream', { logGroupName: group, logStreamName: stream });
  }
  const sorted = [...events].sort((a, b) => a.timestamp - b.timestamp);
  if (sorted.length > 0) await call(ctx, 'PutLogEvents', { logGroupName: group, logStreamName: stream, logEvents: sorted });
}

describe('FilterLogEvents paging (property)', () => {
  const eventArb = fc.record({ stream: fc.constantFrom('a', 'b', 'c', 'd'), offset: fc.integer({ min: 0, max: 50 }) });

  it('lists every event present throughout exactly once, with stable ids, whatever arrives between pages', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(eventArb, { minLength: 1, maxLength: 40 }),
        fc.array(fc.array(eventArb, { maxLength: 4 }), { maxLength: 20 }),
        fc.integer({ min: 1, max: 5 }),
        async (initial, arrivals, limit) => {
          const ctx = context();
          let n = 0;
          for (const e of initial) await put(ctx, 'g', e.stream, [{ timestamp: NOW - 60_000 + e.offset, message: `i${n++}` }]);
          const all = await call(ctx, 'FilterLogEvents', { logGroupName: 'g' });
          const idOf = new Map<string, string>(all.events.map((e: any) => [e.message, e.eventId]));
          const seen: string[] = [];
          let token: string | undefined;
          let page = 0;
          do {
            const out = await call(ctx, 'FilterLogEvents', { logGroupName: 'g', limit, ...(token === undefined ? {} : { nextToken: token }) });
            for (const e of out.events) {
              seen.push(e.message);
              if (idOf.has(e.message)) expect(e.eventId).toBe(idOf.get(e.message));
            }
            token = out.nextToken;
            // Late events (older), new streams ('e'...), between pages.
            for (const e of arrivals[page++] ?? []) {
              await put(ctx, 'g', page % 3 === 0 ? `new-${e.stream}` : e.stream, [{ timestamp: NOW - 60_000 + e.offset, message: `x${n++}` }]);
            }
          } while (token !== undefined);
          expect(new Set(seen).size).toBe(seen.length);
          for (const message of idOf.keys()) expect(seen).toContain(message);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('DescribeLogStreams: a list-then-delete loop removes every stream whatever the page size', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 7 }), fc.boolean(), async (count, limit, descending) => {
        const ctx = context();
        for (let i = 0; i < count; i++) await put(ctx, 'g', `s${String(i).padStart(3, '0')}`, []);
        let token: string | undefined;
        do {
          const out = await call(ctx, 'DescribeLogStreams', { logGroupName: 'g', limit, descending, ...(token === undefined ? {} : { nextToken: token }) });
          for (const s of out.logStreams) await call(ctx, 'DeleteLogStream', { logGroupName: 'g', logStreamName: s.logStreamName });
          token = out.nextToken;
        } while (token !== undefined);
        expect(ctx.store.groups.get('g')?.streams.size).toBe(0);
      }),
      { numRuns: 40 },
    );
  });
});

describe('FilterLogEvents over many streams', () => {
  it('yields to other work while it searches (it does not hold the event loop to the end)', async () => {
    const ctx = context();
    await call(ctx, 'CreateLogGroup', { logGroupName: 'wide' });
    const group = ctx.store.groups.get('wide');
    if (group === undefined) throw new Error('no group');
    for (let i = 0; i < 20_000; i++) {
      const s = ctx.store.newStream(`s${i}`, NOW);
      ctx.store.append(s, [{ timestamp: NOW - i, message: `m${i}` }], 0, 1, [28], NOW);
      group.streams.set(s.name, s);
    }
    let otherRanDuringSearch = false;
    let searchDone = false;
    const search = Promise.resolve(call(ctx, 'FilterLogEvents', { logGroupName: 'wide', limit: 10 })).then((out) => {
      searchDone = true;
      return out;
    });
    setImmediate(() => {
      otherRanDuringSearch = !searchDone;
    });
    const out = await search;
    expect(otherRanDuringSearch).toBe(true);
    expect(out.events.map((e: any) => e.message)).toEqual(Array.from({ length: 10 }, (_, k) => `m${19_999 - k}`));
    expect(out.nextToken).toBeDefined();
  });
});

describe('metric filters', () => {
  it('count matches on ingestion (metricValue per match, defaultValue per miss)', async () => {
    const ctx = context();
    await put(ctx, 'm', 's', []);
    await call(ctx, 'PutMetricFilter', {
      logGroupName: 'm',
      filterName: 'errors',
      filterPattern: 'ERROR',
      metricTransformations: [{ metricName: 'Errors', metricNamespace: 'App', metricValue: '2', defaultValue: 0.5 }],
    });
    await put(ctx, 'm', 's', ['ERROR a', 'ok', 'ERROR b', 'fine'].map((message, i) => ({ timestamp: NOW + i, message })));
    const f = ctx.store.groups.get('m')?.metricFilters.get('errors');
    expect(f).toMatchObject({ matched: 2, samples: 4, sum: 2 * 2 + 2 * 0.5 });
  });

  it('refuses what the reference refuses', async () => {
    const ctx = context();
    await put(ctx, 'm', 's', []);
    const base = { logGroupName: 'm', filterName: 'f', filterPattern: '' };
    const t = { metricName: 'N', metricNamespace: 'NS', metricValue: '1' };
    const cases: Array<Record<string, unknown>> = [
      { ...base, metricTransformations: [] },
      { ...base, metricTransformations: [t, t] },
      { ...base, metricTransformations: [{ ...t, metricName: 'a:b' }] },
      { ...base, metricTransformations: [{ ...t, metricValue: 'lots' }] },
      { ...base, metricTransformations: [{ ...t, unit: 'Parsecs' }] },
      { ...base, metricTransformations: [{ ...t, defaultValue: 0, dimensions: { a: '$.a' } }] },
      { ...base, filterPattern: 'x'.repeat(1025), metricTransformations: [t] },
      { ...base, filterName: 'a*', metricTransformations: [t] },
    ];
    for (const body of cases) {
      await expect(call(ctx, 'PutMetricFilter', body)).rejects.toMatchObject({ type: 'InvalidParameterException', status: 400 });
    }
  });
});

describe('wrongly typed members', () => {
  it('every operation answers objects, numbers and arrays in name members with a 400, never a throw of another kind', async () => {
    const ctx = context();
    await put(ctx, 'g', 's', [{ timestamp: NOW, message: 'm' }]);
    const weird: unknown[] = [{}, 5, ['x'], true, [{}], [{ timestamp: {}, message: {} }], [5], { a: {} }];
    const keys = ['logGroupName', 'logStreamName', 'logGroupIdentifier', 'logGroupNamePrefix', 'logStreamNamePrefix', 'filterPattern', 'nextToken', 'resourceArn', 'filterName', 'tags', 'logStreamNames', 'limit', 'logEvents', 'metricTransformations', 'tagKeys', 'retentionInDays', 'startTime'];
    for (const op of OPERATIONS.keys()) {
      for (const key of keys) {
        for (const value of weird) {
          const body = { logGroupName: 'g', logStreamName: 's', [key]: value };
          try {
            await call(ctx, op, body);
          } catch (error) {
            expect(error, `${op} ${key}=${JSON.stringify(value)}`).toBeInstanceOf(ServiceError);
            expect((error as ServiceError).status).toBe(400);
          }
        }
      }
    }
  });
});

describe('faults', () => {
  it('one draw per request: the rates are exact shares (fault rate 1 faults every request)', () => {
    const all = new FaultInjector({ throttleRate: 1 / 3, unavailableRate: 1 / 3, internalErrorRate: 1 / 3 }, 5, () => 0);
    const kinds = Array.from({ length: 3_000 }, () => all.decide().kind);
    expect(kinds.every((k) => k !== 'none')).toBe(true);
    const c = all.counters;
    expect(c.throttledByRate + c.unavailable + c.internalError).toBe(3_000);
    for (const n of [c.throttledByRate, c.unavailable, c.internalError]) expect(Math.abs(n - 1_000)).toBeLessThan(120);

    const part = new FaultInjector({ throttleRate: 0.1, unavailableRate: 0.1, internalErrorRate: 0.1 }, 9, () => 0);
    const faulted = Array.from({ length: 10_000 }, () => part.decide().kind).filter((k) => k !== 'none').length;
    expect(Math.abs(faulted / 10_000 - 0.3)).toBeLessThan(0.02);
  });

  it('refuses rates that add up to more than 1', () => {
    expect(() => new FaultInjector({ throttleRate: 0.6, unavailableRate: 0.6 }, 1, () => 0)).toThrow(RangeError);
  });

  it('a requestsPerSecond below 1 lets one request through every 1/rate seconds', () => {
    let now = 0;
    const f = new FaultInjector({ requestsPerSecond: 0.5 }, 1, () => now);
    expect(f.decide().kind).toBe('none');
    expect(f.decide().kind).toBe('error');
    now += 1_999;
    expect(f.decide().kind).toBe('error');
    now += 1;
    expect(f.decide().kind).toBe('none');
    now += 10_000;
    // The bucket holds one whole token, not five.
    expect(f.decide().kind).toBe('none');
    expect(f.decide().kind).toBe('error');
  });
});
