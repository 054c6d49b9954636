/**
 * Step one of add(): validate one event and return it checked, with its size. The rules are
 * rules.ts's (the endpoint in src/local refuses the same events); this file only applies them on
 * the hot path, in the order add() has always reported problems (event, timestamp, message).
 */
import { InvalidLogEventError } from './errors.js';
import { messageProblem, timestampProblem } from './rules.js';
import type { InputLogEvent } from './types.js';

/**
 * Checks one event and returns a clean copy of it: only `timestamp` and `message`, lone
 * surrogates made U+FFFD (they cannot be encoded as UTF-8 and are sent that way; the size,
 * `calculateEventSize`, counts them as the 3 bytes of U+FFFD either way).
 * @throws InvalidLogEventError naming `event`, `timestamp` or `message` and the value.
 */
export function checkEvent(event: InputLogEvent): InputLogEvent {
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
  // V8 answers isWellFormed() for a one-byte string (most log lines) without a scan (~5 ns).
  if (!message.isWellFormed()) message = message.toWellFormed();
  // A fresh object: the caller's may carry other fields, or change after add() returns.
  return { timestamp, message };
}
