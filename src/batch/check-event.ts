/**
 * Step one of add(): validate one event and return it checked ({@link checkEvent}), then its size
 * ({@link sizeChecked}). The rules are rules.ts's (the endpoint in src/local refuses the same
 * events); this file only applies them on the hot path, in the order add() has always reported
 * problems (event, timestamp, message).
 */
import { InvalidLogEventError } from './errors.js';
import { calculateEventSize } from './event-size.js';
import { EVENT_OVERHEAD_BYTES } from './limits.js';
import { messageProblem, timestampProblem } from './rules.js';
import type { InputLogEvent } from './types.js';

/**
 * Checks one event and returns a fresh copy of it: only `timestamp` and `message`. Its lone
 * surrogates, if any, are made U+FFFD by {@link sizeChecked}, which the caller runs next.
 * @throws InvalidLogEventError naming `event`, `timestamp` or `message` and the value.
 */
export function checkEvent(event: InputLogEvent): InputLogEvent {
  // The refusals are built out of line: add() inlines this function, and V8 inlines only so much.
  if (event === null || typeof event !== 'object') throw refused('event', event);
  const timestamp = event.timestamp;
  // The fast test first (one comparison chain per add()); timestampProblem() words the error.
  if (typeof timestamp !== 'number' || !Number.isSafeInteger(timestamp) || timestamp < 0) throw refused('timestamp', timestamp);
  const message = event.message;
  if (typeof message !== 'string' || message.length === 0) throw refused('message', message);
  // A fresh object: the caller's may carry other fields, or change after add() returns.
  return { timestamp, message };
}

/** The error for an event that failed {@link checkEvent} on `field`, worded by rules.ts. */
function refused(field: 'event' | 'timestamp' | 'message', value: unknown): InvalidLogEventError {
  if (field === 'event') return new InvalidLogEventError('event', value, 'must be an object with `timestamp` and `message`');
  if (field === 'timestamp') return new InvalidLogEventError('timestamp', value, timestampProblem(value) ?? 'is invalid');
  return new InvalidLogEventError('message', value, messageProblem(value) ?? 'is invalid');
}

/**
 * The size of an event {@link checkEvent} returned, as CloudWatch Logs counts it (UTF-8 bytes of
 * the message + 26), and its message made well-formed on the way: lone surrogates become U+FFFD
 * (they cannot be encoded as UTF-8 and are sent that way; the size counts them as the 3 bytes of
 * U+FFFD either way). Only a message with non-ASCII characters is tested: an ASCII one has as
 * many UTF-8 bytes as UTF-16 units, and `isWellFormed()` costs a call into V8's runtime on every
 * call (it counts the feature's use), about 110 instructions per event even for a one-byte string.
 */
export function sizeChecked(checked: InputLogEvent): number {
  const message = checked.message;
  const size = calculateEventSize(message);
  if (size - EVENT_OVERHEAD_BYTES !== message.length && !message.isWellFormed()) checked.message = message.toWellFormed();
  return size;
}
