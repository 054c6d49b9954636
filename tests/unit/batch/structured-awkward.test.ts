/**
 * `serializeStructuredEvent` / `addStructured()` never throw, whatever the event holds (issue 21):
 * a property test over hostile values (getters, `toJSON`, `toString` and Proxy traps that throw,
 * BigInt, cycles, objects without a prototype) anywhere in the event.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchBufferImpl } from '../../../src/batch/buffer.js';
import { serializeStructuredEvent } from '../../../src/batch/structured.js';
import type { InputLogEvent, StructuredLogEvent } from '../../../src/batch/types.js';

const boom = (): never => {
  throw new Error('boom');
};

/** Makers of values that make naive serialisation or `String()` throw (built inside each run: fast-check must not touch them). */
const HOSTILE: Array<() => unknown> = [
  () => ({ toString: boom, toJSON: boom }),
  () => ({ toJSON: boom }),
  () => Object.defineProperty({}, 'x', { get: boom, enumerable: true }),
  () => Object.create(null) as object,
  () => Object.assign(Object.create(null) as object, { toJSON: boom }),
  () => new Proxy({}, { get: boom, ownKeys: boom, getOwnPropertyDescriptor: boom, has: boom }),
  () => 10n ** 30n,
  () => {
    const a: Record<string, unknown> = {};
    a['self'] = a;
    return a;
  },
  () => {
    const e = new Error('with a throwing message');
    Object.defineProperty(e, 'message', { get: boom });
    return e;
  },
  () => Symbol('s'),
  () => ({ [Symbol.toPrimitive]: boom, toString: boom, valueOf: boom }),
  () => Object.defineProperty({ toString: boom }, Symbol.toStringTag, { get: boom }),
];

/** How one member is made: a hostile value, an ordinary one, or a getter that throws. */
type Recipe = { hostile: number } | { plain: unknown } | 'throwing-getter';
const recipe: fc.Arbitrary<Recipe> = fc.oneof(
  fc.integer({ min: 0, max: HOSTILE.length - 1 }).map((i) => ({ hostile: i })),
  fc.oneof(fc.anything(), fc.bigInt()).map((plain) => ({ plain })),
  fc.constant('throwing-getter' as const),
);
const KEYS = ['level', 'message', 'traceId', 'requestId'] as const;
const eventArb = fc.record({
  members: fc.tuple(recipe, recipe, recipe, recipe),
  fields: fc.oneof(recipe, fc.dictionary(fc.string(), recipe, { maxKeys: 5 }).map((dict) => ({ dict }))),
});
type EventRecipe = typeof eventArb extends fc.Arbitrary<infer T> ? T : never;

function make(r: Recipe, on: Record<string, unknown>, key: string): void {
  if (r === 'throwing-getter') Object.defineProperty(on, key, { get: boom, enumerable: true });
  else on[key] = 'hostile' in r ? (HOSTILE[r.hostile] as () => unknown)() : r.plain;
}

/** Builds the event a recipe describes. */
function build(r: EventRecipe): StructuredLogEvent {
  const event: Record<string, unknown> = {};
  KEYS.forEach((key, i) => make(r.members[i] as Recipe, event, key));
  if (typeof r.fields === 'object' && 'dict' in r.fields) {
    const fields: Record<string, unknown> = {};
    for (const [key, member] of Object.entries(r.fields.dict as Record<string, Recipe>)) make(member, fields, key);
    event['fields'] = fields;
  } else {
    make(r.fields as Recipe, event, 'fields');
  }
  return event as unknown as StructuredLogEvent;
}

describe('serializeStructuredEvent with awkward values', () => {
  it('never throws, and always returns one JSON object line', () => {
    fc.assert(
      fc.property(eventArb, (r) => {
        const line = serializeStructuredEvent(build(r));
        expect(typeof line).toBe('string');
        expect(line.includes('\n')).toBe(false);
        const parsed = JSON.parse(line) as unknown;
        expect(parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)).toBe(true);
      }),
      { numRuns: 1_000 },
    );
  });

  it("the issue's case: message's toString and a field's toJSON both throw", () => {
    const line = serializeStructuredEvent({
      level: 'error',
      message: { toString: boom } as unknown as string,
      fields: { f: { toJSON: boom } },
    });
    expect(JSON.parse(line)).toEqual({ level: 'error', message: '[object Object]', unserializable: 'boom' });
  });

  it('addStructured() resolves for such events (delivered as their fallback line)', async () => {
    const sent: InputLogEvent[] = [];
    const buffer = new BatchBufferImpl(async (_g, _s, events) => {
      sent.push(...events);
      return {};
    }, { flushIntervalMs: 60_000 });
    const events = fc.sample(eventArb, { numRuns: 200, seed: 21 });
    for (const r of events) {
      // A throwing `timestamp` getter is not made here: the buffer reads `timestamp` itself.
      const event = build(r);
      Object.defineProperty(event, 'timestamp', { value: Date.now(), enumerable: true });
      await expect(buffer.addStructured('g', 's', event)).resolves.toBeUndefined();
    }
    await buffer.stop();
    expect(sent).toHaveLength(events.length);
  });
});
