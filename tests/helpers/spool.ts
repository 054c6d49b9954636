/**
 * Spool fixtures shared by the durable-mode tests (unit and integration): what a kill -9 leaves
 * on disk, and the segments and records of a spool read with the documented framing
 * (`u32 length | u32 crc | payload`, little-endian), independently of src/batch/spool.
 */
import { cpSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './temp-dir.js';

/** The log group of the durable-mode unit tests. */
export const DURABLE_GROUP = '/app/durable';

/** A spool's segment files (`*.log`), sorted by name. */
export function segments(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.log'))
    .sort();
}

/** The whole records of one segment file as `[offset, length]` pairs (a torn last record is left out). */
export function records(file: string): Array<[number, number]> {
  const data = readFileSync(file);
  const out: Array<[number, number]> = [];
  for (let offset = 0; offset + 8 <= data.length; ) {
    const length = 8 + data.readUInt32LE(offset);
    if (offset + length > data.length) break;
    out.push([offset, length]);
    offset += length;
  }
  return out;
}

/** How many whole records the spool at `dir` holds, over all its segments. */
export function spooledRecords(dir: string): number {
  return segments(dir).reduce((n, file) => n + records(join(dir, file)).length, 0);
}

/**
 * What a kill -9 of the spool's owner leaves: a copy of its files as they are now, without the
 * dead owner's LOCK (the copy is removed when the test ends).
 */
export function crashCopy(dir: string): string {
  const copy = tempDir('cwbatch-crash-copy-');
  cpSync(dir, copy, { recursive: true, filter: (src) => !src.endsWith('LOCK') });
  return copy;
}
