import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_METRICS_PER_LINE, MAX_VALUES_PER_METRIC, serializeEmf, UNITS, type MetricEntry } from '../../../src/emf/format.js';
import { emfProblems } from './validate.js';

const T = 1_764_900_000_000;

describe('serializeEmf', () => {
  it('writes one line with the directive, the dimension and metric targets, and the properties', () => {
    const lines = serializeEmf({
      namespace: 'Shop',
      dimensionSets: [['Service'], ['Service', 'Op']],
      dimensionValues: { Service: 'checkout', Op: 'pay' },
      metrics: new Map<string, MetricEntry>([
        ['Latency', { values: [12, 15], unit: 'Milliseconds', resolution: 60 }],
        ['Hits', { values: [1], unit: undefined, resolution: 1 }],
      ]),
      properties: { requestId: 'abc' },
      timestamp: T,
    });
    expect(lines).toEqual([
      `{"_aws":{"Timestamp":${T},"CloudWatchMetrics":[{"Namespace":"Shop","Dimensions":[["Service"],["Service","Op"]],"Metrics":[{"Name":"Latency","Unit":"Milliseconds"},{"Name":"Hits","StorageResolution":1}]}]},"requestId":"abc","Service":"checkout","Op":"pay","Latency":[12,15],"Hits":1}`,
    ]);
    expect(emfProblems(lines[0]!)).toEqual([]);
  });

  it('writes no line without metrics, and one empty dimension set without dimensions', () => {
    expect(serializeEmf({ namespace: 'N', dimensionSets: [], dimensionValues: {}, metrics: new Map(), properties: {}, timestamp: T })).toEqual([]);
    const [line] = serializeEmf({ namespace: 'N', dimensionSets: [], dimensionValues: {}, metrics: new Map([['m', { values: [1], unit: undefined, resolution: 60 }]]), properties: {}, timestamp: T });
    expect(JSON.parse(line!)._aws.CloudWatchMetrics[0].Dimensions).toEqual([[]]);
  });

  it('a property named __proto__ is a member, not a prototype', () => {
    const [line] = serializeEmf({ namespace: 'N', dimensionSets: [], dimensionValues: {}, metrics: new Map([['m', { values: [1], unit: undefined, resolution: 60 }]]), properties: JSON.parse('{"__proto__":{"x":1}}') as Record<string, unknown>, timestamp: T });
    expect(line).toContain('"__proto__":{"x":1}');
  });

  it('property: lines obey the limits, validate against the schema, and carry every value once, in order', () => {
    const entry = fc.record({
      values: fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { minLength: 1, maxLength: 250 }),
      unit: fc.option(fc.constantFrom(...UNITS), { nil: undefined }),
      resolution: fc.constantFrom(1 as const, 60 as const),
    });
    const names = fc.uniqueArray(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_.]{0,20}$/), { minLength: 1, maxLength: 230 });
    fc.assert(
      fc.property(names, fc.infiniteStream(entry), fc.integer({ min: 0, max: 30 }), (metricNames, entries, dimCount) => {
        const metrics = new Map<string, MetricEntry>();
        const it = entries[Symbol.iterator]();
        for (const name of metricNames) metrics.set(`m_${name}`, it.next().value as MetricEntry);
        const dims = Array.from({ length: dimCount }, (_, i) => `d${i}`);
        const lines = serializeEmf({
          namespace: 'Prop',
          dimensionSets: [dims],
          dimensionValues: Object.fromEntries(dims.map((d) => [d, `v-${d}`])),
          metrics,
          properties: { p: 1 },
          timestamp: T,
        });
        const seen = new Map<string, number[]>();
        for (const line of lines) {
          expect(emfProblems(line)).toEqual([]);
          const doc = JSON.parse(line) as Record<string, any>;
          const defs = doc['_aws'].CloudWatchMetrics[0].Metrics as Array<{ Name: string; Unit?: string; StorageResolution?: number }>;
          expect(defs.length).toBeLessThanOrEqual(MAX_METRICS_PER_LINE);
          for (const def of defs) {
            const e = metrics.get(def.Name)!;
            expect(def.Unit).toBe(e.unit);
            expect(def.StorageResolution).toBe(e.resolution === 1 ? 1 : undefined);
            const values = ([] as number[]).concat(doc[def.Name] as number | number[]);
            expect(values.length).toBeLessThanOrEqual(MAX_VALUES_PER_METRIC);
            seen.set(def.Name, [...(seen.get(def.Name) ?? []), ...values]);
          }
        }
        // JSON turns -0 into 0: compare as JSON does.
        for (const [name, e] of metrics) expect(seen.get(name)).toEqual(e.values.map((v) => (Object.is(v, -0) ? 0 : v)));
        // As few lines as the limits allow.
        const rounds = Math.max(...[...metrics.values()].map((e) => Math.ceil(e.values.length / MAX_VALUES_PER_METRIC)));
        expect(lines.length).toBeGreaterThanOrEqual(rounds);
        expect(lines.length).toBeLessThanOrEqual(rounds * Math.ceil(metrics.size / MAX_METRICS_PER_LINE));
      }),
      { numRuns: 60 },
    );
  });
});
