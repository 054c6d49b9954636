import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatLogRecord, recordTimestamp } from '../../../src/otel/format.js';
import { record } from './records.js';

describe('formatLogRecord: the Collector awscloudwatchlogsexporter shape', () => {
  it('writes every field in the Collector order, leaving empty ones out', () => {
    const line = formatLogRecord(
      record({
        body: 'order placed',
        severityNumber: 9,
        severityText: 'INFO',
        eventName: 'order.placed',
        droppedAttributesCount: 2,
        spanContext: { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceFlags: 1 },
        attributes: { 'order.id': 42, tags: ['a', 'b'], nested: { ok: true } },
        instrumentationScope: { name: 'checkout', version: '1.2.0', attributes: { lib: 'x' } },
      }),
    );
    expect(line).toBe(
      '{"body":"order placed","severity_number":9,"severity_text":"INFO","event_name":"order.placed","dropped_attributes_count":2,' +
        '"flags":1,"trace_id":"5b8efff798038103d269b633813fc60c","span_id":"eee19b7ec3c1b174",' +
        '"attributes":{"order.id":42,"tags":["a","b"],"nested":{"ok":true}},' +
        '"scope":{"name":"checkout","version":"1.2.0","attributes":{"lib":"x"}},"resource":{"service.name":"shop"}}',
    );
  });

  it('leaves out invalid (all-zero) ids, zero flags, an unnamed scope and an empty resource', () => {
    const line = formatLogRecord(
      record({
        body: 'x',
        spanContext: { traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: 0 },
        instrumentationScope: { name: '' },
        resource: { attributes: {} },
      }),
    );
    expect(line).toBe('{"body":"x"}');
    expect(formatLogRecord(record({ instrumentationScope: { name: '' }, resource: { attributes: {} } }))).toBe('{}');
  });

  it('writes byte arrays in base64 (as Go writes []byte), drops undefined values', () => {
    const line = formatLogRecord(record({ body: new Uint8Array([1, 2, 255]), attributes: { a: undefined, b: [undefined, 1] } }), null);
    expect(JSON.parse(line)).toEqual({ body: 'AQL/', attributes: { b: [null, 1] }, scope: { name: 'checkout', version: '1.2.0' } });
  });

  it('takes the event timestamp from hrTime, in whole ms', () => {
    expect(recordTimestamp(record())).toBe(1_764_000_000_123);
    expect(recordTimestamp(record({ hrTime: [0, 999_999] }))).toBe(0);
  });

  it('keeps a key named __proto__ in the body and the attributes (an own key, not the prototype)', () => {
    const body = JSON.parse('{"__proto__":null,"a":1}') as Record<string, unknown>;
    const attributes = JSON.parse('{"__proto__":{"x":1}}') as Record<string, unknown>;
    const line = formatLogRecord(record({ body, attributes }));
    expect(line).toContain('"body":{"__proto__":null,"a":1}');
    expect(line).toContain('"attributes":{"__proto__":{"x":1}}');
  });

  it('property: the line is JSON that reads back as the record', () => {
    const json = fc.jsonValue({ maxDepth: 3 }).filter((v) => v !== null);
    fc.assert(
      fc.property(
        json,
        fc.dictionary(fc.string({ minLength: 1, maxLength: 8 }), json, { maxKeys: 5 }),
        fc.string({ minLength: 32, maxLength: 32, unit: fc.constantFrom(...'0123456789abcdef') }),
        fc.integer({ min: 0, max: 24 }),
        (body, attributes, traceId, severity) => {
          const rec = record({ body, attributes, severityNumber: severity, spanContext: { traceId, spanId: '0123456789abcdef', traceFlags: 1 } });
          const back = JSON.parse(formatLogRecord(rec)) as Record<string, unknown>;
          // JSON.parse(JSON.stringify(x)) normalizes -0 to 0, as the line does.
          expect(back['body']).toEqual(JSON.parse(JSON.stringify(body)));
          if (Object.keys(attributes).length > 0) expect(back['attributes']).toEqual(JSON.parse(JSON.stringify(attributes)));
          else expect(back).not.toHaveProperty('attributes');
          if (severity > 0) expect(back['severity_number']).toBe(severity);
          else expect(back).not.toHaveProperty('severity_number');
          if (/^0+$/.test(traceId)) expect(back).not.toHaveProperty('trace_id');
          else expect(back['trace_id']).toBe(traceId);
          expect(back['resource']).toEqual({ 'service.name': 'shop' });
        },
      ),
    );
  });
});
