/**
 * Sizing events as CloudWatch Logs does: UTF-8 bytes of the message plus 26 (never string
 * length: an emoji is 2 UTF-16 units and 4 bytes). Splitting and truncating cut on character
 * (code point) boundaries so that no part carries half a character.
 */
import { Buffer } from 'node:buffer';
import { EVENT_OVERHEAD_BYTES } from './limits.js';
import type { InputLogEvent } from './types.js';

/** UTF-8 byte length of a string. Lone surrogates count as U+FFFD (3 bytes), as they are sent. */
export function utf8ByteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/**
 * Size of an event as CloudWatch Logs counts it: UTF-8 bytes of the message + 26.
 * Accepts an event or a bare message.
 */
export function calculateEventSize(event: InputLogEvent | string): number {
  const message = typeof event === 'string' ? event : event.message;
  return utf8ByteLength(message) + EVENT_OVERHEAD_BYTES;
}

/**
 * Cuts `message` into parts of at most `maxPartBytes` UTF-8 bytes each, on code point
 * boundaries, in order. Joining the parts gives back the message (for well-formed strings).
 */
export function splitMessage(message: string, maxPartBytes: number): string[] {
  if (maxPartBytes < 4) throw new RangeError(`Expected \`maxPartBytes\` to be at least 4, got ${maxPartBytes}`);
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= maxPartBytes) return [message];
  const parts: string[] = [];
  let start = 0;
  while (start < bytes.length) {
    const end = cutPoint(bytes, start, maxPartBytes);
    parts.push(bytes.toString('utf8', start, end));
    start = end;
  }
  return parts;
}

/** The longest prefix of `message` that fits in `maxBytes` UTF-8 bytes, cut on a code point boundary. */
export function truncateMessage(message: string, maxBytes: number): string {
  const bytes = Buffer.from(message, 'utf8');
  if (bytes.length <= maxBytes) return message;
  return bytes.toString('utf8', 0, cutPoint(bytes, 0, maxBytes));
}

/** End of the longest run from `start` of at most `max` bytes that does not cut a character. */
function cutPoint(bytes: Buffer, start: number, max: number): number {
  let end = Math.min(start + max, bytes.length);
  if (end === bytes.length) return end;
  // Step back over continuation bytes (10xxxxxx) so the next part starts on a lead byte.
  while (end > start && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
  return end;
}

/** Sum of {@link calculateEventSize} over `events`. */
export function totalEventSize(events: readonly InputLogEvent[]): number {
  let total = 0;
  for (const event of events) total += calculateEventSize(event.message);
  return total;
}
