/**
 * Durable mode: an append-only spool of segment files, so that events survive a hard crash of
 * the process (kill -9, OOM). Plain files and `node:fs` only.
 *
 * Layout of `dir`:
 * - `LOCK`: the pid of the process that owns the directory (two processes never share a spool;
 *   a lock left by a dead process is taken over).
 * - `seg-<16-digit number>.log`: segments, appended to in order; a new one every `segmentBytes`.
 *
 * A record is `u32 length | u32 crc32(payload) | payload` (little-endian), the payload the JSON
 * array `[group, stream, timestamp, message]`. A torn last record (the process died mid-write)
 * or a corrupted one fails its checksum: it is skipped and reported, never replayed as garbage.
 *
 * A segment is deleted once every event in it is delivered, rejected or dropped (events dropped
 * at shutdown stay: the next process replays them).
 */
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Buffer } from 'node:buffer';
import { CwbatchError } from './errors.js';
import type { InputLogEvent } from './types.js';

/** When appended records reach the disk. */
export type SpoolFsync = 'always' | 'batch' | 'never';

/** Options of durable mode (`spool` in the buffer's options). */
export interface SpoolOptions {
  /** Directory of the spool; created if missing. One process at a time. */
  dir: string;
  /**
   * `'always'`: fsync after every record, before `add()` resolves (slowest, safest);
   * `'batch'` (default): one fsync for all records appended in the same event-loop turn;
   * `'never'`: leave it to the operating system (survives a process crash, not a power loss).
   */
  fsync?: SpoolFsync | undefined;
  /** Most bytes of segments on disk; past it, `add()` follows the buffer's overflow policy. Default 1 GiB. */
  maxBytes?: number | undefined;
  /** Size at which a new segment is started. Default 8 MiB. */
  segmentBytes?: number | undefined;
}

/** A problem found while replaying the spool (reported through the buffer's `onError`). */
export class SpoolCorruptionError extends CwbatchError {
  readonly file: string;
  readonly offset: number;
  readonly skippedBytes: number;

  constructor(file: string, offset: number, skippedBytes: number, reason: string) {
    super('SPOOL_CORRUPT', `Spool segment ${file}: ${reason} at byte ${offset}; skipped ${skippedBytes} byte(s)`);
    this.file = file;
    this.offset = offset;
    this.skippedBytes = skippedBytes;
  }

  override get name(): string {
    return 'SpoolCorruptionError';
  }
}

/** The spool directory is owned by another live process. */
export class SpoolLockedError extends CwbatchError {
  readonly pid: number;

  constructor(dir: string, pid: number) {
    super('SPOOL_LOCKED', `Spool directory ${dir} is in use by process ${pid}`);
    this.pid = pid;
  }

  override get name(): string {
    return 'SpoolLockedError';
  }
}

/** One segment file and how many of its events are not settled yet. */
export interface Segment {
  readonly file: string;
  bytes: number;
  outstanding: number;
  /** Still being appended to: not deleted even when nothing is outstanding. */
  open: boolean;
}

/** An event read back from a previous process's segments. */
export interface ReplayedEvent {
  group: string;
  stream: string;
  event: InputLogEvent;
  segment: Segment;
}

const HEADER_BYTES = 8;
const SEGMENT_PATTERN = /^seg-(\d{16})\.log$/;
/** Larger than any valid record (two 512-character names and a 1 MB message, JSON-escaped). */
const MAX_RECORD_BYTES = 8 * 1024 * 1024;

/** The spool of one buffer. */
export class Spool {
  readonly #dir: string;
  readonly #fsync: SpoolFsync;
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  readonly #lockFile: string;
  readonly #segments = new Set<Segment>();
  #current: Segment | undefined;
  #fd: number | undefined;
  #next: number;
  #totalBytes = 0;
  #syncScheduled = false;
  #closed = false;

