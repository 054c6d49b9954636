/**
 * Reading lines from stdin or a file (issue 4, issue 21), in bytes:
 *
 * - Memory is bounded whatever the input: a line longer than `maxLineBytes` is cut into parts
 *   while it is read (at a UTF-8 character boundary), so at most `maxLineBytes` plus one read
 *   block are held for it, never the whole line.
 * - Invalid UTF-8 is replaced by U+FFFD, and each line says how many of its bytes were invalid.
 *
 * Reading (and following) a file is follow.ts's concern; it cuts its bytes with {@link LineReader}.
 */
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';

/** One line read (or one part of a line longer than the limit), without its terminator. */
export interface ReadLine {
  /** The text, decoded as UTF-8; each invalid byte sequence is replaced by U+FFFD. */
  text: string;
  /** How many bytes of this line (or part) were not valid UTF-8. */
  invalidBytes: number;
  /** 0 for a whole line; 1, 2, ... for the parts of a line longer than `maxLineBytes`. */
  part: number;
  /** Whether this is the end of its line (always true for a whole line). The last part may be empty. */
  last: boolean;
}

/** Receives the lines of one chunk, in order. */
export type LineSink = (lines: ReadLine[]) => Promise<void>;

const NEWLINE = 0x0a;
const CR = 0x0d;
const REPLACEMENT = '\uFFFD';
const REPLACEMENT_BYTES = Buffer.from(REPLACEMENT);

/**
 * Cuts bytes into lines (`\n`, or `\r\n`), holding the unfinished last line until more bytes
 * come, but never more than `maxLineBytes` of it: beyond that the line leaves in parts.
 */
export class LineReader {
  readonly #maxLineBytes: number;
  #held: Buffer[] = [];
  #heldBytes = 0;
  /** The number of the last part handed out of the current line (0: none yet). */
  #part = 0;

  /** @param maxLineBytes - Most bytes of one line (or part) handed out; at least 4. */
  constructor(maxLineBytes: number) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 4) throw new RangeError(`Expected \`maxLineBytes\` to be an integer of at least 4, got ${maxLineBytes}`);
    this.#maxLineBytes = maxLineBytes;
  }

  /** Bytes of the unfinished line held now (at most `maxLineBytes`). */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** The lines (and parts) completed by `chunk`. `chunk` may be reused by the caller afterwards. */
  push(chunk: Buffer): ReadLine[] {
    const out: ReadLine[] = [];
    let start = 0;
    if (this.#heldBytes > 0) {
      const nl = chunk.indexOf(NEWLINE);
      if (nl !== -1) {
        const line = this.#takeHeld(chunk.subarray(0, nl));
        this.#emit(line, 0, line.length, false, true, out);
        start = nl + 1;
      }
    }
    const lastNl = this.#heldBytes > 0 ? -1 : chunk.lastIndexOf(NEWLINE);
    if (lastNl >= start) {
      this.#lines(chunk, start, lastNl, out);
      start = lastNl + 1;
    }
    if (start < chunk.length) this.#hold(chunk.subarray(start), out);
    return out;
  }

  /** The whole lines in `chunk[start, end)` (`end` is a newline; nothing is held). */
  #lines(chunk: Buffer, start: number, end: number, out: ReadLine[]): void {
    const max = this.#maxLineBytes;
    if (!isUtf8(chunk.subarray(start, end))) {
      for (let nl = chunk.indexOf(NEWLINE, start); nl !== -1 && nl <= end; nl = chunk.indexOf(NEWLINE, start)) {
        this.#emit(chunk, start, nl, false, true, out);
        start = nl + 1;
      }
      return;
    }
    // Valid UTF-8: decoded in one call and split as text (the common case; per-line decoding costs twice as much).
    for (const raw of chunk.toString('utf8', start, end).split('\n')) {
      const text = raw.charCodeAt(raw.length - 1) === CR ? raw.slice(0, -1) : raw;
      if (text.length * 3 > max && Buffer.byteLength(text) > max) {
        const bytes = Buffer.from(raw); // #emit drops the "\r" itself
        this.#emit(bytes, 0, bytes.length, true, true, out);
      } else {
        out.push({ text, invalidBytes: 0, part: 0, last: true });
      }
    }
  }

  /** Keeps `tail` (an unfinished line) for later; hands out parts while more than `maxLineBytes` is held. */
  #hold(tail: Buffer, out: ReadLine[]): void {
    this.#held.push(Buffer.from(tail));
    this.#heldBytes += tail.length;
    if (this.#heldBytes <= this.#maxLineBytes) return;
    const line = this.#takeHeld();
    const rest = this.#emit(line, 0, line.length, false, false, out);
    if (rest < line.length) {
      this.#held.push(line.subarray(rest));
      this.#heldBytes = line.length - rest;
    }
  }

  /** The unfinished last line, if any (input that does not end with a newline); forgets it. */
  end(): ReadLine[] {
    const out: ReadLine[] = [];
    if (this.#heldBytes > 0) {
      const line = this.#takeHeld();
      this.#emit(line, 0, line.length, false, true, out);
    } else if (this.#part > 0) {
      // The input ended exactly at a part's end: an empty last part closes the line.
      out.push(this.#record(Buffer.alloc(0), 0, 0, true, true));
    }
    return out;
  }

  #takeHeld(tail?: Buffer): Buffer {
    if (tail !== undefined) this.#held.push(tail);
    const all = this.#held.length === 1 ? (this.#held[0] as Buffer) : Buffer.concat(this.#held);
    this.#held = [];
    this.#heldBytes = 0;
    return all;
  }

  /**
   * Hands out `buf[a, b)`: as a whole line (`complete`), in parts of at most `maxLineBytes` while
   * it is longer than that. Without `complete`, keeps at most `maxLineBytes` for later and returns
   * where that rest starts; with it, returns `b`.
   */
  #emit(buf: Buffer, a: number, b: number, valid: boolean, complete: boolean, out: ReadLine[]): number {
    let end = b;
    if (complete && end > a && buf[end - 1] === CR) end--;
    const max = this.#maxLineBytes;
    while (end - a > max) {
      const cut = cutPoint(buf, a, a + max);
      out.push(this.#record(buf, a, cut, valid, false));
      a = cut;
    }
    if (!complete) return a;
    // (Empty when only the "\r" was left of a line already handed out in parts: it closes the line.)
    out.push(this.#record(buf, a, end, valid, true));
    return b;
  }

  #record(buf: Buffer, a: number, b: number, valid: boolean, last: boolean): ReadLine {
    const text = buf.toString('utf8', a, b);
    const invalidBytes = valid ? 0 : countInvalidUtf8(buf.subarray(a, b), text);
    const part = last && this.#part === 0 ? 0 : ++this.#part;
    if (last) this.#part = 0;
    return { text, invalidBytes, part, last };
  }
}

