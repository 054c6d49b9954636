/**
 * The spool's record format. A record is `u32 length | u32 crc32(payload) | payload`
 * (little-endian). An event's payload is `u8 1 (format) | f64 timestamp | u16 group bytes |
 * u16 stream bytes | group | stream | message`, names and message in UTF-8; payloads of the
 * first format, the JSON array `[group, stream, timestamp, message]`, are still read. An ack
 * record has the same framing, its payload a list of u32 offsets.
 */
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { Buffer } from 'node:buffer';
import type { InputLogEvent } from '../types.js';

/** Length and checksum before each payload. */
export const HEADER_BYTES = 8;
/**
 * Segment and ack file names: `seg-<number>` of any width (the spool writes 16 digits, zero
 * padded, and more once the numbers outgrow them); ordered by the number ({@link segmentNumber}),
 * never by the name.
 */
export const SEGMENT_PATTERN = /^seg-(\d+)\.log$/;
export const ACK_PATTERN = /^seg-(\d+)\.ack$/;

/** The number in a segment's file name (a BigInt: any width is exact), or undefined for another name. */
export function segmentNumber(name: string): bigint | undefined {
  const digits = SEGMENT_PATTERN.exec(name)?.[1];
  return digits === undefined ? undefined : BigInt(digits);
}

/** The file name of segment number `n` (without the extension): at least 16 digits. */
export function segmentName(n: bigint): string {
  return `seg-${n.toString().padStart(16, '0')}`;
}
/** The first byte of a payload in the binary format (a JSON payload, the first format, starts with `[`). */
const PAYLOAD_FORMAT = 1;
/** Format byte and f64 timestamp of a binary payload; the two u16 name lengths count with the names. */
export const PAYLOAD_FIXED_BYTES = 9;
/** Larger than any valid record (two 512-character names and a 1 MB message, JSON-escaped). */
export const MAX_RECORD_BYTES = 8 * 1024 * 1024;
/** The most UTF-8 bytes of a log group or stream name: 512 UTF-16 units at 3 bytes each at most. */
const MAX_NAME_BYTES = 512 * 3;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;

/** The `u16 | u16 | group | stream` part of an event's payload. */
export function encodeNames(group: string, stream: string): Buffer {
  const groupBytes = Buffer.from(group, 'utf8');
  const streamBytes = Buffer.from(stream, 'utf8');
  const names = Buffer.allocUnsafe(4 + groupBytes.length + streamBytes.length);
  names.writeUInt16LE(groupBytes.length, 0);
  names.writeUInt16LE(streamBytes.length, 2);
  groupBytes.copy(names, 4);
  streamBytes.copy(names, 4 + groupBytes.length);
  return names;
}

/** The most bytes an event's record can take: the message counted at 3 UTF-8 bytes per UTF-16 unit. */
export function maxEventRecordBytes(names: Buffer, message: string): number {
  return HEADER_BYTES + PAYLOAD_FIXED_BYTES + names.length + 3 * message.length;
}

/**
 * Encodes an event's record into `slab` at `at` (room for {@link maxEventRecordBytes} is the
 * caller's to make), straight from the strings; returns the record's length.
 */
export function writeEventRecord(slab: Buffer, at: number, names: Buffer, event: InputLogEvent): number {
  const message = event.message;
  const payloadAt = at + HEADER_BYTES;
  const messageAt = payloadAt + PAYLOAD_FIXED_BYTES + names.length;
  const worstEnd = messageAt + 3 * message.length;
  slab[payloadAt] = PAYLOAD_FORMAT;
  slab.writeDoubleLE(event.timestamp, payloadAt + 1);
  names.copy(slab, payloadAt + PAYLOAD_FIXED_BYTES);
  // Room for the longest the message can be in UTF-8; write() says what it took.
  const end = messageAt + slab.write(message, messageAt, worstEnd - messageAt, 'utf8');
  const payloadBytes = end - payloadAt;
  slab.writeUInt32LE(payloadBytes, at);
  slab.writeUInt32LE(crc32(slab.subarray(payloadAt, end)), at + 4);
  return HEADER_BYTES + payloadBytes;
}

/** An ack record: the offsets of settled records. */
export function ackRecord(offsets: readonly number[]): Buffer {
  const record = Buffer.allocUnsafe(HEADER_BYTES + 4 * offsets.length);
  record.writeUInt32LE(4 * offsets.length, 0);
  for (let i = 0; i < offsets.length; i++) record.writeUInt32LE(offsets[i] as number, HEADER_BYTES + 4 * i);
  record.writeUInt32LE(crc32(record.subarray(HEADER_BYTES)), 4);
  return record;
}

/** Offsets acknowledged in an ack file; a torn or corrupted ack record is ignored (its events are sent again). */
export function readAcks(file: string): Set<number> {
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

/**
 * Cheap checks that a record could start at `offset`, before its checksum is computed: the
 * length fits, and the payload has the shape the spool writes (binary: an integer timestamp >= 0
 * and names of 1 to 1,536 bytes; JSON: `["` ... `]`). Every record the spool wrote passes; random
 * bytes almost never do, so looking for the next record after a corrupted one costs about a
 * constant per byte, not a checksum of up to 8 MiB per byte.
 */
export function couldStartRecord(data: Buffer, offset: number): boolean {
  // The length is at most MAX_RECORD_BYTES (0x800000): its top byte is 0 and the next at most
  // 0x80. Checked on the bytes first: this rejects 255 offsets in 256 of random data at once.
  if (data[offset + 3] !== 0 || (data[offset + 2] as number) > 0x80) return false;
  if (offset + HEADER_BYTES + 1 > data.length) return false;
  const length = data.readUInt32LE(offset);
  if (length === 0 || length > MAX_RECORD_BYTES) return false;
  const payloadAt = offset + HEADER_BYTES;
  const end = payloadAt + length;
  if (end > data.length) return false;
  const format = data[payloadAt];
  if (format === PAYLOAD_FORMAT) {
    if (length < PAYLOAD_FIXED_BYTES + 4) return false;
    const timestamp = data.readDoubleLE(payloadAt + 1);
    if (!Number.isInteger(timestamp) || timestamp < 0) return false;
    const groupBytes = data.readUInt16LE(payloadAt + PAYLOAD_FIXED_BYTES);
    const streamBytes = data.readUInt16LE(payloadAt + PAYLOAD_FIXED_BYTES + 2);
    return groupBytes >= 1 && groupBytes <= MAX_NAME_BYTES && streamBytes >= 1 && streamBytes <= MAX_NAME_BYTES && PAYLOAD_FIXED_BYTES + 4 + groupBytes + streamBytes <= length;
  }
  return format === OPEN_BRACKET && length >= 2 && data[payloadAt + 1] === QUOTE && data[end - 1] === CLOSE_BRACKET;
}

export function parseRecord(
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