  /**
   * Opens (creating if needed) and locks the spool, and reads back what a previous process left.
   * @throws SpoolLockedError when another live process owns the directory.
   */
  constructor(options: SpoolOptions, onCorruption: (error: SpoolCorruptionError) => void, replay: (event: ReplayedEvent) => void) {
    if (options === null || typeof options !== 'object' || typeof options.dir !== 'string' || options.dir.length === 0) {
      throw new TypeError('Expected `spool.dir` to be a non-empty string');
    }
    const fsync = options.fsync ?? 'batch';
    if (fsync !== 'always' && fsync !== 'batch' && fsync !== 'never') {
      throw new RangeError(`Expected \`spool.fsync\` to be one of 'always', 'batch', 'never', got ${String(fsync)}`);
    }
    this.#dir = options.dir;
    this.#fsync = fsync;
    this.#maxBytes = positive('spool.maxBytes', options.maxBytes ?? 1024 * 1024 * 1024);
    this.#segmentBytes = positive('spool.segmentBytes', options.segmentBytes ?? 8 * 1024 * 1024);
    mkdirSync(this.#dir, { recursive: true });
    this.#lockFile = join(this.#dir, 'LOCK');
    this.#lock();
    const files = readdirSync(this.#dir)
      .filter((f) => SEGMENT_PATTERN.test(f))
      .sort();
    const last = files.length > 0 ? Number(SEGMENT_PATTERN.exec(files[files.length - 1] as string)?.[1]) : 0;
    this.#next = last + 1;
    for (const file of files) this.#replaySegment(file, onCorruption, replay);
  }

  /** Bytes of segments on disk. */
  get bytes(): number {
    return this.#totalBytes;
  }

  /** Whether `bytes` more would go past `maxBytes`. */
  wouldOverflow(bytes: number): boolean {
    return this.#totalBytes + bytes + HEADER_BYTES > this.#maxBytes && this.#totalBytes > 0;
  }

  /** Appends one event; returns the segment it went into. Durable per the fsync setting when it returns. */
  append(group: string, stream: string, event: InputLogEvent): Segment {
    if (this.#closed) throw new CwbatchError('SPOOL_CLOSED', 'The spool is closed');
    const payload = Buffer.from(JSON.stringify([group, stream, event.timestamp, event.message]), 'utf8');
    const record = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
    record.writeUInt32LE(payload.length, 0);
    record.writeUInt32LE(crc32(payload), 4);
    payload.copy(record, HEADER_BYTES);
    let segment = this.#current;
    if (segment === undefined || segment.bytes >= this.#segmentBytes) segment = this.#rotate();
    writeAll(this.#fd as number, record);
    segment.bytes += record.length;
    segment.outstanding++;
    this.#totalBytes += record.length;
    if (this.#fsync === 'always') fsyncSync(this.#fd as number);
    else if (this.#fsync === 'batch' && !this.#syncScheduled) {
      this.#syncScheduled = true;
      setImmediate(() => this.#sync()).unref();
    }
    return segment;
  }

  /** `count` events of `segment` are settled; deletes the segment when none is left and it is full. */
  settle(segment: Segment, count: number): void {
    segment.outstanding -= count;
    if (segment.outstanding <= 0 && !segment.open) this.#delete(segment);
  }

  /** Flushes to disk, closes the current segment (deleting it if nothing is outstanding) and releases the lock. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sync();
    this.#closeCurrent();
    try {
      unlinkSync(this.#lockFile);
    } catch {
      // Already gone: nothing to release.
    }
  }

  #sync(): void {
    this.#syncScheduled = false;
    if (this.#fd !== undefined) fsyncSync(this.#fd);
  }

  #rotate(): Segment {
    this.#closeCurrent();
    const file = join(this.#dir, `seg-${String(this.#next++).padStart(16, '0')}.log`);
    this.#fd = openSync(file, 'a');
    const segment: Segment = { file, bytes: 0, outstanding: 0, open: true };
    this.#segments.add(segment);
    this.#current = segment;
    return segment;
  }

  #closeCurrent(): void {
    const segment = this.#current;
    if (segment === undefined) return;
    if (this.#fd !== undefined) {
      fsyncSync(this.#fd);
      closeSync(this.#fd);
    }
    this.#fd = undefined;
    this.#current = undefined;
    segment.open = false;
    if (segment.outstanding <= 0) this.#delete(segment);
  }

  #delete(segment: Segment): void {
    if (!this.#segments.delete(segment)) return;
    this.#totalBytes -= segment.bytes;
    try {
      unlinkSync(segment.file);
    } catch {
      // A segment someone removed by hand is as good as deleted.
    }
  }

  #lock(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        writeFileSync(this.#lockFile, String(process.pid), { flag: 'wx' });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = Number.parseInt(readFileSync(this.#lockFile, 'utf8'), 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new SpoolLockedError(this.#dir, owner);
      }
      // A stale lock from a dead process (or a torn one): take it over.
      unlinkSync(this.#lockFile);
    }
    throw new SpoolLockedError(this.#dir, -1);
  }

  #replaySegment(name: string, onCorruption: (error: SpoolCorruptionError) => void, replay: (event: ReplayedEvent) => void): void {
    const file = join(this.#dir, name);
    const data = readFileSync(file);
    const segment: Segment = { file, bytes: data.length, outstanding: 0, open: false };
    this.#segments.add(segment);
    this.#totalBytes += data.length;
    let offset = 0;
    while (offset < data.length) {
      const parsed = parseRecord(data, offset);
      if (parsed !== undefined) {
        segment.outstanding++;
        replay({ group: parsed.group, stream: parsed.stream, event: parsed.event, segment });
        offset = parsed.end;
        continue;
      }
      // Torn or corrupted: look for the next offset where a whole valid record starts.
      let resume = offset + 1;
      while (resume < data.length && parseRecord(data, resume) === undefined) resume++;
      const reason = resume >= data.length ? 'torn or corrupted record at the end' : 'corrupted record';
      onCorruption(new SpoolCorruptionError(file, offset, resume - offset, reason));
      offset = resume;
    }
    if (segment.outstanding === 0) this.#delete(segment);
  }
}

function parseRecord(
  data: Buffer,
  offset: number,
): { group: string; stream: string; event: InputLogEvent; end: number } | undefined {
  if (offset + HEADER_BYTES > data.length) return undefined;
  const length = data.readUInt32LE(offset);
  if (length === 0 || length > MAX_RECORD_BYTES) return undefined;
  const end = offset + HEADER_BYTES + length;
  if (end > data.length) return undefined;
  const payload = data.subarray(offset + HEADER_BYTES, end);
  if (crc32(payload) !== data.readUInt32LE(offset + 4)) return undefined;
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    if (!Array.isArray(value) || value.length !== 4) return undefined;
    const [group, stream, timestamp, message] = value as unknown[];
    if (typeof group !== 'string' || typeof stream !== 'string' || typeof timestamp !== 'number' || typeof message !== 'string') {
      return undefined;
    }
    return { group, stream, event: { timestamp, message }, end };
  } catch {
    return undefined;
  }
}

function writeAll(fd: number, data: Buffer): void {
  let written = 0;
  while (written < data.length) written += writeSync(fd, data, written, data.length - written);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process that its parent has not reaped yet (a zombie) still answers signal 0.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

function positive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`Expected \`${name}\` to be a positive integer, got ${String(value)}`);
  }
  return value;
}
