/**
 * Durable mode: an append-only spool of segment files, so that events survive a hard crash of
 * the process (kill -9, OOM). Plain files and `node:fs` only.
 *
 * Layout of `dir`:
 * - `LOCK`: the pid of the process that owns the directory (lock.ts).
 * - `seg-<number>.log`: segments, appended to in order (writer.ts); a new one every
 *   `segmentBytes`. Records: record.ts. The number has 16 digits (zero padded) or more; segments
 *   are ordered by it, whatever its width (a stray `seg-9999999999999999.log` makes the next
 *   one `seg-10000000000000000.log`, which is replayed after it).
 * - `seg-<number>.ack`: the byte offsets of the segment's records that are settled
 *   (delivered, rejected or dropped), so that the next process does not send them again. Acks
 *   are not fsync'd: a lost ack only means an event is sent twice (at-least-once), never that
 *   one is lost.
 *
 * A segment (and its ack file) is deleted once every event in it is settled (events dropped at
 * shutdown stay: the next process replays them). Replay is pulled, not pushed (reader.ts): the
 * constructor only lists what a previous process left. A torn last record (the process died
 * mid-write) or a corrupted one fails its checksum: it is skipped and reported, never replayed.
 * A file named like a segment that the spool cannot read (a directory, a file larger than any
 * segment, one it may not open) is reported once, left on disk, and not counted against
 * `maxBytes` (add() would otherwise wait for room that never comes).
 *
 * This class keeps the segments on disk and their byte count, and composes the lock, the
 * writer and the replay reader.
 */
