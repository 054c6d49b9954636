/**
 * Property-based tests (fast-check) of the core over random event streams: multibyte and emoji
 * text, random and out-of-order timestamps spanning days, sizes up to and past maxEventBytes,
 * random flush failures. Every batch obeys every rule; nothing is lost or duplicated; the
 * accounting identity holds after every step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BatchBufferImpl,
  findBatchViolation,
  splitMessage,
  truncateMessage,
  utf8ByteLength,
  type BatchBufferOptions,
  type InputLogEvent,
  type OversizedEventPolicy,
  type OverflowPolicy,
} from '../../../src/batch/index.js';
import { awsError, expectIdentity } from './helpers.js';

const MAX_EVENT_BYTES = 262_144;
const MAX_MESSAGE = MAX_EVENT_BYTES - 26;
const T0 = Date.UTC(2026, 10, 26);
const DAY = 86_400_000;
const POISON = '☠';

/** A message: mostly short multibyte/emoji text, sometimes a repeated unit up to and past the event limit. */
const messageArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 20 }) },
  { weight: 1, arbitrary: fc.constant(`bad ${POISON}`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 4 }), fc.integer({ min: 60_000, max: 420_000 }))
      .map(([unit, bytes]) => {
        const unitBytes = Math.max(1, utf8ByteLength(unit));
        return unit.repeat(Math.ceil(bytes / unitBytes));
      }),
  },
);

const eventArb: fc.Arbitrary<InputLogEvent> = fc.record({
  timestamp: fc.integer({ min: T0 - 3 * DAY, max: T0 + 3 * DAY }),
  message: messageArb,
});

type Outcome = 'ok' | 'reject' | 'transient' | 'throttle' | 'fatal' | 'accepted' | 'garbage';
const outcomeArb: fc.Arbitrary<Outcome> = fc.constantFrom('ok', 'ok', 'ok', 'reject', 'transient', 'throttle', 'fatal', 'accepted');

type Action =
  | { kind: 'add'; stream: number; event: InputLogEvent }
  | { kind: 'flush'; stream: number }
  | { kind: 'flushAll' };

const actionArb: fc.Arbitrary<Action> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ kind: fc.constant('add' as const), stream: fc.integer({ min: 0, max: 2 }), event: eventArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('flush' as const), stream: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('flushAll' as const) }) },
);

const configArb = fc.record({
  maxEvents: fc.integer({ min: 1, max: 40 }),
  maxBytes: fc.integer({ min: MAX_EVENT_BYTES, max: 600_000 }),
  maxRetries: fc.integer({ min: 0, max: 2 }),
  maxRequeues: fc.integer({ min: 0, max: 2 }),
  oversizedEventPolicy: fc.constantFrom<OversizedEventPolicy>('split', 'truncate', 'drop'),
  overflowPolicy: fc.constantFrom<OverflowPolicy>('block', 'drop-oldest', 'drop-newest'),
  maxBufferedBytes: fc.oneof(fc.integer({ min: 1_000, max: 300_000 }), fc.integer({ min: 300_000, max: 3_000_000 })),
});

/** What the buffer should make of one input message: the pieces that enter it. */
function expectedPieces(message: string, policy: OversizedEventPolicy): string[] {
  const wellFormed = message.toWellFormed();
  if (utf8ByteLength(wellFormed) <= MAX_MESSAGE) return [wellFormed];
  if (policy === 'split') return splitMessage(wellFormed, MAX_MESSAGE);
  if (policy === 'truncate') return [truncateMessage(wellFormed, MAX_MESSAGE)];
  return [wellFormed]; // dropped as 'oversized', reported whole
}

const sorted = (xs: string[]): string[] => [...xs].sort();

