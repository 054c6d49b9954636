/**
 * Durable mode: an append-only spool of segment files, so that events survive a hard crash of
 * the process (kill -9, OOM). Plain files and `node:fs` only.
 *
 * Layout of `dir`:
 * - `LOCK`: the pid of the process that owns the directory (two processes never share a spool;
 *   a lock left by a dead process is taken over).
 * - `seg-<16-digit number>.log`: segments, appended to in order; a new one every `segmentBytes`.
 * - `seg-<16-digit number>.ack`: the byte offsets of the segment's records that are settled
 *   (delivered, rejected or dropped), so that the next process does not send them again.
 *
 * A record is `u32 length | u32 crc32(payload) | payload` (little-endian). The payload is
 * `u8 1 (format) | f64 timestamp | u16 group bytes | u16 stream bytes | group | stream | message`,
 * names and message in UTF-8: written straight from the strings into the commit's buffer, with no
 * intermediate string per event (a JSON payload cost about a fifth of the spool's time per event).
 * Payloads of the first format, the JSON array `[group, stream, timestamp, message]`, are still
 * read, so a spool left by an earlier version is replayed. A torn last record (the process died mid-write)
 * or a corrupted one fails its checksum: it is skipped and reported, never replayed as garbage.
 * An ack record has the same framing, its payload a list of u32 offsets. Acks are not fsync'd:
 * a lost ack only means an event is sent twice (at-least-once), never that one is lost.
 *
 * A segment (and its ack file) is deleted once every event in it is settled (events dropped at
 * shutdown stay: the next process replays them).
 *
 * Replay is pulled, not pushed: the constructor only lists what a previous process left;
 * {@link Spool.peekReplay} / {@link Spool.takeReplay} hand its records out one at a time, in
 * order, reading one segment at a time, so the buffer takes only as many as fit in memory
 * (`maxBufferedBytes`). A segment not read to its end is never deleted: what was not replayed
 * stays on disk for the next process.
 */
import {
  closeSync,
  fsync,
  fsyncSync,
  linkSync,
  realpathSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Buffer } from 'node:buffer';
import { CwbatchError } from './errors.js';
import type { InputLogEvent, SpoolFsync, SpoolOptions } from './types.js';

export type { SpoolFsync, SpoolOptions } from './types.js';


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
  /** Its ack file: offsets of settled records. */
  readonly ackFile: string;
  bytes: number;
  outstanding: number;
  /** Still being appended to: not deleted even when nothing is outstanding. */
  open: boolean;
  /**
   * Left by a previous process and not replayed to its end yet: not deleted even when nothing is
   * outstanding (its records not handed out yet are still to be sent, by this process or the next).
   */
  unread: boolean;
  /** Descriptor of the ack file, opened on the first ack. */
  ackFd: number | undefined;
}

/** Where one spooled event is: its segment and the byte offset of its record. */
export interface SpoolEntry {
  readonly segment: Segment;
  readonly offset: number;
}

/** An event read back from a previous process's segments. */
export interface ReplayedEvent {
  group: string;
  stream: string;
  event: InputLogEvent;
  entry: SpoolEntry;
}

