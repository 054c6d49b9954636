/**
 * pino's output as lines: the stream's input handed over as strings ({@link keepStrings}), split
 * into lines ({@link splitLines}), and each line's time ({@link lineTime}: pino's default layout
 * read by a scan, any other one parsed). The per-line path of `cwbatch/pino` (index.ts).
 */
import { StringDecoder } from 'node:string_decoder';
import type { Transform } from 'node:stream';
import { eventTimestamp } from '../aws/transport.js';

/**
 * pino's default layout puts `level` then `time` (epoch ms) first: `{"level":30,"time":1764...,`
 * (or a string level). Read the time from there by scanning characters, without a regex match or
 * substrings (it runs once per line); any other layout (custom `timestamp`, `formatters.level`,
 * ...) falls back to `JSON.parse`.
 */
const LEVEL_PREFIX = '{"level":';
const TIME_KEY = ',"time":';

/** The `time` of pino's default layout (up to 16 digits), or -1 when the line has another layout. */
function defaultLayoutTime(line: string): number {
  if (!line.startsWith(LEVEL_PREFIX)) return -1;
  const n = line.length;
  let i = LEVEL_PREFIX.length;
  let c = line.charCodeAt(i);
  if (c === 34 /* " */) {
    for (i++; i < n; i++) {
      c = line.charCodeAt(i);
      if (c === 34) break;
      if (c === 92 /* \ */) return -1;
    }
    if (i >= n) return -1;
    i++;
  } else {
    const start = i;
    while (i < n && (c = line.charCodeAt(i)) >= 48 && c <= 57) i++;
    if (i === start) return -1;
  }
  if (!line.startsWith(TIME_KEY, i)) return -1;
  i += TIME_KEY.length;
  const start = i;
  let time = 0;
  while (i < n && i - start < 17 && (c = line.charCodeAt(i)) >= 48 && c <= 57) {
    time = time * 10 + (c - 48);
    i++;
  }
  const digits = i - start;
  if (digits === 0 || digits > 16) return -1;
  c = line.charCodeAt(i);
  return c === 44 /* , */ || c === 125 /* } */ ? time : -1;
}

/**
 * Lets the strings pino's worker writes (thread-stream decodes its shared buffer into a string
 * per read) reach the line splitter as strings. A Writable turns each written string into a
 * Buffer by default (`decodeStrings`), which the splitter would then decode back: two copies of
 * every byte, for nothing ({@link splitLines} takes a string as it is). Buffers written to the
 * stream are unchanged. On a Node whose stream state has no such setter, the assignment changes nothing.
 */
export function keepStrings(stream: Transform): void {
  const state = (stream as unknown as { _writableState?: { decodeStrings?: boolean } })._writableState;
  if (state !== undefined && state.decodeStrings === true) state.decodeStrings = false;
}

/**
 * What {@link splitLines} hands each line to: `undefined` to go on with the next line at once, or
 * a promise (never rejecting) to wait for before the next one, while the buffer holds the stream
 * back. Lines are handed over in order, one at a time.
 */
export type LineTaker = (line: string) => Promise<void> | undefined;

/**
 * Replaces the line splitting of pino-abstract-transport's stream (split2: a regular-expression
 * split of each chunk into an array of lines, pushed through the stream's readable side to the
 * transport's loop) with an `indexOf` walk that hands each line to `take` as it is found. When
 * `take` returns a promise, the walk resumes after it: the chunk's write is not done until then,
 * so the stream holds thread-stream back (the back-pressure) with no per-line object, promise or
 * trip through the readable side (issue 20: half of a burst's lines took that trip, a tenth of
 * the worker's CPU). At the end of a chunk, `chunkDone(length)` may ask for one more wait
 * (`length`: the chunk's, as the stream's `writableLength` counts it).
 * Same lines as split2: split at `\n`, one `\r` before it dropped (split2's `/\r?\n/`), the text
 * after the last `\n` kept for the next chunk and, at the end, taken as a last line. Issue 20:
 * pino's worker hands this stream chunks of up to thread-stream's whole buffer (4 MiB), where
 * split2's array of lines is one more large object per chunk. A line cut between chunks is joined
 * without copying the rest of the chunk. Buffers written to the stream are decoded as UTF-8
 * (characters cut between chunks included).
 */
export function splitLines(stream: Transform, take: LineTaker, chunkDone: (length: number) => Promise<void> | undefined): void {
  let rest = '';
  let decoder: StringDecoder | undefined;
  const one = (line: string): Promise<void> | undefined => take(line.charCodeAt(line.length - 1) === 13 /* \r */ ? line.slice(0, -1) : line);
  type Callback = (error?: Error | null) => void;
  /** Hands over the lines of `text` from `start` on; after a line that must be waited for, resumes once it is. */
  const walk = (text: string, start: number, length: number, callback: Callback): void => {
    let wait: Promise<void> | undefined;
    try {
      let end = text.indexOf('\n', start);
      while (end !== -1) {
        wait = one(text.slice(start, end));
        start = end + 1;
        if (wait !== undefined) break;
        end = text.indexOf('\n', start);
      }
      if (wait === undefined) {
        rest = start < text.length ? text.slice(start) : '';
        wait = chunkDone(length);
        if (wait === undefined) {
          callback();
          return;
        }
        void wait.then(() => callback());
        return;
      }
    } catch (error) {
      callback(error as Error);
      return;
    }
    void wait.then(() => walk(text, start, length, callback));
  };
  const internals = stream as unknown as {
    _transform(chunk: unknown, encoding: BufferEncoding, callback: Callback): void;
    _flush(callback: Callback): void;
  };
  internals._transform = (chunk, _encoding, callback) => {
    let text: string;
    let start = 0;
    let wait: Promise<void> | undefined;
    const length = (chunk as { length: number }).length;
    try {
      text = typeof chunk === 'string' ? chunk : (decoder ??= new StringDecoder('utf8')).write(chunk as Buffer);
      const end = text.indexOf('\n');
      if (end === -1) {
        rest += text;
        callback();
        return;
      }
      if (rest.length > 0) {
        const first = rest + text.slice(0, end);
        rest = '';
        start = end + 1;
        wait = one(first);
      }
    } catch (error) {
      callback(error as Error);
      return;
    }
    if (wait === undefined) walk(text, start, length, callback);
    else void wait.then(() => walk(text, start, length, callback));
  };
  internals._flush = (callback) => {
    try {
      const last = rest + (decoder?.end() ?? '');
      rest = '';
      // As split2: the text after the last newline, as it is (a `\r` there precedes no newline).
      const wait = last.length > 0 ? take(last) : undefined;
      if (wait !== undefined) {
        void wait.then(() => callback());
        return;
      }
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  };
}

/** The record's time (pino's `time`: epoch ms by default, or seconds, or an ISO string); now when absent. */
export function lineTime(line: string): number {
  const fast = defaultLayoutTime(line);
  if (fast >= 0) return eventTimestamp(fast, Date.now);
  return recordTime(parseRecord(line));
}

/** The line as JSON, or `undefined` when it is not JSON (a custom serializer: still shipped, as written). */
export function parseRecord(line: string): unknown {
  try {
    return JSON.parse(line) as unknown;
  } catch {
    return undefined;
  }
}

/** A parsed record's `time`; now when it has none (or is no record: it is shipped at the time it arrived). */
export function recordTime(record: unknown): number {
  const time = record !== null && typeof record === 'object' ? (record as { time?: unknown }).time : undefined;
  return eventTimestamp(time, Date.now);
}