describe('properties of the buffer', () => {
  it('every batch obeys every rule; delivered + rejected + dropped = input; identity after every step', async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.array(actionArb, { minLength: 1, maxLength: 40 }),
        fc.array(outcomeArb, { maxLength: 30 }),
        async (config, actions, outcomes) => {
          const violations: unknown[] = [];
          const delivered: InputLogEvent[] = [];
          const rejected: InputLogEvent[] = [];
          const dropped: InputLogEvent[] = [];
          let call = 0;
          const options: BatchBufferOptions = {
            ...config,
            maxEventBytes: MAX_EVENT_BYTES,
            retryBaseDelayMs: 0,
            throttleBaseDelayMs: 0,
            // Zero delays on throttles: the adaptive pacer would wait in real time (adaptive-rate.test.ts covers it).
            adaptiveRate: false,
            // Short: a blocked add() waits for the timer to retry a stream whose flush just failed.
            flushIntervalMs: 2,
            onError: () => undefined,
            onRejected: (events) => rejected.push(...events),
            onDrop: (events) => dropped.push(...events),
          };
          const buffer = new BatchBufferImpl(async (_g, _s, events) => {
            const violation = findBatchViolation(events, { maxEvents: config.maxEvents, maxBytes: config.maxBytes, maxEventBytes: MAX_EVENT_BYTES });
            if (violation !== undefined) violations.push(violation);
            // AWS refuses a batch with the poison event as a whole: the buffer must bisect.
            if (events.some((e) => e.message.includes(POISON))) throw awsError('InvalidParameterException');
            const outcome = outcomes[call++] ?? 'ok';
            switch (outcome) {
              case 'transient':
                throw awsError('ServiceUnavailableException', 503);
              case 'throttle':
                throw awsError('ThrottlingException');
              case 'fatal':
                throw awsError('AccessDeniedException');
              case 'accepted':
                delivered.push(...events);
                throw awsError('DataAlreadyAcceptedException');
              case 'reject': {
                // AWS's semantics: a too-old prefix (exclusive end) and a too-new suffix (inclusive start).
                const tooOld = Math.ceil(events.length / 3);
                const tooNew = Math.max(tooOld, events.length - Math.floor(events.length / 4));
                const rejectedHere = new Set([...events.slice(0, tooOld), ...events.slice(tooNew)]);
                delivered.push(...events.filter((e) => !rejectedHere.has(e)));
                return { rejectedLogEventsInfo: { tooOldLogEventEndIndex: tooOld, tooNewLogEventStartIndex: tooNew } };
              }
              default:
                delivered.push(...events);
                return undefined;
            }
          }, options);
          const inputs: string[] = [];
          for (const action of actions) {
            if (action.kind === 'add') {
              inputs.push(...expectedPieces(action.event.message, config.oversizedEventPolicy));
              await buffer.add('/prop/group', `s${action.stream}`, action.event);
            } else if (action.kind === 'flush') {
              await buffer.flush('/prop/group', `s${action.stream}`).catch(() => undefined);
            } else {
              await buffer.flushAll().catch(() => undefined);
            }
            expectIdentity(buffer.getMetrics());
          }
          await buffer.stop({ timeoutMs: 5_000 });
          const m = buffer.getMetrics();
          expectIdentity(m);
          expect(violations).toEqual([]);
          expect(m.eventsBuffered + m.eventsInFlight).toBe(0);
          expect(m.eventsDelivered).toBe(delivered.length);
          expect(m.eventsRejected).toBe(rejected.length);
          expect(m.eventsDropped).toBe(dropped.length);
          expect(m.eventsAccepted).toBe(inputs.length);
          const outcomesAll = [...delivered, ...rejected, ...dropped].map((e) => e.message);
          expect(sorted(outcomesAll)).toEqual(sorted(inputs));
        },
      ),
      { numRuns: 400, timeout: 5_000, interruptAfterTimeLimit: 30_000, markInterruptAsFailure: true, endOnFailure: true },
    );
  }, 60_000);
});

describe('properties of sizing, splitting and truncating', () => {
  const textArb = fc.oneof(
    fc.string({ unit: 'grapheme', maxLength: 200 }),
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: 'grapheme-composite', maxLength: 100 }),
  );

  it('utf8ByteLength equals Buffer and TextEncoder (lone surrogates as U+FFFD)', () => {
    const encoder = new TextEncoder();
    fc.assert(
      fc.property(textArb, (text) => {
        expect(utf8ByteLength(text)).toBe(Buffer.byteLength(text, 'utf8'));
        expect(utf8ByteLength(text)).toBe(encoder.encode(text).length);
      }),
      { numRuns: 500 },
    );
  });

  it('splitMessage: parts within the limit, non-empty, well-formed, joining back to the (well-formed) message', () => {
    fc.assert(
      fc.property(textArb, fc.integer({ min: 4, max: 64 }), (raw, max) => {
        const text = raw.toWellFormed();
        const parts = splitMessage(text, max);
        expect(parts.join('')).toBe(text);
        if (text.length > 0) for (const part of parts) expect(part.length).toBeGreaterThan(0);
        for (const part of parts) {
          expect(Buffer.byteLength(part)).toBeLessThanOrEqual(max);
          expect(part.isWellFormed()).toBe(true);
        }
        // Greedy: every part but the last is as long as it can be (the next character would not fit).
        for (let i = 0; i < parts.length - 1; i++) {
          const next = String.fromCodePoint(parts[i + 1]!.codePointAt(0)!);
          expect(Buffer.byteLength(parts[i]! + next)).toBeGreaterThan(max);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('truncateMessage: the longest well-formed prefix within the limit', () => {
    fc.assert(
      fc.property(textArb, fc.integer({ min: 0, max: 64 }), (raw, max) => {
        const text = raw.toWellFormed();
        const cut = truncateMessage(text, max);
        expect(text.startsWith(cut)).toBe(true);
        expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(max);
        expect(cut.isWellFormed()).toBe(true);
        if (cut.length < text.length) {
          const next = String.fromCodePoint(text.codePointAt(cut.length)!);
          expect(Buffer.byteLength(cut + next)).toBeGreaterThan(max);
        }
        // Cutting at a UTF-8 boundary matches TextDecoder on the byte prefix (when no character was cut).
        const bytes = new TextEncoder().encode(text);
        expect(new TextDecoder().decode(bytes.subarray(0, Buffer.byteLength(cut)))).toBe(cut);
      }),
      { numRuns: 500 },
    );
  });
});
