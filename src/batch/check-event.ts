/**
 * Step one of add(): validate one event, field by field ({@link checkedTimestamp}, then
 * {@link checkedMessage}), then make its message well-formed once its size is known
 * ({@link wellFormed}). The event travels on by value (timestamp, message): add() makes no object
 * for it (StreamBuffer keeps buffered events by value). The rules are rules.ts's (the endpoint in
 * src/local refuses the same events); this file only applies them on the hot path, in the order
 * add() has always reported problems (event, timestamp, message).
 */
import { InvalidLogEventError } from './errors.js';
import { EVENT_OVERHEAD_BYTES } from './limits.js';
import { messageProblem, timestampProblem } from './rules.js';
import type { InputLogEvent } from './types.js';

/**
 * Checks one event's object and timestamp and returns the timestamp; {@link checkedMessage}
 * comes next. Each field is read once (a getter may return another value the second time), and
 * nothing else of the caller's object is kept: it may carry other fields, or change after add().
 * @throws InvalidLogEventError naming `event` or `timestamp` and the value.
 */
export function checkedTimestamp(event: InputLogEvent): number {
  // The refusals are built out of line: add() inlines this function, and V8 inlines only so much.
  if (event === null || typeof event !== 'object') throw refused('event', event);
  const timestamp = event.timestamp;
  // The fast test first (one comparison chain per add()); timestampProblem() words the error.
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) throw refused('timestamp', timestamp);
  return timestamp;
}

/**
 * Checks the message of an event {@link checkedTimestamp} passed and returns it. Its lone
 * surrogates, if any, are made U+FFFD by {@link wellFormed}, once its size is known.
 * @throws InvalidLogEventError naming `message` and the value.
 */
export function checkedMessage(event: InputLogEvent): string {
  const message = event.message;
  if (typeof message !== 'string' || message.length === 0) throw refused('message', message);
  return message;
}

/** The error for an event that failed a check on `field`, worded by rules.ts. */
function refused(field: 'event' | 'timestamp' | 'message', value: unknown): InvalidLogEventError {
  if (field === 'event') return new InvalidLogEventError('event', value, 'must be an object with `timestamp` and `message`');
  if (field === 'timestamp') return new InvalidLogEventError('timestamp', value, timestampProblem(value) ?? 'is invalid');
  return new InvalidLogEventError('message', value, messageProblem(value) ?? 'is invalid');
}

/**
 * The message made well-formed: lone surrogates become U+FFFD (they cannot be encoded as UTF-8
 * and are sent that way). `size` is the event's size as `calculateEventSize` gives it (UTF-8
 * bytes + 26), which counts a lone surrogate as the 3 bytes of U+FFFD either way. Only a message
 * with non-ASCII characters is tested: an ASCII one has as many UTF-8 bytes as UTF-16 units, and
 * `isWellFormed()` costs a call into V8's runtime on every call (it counts the feature's use),
 * about 110 instructions per event even for a one-byte string.
 */
export function wellFormed(message: string, size: number): string {
  return size - EVENT_OVERHEAD_BYTES === message.length || message.isWellFormed() ? message : message.toWellFormed();
}
