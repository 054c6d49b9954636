/**
 * Replay: the records a previous process left, handed out one at a time, in the order written,
 * reading one segment at a time (its records and its ack file). Pulled, not pushed, so the
 * buffer takes only as many as fit in memory; a segment not read to its end is never deleted.
 */
import { readFileSync } from 'node:fs';
import { CwbatchError } from '../errors.js';
import { SpoolCorruptionError } from './errors.js';
import { couldStartRecord, parseRecord, readAcks } from './record.js';
import type { ReplayedEvent, Segment } from './segment.js';

/**
 * Bytes of a corrupted region scanned per {@link ReplayReader.peek} call at most (about 10 ms of
 * CPU): past it, peek() returns undefined with {@link ReplayReader.pending} still true, and the
 * caller comes back on a later turn of the event loop (durable.ts), so recovering a large
 * corrupted segment never holds the event loop for long.
 */
export const SCAN_BUDGET_BYTES = 1024 * 1024;

/** What the reader tells the spool. */
export interface ReplaySink {
  /** Each torn or corrupted record (skipped), and each segment that cannot be read (left on disk). */
  readonly onError: (error: unknown) => void;
  /** A segment could not be read (reported): left on disk, no longer counted. */
  readonly unreadable: (segment: Segment) => void;
  /** A segment was opened and is `bytes` long (the size listed at start may be stale). */
  readonly resized: (segment: Segment, bytes: number) => void;
  /** A segment was read to its end: it may go once none of its events is outstanding. */
  readonly readToEnd: (segment: Segment) => void;
}

/** Reads the segments a previous process left. */
export class ReplayReader {
  readonly #sink: ReplaySink;
  /** Segments left by a previous process not opened yet, oldest first. */
  readonly #unread: Segment[];
  /** The segment being read, its contents, its settled offsets and the next offset to parse. */
  #reading: Segment | undefined;
  #readData: Buffer | undefined;
  #readSettled: Set<number> | undefined;
  #readOffset = 0;
  /** Where the corrupted region being scanned starts (a scan may span several peek() calls). */
  #corruptFrom: number | undefined;
  /** The record returned by peek() and not taken yet. */
  #peeked: ReplayedEvent | undefined;
  #closed = false;
  /** Problems found when the segments were listed, reported at the first peek(). */
  #problems: unknown[];

  constructor(unread: Segment[], problems: unknown[], sink: ReplaySink) {
    this.#unread = unread;
    this.#problems = problems;
    this.#sink = sink;
  }

  /** Whether records may still be handed out by {@link peek}. */
  get pending(): boolean {
    return !this.#closed && (this.#peeked !== undefined || this.#reading !== undefined || this.#unread.length > 0);
  }

  /**
   * The next record not settled, in the order written; the same one again until {@link take};
   * undefined once all are handed out (or the reader is closed). Reports each torn or corrupted
   * record (skipped) as it is reached. Also undefined, with {@link pending} still true, when it
   * has scanned {@link SCAN_BUDGET_BYTES} of a corrupted region: call again on a later turn.
   */
  peek(): ReplayedEvent | undefined {
    if (this.#peeked !== undefined || this.#closed) return this.#peeked;
    if (this.#problems.length > 0) {
      const problems = this.#problems;
      this.#problems = [];
      for (const problem of problems) this.#sink.onError(problem);
    }
    for (;;) {
      const segment = this.#reading;
      const data = this.#readData;
      if (segment === undefined || data === undefined) {
        const next = this.#unread.shift();
        if (next === undefined) return undefined;
        try {
          this.#open(next);
        } catch (error) {
          // Unreadable now (removed by hand, permission denied, EIO): left as it is, not replayed by
          // this process, and no longer counted against maxBytes.
          this.#sink.unreadable(next);
          this.#sink.onError(new CwbatchError('SPOOL_READ', `Spool segment ${next.file}: could not be read; left on disk, not counted against spool.maxBytes`, { cause: error }));
        }
        continue;
      }
      const offset = this.#readOffset;
      if (offset >= data.length) {
        this.#reading = undefined;
        this.#readData = undefined;
        this.#readSettled = undefined;
        segment.unread = false;
        this.#sink.readToEnd(segment);
        continue;
      }
      if (this.#corruptFrom !== undefined) {
        // A scan that ran out of budget last time goes on from where it stopped.
        if (!this.#skipCorrupted(segment, data, offset)) return undefined;
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
      this.#corruptFrom = offset;
      if (!this.#skipCorrupted(segment, data, offset + 1)) return undefined;
    }
  }

  /** The record {@link peek} returned is now the buffer's: outstanding until settled. */
  take(): void {
    const peeked = this.#peeked;
    if (peeked === undefined) return;
    this.#peeked = undefined;
    peeked.entry.segment.outstanding++;
  }

  /** Stops for good: what was not handed out stays on disk. */
  close(): void {
    this.#closed = true;
    this.#peeked = undefined;
    this.#reading = undefined;
    this.#readData = undefined;
    this.#readSettled = undefined;
    this.#corruptFrom = undefined;
  }

  /**
   * Torn or corrupted (from {@link #corruptFrom}): look for the next offset, from `from` on,
   * where a whole valid record starts. Linear in the bytes skipped: a checksum is computed only
   * where the cheap checks of couldStartRecord() pass (before, every offset was parsed: 16 MiB of
   * random bytes took 22 s). Scans at most SCAN_BUDGET_BYTES; returns false when it stopped
   * there (the scan goes on at the next peek()), true once the region is skipped and reported.
   */
  #skipCorrupted(segment: Segment, data: Buffer, from: number): boolean {
    const start = this.#corruptFrom ?? from;
    const stop = Math.min(data.length, from + SCAN_BUDGET_BYTES);
    let resume = from;
    while (resume < stop && !(couldStartRecord(data, resume) && parseRecord(data, resume) !== undefined)) resume++;
    this.#readOffset = resume;
    if (resume === stop && stop < data.length) return false;
    this.#corruptFrom = undefined;
    const reason = resume >= data.length ? 'torn or corrupted record at the end' : 'corrupted record';
    this.#sink.onError(new SpoolCorruptionError(segment.file, start, resume - start, reason));
    return true;
  }

  /** Starts reading one segment: its contents and its ack file. */
  #open(segment: Segment): void {
    const data = readFileSync(segment.file);
    this.#sink.resized(segment, data.length);
    this.#reading = segment;
    this.#readData = data;
    this.#readSettled = readAcks(segment.ackFile);
    this.#readOffset = 0;
    this.#corruptFrom = undefined;
  }
}
