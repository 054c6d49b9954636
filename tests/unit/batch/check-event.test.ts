/**
 * Step one of add() (src/batch/check-event.ts): an event is checked and handed back as a clean
 * copy, or refused with an InvalidLogEventError naming the field. The same refusals through the
 * buffer are in buffer.test.ts ("2. input validation") and robustness-bad-input.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkEvent, sizeChecked } from '../../../src/batch/check-event.js';
import { InvalidLogEventError, type InputLogEvent } from '../../../src/batch/index.js';

/** The InvalidLogEventError `fn` throws (fails the test when it throws nothing or something else). */
function refusal(fn: () => unknown): InvalidLogEventError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidLogEventError);
    return error as InvalidLogEventError;
  }
  throw new Error('expected an InvalidLogEventError, nothing was thrown');
}

describe('checkEvent, then sizeChecked', () => {
  it('property: a valid event comes back as a new object with only timestamp and message; sizeChecked sizes it as AWS does (UTF-8 + 26) and makes its message well-formed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.string({ minLength: 1, unit: fc.oneof(fc.constant('\uD800'), fc.constant('\uDC00'), fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' })) }),
        fc.dictionary(fc.string(), fc.jsonValue()),
        (timestamp, message, extra) => {
          const event = { ...extra, timestamp, message } as InputLogEvent;
          const checked = checkEvent(event);
          expect(checked).not.toBe(event);
          expect(Object.keys(checked).sort()).toEqual(['message', 'timestamp']);
          expect(checked.timestamp).toBe(timestamp);
          expect(sizeChecked(checked)).toBe(Buffer.byteLength(message.toWellFormed(), 'utf8') + 26);
          expect(checked.message.isWellFormed()).toBe(true);
          expect(checked.message).toBe(message.toWellFormed());
          if (message.isWellFormed()) expect(checked.message).toBe(message);
        },
      ),
    );
  });

  it('a lone surrogate becomes U+FFFD; the caller\'s object is left as it was', () => {
    const event = { timestamp: 1, message: 'a\uD800b' };
    const checked = checkEvent(event);
    expect(sizeChecked(checked)).toBe(5 + 26);
    expect(checked.message).toBe('a\uFFFDb');
    expect(event.message).toBe('a\uD800b');
  });

  it.each([
    ['event', null],
    ['event', 'a string'],
    ['event', 42],
    ['timestamp', { timestamp: -1, message: 'x' }],
    ['timestamp', { timestamp: 1.5, message: 'x' }],
    ['timestamp', { timestamp: Number.MAX_SAFE_INTEGER + 1, message: 'x' }],
    ['timestamp', { timestamp: '1', message: 'x' }],
    ['timestamp', { message: 'x' }],
    ['message', { timestamp: 1, message: '' }],
    ['message', { timestamp: 1, message: 7 }],
    ['message', { timestamp: 1 }],
  ])('refuses a bad %s, naming it: %j', (field, value) => {
    const error = refusal(() => checkEvent(value as InputLogEvent));
    expect(error.field).toBe(field);
    expect(error.code).toBe('INVALID_EVENT');
    expect(error.message).toContain(`\`${field}\``);
  });

  it('checks the timestamp before the message (the order add() has always reported problems in)', () => {
    expect(refusal(() => checkEvent({ timestamp: -1, message: '' })).field).toBe('timestamp');
  });
});