/** A group commit: the add()s of one run of code wait for it. */
interface Commit {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const HEADER_BYTES = 8;
/** Initial size of the buffer a commit's records are encoded into. */
const SLAB_BYTES = 64 * 1024;
const SEGMENT_PATTERN = /^seg-(\d{16})\.log$/;
const ACK_PATTERN = /^seg-(\d{16})\.ack$/;
/** Offsets are u32: a segment never grows past this (one record past `segmentBytes` at most). */
const MAX_SEGMENT_BYTES = 2 ** 31;
const RESOLVED: Promise<void> = Promise.resolve();
/** fsync 'batch': the least time between two background fsyncs (a power loss can lose about this much). */
const BATCH_SYNC_INTERVAL_MS = 100;
/**
 * Spool directories (real paths) locked by this process. A LOCK naming our own pid is ours only
 * if it is in here; otherwise a previous process had the same pid (pid 1 in a container) and it
 * is stale.
 */
const lockedHere = new Set<string>();
/** The first byte of a payload in the binary format (a JSON payload, the first format, starts with `[`). */
const PAYLOAD_FORMAT = 1;
/** Format byte and f64 timestamp of a binary payload; the two u16 name lengths count with the names. */
const PAYLOAD_FIXED_BYTES = 9;
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
  /** 'batch': the descriptor a background fsync is running on, whether records were written since it started, and a descriptor to close once it ends. */
  #syncingFd: number | undefined;
  #syncAgain = false;
  #closeAfterSync: number | undefined;
  /** 'batch': when the last background fsync started (performance.now()), and the timer of the next one. */
  #syncStartedAt = -Infinity;
  #syncTimer: ReturnType<typeof setTimeout> | undefined;
  #closed = false;
  /** The group and stream of the last record, encoded (`u16 | u16 | group | stream`): consecutive records mostly share them. */
  #namesGroup: string | undefined;
  #namesStream: string | undefined;
  #names: Buffer = Buffer.alloc(0);
  /** Records appended since the last commit, encoded straight into this slab and written together by it (one writeSync). */
  #slab = Buffer.allocUnsafe(SLAB_BYTES);
  #pendingBytes = 0;
  /** The commit that the records in the slab wait for: a process.nextTick that writes them (and, with 'always', fsyncs). */
  #commit: Commit | undefined;
  readonly #onError: (error: unknown) => void;
  /** Replay: segments left by a previous process not opened yet, oldest first. */
  readonly #unread: Segment[] = [];
  /** Replay: the segment being read, its contents, its settled offsets and the next offset to parse. */
  #reading: Segment | undefined;
  #readData: Buffer | undefined;
  #readSettled: Set<number> | undefined;
  #readOffset = 0;
  /** Replay: the record returned by peekReplay() and not taken yet. */
  #peeked: ReplayedEvent | undefined;

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
    this.#dir = options.dir;
    this.#fsync = fsyncMode;
    this.#maxBytes = positive('spool.maxBytes', options.maxBytes ?? 1024 * 1024 * 1024);
    this.#segmentBytes = positive('spool.segmentBytes', options.segmentBytes ?? 8 * 1024 * 1024);
    this.#onError = onError;
    if (this.#segmentBytes > MAX_SEGMENT_BYTES) {
      throw new RangeError(`Expected \`spool.segmentBytes\` to be at most ${MAX_SEGMENT_BYTES}, got ${this.#segmentBytes}`);
    }
    mkdirSync(this.#dir, { recursive: true });
    this.#dir = realpathSync(this.#dir);
    this.#lockFile = join(this.#dir, 'LOCK');
    this.#lock();
    try {
      const names = readdirSync(this.#dir);
      const files = names.filter((f) => SEGMENT_PATTERN.test(f)).sort();
      // An ack file whose segment is gone: the process died between the two unlinks.
      for (const ack of names.filter((f) => ACK_PATTERN.test(f))) {
        if (!files.includes(ack.replace(/\.ack$/, '.log'))) unlinkQuietly(join(this.#dir, ack));
      }
      const last = files.length > 0 ? Number(SEGMENT_PATTERN.exec(files[files.length - 1] as string)?.[1]) : 0;
      this.#next = last + 1;
      for (const name of files) {
        const file = join(this.#dir, name);
        const bytes = statSync(file).size;
        const segment: Segment = { file, ackFile: file.replace(/\.log$/, '.ack'), bytes, outstanding: 0, open: false, unread: true, ackFd: undefined };
        this.#segments.add(segment);
        this.#unread.push(segment);
        // Counted against maxBytes from the start: the records are on disk.
        this.#totalBytes += bytes;
      }
    } catch (error) {
      this.#unlock();
      throw error;
    }
  }

  /** Bytes of segments on disk. */
  get bytes(): number {
    return this.#totalBytes;
  }

  /** Number of segment files on disk (the one being appended to included). */
  get segmentCount(): number {
    return this.#segments.size;
  }

  /**
   * The next record a previous process left and that is not settled, in the order written; the
   * same one again until {@link takeReplay}; undefined once all are handed out (or the spool is
   * closed). Reads one segment at a time (its records and ack file), and drops a segment's
   * contents once it is read to the end. Reports each torn or corrupted record (skipped) to
   * `onError` as it is reached.
   */
  peekReplay(): ReplayedEvent | undefined {
    if (this.#peeked !== undefined || this.#closed) return this.#peeked;
    for (;;) {
      const segment = this.#reading;
      const data = this.#readData;
      if (segment === undefined || data === undefined) {
        const next = this.#unread.shift();
        if (next === undefined) return undefined;
        try {
          this.#openForReplay(next);
        } catch (error) {
          // Unreadable now (removed by hand, EIO): left as it is (never deleted: still unread), not replayed by this process.
          this.#onError(new CwbatchError('SPOOL_READ', `Spool segment ${next.file}: could not be read; left on disk`, { cause: error }));
        }
        continue;
      }
      const offset = this.#readOffset;
      if (offset >= data.length) {
        this.#reading = undefined;
        this.#readData = undefined;
        this.#readSettled = undefined;
        segment.unread = false;
        if (segment.outstanding <= 0) this.#delete(segment);
        continue;
      }
      const parsed = parseRecord(data, offset);
      if (parsed !== undefined) {
        this.#readOffset = parsed.end;
        // Settled by the previous process (its ack survived): not sent again.
        if (this.#readSettled?.has(offset) === true) continue;
        this.#peeked = { group: parsed.group, stream: parsed.stream, event: parsed.event, entry: { segment, offset } };
        return this.#peeked;
      }
      // Torn or corrupted: look for the next offset where a whole valid record starts.
      let resume = offset + 1;
      while (resume < data.length && parseRecord(data, resume) === undefined) resume++;
      const reason = resume >= data.length ? 'torn or corrupted record at the end' : 'corrupted record';
      this.#readOffset = resume;
      this.#onError(new SpoolCorruptionError(segment.file, offset, resume - offset, reason));
    }
  }

  /** The record {@link peekReplay} returned is now the buffer's: outstanding until settled. */
  takeReplay(): void {
    const peeked = this.#peeked;
    if (peeked === undefined) return;
    this.#peeked = undefined;
    peeked.entry.segment.outstanding++;
  }

  /** Whether records left by a previous process may still be handed out by {@link peekReplay}. */
  get replayPending(): boolean {
    return !this.#closed && (this.#peeked !== undefined || this.#reading !== undefined || this.#unread.length > 0);
  }

  /**
   * Whether appending an event of this group and stream, with a message of `messageBytes` UTF-8
   * bytes (the buffer has measured it), would take the segments on disk past `maxBytes` (an event
   * always fits into an empty spool, so no setting can wait forever).
   */
  wouldOverflow(group: string, stream: string, messageBytes: number): boolean {
    if (this.#totalBytes === 0) return false;
    const recordBytes = HEADER_BYTES + PAYLOAD_FIXED_BYTES + this.#encodeNames(group, stream).length + messageBytes;
    if (this.#totalBytes + recordBytes <= this.#maxBytes) return false;
    // The segment being appended to is only deleted when closed: if all its events are settled,
    // close it now, or a spool smaller than one segment would stay full for ever.
    const current = this.#current;
    if (current !== undefined && current.outstanding <= 0) {
      this.#closeCurrent();
      return this.#totalBytes + recordBytes > this.#maxBytes && this.#totalBytes > 0;
    }
    return true;
  }

  /**
   * Appends one event; returns where it went. The record is written by the commit that
   * {@link durable} returns: a `process.nextTick` that writes every record appended since the
   * last one with one writeSync (and with `'always'` fsyncs), queued by the first of them. It runs
   * once the current run of code and the microtasks it queued are done, so a producer that hands
   * events over in a chain of microtasks (an async iterator over buffered lines) shares it too,
   * and before the continuation of any caller that awaits one of these add()s.
   */
  append(group: string, stream: string, event: InputLogEvent): SpoolEntry {
    if (this.#closed) throw new CwbatchError('SPOOL_CLOSED', 'The spool is closed');
    const names = this.#encodeNames(group, stream);
    let segment = this.#current;
    if (segment === undefined || segment.bytes >= this.#segmentBytes) segment = this.#rotate();
    const offset = segment.bytes;
    const at = this.#pendingBytes;
    const message = event.message;
    // Room for the longest the message can be in UTF-8; write() then says what it took.
    const payloadAt = at + HEADER_BYTES;
    const messageAt = payloadAt + PAYLOAD_FIXED_BYTES + names.length;
    const worstEnd = messageAt + 3 * message.length;
    if (worstEnd > this.#slab.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.#slab.length, worstEnd));
      this.#slab.copy(grown, 0, 0, at);
      this.#slab = grown;
    }
    const slab = this.#slab;
    slab[payloadAt] = PAYLOAD_FORMAT;
    slab.writeDoubleLE(event.timestamp, payloadAt + 1);
    names.copy(slab, payloadAt + PAYLOAD_FIXED_BYTES);
    const end = messageAt + slab.write(message, messageAt, worstEnd - messageAt, 'utf8');
    const payloadBytes = end - payloadAt;
    const recordBytes = HEADER_BYTES + payloadBytes;
    slab.writeUInt32LE(payloadBytes, at);
    slab.writeUInt32LE(crc32(slab.subarray(payloadAt, end)), at + 4);
    this.#pendingBytes = at + recordBytes;
    segment.bytes += recordBytes;
    segment.outstanding++;
    this.#totalBytes += recordBytes;
    this.#scheduleCommit();
    return { segment, offset };
  }

  /**
   * Resolves once everything appended so far is written (`'never'`, `'batch'`: to the operating
   * system, which a crash of the process does not lose; `'batch'` then fsyncs in the background)
   * or written and fsync'd (`'always'`: one fsync for every record appended in
   * the same run of code: group commit). Rejects when the write or the fsync fails.
   */
  durable(): Promise<void> {
    return this.#commit?.promise ?? RESOLVED;
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
        this.#ack(segment, offsets);
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
    this.#peeked = undefined;
    this.#reading = undefined;
    this.#readData = undefined;
    this.#readSettled = undefined;
    const commit = this.#commit;
    if (commit !== undefined) this.#runCommit(commit);
    clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    this.#syncQuietly();
    this.#closeCurrent();
    for (const segment of this.#segments) closeAck(segment);
    this.#unlock();
  }

  /** The `u16 | u16 | group | stream` part of a payload, kept for the last group and stream. */
  #encodeNames(group: string, stream: string): Buffer {
    if (group !== this.#namesGroup || stream !== this.#namesStream) {
      const groupBytes = Buffer.from(group, 'utf8');
      const streamBytes = Buffer.from(stream, 'utf8');
      const names = Buffer.allocUnsafe(4 + groupBytes.length + streamBytes.length);
      names.writeUInt16LE(groupBytes.length, 0);
      names.writeUInt16LE(streamBytes.length, 2);
      groupBytes.copy(names, 4);
      streamBytes.copy(names, 4 + groupBytes.length);
      this.#names = names;
      this.#namesGroup = group;
      this.#namesStream = stream;
    }
    return this.#names;
  }

  /**
   * Queues the commit of the records appended in this run of code (group commit): one writeSync
   * for all of them instead of one each (the syscall was most of the spool's cost per event).
   */
  #scheduleCommit(): void {
    if (this.#commit !== undefined) return;
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers who ignore add()'s promise must not turn a failed write into an unhandled
    // rejection (it would end the process); the failure is reported through onError as well.
    promise.catch(() => undefined);
    const commit = { promise, resolve, reject };
    this.#commit = commit;
    // Not queueMicrotask: a microtask queued now would run before the next step of a producer
    // that is itself a chain of microtasks, and commit its records one at a time.
    process.nextTick(() => this.#runCommit(commit));
  }

  #runCommit(commit: Commit): void {
    if (this.#commit !== commit) return; // already run (close() runs a pending one at once)
    this.#commit = undefined;
    try {
      this.#writePending();
      if (this.#fsync === 'always' && this.#fd !== undefined) fsyncSync(this.#fd);
      commit.resolve();
    } catch (error) {
      // A partial write (ENOSPC) would leave garbage mid-segment: start a new segment next time.
      commit.reject(error);
      this.#report(error);
      this.#closeCurrentQuietly();
      return;
    }
    if (this.#fsync === 'batch') this.#syncInBackground();
  }

  /**
   * 'batch': fsyncs the segment in libuv's thread pool, so the disk's latency never blocks the
   * event loop (fsyncSync at the end of each turn held `cwbatch ship --spool` up for about half
   * its time). The records are written already and add() does not wait for this. One at a time
   * and at most one every BATCH_SYNC_INTERVAL_MS: under a steady stream of commits, an fsync after
   * each kept the disk's journal busy without pause (and a core with it).
   */
  #syncInBackground(): void {
    if (this.#syncingFd !== undefined) {
      this.#syncAgain = true;
      return;
    }
    if (this.#syncTimer !== undefined) return;
    const wait = this.#syncStartedAt + BATCH_SYNC_INTERVAL_MS - performance.now();
    if (wait > 0) {
      this.#syncTimer = setTimeout(() => {
        this.#syncTimer = undefined;
        this.#syncInBackground();
      }, wait);
      this.#syncTimer.unref();
      return;
    }
    const fd = this.#fd;
    if (fd === undefined) return;
    this.#syncStartedAt = performance.now();
    this.#syncingFd = fd;
    // An error is not reported: 'batch' promises no fsync to the caller, the records were written.
    fsync(fd, () => {
      this.#syncingFd = undefined;
      if (this.#closeAfterSync === fd) {
        this.#closeAfterSync = undefined;
        closeQuietly(fd);
      }
      if (this.#syncAgain) {
        this.#syncAgain = false;
        this.#syncInBackground();
      }
    });
  }

  #report(error: unknown): void {
    try {
      this.#onError(new CwbatchError('SPOOL_WRITE', `Spool ${this.#dir}: write failed; the events stay buffered in memory but are not durable`, { cause: error }));
    } catch {
      // A throwing onError must not break the spool.
    }
  }

  #writePending(): void {
    const bytes = this.#pendingBytes;
    if (bytes === 0) return;
    this.#pendingBytes = 0;
    if (this.#fd === undefined) throw new CwbatchError('SPOOL_CLOSED', 'The spool segment is closed');
    writeAll(this.#fd, this.#slab.subarray(0, bytes));
    // A burst grew the slab: do not keep it for ever.
    if (this.#slab.length > 16 * SLAB_BYTES) this.#slab = Buffer.allocUnsafe(SLAB_BYTES);
  }

  #closeCurrentQuietly(): void {
    try {
      this.#closeCurrent();
    } catch {
      // Reported through the commit's rejection already.
    }
  }

  #syncQuietly(): void {
    try {
      if (this.#fd !== undefined) fsyncSync(this.#fd);
    } catch {
      // 'batch'/'never' promise no fsync to the caller; the records were written.
    }
  }

  #ack(segment: Segment, offsets: number[]): void {
    const record = Buffer.allocUnsafe(HEADER_BYTES + 4 * offsets.length);
    record.writeUInt32LE(4 * offsets.length, 0);
    for (let i = 0; i < offsets.length; i++) record.writeUInt32LE(offsets[i] as number, HEADER_BYTES + 4 * i);
    record.writeUInt32LE(crc32(record.subarray(HEADER_BYTES)), 4);
    if (segment.ackFd === undefined) segment.ackFd = openSync(segment.ackFile, 'a');
    writeAll(segment.ackFd, record);
  }

  #rotate(): Segment {
    this.#closeCurrent();
    const name = `seg-${String(this.#next++).padStart(16, '0')}`;
    const file = join(this.#dir, `${name}.log`);
    this.#fd = openSync(file, 'a');
    // A new file's directory entry must reach the disk too, or a power loss can lose the file.
    if (this.#fsync !== 'never') syncDirectory(this.#dir);
    const segment: Segment = { file, ackFile: join(this.#dir, `${name}.ack`), bytes: 0, outstanding: 0, open: true, unread: false, ackFd: undefined };
    this.#segments.add(segment);
    this.#current = segment;
    return segment;
  }

  #closeCurrent(): void {
    const segment = this.#current;
    if (segment === undefined) return;
    if (this.#pendingBytes > 0) {
      // Rotation in the middle of a commit: the records so far belong to this segment.
      try {
        this.#writePending();
      } catch (error) {
        const commit = this.#commit;
        this.#commit = undefined;
        commit?.reject(error);
        this.#report(error);
      }
    }
    const fd = this.#fd;
    this.#fd = undefined;
    this.#current = undefined;
    segment.open = false;
    if (fd !== undefined) {
      try {
        if (this.#fsync !== 'never') fsyncSync(fd);
      } finally {
        // A background fsync still runs on it: closed when that ends (closed now, the number
        // could be reused by another file under it).
        if (this.#syncingFd === fd) this.#closeAfterSync = fd;
        else closeSync(fd);
      }
    }
    if (segment.outstanding <= 0) this.#delete(segment);
  }

  #delete(segment: Segment): void {
    if (!this.#segments.delete(segment)) return;
    this.#totalBytes -= segment.bytes;
    closeAck(segment);
    // The segment first: an ack file without its segment is cleaned up at the next start.
    unlinkQuietly(segment.file);
    unlinkQuietly(segment.ackFile);
  }

  #lock(): void {
    if (lockedHere.has(this.#dir)) throw new SpoolLockedError(this.#dir, process.pid);
    const self = processStartId();
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        // pid, and when this process started: tells an earlier process with the same pid (pid 1
        // in a container) from another thread of this one (two pino workers on one directory).
        writeFileSync(this.#lockFile, `${process.pid} ${self}\n`, { flag: 'wx' });
        lockedHere.add(this.#dir);
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      let text: string;
      try {
        text = readFileSync(this.#lockFile, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
        throw error;
      }
      const [ownerText, startText] = text.trim().split(/\s+/);
      const owner = Number.parseInt(ownerText ?? '', 10);
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new SpoolLockedError(this.#dir, owner);
      }
      if (owner === process.pid && startText === self) throw new SpoolLockedError(this.#dir, owner);
      // A stale lock from a dead process, from an earlier process with our pid, or a torn one:
      // take it over.
      removeStaleLock(this.#lockFile, text);
    }
    throw new SpoolLockedError(this.#dir, -1);
  }

  #unlock(): void {
    lockedHere.delete(this.#dir);
    unlinkQuietly(this.#lockFile);
  }

  /** Starts reading one segment left by a previous process: its contents and its ack file. */
  #openForReplay(segment: Segment): void {
    const data = readFileSync(segment.file);
    // The size listed at start is what counts against maxBytes; keep it exact.
    this.#totalBytes += data.length - segment.bytes;
    segment.bytes = data.length;
    this.#reading = segment;
    this.#readData = data;
    this.#readSettled = readAcks(segment.ackFile);
    this.#readOffset = 0;
  }
}

/** Offsets acknowledged in an ack file; a torn or corrupted ack record is ignored (its events are sent again). */
function readAcks(file: string): Set<number> {
  const settled = new Set<number>();
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch {
    return settled;
  }
  let offset = 0;
  while (offset + HEADER_BYTES <= data.length) {
    const length = data.readUInt32LE(offset);
    const end = offset + HEADER_BYTES + length;
    if (length === 0 || length % 4 !== 0 || end > data.length) break;
    const payload = data.subarray(offset + HEADER_BYTES, end);
    if (crc32(payload) !== data.readUInt32LE(offset + 4)) break;
    for (let i = 0; i < length; i += 4) settled.add(payload.readUInt32LE(i));
    offset = end;
  }
  return settled;
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
  if (payload[0] === PAYLOAD_FORMAT) {
    const namesAt = PAYLOAD_FIXED_BYTES + 4;
    if (length < namesAt) return undefined;
    const groupBytes = payload.readUInt16LE(PAYLOAD_FIXED_BYTES);
    const streamAt = namesAt + groupBytes;
    const messageAt = streamAt + payload.readUInt16LE(PAYLOAD_FIXED_BYTES + 2);
    if (messageAt > length) return undefined;
    return {
      group: payload.toString('utf8', namesAt, streamAt),
      stream: payload.toString('utf8', streamAt, messageAt),
      event: { timestamp: payload.readDoubleLE(1), message: payload.toString('utf8', messageAt) },
      end,
    };
  }
  // The first format: the JSON array [group, stream, timestamp, message].
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

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing to do: the descriptor is gone either way.
  }
}

function closeAck(segment: Segment): void {
  if (segment.ackFd === undefined) return;
  closeQuietly(segment.ackFd);
  segment.ackFd = undefined;
}

/**
 * Removes the lock file if it still holds `staleText`. Two processes can find the same stale
 * lock; if one took it over (a new LOCK) before the other got here, a plain unlink by the second
 * would delete the first one's fresh lock and both would own the spool. So the file is moved
 * aside first (atomic), and put back if it turns out to be someone's new lock.
 */
export function removeStaleLock(lockFile: string, staleText: string): void {
  const aside = `${lockFile}.stale-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    renameSync(lockFile, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return; // gone already
    throw error;
  }
  let moved: string | undefined;
  try {
    moved = readFileSync(aside, 'utf8');
  } catch {
    // Unreadable: treat it as the stale one.
  }
  if (moved !== undefined && moved !== staleText) {
    // Another process's new lock: back where it was (only if no LOCK appeared meanwhile; if one
    // did, its creator holds the directory and the next attempt here sees it).
    try {
      linkSync(aside, lockFile);
    } catch {
      // EEXIST: see above.
    }
  }
  unlinkQuietly(aside);
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone (or removed by hand): as good as deleted.
  }
}

/** fsync of a directory, so that a file created in it survives a power loss (not possible everywhere). */
function syncDirectory(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot open or fsync a directory.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** When this process started (Linux: clock ticks since boot; elsewhere: seconds since the epoch). The same in every thread. */
function processStartId(): string {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
    if (start !== undefined && /^\d+$/.test(start)) return start;
  } catch {
    // Not Linux.
  }
  return String(Math.round(Date.now() / 1000 - process.uptime()));
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