import { lstatSync, mkdirSync, openSync, readdirSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { CwbatchError } from '../errors.js';
import type { InputLogEvent, SpoolOptions } from '../types.js';
import { closeQuietly, unlinkQuietly, writeAll } from './files.js';
import { lockSpool, unlockSpool } from './lock.js';
import { ReplayReader } from './reader.js';
import { ACK_PATTERN, ackRecord, HEADER_BYTES, MAX_RECORD_BYTES, PAYLOAD_FIXED_BYTES, segmentNumber } from './record.js';
import type { ReplayedEvent, Segment, SpoolEntry } from './segment.js';
import { SegmentWriter } from './writer.js';

/** Offsets are u32: a segment never grows past this (one record past `segmentBytes` at most). */
const MAX_SEGMENT_BYTES = 2 ** 31;

/** The spool of one buffer. */
export class Spool {
  readonly #dir: string;
  readonly #maxBytes: number;
  readonly #lockFile: string;
  readonly #onError: (error: unknown) => void;
  readonly #segments = new Set<Segment>();
  readonly #writer: SegmentWriter;
  readonly #reader: ReplayReader;
  /** Bytes of segments on disk. */
  #totalBytes = 0;
  #closed = false;

  /**
   * Opens (creating if needed) and locks the spool, and lists what a previous process left (read
   * later, a segment at a time, by {@link peekReplay}).
   * @param onError receives each {@link SpoolCorruptionError} found while replaying, and write
   *   failures of a commit (its add()s reject too; the events stay buffered in memory).
   * @throws SpoolLockedError when another live process (or thread) owns the directory.
   */
  constructor(options: SpoolOptions, onError: (error: unknown) => void) {
    if (options === null || typeof options !== 'object' || typeof options.dir !== 'string' || options.dir.length === 0) {
      throw new TypeError('Expected `spool.dir` to be a non-empty string');
    }
    const fsyncMode = options.fsync ?? 'batch';
    if (fsyncMode !== 'always' && fsyncMode !== 'batch' && fsyncMode !== 'never') {
      throw new RangeError(`Expected \`spool.fsync\` to be one of 'always', 'batch', 'never', got ${String(fsyncMode)}`);
    }
    this.#maxBytes = positive('spool.maxBytes', options.maxBytes ?? 1024 * 1024 * 1024);
    const segmentBytes = positive('spool.segmentBytes', options.segmentBytes ?? 8 * 1024 * 1024);
    this.#onError = onError;
    if (segmentBytes > MAX_SEGMENT_BYTES) {
      throw new RangeError(`Expected \`spool.segmentBytes\` to be at most ${MAX_SEGMENT_BYTES}, got ${segmentBytes}`);
    }
    mkdirSync(options.dir, { recursive: true });
    this.#dir = realpathSync(options.dir);
    this.#lockFile = join(this.#dir, 'LOCK');
    lockSpool(this.#dir, this.#lockFile);
    let listed: { unread: Segment[]; next: bigint; problems: unknown[] };
    try {
      listed = this.#list();
    } catch (error) {
      unlockSpool(this.#dir, this.#lockFile);
      throw error;
    }
    this.#reader = new ReplayReader(listed.unread, listed.problems, {
      onError,
      unreadable: (segment) => {
        // Left on disk (it may be readable later), but it is no longer the spool's: not counted.
        if (!this.#segments.delete(segment)) return;
        this.#totalBytes -= segment.bytes;
      },
      resized: (segment, bytes) => {
        // The size listed at start is what counts against maxBytes; keep it exact.
        this.#totalBytes += bytes - segment.bytes;
        segment.bytes = bytes;
      },
      readToEnd: (segment) => {
        if (segment.outstanding <= 0) this.#delete(segment);
      },
    });
    this.#writer = new SegmentWriter(this.#dir, fsyncMode, segmentBytes, listed.next, {
      opened: (segment) => this.#segments.add(segment),
      closed: (segment) => {
        if (segment.outstanding <= 0) this.#delete(segment);
      },
      writeFailed: (error) => this.#reportWrite(error),
    });
  }

  /** Bytes of segments on disk. */
  get bytes(): number {
    return this.#totalBytes;
  }

  /** Number of segment files on disk (the one being appended to included). */
  get segmentCount(): number {
    return this.#segments.size;
  }

  /** See {@link ReplayReader.peek}. */
  peekReplay(): ReplayedEvent | undefined {
    return this.#reader.peek();
  }

  /** See {@link ReplayReader.take}. */
  takeReplay(): void {
    this.#reader.take();
  }

  /** Whether records left by a previous process may still be handed out by {@link peekReplay}. */
  get replayPending(): boolean {
    return this.#reader.pending;
  }

  /**
   * Whether appending an event of this group and stream, with a message of `messageBytes` UTF-8
   * bytes (the buffer has measured it), would take the segments on disk past `maxBytes` (an event
   * always fits into an empty spool, so no setting can wait forever).
   */
  wouldOverflow(group: string, stream: string, messageBytes: number): boolean {
    if (this.#totalBytes === 0) return false;
    const recordBytes = HEADER_BYTES + PAYLOAD_FIXED_BYTES + this.#writer.names(group, stream).length + messageBytes;
    if (this.#totalBytes + recordBytes <= this.#maxBytes) return false;
    // The segment being appended to is only deleted when closed: if all its events are settled,
    // close it now, or a spool smaller than one segment would stay full for ever.
    const current = this.#writer.current;
    if (current !== undefined && current.outstanding <= 0) {
      this.#writer.closeCurrent();
      return this.#totalBytes + recordBytes > this.#maxBytes && this.#totalBytes > 0;
    }
    return true;
  }

  /** Appends one event; returns where it went (see {@link SegmentWriter.append}). */
  append(group: string, stream: string, event: InputLogEvent): SpoolEntry {
    if (this.#closed) throw new CwbatchError('SPOOL_CLOSED', 'The spool is closed');
    const { entry, recordBytes } = this.#writer.append(group, stream, event);
    this.#totalBytes += recordBytes;
    return entry;
  }

  /** See {@link SegmentWriter.durable}. */
  durable(): Promise<void> {
    return this.#writer.durable();
  }

  /**
   * These events are settled: records their offsets in the segments' ack files, and deletes a
   * segment (and its ack file) once none of its events is left and it is no longer appended to.
   */
  settle(entries: readonly SpoolEntry[]): void {
    const bySegment = new Map<Segment, number[]>();
    for (const { segment, offset } of entries) {
      let offsets = bySegment.get(segment);
      if (offsets === undefined) bySegment.set(segment, (offsets = []));
      offsets.push(offset);
    }
    for (const [segment, offsets] of bySegment) {
      segment.outstanding -= offsets.length;
      if (segment.outstanding <= 0 && !segment.open && !segment.unread) {
        this.#delete(segment);
        continue;
      }
      if (!this.#segments.has(segment)) continue;
      try {
        if (segment.ackFd === undefined) segment.ackFd = openSync(segment.ackFile, 'a');
        writeAll(segment.ackFd, ackRecord(offsets));
      } catch {
        // Without the ack, the next process sends these events again: a duplicate, never a loss.
      }
    }
  }

  /**
   * Flushes to disk, closes the current segment (deleting it if nothing is outstanding) and
   * releases the lock. Segments not replayed to their end stay for the next process.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader.close();
    this.#writer.close();
    for (const segment of this.#segments) closeAck(segment);
    unlockSpool(this.#dir, this.#lockFile);
  }

  /**
   * Lists what a previous process left: its segments, oldest first (by number, whatever the
   * width of the name), the next segment's number, and the files named like segments that are
   * not (reported at the first replay, through onError; the buffer is not wired yet here).
   */
  #list(): { unread: Segment[]; next: bigint; problems: unknown[] } {
    const names = readdirSync(this.#dir);
    const numbered: Array<{ name: string; n: bigint }> = [];
    for (const name of names) {
      const n = segmentNumber(name);
      if (n !== undefined) numbered.push({ name, n });
    }
    numbered.sort((a, b) => (a.n < b.n ? -1 : a.n > b.n ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const logs = new Set(numbered.map(({ name }) => name));
    // An ack file whose segment is gone: the process died between the two unlinks.
    for (const ack of names.filter((f) => ACK_PATTERN.test(f))) {
      if (!logs.has(ack.replace(/\.ack$/, '.log'))) unlinkQuietly(join(this.#dir, ack));
    }
    const last = numbered.length > 0 ? (numbered[numbered.length - 1] as { n: bigint }).n : 0n;
    const unread: Segment[] = [];
    const problems: unknown[] = [];
    for (const { name } of numbered) {
      const file = join(this.#dir, name);
      let bytes: number;
      try {
        const stat = lstatSync(file);
        if (!stat.isFile()) throw new Error('not a regular file');
        // The most a segment can hold: segmentBytes (at most MAX_SEGMENT_BYTES) and one record past it.
        if (stat.size > MAX_SEGMENT_BYTES + MAX_RECORD_BYTES) throw new Error(`${stat.size} bytes, more than any segment holds`);
        bytes = stat.size;
      } catch (error) {
        problems.push(new CwbatchError('SPOOL_READ', `Spool segment ${file}: could not be read; left on disk, not counted against spool.maxBytes`, { cause: error }));
        continue;
      }
      const segment: Segment = { file, ackFile: file.replace(/\.log$/, '.ack'), bytes, outstanding: 0, open: false, unread: true, ackFd: undefined };
      this.#segments.add(segment);
      unread.push(segment);
      // Counted against maxBytes from the start: the records are on disk.
      this.#totalBytes += bytes;
    }
    return { unread, next: last + 1n, problems };
  }

  #delete(segment: Segment): void {
    if (!this.#segments.delete(segment)) return;
    this.#totalBytes -= segment.bytes;
    closeAck(segment);
    // The segment first: an ack file without its segment is cleaned up at the next start.
    unlinkQuietly(segment.file);
    unlinkQuietly(segment.ackFile);
  }

  #reportWrite(error: unknown): void {
    try {
      this.#onError(new CwbatchError('SPOOL_WRITE', `Spool ${this.#dir}: write failed; the events stay buffered in memory but are not durable`, { cause: error }));
    } catch {
      // A throwing onError must not break the spool.
    }
  }
}

function closeAck(segment: Segment): void {
  if (segment.ackFd === undefined) return;
  closeQuietly(segment.ackFd);
  segment.ackFd = undefined;
}

function positive(name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`Expected \`${name}\` to be a positive integer, got ${String(value)}`);
  }
  return value;
}
