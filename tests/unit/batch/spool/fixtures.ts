/**
 * What the spool tests share: the group, stream and start time they write with, the events they
 * write (one with multibyte text, quotes, a backslash and a newline; one plain), a record encoded
 * as the writer encodes it, and draining a spool's replay.
 */
import { Buffer } from 'node:buffer';
import type { InputLogEvent } from '../../../../src/batch/index.js';
import type { ReplayedEvent, Spool } from '../../../../src/batch/spool/index.js';
import { encodeNames, maxEventRecordBytes, writeEventRecord } from '../../../../src/batch/spool/record.js';
import { DURABLE_GROUP } from '../../../helpers/spool.js';

export const G = DURABLE_GROUP;
export const S = 'stream-1';
export const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

export const event = (i: number): InputLogEvent => ({ timestamp: T0 + i, message: `event #${i} Grüße 日本 🚀 "quoted" \\ back\nline` });

export const plainEvent = (i: number): InputLogEvent => ({ timestamp: T0 + i, message: `event #${i}` });

/** One record as the writer encodes it. */
export function record(group: string, stream: string, e: InputLogEvent): Buffer {
  const names = encodeNames(group, stream);
  const slab = Buffer.alloc(maxEventRecordBytes(names, e.message));
  return slab.subarray(0, writeEventRecord(slab, 0, names, e));
}

/** Every record replay hands out; `pauses` counts the peek()s that paused in a corrupted region. */
export function drain(spool: Spool, stats = { pauses: 0 }): ReplayedEvent[] {
  const out: ReplayedEvent[] = [];
  for (;;) {
    const next = spool.peekReplay();
    if (next === undefined) {
      if (!spool.replayPending) return out;
      stats.pauses++;
      continue;
    }
    out.push(next);
    spool.takeReplay();
  }
}
