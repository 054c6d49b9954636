/**
 * Reading back: GetLogEvents and FilterLogEvents. Paging tokens carry a sort key, never an
 * offset, so that events stored (even older ones), streams created and streams deleted between
 * two pages neither repeat nor skip an event that was there throughout. Event ids are
 * {@link eventId}: the same for an event whatever the query.
 */
import { setImmediate as yieldToOthers } from 'node:timers/promises';
import { calculateEventSize } from '../batch/event-size.js';
import { compileFilterPattern, FilterPatternError } from './filter.js';
import type { CompiledFilterPattern } from './filter.js';
import { checkName, groupFromRequest, streamFromRequest } from './lookup.js';
import type { OperationContext } from './lookup.js';
import { eventId, lowerBound, lowerBoundKey } from './store.js';
import type { LocalLogStream, StoredLogEvent } from './store.js';
import {
  decodeToken,
  encodeToken,
  invalidParameter,
  mutuallyExclusive,
  readBoolean,
  readInteger,
  readString,
  readStringList,
} from './validate.js';
import type { Body } from './validate.js';

/** Most bytes of events in one GetLogEvents / FilterLogEvents answer (API reference: 1 MB). */
const MAX_READ_BYTES = 1_048_576;
/** Most events per page (API reference: limit 1 to 10,000, default 10,000). */
const MAX_READ_EVENTS = 10_000;
/** FilterLogEvents yields to other requests after this many events or streams (issue 21). */
const YIELD_EVERY = 4_096;

const STREAM_NAME_RULE = { min: 1, max: 512, pattern: [/^[^:*]*$/, '[^:*]*'] as const };

function eventSize(e: StoredLogEvent): number {
  return calculateEventSize(e.message);
}

// ---------------------------------------------------------------------------------------------
// GetLogEvents

const DIGITS = 16;
const GET_TOKEN = /^([fb])\/(\d{16})(\d{16})$/;

/** `f/` or `b/` then the (timestamp, seq) key of a position, 16 digits each (AWS's tokens are `f/` + digits too). */
function positionToken(direction: 'f' | 'b', key: readonly [number, number]): string {
  return `${direction}/${String(key[0]).padStart(DIGITS, '0')}${String(key[1]).padStart(DIGITS, '0')}`;
}

/** The key of index `p`: the event there, or just past the last event (or `empty` for an empty stream). */
function keyAt(events: readonly StoredLogEvent[], p: number, empty: readonly [number, number]): [number, number] {
  const e = events[p];
  if (e !== undefined) return [e.timestamp, e.seq];
  const last = events[events.length - 1];
  return last === undefined ? [empty[0], empty[1]] : [last.timestamp, last.seq + 1];
}

/**
 * GetLogEvents. `f/KEY` reads forward from the first event at or after KEY, `b/KEY` reads
 * backward from just before KEY. At the end of the stream the token given is answered back,
 * which is how readers know to stop. startTime is inclusive, endTime exclusive (API reference).
 */
