import { hostname } from 'node:os';
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compileNameTemplate, DEFAULT_FIELD_VALUE, sanitizeNamePart, type NameKind } from '../../../src/batch/name-template.js';
import { logGroupNameProblem, logStreamNameProblem } from '../../../src/batch/rules.js';

const T = Date.UTC(2026, 10, 26, 23, 59, 59, 999);
const ev = (timestamp: number) => ({ timestamp, message: 'm' });
const stream = (template: string) => compileNameTemplate(template, 'logStreamName', { hostname: 'web-1', pid: 4242 });
const group = (template: string) => compileNameTemplate(template, 'logGroupName', { hostname: 'web-1', pid: 4242 });
const problem = (kind: NameKind, name: string) => (kind === 'logGroupName' ? logGroupNameProblem(name) : logStreamNameProblem(name));
/** Placeholder syntax: "{" letters then "}" or ":". */
const PLACEHOLDER = /\{[A-Za-z]+[}:]/;
/** Any timestamp a Date can hold from the epoch on (years past 9999 included). */
const timestampArb = fc.integer({ min: 0, max: 8_640_000_000_000_000 });

afterEach(() => {
  vi.restoreAllMocks();
});

describe('compileNameTemplate: built-in placeholders', () => {
  it('fills in {date} and {hour} of the event (UTC), {hostname} and {pid}', () => {
    const t = stream('{hostname}/{date}T{hour}/{pid}');
    expect(t.evaluate(ev(T))).toBe('web-1/2026-11-26T23/4242');
    expect(t.evaluate(ev(T + 1))).toBe('web-1/2026-11-27T00/4242');
    expect(t.constant).toBeUndefined();
    expect(t.usesRecord).toBe(false);
  });

  it('uses each event’s own timestamp, in any order (late and replayed events land in their day)', () => {
    const t = stream('app-{date}');
    const day = 86_400_000;
    const names = [T, T - day, T + day, T - 3 * day, T].map((ts) => t.evaluate(ev(ts)));
    expect(names).toEqual(['app-2026-11-26', 'app-2026-11-25', 'app-2026-11-27', 'app-2026-11-23', 'app-2026-11-26']);
  });

  it('defaults {hostname} and {pid} to os.hostname() and process.pid', () => {
    expect(compileNameTemplate('{hostname}-{pid}', 'logStreamName').evaluate(ev(0))).toBe(`${hostname()}-${process.pid}`);
  });

  it('a template whose placeholders are all fixed is a constant', () => {
    const t = stream('{hostname}/{pid}');
    expect(t.constant).toBe('web-1/4242');
    expect(t.evaluate(ev(T))).toBe('web-1/4242');
  });

  it('formats years with four digits and past 9999', () => {
    const t = stream('{date}');
    expect(t.evaluate(ev(0))).toBe('1970-01-01');
    expect(t.evaluate(ev(Date.UTC(12345, 0, 2)))).toBe('12345-01-02');
  });

  it('computes the date string once per UTC day and the name once per bucket (cached)', () => {
    const spy = vi.spyOn(Date.prototype, 'getUTCFullYear');
    const t = stream('a-{date}');
    for (let i = 0; i < 1_000; i++) t.evaluate(ev(T - i)); // the same day
    expect(spy).toHaveBeenCalledTimes(1);
    t.evaluate(ev(T + 1)); // the next day
    expect(spy).toHaveBeenCalledTimes(2);
    const withField = stream('{field:x}-{date}');
    for (let i = 0; i < 100; i++) withField.evaluate(ev(T - i), { x: String(i) });
    expect(spy).toHaveBeenCalledTimes(3);
  });

  it('refuses a timestamp that is no time when {date} needs it, naming the field', () => {
    expect(() => stream('{date}').evaluate(ev(Number.NaN))).toThrow(expect.objectContaining({ code: 'INVALID_EVENT', field: 'timestamp' }));
    expect(() => stream('{hour}').evaluate(ev(9e15))).toThrow(/timestamp/);
  });
});

