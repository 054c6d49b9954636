/**
 * Reading lines from stdin or a file (issue 4, issue 21), in bytes:
 *
 * - Memory is bounded whatever the input: a line longer than `maxLineBytes` is cut into parts
 *   while it is read (at a UTF-8 character boundary), so at most `maxLineBytes` plus one read
 *   block are held for it, never the whole line.
 * - Invalid UTF-8 is replaced by U+FFFD, and each line says how many of its bytes were invalid.
 * - Following a file (`readFileLines` with `follow`) has `tail -F` semantics, by identity
 *   (device + inode) and content, not only by size between two looks: see {@link readFileLines}.
 */
import { isUtf8 } from 'node:buffer';
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
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

/** Options of {@link readFileLines}. */
export interface FileReadOptions {
  /** Keep reading as the file grows and across rotation, until `signal` aborts. */
  follow: boolean;
  signal: AbortSignal;
  /** Most bytes of one line; longer lines are handed out in parts. */
  maxLineBytes: number;
  /** How often to look for growth, rotation and truncation while following, ms. Default 200. */
  pollMs?: number | undefined;
  /**
   * After a rotation, how long the old file is still read (a writer may not have reopened the
   * path yet) once it stops growing, ms. Default 5,000.
   */
  rotateWaitMs?: number | undefined;
  /** Waits before the next look at the file; default: `pollMs`, or less when `signal` aborts. Tests inject a trigger. */
  wait?: ((signal: AbortSignal) => Promise<void>) | undefined;
  /** Clock for `rotateWaitMs`, ms; default `Date.now`. */
  now?: (() => number) | undefined;
  /** Told about rotation, truncation and a file that is missing for now (one line each). */
  onNotice?: ((message: string) => void) | undefined;
}

/** How many bytes before the read position are compared to find a file rewritten in place. */
const FINGERPRINT_BYTES = 64;
const BLOCK_BYTES = 256 * 1024;

/** One open file being read: its identity, where the reader is, and what it last read. */
interface OpenFile {
  readonly handle: FileHandle;
  readonly ino: number;
  readonly dev: number;
  position: number;
  readonly reader: LineReader;
  /** The last (up to) {@link FINGERPRINT_BYTES} bytes read, ending at `position`. */
  tail: Buffer;
  /** A rotated-away file: when it last grew (ms, `now()`). */
  lastGrowth: number;
}

/**
 * Reads the lines of the file at `path`. Without `follow`, to its end. With `follow`, until the
 * signal aborts, like `tail -F` but from the start of the file (a shipper must not skip what is
 * already there):
 *
 * - Rotation (the path renamed away or deleted, then re-created): the old file is read to its
 *   end, and kept open and read for `rotateWaitMs` after it last grew (a writer that has not
 *   reopened yet keeps writing to it); its unfinished last line is handed over when it is let go.
 *   The new file is read from its start.
 * - Truncation (copytruncate): the file is smaller than the read position, or the bytes just
 *   before the position are not the ones read there (truncated and written again past that
 *   point between two looks): the unfinished line is handed over and the file is read again
 *   from its start. Checked before every read, not only between polls. A file rewritten with
 *   exactly the same bytes up to the position cannot be told from one that only grew.
 * - An unfinished last line is held until its newline comes, the file is let go, or the signal
 *   aborts (then it is handed over as it is): no line is handed over in pieces, none twice.
 *
 * Throws the `open` error (e.g. ENOENT) only when not following; a follower waits for the file.
 */
export async function readFileLines(path: string, sink: LineSink, options: FileReadOptions): Promise<void> {
  const follower = new Follower(path, sink, options);
  try {
    await follower.run();
  } finally {
    await follower.closeAll();
  }
}

/** The state of one {@link readFileLines}: the current file and the rotated ones still read. */
class Follower {
  readonly #path: string;
  readonly #sink: LineSink;
  readonly #options: FileReadOptions;
  readonly #now: () => number;
  readonly #wait: (signal: AbortSignal) => Promise<void>;
  readonly #notice: (message: string) => void;
  readonly #block = Buffer.allocUnsafe(BLOCK_BYTES);
  #current: OpenFile | undefined;
  readonly #retired: OpenFile[] = [];
  #missingNoticed = false;
  /** Not following, and stopped by the signal before the end of the file. */
  #stoppedEarly = false;

  constructor(path: string, sink: LineSink, options: FileReadOptions) {
    this.#path = path;
    this.#sink = sink;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const pollMs = options.pollMs ?? 200;
    this.#wait = options.wait ?? ((signal) => sleep(pollMs, signal));
    this.#notice = options.onNotice ?? ((): void => undefined);
  }