export function getLogEvents(ctx: OperationContext, body: Body): unknown {
  const group = groupFromRequest(ctx, body, true);
  const stream = streamFromRequest(group, body);
  const limit = readInteger(body, 'limit', 1, MAX_READ_EVENTS) ?? MAX_READ_EVENTS;
  const startTime = readInteger(body, 'startTime', 0, Number.MAX_SAFE_INTEGER);
  const endTime = readInteger(body, 'endTime', 0, Number.MAX_SAFE_INTEGER);
  const startFromHead = readBoolean(body, 'startFromHead') ?? false;
  readBoolean(body, 'unmask');
  const token = readString(body, 'nextToken', { min: 1 });
  const events = stream.events;
  const lo = startTime === undefined ? 0 : lowerBound(events, startTime);
  const hi = endTime === undefined ? events.length : Math.max(lo, lowerBound(events, endTime));
  const empty: [number, number] = [startTime ?? 0, 0];
  let forward: boolean;
  let position: number;
  if (token !== undefined) {
    const match = GET_TOKEN.exec(token);
    if (match === null) throw invalidParameter('The specified nextToken is invalid.');
    forward = match[1] === 'f';
    position = Math.min(hi, Math.max(lo, lowerBoundKey(events, Number(match[2]), Number(match[3]))));
  } else {
    forward = startFromHead;
    position = forward ? lo : hi;
  }
  let start = position;
  let end = position;
  let bytes = 0;
  if (forward) {
    while (end < hi && end - start < limit) {
      const size = eventSize(events[end] as StoredLogEvent);
      if (end > start && bytes + size > MAX_READ_BYTES) break;
      bytes += size;
      end++;
    }
  } else {
    while (start > lo && end - start < limit) {
      const size = eventSize(events[start - 1] as StoredLogEvent);
      if (start < end && bytes + size > MAX_READ_BYTES) break;
      bytes += size;
      start--;
    }
  }
  const out = new Array<{ timestamp: number; message: string; ingestionTime: number }>(end - start);
  for (let i = start; i < end; i++) {
    const e = events[i] as StoredLogEvent;
    out[i - start] = { timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime };
  }
  return {
    events: out,
    nextForwardToken: positionToken('f', keyAt(events, end, empty)),
    nextBackwardToken: positionToken('b', keyAt(events, start, empty)),
  };
}

// ---------------------------------------------------------------------------------------------
// FilterLogEvents

/** FilterLogEvents' token: the (timestamp, stream name, seq) key of the last event listed. */
interface FilterToken {
  t: number;
  s: string;
  q: number;
}

function isFilterToken(v: unknown): v is FilterToken {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return Number.isSafeInteger(o.t) && typeof o.s === 'string' && Number.isSafeInteger(o.q);
}

interface Cursor {
  readonly stream: LocalLogStream;
  /** The stream's name (the tie-break between streams). */
  readonly name: string;
  /** The stream's array when the search started: a consistent snapshot. */
  readonly events: readonly StoredLogEvent[];
  index: number;
  readonly end: number;
  /** Timestamp of `events[index]` (cached for the heap). */
  ts: number;
}

/** Orders cursors by their next event: timestamp, then stream name (seq order holds within a stream). */
function before(a: Cursor, b: Cursor): boolean {
  return a.ts < b.ts || (a.ts === b.ts && a.name < b.name);
}

/** A binary min-heap of cursors by {@link before}. */
class CursorHeap {
  readonly #items: Cursor[] = [];