describe('compileNameTemplate: record fields', () => {
  it('reads top-level and nested fields, with the default when absent', () => {
    const t = stream('{field:service}/{field:req.tenant|no-tenant}/{field:level}');
    expect(t.usesRecord).toBe(true);
    expect(t.evaluate(ev(T), { service: 'api', req: { tenant: 'acme' }, level: 30 })).toBe('api/acme/30');
    expect(t.evaluate(ev(T), { service: 'api' })).toBe(`api/no-tenant/${DEFAULT_FIELD_VALUE}`);
    expect(t.evaluate(ev(T), undefined)).toBe('unknown/no-tenant/unknown');
    expect(t.evaluate(ev(T), 'not an object')).toBe('unknown/no-tenant/unknown');
  });

  it('takes strings, numbers, booleans and bigints; null, empty, objects, arrays and inherited keys are absent', () => {
    const t = stream('{field:v|-}');
    expect(t.evaluate(ev(T), { v: true })).toBe('true');
    expect(t.evaluate(ev(T), { v: 12n })).toBe('12');
    for (const v of [null, undefined, '', { a: 1 }, [1]]) expect(t.evaluate(ev(T), { v })).toBe('-');
    expect(stream('{field:constructor|-}').evaluate(ev(T), {})).toBe('-');
    expect(stream('{field:toString|-}').evaluate(ev(T), Object.create({ toString: 'x' }))).toBe('-');
  });

  it('an explicit empty default is allowed; the result must still be a valid name', () => {
    const t = stream('app{field:suffix|}');
    expect(t.evaluate(ev(T), {})).toBe('app');
    expect(() => stream('{field:suffix|}').evaluate(ev(T), {})).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
  });

  it('replaces characters a name may not contain, in field values only (one _ per code point)', () => {
    expect(stream('s-{field:x}').evaluate(ev(T), { x: 'a:b*c/d é 🚀' })).toBe('s-a_b_c/d é 🚀');
    expect(group('/g/{field:x}').evaluate(ev(T), { x: 'a:b c/d.é🚀#' })).toBe('/g/a_b_c/d.__#');
    expect(sanitizeNamePart('plain-name', 'logGroupName')).toBe('plain-name');
  });

  it('reports a name the rules refuse as InvalidNameError naming the template', () => {
    const t = stream('{field:x}');
    expect(() => t.evaluate(ev(T), { x: 'y'.repeat(513) })).toThrow(/512 characters.*template "\{field:x\}"/);
    expect(() => group('{field:x}').evaluate(ev(T), { x: 'aws/lambda' })).toThrow(/aws\//);
  });

  it('the field syntax cannot collide with the built-ins: {field:date} reads the record', () => {
    expect(stream('{field:date}').evaluate(ev(T), { date: 'yesterday' })).toBe('yesterday');
  });
});

describe('compileNameTemplate: errors when compiled', () => {
  it('refuses unknown and malformed placeholders, naming them', () => {
    expect(() => stream('{host}-{pid}')).toThrow(RangeError);
    expect(() => stream('{host}')).toThrow(/`\{host\}`/);
    expect(() => stream('{date:%Y}')).toThrow(/`\{date:`/);
    expect(() => stream('{field:a..b}')).toThrow(/Malformed/);
    expect(() => stream('{field:}')).toThrow(/Malformed/);
    expect(() => stream('{field:a|b')).toThrow(/Unterminated/);
  });

  it('refuses fixed text or defaults that can never make a valid name', () => {
    expect(() => group('/app {date}')).toThrow(expect.objectContaining({ code: 'INVALID_NAME', field: 'logGroupName' }));
    expect(() => group('/app/{field:x|a b}')).toThrow(/default of \{field:x\}/);
    expect(() => stream('a:{date}')).toThrow(/":"/);
    expect(() => group('aws/{date}')).toThrow(/aws\//);
    expect(() => stream('x'.repeat(513) + '{date}')).toThrow(/512/);
    expect(() => stream('')).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(() => compileNameTemplate('{hostname}', 'logStreamName', { hostname: 'a:b' })).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
  });

  it('refuses what is neither a string nor a function', () => {
    expect(() => compileNameTemplate(42 as unknown as string, 'logStreamName')).toThrow(TypeError);
    expect(() => compileNameTemplate('x', 'stream' as NameKind)).toThrow(/kind/);
  });

  it('keeps text that is not placeholder syntax as written', () => {
    expect(stream('{ date } {1} {} {-x} {{date}}').evaluate(ev(T))).toBe('{ date } {1} {} {-x} {2026-11-26}');
  });
});

describe('compileNameTemplate: the function form', () => {
  it('is called with the event and the record, and its result checked by the rules', () => {
    const fn = vi.fn((event: { timestamp: number }, record: unknown) => `${(record as { app: string }).app}-${event.timestamp}`);
    const t = compileNameTemplate(fn, 'logStreamName');
    expect(t.usesRecord).toBe(true);
    expect(t.source).toBe('a function');
    expect(t.evaluate(ev(5), { app: 'api' })).toBe('api-5');
    expect(fn).toHaveBeenCalledWith(ev(5), { app: 'api' });
    expect(() => t.evaluate(ev(6), { app: 'a:b' })).toThrow(/returned by the logStreamName function/);
    expect(() => compileNameTemplate(() => '/x y', 'logGroupName').evaluate(ev(1))).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
  });
});

describe('compileNameTemplate: properties', () => {
  const kindArb = fc.constantFrom<NameKind>('logGroupName', 'logStreamName');

  it('a template without placeholders evaluates to itself (or is refused when compiled, if not a valid name)', () => {
    const textArb = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.stringMatching(/^[.\-_/#A-Za-z0-9{}]{1,40}$/),
      fc.string({ unit: fc.constantFrom('a', '{', '}', ':', '-', 'x', '1', ' '), maxLength: 20 }),
    );
    fc.assert(
      fc.property(kindArb, textArb.filter((s) => !PLACEHOLDER.test(s)), timestampArb, fc.anything(), (kind, text, timestamp, record) => {
        if (problem(kind, text) !== undefined) {
          expect(() => compileNameTemplate(text, kind)).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
          return;
        }
        const t = compileNameTemplate(text, kind);
        expect(t.constant).toBe(text);
        expect(t.evaluate(ev(timestamp), record)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('{date} is the UTC date of the timestamp, {hour} its UTC hour, for any timestamp', () => {
    const t = stream('{date}T{hour}');
    fc.assert(
      fc.property(fc.array(timestampArb, { minLength: 1, maxLength: 20 }), (timestamps) => {
        for (const ts of timestamps) {
          const d = new Date(ts);
          const year = d.getUTCFullYear();
          const iso = d.toISOString(); // "YYYY-MM-DDTHH..." or "+YYYYYY-MM-DDTHH..." past 9999
          const expected = year <= 9999 ? iso.slice(0, 13) : `${year}${iso.slice(7, 16)}`;
          expect(t.evaluate(ev(ts))).toBe(expected);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('an evaluated name is always valid per the rules, or an InvalidNameError', () => {
    const pieceArb = fc.oneof(
      fc.constantFrom('{date}', '{hour}', '{pid}', '{field:a}', '{field:b.c|dflt}', '{field:a|}', '/', '-', 'x', '#'),
      fc.stringMatching(/^[A-Za-z0-9._-]{0,8}$/),
    );
    const valueArb = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 300 }), fc.integer(), fc.boolean(), fc.constant(null), fc.constant('aws/'));
    const recordArb = fc.record({ a: valueArb, b: fc.oneof(fc.record({ c: valueArb }), valueArb) }, { requiredKeys: [] });
    fc.assert(
      fc.property(kindArb, fc.array(pieceArb, { minLength: 1, maxLength: 8 }), fc.array(fc.tuple(timestampArb, recordArb), { maxLength: 10 }), (kind, pieces, inputs) => {
        let t;
        try {
          t = compileNameTemplate(pieces.join(''), kind, { pid: 7 });
        } catch (error) {
          expect(error).toMatchObject({ code: 'INVALID_NAME' });
          return;
        }
        for (const [timestamp, record] of inputs) {
          let name: string;
          try {
            name = t.evaluate(ev(timestamp), record);
          } catch (error) {
            expect(error).toMatchObject({ code: 'INVALID_NAME', field: kind });
            expect((error as Error).message).toMatch(/evaluated from the template/);
            continue;
          }
          expect(problem(kind, name)).toBeUndefined();
        }
      }),
      { numRuns: 500 },
    );
  });
});
