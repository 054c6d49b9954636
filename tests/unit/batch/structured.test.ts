import { describe, expect, it } from 'vitest';
import { serializeStructuredEvent } from '../../../src/batch/index.js';

const parse = (line: string): Record<string, any> => JSON.parse(line) as Record<string, any>;

describe('serializeStructuredEvent', () => {
  it('four top-level keys first, fields beside, never overwriting them', () => {
    const line = serializeStructuredEvent({
      level: 'warn',
      message: 'm',
      traceId: 't',
      requestId: 'r',
      fields: { level: 'x', message: 'x', traceId: 'x', requestId: 'x', a: 1, nested: { b: [1, 'two'] } },
    });
    expect(Object.keys(parse(line))).toEqual(['level', 'message', 'traceId', 'requestId', 'a', 'nested']);
    expect(parse(line)).toMatchObject({ level: 'warn', message: 'm', traceId: 't', requestId: 'r', a: 1, nested: { b: [1, 'two'] } });
  });

  it('omits absent traceId/requestId and undefined fields; one line', () => {
    const line = serializeStructuredEvent({ level: 'info', message: 'multi\nline', fields: { u: undefined, f: () => 1, s: Symbol('s') } });
    expect(parse(line)).toEqual({ level: 'info', message: 'multi\nline' });
    expect(line.includes('\n')).toBe(false);
  });

  it('circular references become "[Circular]", shared (non-circular) references are kept', () => {
    const shared = { v: 1 };
    const a: Record<string, unknown> = { shared, again: shared };
    a['self'] = a;
    const arr: unknown[] = [1];
    arr.push(arr);
    expect(parse(serializeStructuredEvent({ level: 'info', message: 'm', fields: { a, arr } }))).toEqual({
      level: 'info',
      message: 'm',
      a: { shared: { v: 1 }, again: { v: 1 }, self: '[Circular]' },
      arr: [1, '[Circular]'],
    });
  });

  it('BigInt as decimal strings, Errors with name, message, stack, own fields and cause', () => {
    const error = Object.assign(new TypeError('bad', { cause: new Error('root') }), { code: 'E_BAD' });
    const out = parse(serializeStructuredEvent({ level: 'error', message: 'm', fields: { n: 2n ** 70n, error } }));
    expect(out['n']).toBe('1180591620717411303424');
    expect(out['error']).toMatchObject({ name: 'TypeError', message: 'bad', code: 'E_BAD', cause: { name: 'Error', message: 'root' } });
    expect(out['error'].stack).toContain('TypeError: bad');
  });

  it('an error whose cause is itself, and a throwing getter, never throw', () => {
    const e = new Error('me') as Error & { cause?: unknown };
    e.cause = e;
    expect(parse(serializeStructuredEvent({ level: 'error', message: 'm', fields: { e } }))['e'].cause).toBe('[Circular]');
    const nasty = {
      get boom(): never {
        throw new Error('getter says no');
      },
    };
    const out = parse(serializeStructuredEvent({ level: 'info', message: 'm', fields: { nasty } }));
    expect(out).toEqual({ level: 'info', message: 'm', unserializable: 'getter says no' });
  });

  it('a field named __proto__ is written as a field, not as the prototype', () => {
    const fields = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}') as Record<string, unknown>;
    const out = parse(serializeStructuredEvent({ level: 'info', message: 'm', fields }));
    expect(out['ok']).toBe(1);
    expect(Object.prototype.hasOwnProperty.call(out, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});