  push(c: Cursor): void {
    const items = this.#items;
    let i = items.length;
    items.push(c);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as Cursor;
      if (!before(c, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = c;
  }

  peek(): Cursor | undefined {
    return this.#items[0];
  }

  /** Re-places the top after its index moved on (or removes it when exhausted). */
  advanceTop(): void {
    const items = this.#items;
    let c = items[0] as Cursor;
    if (c.index >= c.end) {
      const last = items.pop() as Cursor;
      if (items.length === 0) return;
      c = last;
    } else {
      c.ts = (c.events[c.index] as StoredLogEvent).timestamp;
    }
    const n = items.length;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      let m = l;
      if (r < n && before(items[r] as Cursor, items[l] as Cursor)) m = r;
      const child = items[m] as Cursor;
      if (!before(child, c)) break;
      items[i] = child;
      i = m;
    }
    items[i] = c;
  }
}

/** AWS-like wording for an invalid pattern (the engine's message, prefixed once). */
export function patternMessage(error: FilterPatternError): string {
  return /^invalid filter pattern/i.test(error.message) ? error.message : `Invalid filter pattern: ${error.message}`;
}

function compilePattern(body: Body): CompiledFilterPattern {
  const source = readString(body, 'filterPattern') ?? '';
  try {
    return compileFilterPattern(source);
  } catch (error) {
    if (error instanceof FilterPatternError) {
      throw invalidParameter(patternMessage(error));
    }
    throw error;
  }
}

/** The streams a FilterLogEvents request searches, sorted by name. */
function chosenStreams(streams: ReadonlyMap<string, LocalLogStream>, body: Body): LocalLogStream[] {
  mutuallyExclusive(body, 'logStreamNames', 'logStreamNamePrefix');
  const names = readStringList(body, 'logStreamNames', { min: 1, max: 100 }, STREAM_NAME_RULE);
  const prefix = readString(body, 'logStreamNamePrefix', STREAM_NAME_RULE);
  let chosen: LocalLogStream[];
  if (names !== undefined) {
    chosen = [];
    for (const n of new Set(names)) {
      const s = streams.get(n);
      if (s !== undefined) chosen.push(s);
    }
  } else if (prefix !== undefined) {
    chosen = [...streams.values()].filter((s) => s.name.startsWith(prefix));
  } else {
    chosen = [...streams.values()];
  }
  return chosen.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Where a stream's search starts: after the token's key, at or after startTime. */
function startIndex(events: readonly StoredLogEvent[], name: string, lo: number, after: FilterToken | undefined): number {
  if (after === undefined) return lo;
  let p: number;
  if (name < after.s) p = lowerBound(events, after.t + 1);
  else if (name === after.s) p = lowerBoundKey(events, after.t, after.q + 1);
  else p = lowerBound(events, after.t);
  return Math.max(lo, p);
}

/**
 * FilterLogEvents: events of the chosen streams interleaved by (timestamp, stream name, seq), a
 * k-way merge over a heap. startTime and endTime are both inclusive (the API reference excludes
 * only events later than endTime). Yields to the event loop every {@link YIELD_EVERY} events or
 * streams, so that a search over 100,000 streams never holds other requests for long.
 */
export async function filterLogEvents(ctx: OperationContext, body: Body): Promise<unknown> {
  const group = groupFromRequest(ctx, body, true);
  const limit = readInteger(body, 'limit', 1, MAX_READ_EVENTS) ?? MAX_READ_EVENTS;
  const startTime = readInteger(body, 'startTime', 0, Number.MAX_SAFE_INTEGER);
  const endTime = readInteger(body, 'endTime', 0, Number.MAX_SAFE_INTEGER);
  readBoolean(body, 'interleaved');
  readBoolean(body, 'unmask');
  const streams = chosenStreams(group.streams, body);
  const pattern = compilePattern(body);
  const after = body.nextToken == null ? undefined : decodeToken(body.nextToken, isFilterToken);
  if (after !== undefined) checkName('stream', after.s, 'nextToken');

  const heap = new CursorHeap();
  for (let i = 0; i < streams.length; i++) {
    if (i > 0 && i % YIELD_EVERY === 0) await yieldToOthers();
    const stream = streams[i] as LocalLogStream;
    const events = stream.events;
    const lo = startTime === undefined ? 0 : lowerBound(events, startTime);
    const hi = endTime === undefined ? events.length : lowerBound(events, endTime + 1);
    const index = startIndex(events, stream.name, lo, after);
    if (index < hi) heap.push({ stream, name: stream.name, events, index, end: hi, ts: (events[index] as StoredLogEvent).timestamp });
  }

  const out: Array<Record<string, unknown>> = [];
  let bytes = 0;
  let more = false;
  let scanned = 0;
  let lastKey: FilterToken | undefined;
  for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
    if (++scanned % YIELD_EVERY === 0) await yieldToOthers();
    const e = top.events[top.index] as StoredLogEvent;
    if (pattern.matches(e.message)) {
      const size = eventSize(e);
      if (out.length >= limit || (out.length > 0 && bytes + size > MAX_READ_BYTES)) {
        more = true;
        break;
      }
      bytes += size;
      lastKey = { t: e.timestamp, s: top.stream.name, q: e.seq };
      out.push({
        logStreamName: top.stream.name,
        timestamp: e.timestamp,
        message: e.message,
        ingestionTime: e.ingestionTime,
        eventId: eventId(top.stream, e),
      });
    }
    top.index++;
    heap.advanceTop();
  }
  const result: Record<string, unknown> = {
    events: out,
    searchedLogStreams: streams.map((s) => ({ logStreamName: s.name, searchedCompletely: !more })),
  };
  if (more && lastKey !== undefined) result.nextToken = encodeToken(lastKey);
  return result;
}