/** Where to cut `buf` at or before `limit` (> `a`) without splitting a UTF-8 character or a "\r\n". */
function cutPoint(buf: Buffer, a: number, limit: number): number {
  let cut = limit;
  for (let i = 0; i < 3 && cut > a + 1 && ((buf[cut] as number) & 0xc0) === 0x80; i++) cut--;
  if (((buf[cut] as number) & 0xc0) === 0x80) cut = limit; // not UTF-8 here anyway
  if (buf[cut - 1] === CR && cut - 1 > a) cut--;
  return cut;
}

/**
 * How many bytes of `bytes` are not valid UTF-8, given `text`, their decoding with replacement
 * (`bytes.toString('utf8')`): the bytes that did not become characters of their own.
 */
export function countInvalidUtf8(bytes: Buffer, text: string): number {
  if (isUtf8(bytes)) return 0;
  let replacements = 0;
  for (let i = text.indexOf(REPLACEMENT); i !== -1; i = text.indexOf(REPLACEMENT, i + 1)) replacements++;
  let genuine = 0; // U+FFFD written as such in the input
  for (let i = bytes.indexOf(REPLACEMENT_BYTES); i !== -1; i = bytes.indexOf(REPLACEMENT_BYTES, i + 3)) genuine++;
  const validBytes = Buffer.byteLength(text) - 3 * (replacements - genuine);
  return bytes.length - validBytes;
}

/**
 * Reads `stream` to its end, or until `signal` aborts; then hands over what was already read
 * (nothing the process has consumed is left behind) and returns.
 */
export async function readStreamLines(stream: Readable, sink: LineSink, signal: AbortSignal, maxLineBytes: number): Promise<void> {
  const reader = new LineReader(maxLineBytes);
  let ended = false;
  let failure: unknown;
  const onEnd = (): void => {
    ended = true;
  };
  const onError = (error: unknown): void => {
    failure = error;
  };
  stream.on('end', onEnd);
  stream.on('error', onError);
  try {
    for (;;) {
      const chunk = stream.read() as Buffer | string | null;
      if (chunk !== null) {
        const lines = reader.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
        if (lines.length > 0) await sink(lines);
        continue;
      }
      if (failure !== undefined) throw failure;
      if (ended || stream.readableEnded || stream.destroyed || signal.aborted) break;
      await readableOrEnd(stream, signal);
    }
    const rest = reader.end();
    if (rest.length > 0) await sink(rest);
  } finally {
    stream.off('end', onEnd);
    stream.off('error', onError);
  }
}

function readableOrEnd(stream: Readable, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('readable', done);
      stream.off('end', done);
      stream.off('error', done);
      stream.off('close', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    stream.on('readable', done);
    stream.on('end', done);
    stream.on('error', done);
    stream.on('close', done);
    signal.addEventListener('abort', done, { once: true });
  });
}
