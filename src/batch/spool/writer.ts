/**
 * Appending to the spool: records are encoded into one buffer (the slab) as they come and
 * written together by a commit queued with `process.nextTick` (group commit: one writeSync for
 * every record of a run of code), then fsync'd per the `fsync` setting. A new segment file is
 * started every `segmentBytes`.
 */
import { closeSync, fsync, fsyncSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { Buffer } from 'node:buffer';
import { CwbatchError } from '../errors.js';
import type { InputLogEvent, SpoolFsync } from '../types.js';
import { closeQuietly, syncDirectory, writeAll } from './files.js';
import { encodeNames, maxEventRecordBytes, segmentName, writeEventRecord } from './record.js';
import type { Segment, SpoolEntry } from './segment.js';

/** Initial size of the buffer a commit's records are encoded into. */
const SLAB_BYTES = 64 * 1024;
/** fsync 'batch': the least time between two background fsyncs (a power loss can lose about this much). */
const BATCH_SYNC_INTERVAL_MS = 100;
const RESOLVED: Promise<void> = Promise.resolve();

/** A group commit: the add()s of one run of code wait for it. */
interface Commit {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** What the writer tells the spool. */
export interface WriterSink {
  /** A new segment file was started. */
  readonly opened: (segment: Segment) => void;
  /** A segment is no longer appended to: it may go once none of its events is outstanding. */
  readonly closed: (segment: Segment) => void;
  /** A write failed (its add()s reject too; the events stay buffered in memory). */
  readonly writeFailed: (error: unknown) => void;
}

/** Appends records to the current segment. */
export class SegmentWriter {
  readonly #dir: string;
  readonly #fsync: SpoolFsync;
  readonly #segmentBytes: number;
  readonly #sink: WriterSink;
  /** Number of the next segment file (a BigInt: names of any width stay exact). */
  #next: bigint;
  #current: Segment | undefined;
  #fd: number | undefined;
  /** 'batch': the descriptor a background fsync is running on, whether records were written since it started, and a descriptor to close once it ends. */
  #syncingFd: number | undefined;
  #syncAgain = false;
  #closeAfterSync: number | undefined;
  /** 'batch': when the last background fsync started (performance.now()), and the timer of the next one. */
  #syncStartedAt = -Infinity;
  #syncTimer: ReturnType<typeof setTimeout> | undefined;
  /** The group and stream of the last record, encoded: consecutive records mostly share them. */
  #namesGroup: string | undefined;
  #namesStream: string | undefined;
  #names: Buffer = Buffer.alloc(0);
  /** Records appended since the last commit, encoded straight into this slab and written together by it (one writeSync). */
  #slab = Buffer.allocUnsafe(SLAB_BYTES);
  #pendingBytes = 0;
  /** The commit that the records in the slab wait for: a process.nextTick that writes them (and, with 'always', fsyncs). */
  #commit: Commit | undefined;

  constructor(dir: string, fsyncMode: SpoolFsync, segmentBytes: number, next: bigint, sink: WriterSink) {
    this.#dir = dir;
    this.#fsync = fsyncMode;
    this.#segmentBytes = segmentBytes;
    this.#next = next;
    this.#sink = sink;
  }

  /** The segment being appended to, if any. */
  get current(): Segment | undefined {
    return this.#current;
  }

  /** The `u16 | u16 | group | stream` part of a payload, kept for the last group and stream. */
  names(group: string, stream: string): Buffer {
    if (group !== this.#namesGroup || stream !== this.#namesStream) {
      this.#names = encodeNames(group, stream);
      this.#namesGroup = group;
      this.#namesStream = stream;
    }
    return this.#names;
  }

  /**
   * Appends one event; returns where it went and the record's length. The record is written by
   * the commit that {@link durable} returns: a `process.nextTick` that writes every record
   * appended since the last one with one writeSync (and with `'always'` fsyncs), queued by the
   * first of them. It runs once the current run of code and the microtasks it queued are done,
   * so a producer that hands events over in a chain of microtasks (an async iterator over
   * buffered lines) shares it too, and before the continuation of any caller that awaits one of
   * these add()s.
   */
  append(group: string, stream: string, event: InputLogEvent): { entry: SpoolEntry; recordBytes: number } {
    const names = this.names(group, stream);
    let segment = this.#current;
    if (segment === undefined || segment.bytes >= this.#segmentBytes) segment = this.#rotate();
    const offset = segment.bytes;
    const at = this.#pendingBytes;
    const worstEnd = at + maxEventRecordBytes(names, event.message);
    if (worstEnd > this.#slab.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.#slab.length, worstEnd));
      this.#slab.copy(grown, 0, 0, at);
      this.#slab = grown;
    }
    const recordBytes = writeEventRecord(this.#slab, at, names, event);
    this.#pendingBytes = at + recordBytes;
    segment.bytes += recordBytes;
    segment.outstanding++;
    this.#scheduleCommit();
    return { entry: { segment, offset }, recordBytes };
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

  /** Closes the current segment (written, fsync'd unless 'never'); the next append starts a new one. */
  closeCurrent(): void {
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
        this.#sink.writeFailed(error);
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
    this.#sink.closed(segment);
  }

  /** Writes what is pending, fsyncs, and closes the current segment. */
  close(): void {
    const commit = this.#commit;
    if (commit !== undefined) this.#runCommit(commit);
    clearTimeout(this.#syncTimer);
    this.#syncTimer = undefined;
    this.#syncQuietly();
    this.closeCurrent();
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
      this.#sink.writeFailed(error);
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
      this.closeCurrent();
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

  #rotate(): Segment {
    this.closeCurrent();
    const name = segmentName(this.#next++);
    const file = join(this.#dir, `${name}.log`);
    this.#fd = openSync(file, 'a');
    // A new file's directory entry must reach the disk too, or a power loss can lose the file.
    if (this.#fsync !== 'never') syncDirectory(this.#dir);
    const segment: Segment = { file, ackFile: join(this.#dir, `${name}.ack`), bytes: 0, outstanding: 0, open: true, unread: false, ackFd: undefined };
    this.#sink.opened(segment);
    this.#current = segment;
    return segment;
  }
}
