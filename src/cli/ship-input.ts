/**
 * From lines read to the events `ship` adds (issue 21): empty lines skipped, invalid UTF-8
 * counted (and dropped if asked), the parts of an over-long line handled by the oversized
 * policy, multi-line events joined, each event's timestamp taken from its (first) line.
 */
import type { InputLogEvent, OversizedEventPolicy } from '../batch/types.js';
import type { ReadLine } from './lines.js';
import { MultilineJoiner, type JoinedEvent, type MultilineRule } from './multiline.js';
import { lineTimestamp } from './timestamp.js';

/** What the input held, for the summary. */
export interface InputCounts {
  /** Lines read (a line longer than the limit counts once). */
  linesRead: number;
  /** Empty lines, skipped (CloudWatch Logs refuses empty messages). */
  emptyLines: number;
  /** Lines (or parts of a long line) with bytes that are not UTF-8. */
  invalidLines: number;
  /** Bytes that were not UTF-8. */
  invalidBytes: number;
  /** Lines (or parts) dropped for invalid UTF-8 under `--invalid-utf8 drop`. */
  invalidDropped: number;
  /** Lines longer than the largest event. */
  longLines: number;
  /** Events the long lines became (parts under split, one each under truncate, none under drop). */
  longEvents: number;
  /** Multi-line events of more than one line, and the lines they hold. */
  joinedEvents: number;
  joinedLines: number;
}

/** Options of {@link ShipInput}. */
export interface ShipInputOptions {
  oversized: OversizedEventPolicy;
  invalidUtf8: 'replace' | 'drop';
  multiline: MultilineRule | undefined;
  multilineTimeoutMs: number;
  /** Most UTF-8 bytes of one message (the largest event minus its 26-byte overhead). */
  maxMessageBytes: number;
}

/** Turns lines into events; not thread-like: call in the order the lines were read. */
export class ShipInput {
  readonly counts: InputCounts = {
    linesRead: 0,
    emptyLines: 0,
    invalidLines: 0,
    invalidBytes: 0,
    invalidDropped: 0,
    longLines: 0,
    longEvents: 0,
    joinedEvents: 0,
    joinedLines: 0,
  };
  readonly #options: ShipInputOptions;
  readonly #joiner: MultilineJoiner | undefined;
  /** When the first part of the current long line was read, ms. */
  #longReadAt = 0;

  constructor(options: ShipInputOptions) {
    this.#options = options;
    this.#joiner =
      options.multiline === undefined
        ? undefined
        : new MultilineJoiner({ rule: options.multiline, timeoutMs: options.multilineTimeoutMs, maxBytes: options.maxMessageBytes });
  }

  /** When a pending multi-line event is due (ms), if one is pending. */
  get deadline(): number | undefined {
    return this.#joiner?.deadline;
  }

  /** The events that `lines`, read at `readAt`, complete. */
  take(lines: readonly ReadLine[], readAt: number): InputLogEvent[] {
    const out: InputLogEvent[] = [];
    for (const line of lines) {
      if (line.last) this.counts.linesRead++;
      if (!this.#keepValid(line)) continue;
      if (line.part > 0) this.#takePart(line, readAt, out);
      else if (line.text.length === 0) this.counts.emptyLines++;
      else if (this.#joiner === undefined) out.push({ timestamp: lineTimestamp(line.text, readAt), message: line.text });
      else this.#joined(this.#joiner.push({ text: line.text, readAt }), out);
    }
    return out;
  }

  /** A pending multi-line event whose wait is over at `now`. */
  due(now: number): InputLogEvent[] {
    const out: InputLogEvent[] = [];
    if (this.#joiner !== undefined) this.#joined(this.#joiner.due(now), out);
    return out;
  }

  /** What is left at the end of input. */
  end(): InputLogEvent[] {
    const out: InputLogEvent[] = [];
    if (this.#joiner !== undefined) this.#joined(this.#joiner.end(), out);
    return out;
  }

  /** Counts invalid UTF-8; false when the line (or part) is dropped for it. */
  #keepValid(line: ReadLine): boolean {
    if (line.invalidBytes === 0) return true;
    this.counts.invalidLines++;
    this.counts.invalidBytes += line.invalidBytes;
    if (this.#options.invalidUtf8 === 'replace') return true;
    this.counts.invalidDropped++;
    return false;
  }

  /** One part of a line longer than the largest event, under the oversized policy. */
  #takePart(line: ReadLine, readAt: number, out: InputLogEvent[]): void {
    if (line.part === 1) {
      this.counts.longLines++;
      this.#longReadAt = readAt;
      // A long line is never joined: what was pending goes first.
      if (this.#joiner !== undefined) this.#joined(this.#joiner.end(), out);
    }
    const policy = this.#options.oversized;
    if (policy === 'drop' || (policy === 'truncate' && line.part > 1) || line.text.length === 0) return;
    this.counts.longEvents++;
    out.push({ timestamp: this.#longReadAt, message: line.text });
  }

  #joined(events: readonly JoinedEvent[], out: InputLogEvent[]): void {
    for (const e of events) {
      if (e.lines > 1) {
        this.counts.joinedEvents++;
        this.counts.joinedLines += e.lines;
      }
      out.push({ timestamp: lineTimestamp(e.first, e.readAt), message: e.text });
    }
  }
}
