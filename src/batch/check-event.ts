/**
 * Step one of add(): validate one event and return it checked, with its size. The rules are
 * rules.ts's (the endpoint in src/local refuses the same events); this file only applies them on
 * the hot path, in the order add() has always reported problems (event, timestamp, message).
 */
import { InvalidLogEventError } from './errors.js';
import { calculateEventSize } from './event-size.js';
import { EVENT_OVERHEAD_BYTES } from './limits.js';
import { messageProblem, timestampProblem } from './rules.js';
import type { InputLogEvent } from './types.js';

/** An event that passed {@link checkEvent}: a clean copy, and its size as AWS counts it. */
export interface CheckedEvent {
  /** A copy of the caller's event with only `timestamp` and `message` (lone surrogates made U+FFFD). */
  readonly event: InputLogEvent;
  /** UTF-8 bytes of the message + 26 (see `calculateEventSize`). */
  readonly size: number;
}

/**
 * Checks one event and returns a clean copy of it with its size.
 * @throws InvalidLogEventError naming `event`, `timestamp` or `message` and the value.
 */
export function checkEvent(event: InputLogEvent): CheckedEvent {
  if (event === null || typeof event !== 'object') {
    throw new InvalidLogEventError('event', event, 'must be an object with `timestamp` and `message`');
  }
  const timestamp = event.timestamp;
  // The fast test first (one comparison chain per add()); timestampProblem() words the error.
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new InvalidLogEventError('timestamp', timestamp, timestampProblem(timestamp) ?? 'is invalid');
  }
  let message = event.message;
  if (typeof message !== 'string' || message.length === 0) {
    throw new InvalidLogEventError('message', message, messageProblem(message) ?? 'is invalid');
  }
  // A lone surrogate counts 3 bytes (as the U+FFFD it is sent as), so the size holds either way.
  const size = calculateEventSize(message);
  // Every non-ASCII UTF-16 unit takes 2 or more UTF-8 bytes: a message of as many bytes as
  // units is ASCII, with no surrogate to look for (most log lines; skips a scan of each).
  if (size - EVENT_OVERHEAD_BYTES !== message.length && !message.isWellFormed()) message = message.toWellFormed();
  return { event: { timestamp, message }, size };
}