  async run(): Promise<void> {
    const { follow, signal } = this.#options;
    try {
      this.#current = await this.#open();
    } catch (error) {
      if (!follow || !isMissing(error)) throw error;
      this.#noticeMissing();
    }
    for (;;) {
      for (const old of this.#retired) await this.#drain(old);
      if (this.#current !== undefined) await this.#drain(this.#current);
      if (!follow || signal.aborted) {
        if (this.#stoppedEarly) return; // what is held is the start of a line not read to its end
        for (const f of [...this.#retired, this.#current]) if (f !== undefined) await this.#finishLine(f);
        return;
      }
      await this.#wait(signal);
      if (signal.aborted) continue; // one last read of everything, then the unfinished lines
      await this.#look();
    }
  }

  async closeAll(): Promise<void> {
    for (const f of [...this.#retired, this.#current]) await f?.handle.close().catch(() => undefined);
    this.#retired.length = 0;
    this.#current = undefined;
  }

  /** Between two reads: has the path a new file, or was the current one truncated? */
  async #look(): Promise<void> {
    await this.#letGoQuietOldFiles();
    const onDisk = await statOrUndefined(this.#path);
    const current = this.#current;
    if (current === undefined) {
      if (onDisk !== undefined) this.#current = await this.#open().catch(() => undefined);
      return;
    }
    if (onDisk === undefined) {
      this.#noticeMissing(); // deleted: keep reading the open file until a new one appears
      return;
    }
    if (onDisk.ino !== current.ino || onDisk.dev !== current.dev) {
      await this.#drain(current);
      current.lastGrowth = this.#now();
      this.#retired.push(current);
      this.#current = await this.#open().catch(() => undefined);
      this.#missingNoticed = false;
      this.#notice(`${this.#path} was rotated; reading the new file from its start (and the old one to its end)`);
    }
  }

  /** Rotated-away files that have not grown for `rotateWaitMs`: their last line is handed over, they are closed. */
  async #letGoQuietOldFiles(): Promise<void> {
    const waitMs = this.#options.rotateWaitMs ?? 5_000;
    for (let i = 0; i < this.#retired.length; ) {
      const old = this.#retired[i] as OpenFile;
      if (this.#now() - old.lastGrowth < waitMs) {
        i++;
        continue;
      }
      await this.#drain(old);
      await this.#finishLine(old);
      await old.handle.close().catch(() => undefined);
      this.#retired.splice(i, 1);
    }
  }

  /** Reads `f` from its position to its current end (again from 0 when it was truncated). */
  async #drain(f: OpenFile): Promise<void> {
    const block = this.#block;
    for (;;) {
      if (await this.#wasTruncated(f)) await this.#restart(f);
      const { bytesRead } = await f.handle.read(block, 0, block.length, f.position);
      if (bytesRead === 0) return;
      f.position += bytesRead;
      f.lastGrowth = this.#now();
      f.tail = lastBytes(f.tail, block.subarray(0, bytesRead));
      const held = f.reader.heldBytes;
      const lines = f.reader.push(block.subarray(0, bytesRead));
      if (lines.length > 0) await this.#sink(lines);
      // Stopped while reading a file (not following): the line being read is finished (its
      // newline was in this block), then reading stops; the line begun after it is left unread.
      if (this.#options.signal.aborted && !this.#options.follow && (held === 0 || lines.length > 0)) {
        this.#stoppedEarly = true;
        return;
      }
    }
  }

  /** Whether the file is now shorter than what was read, or holds other bytes before the position. */
  async #wasTruncated(f: OpenFile): Promise<boolean> {
    if (f.position === 0 || !this.#options.follow) return false;
    const { size } = await f.handle.stat();
    if (size < f.position) return true;
    const n = f.tail.length;
    const now = Buffer.allocUnsafe(n);
    const { bytesRead } = await f.handle.read(now, 0, n, f.position - n);
    return bytesRead < n || !now.equals(f.tail);
  }

  async #restart(f: OpenFile): Promise<void> {
    await this.#finishLine(f);
    f.position = 0;
    f.tail = Buffer.alloc(0);
    this.#notice(`${this.#path} was truncated; reading it again from its start`);
  }

  /** Hands over the unfinished last line of `f` (its writer is done with it). */
  async #finishLine(f: OpenFile): Promise<void> {
    const rest = f.reader.end();
    if (rest.length > 0) await this.#sink(rest);
  }

  async #open(): Promise<OpenFile> {
    const handle = await open(this.#path, 'r');
    try {
      const s = await handle.stat();
      this.#missingNoticed = false;
      return {
        handle,
        ino: s.ino,
        dev: s.dev,
        position: 0,
        reader: new LineReader(this.#options.maxLineBytes),
        tail: Buffer.alloc(0),
        lastGrowth: this.#now(),
      };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  #noticeMissing(): void {
    if (this.#missingNoticed) return;
    this.#missingNoticed = true;
    this.#notice(`${this.#path} does not exist ${this.#current === undefined ? 'yet' : 'any more'}; waiting for it`);
  }
}

/** The last {@link FINGERPRINT_BYTES} bytes of `previous` followed by `read`. */
function lastBytes(previous: Buffer, read: Buffer): Buffer {
  if (read.length >= FINGERPRINT_BYTES) return Buffer.from(read.subarray(read.length - FINGERPRINT_BYTES));
  const keep = Math.min(previous.length, FINGERPRINT_BYTES - read.length);
  return Buffer.concat([previous.subarray(previous.length - keep), read]);
}

async function statOrUndefined(path: string): Promise<{ ino: number; dev: number; size: number } | undefined> {
  try {
    return await stat(path);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ENOENT';
}

/**
 * Sleeps `ms`, or less when `signal` aborts. Never rejects. The timer is left referenced on
 * purpose: a follower waiting for its file to grow is what keeps the command running.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
