/**
 * Reading the lines of a file, and following it as it grows (issue 4, issue 21): `tail -F`
 * semantics, by identity (device + inode) and content, not only by size between two looks; see
 * {@link readFileLines}. The bytes are cut into lines by {@link LineReader} (lines.ts).
 */
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { sleep } from '../batch/sleep.js';
import { LineReader, type LineSink } from './lines.js';

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
