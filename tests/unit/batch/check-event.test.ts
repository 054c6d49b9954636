/**
 * Step one of add() (src/batch/check-event.ts): an event's timestamp and message are checked and
 * handed back, the message made well-formed, or the event is refused with an InvalidLogEventError
 * naming the field. The same refusals through the buffer are in buffer.test.ts ("2. input
 * validation") and robustness-bad-input.test.ts.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkedMessage, checkedTimestamp, wellFormed } from '../../../src/batch/check-event.js';
import { calculateEventSize, InvalidLogEventError, type InputLogEvent } from '../../../src/batch/index.js';

/** What add() does first: the two checks, in order, then the size and the well-formed message. */
function check(event: InputLogEvent): { timestamp: number; message: string; size: number } {
  const timestamp = checkedTimestamp(event);
  const message = checkedMessage(event);
  const size = calculateEventSize(message);
  return { timestamp, message: wellFormed(message, size), size };
}

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

describe('checkedTimestamp, checkedMessage, then wellFormed', () => {
  it('property: a valid event gives back its timestamp and message; the size is AWS\'s (UTF-8 + 26) of the well-formed message, which is the message itself when it was well-formed', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.string({ minLength: 1, unit: fc.oneof(fc.constant('\uD800'), fc.constant('\uDC00'), fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme' })) }),
        fc.dictionary(fc.string(), fc.jsonValue()),
        (timestamp, message, extra) => {
          const event = { ...extra, timestamp, message } as InputLogEvent;
          const checked = check(event);
          expect(checked.timestamp).toBe(timestamp);
          expect(checked.size).toBe(Buffer.byteLength(message.toWellFormed(), 'utf8') + 26);
          expect(checked.message.isWellFormed()).toBe(true);
          expect(checked.message).toBe(message.toWellFormed());
          if (message.isWellFormed()) expect(checked.message).toBe(message);
        },
      ),
    );
  });

  it('a lone surrogate becomes U+FFFD; the caller\'s object is left as it was', () => {
    const event = { timestamp: 1, message: 'a\uD800b' };
    const checked = check(event);
    expect(checked.size).toBe(5 + 26);
    expect(checked.message).toBe('a\uFFFDb');
    expect(event.message).toBe('a\uD800b');
  });

  it('reads each field once (a getter that changes its answer cannot pass one value and send another)', () => {
    let reads = 0;
    const event = {
      get timestamp() {
        reads++;
        return reads === 1 ? 5 : -1;
      },
      message: 'x',
    };
    expect(check(event).timestamp).toBe(5);
    expect(reads).toBe(1);
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
    const error = refusal(() => check(value as InputLogEvent));
    expect(error.field).toBe(field);
    expect(error.code).toBe('INVALID_EVENT');
    expect(error.message).toContain(`\`${field}\``);
  });

  it('checks the timestamp before the message (the order add() has always reported problems in)', () => {
    expect(refusal(() => check({ timestamp: -1, message: '' })).field).toBe('timestamp');
  });
});
