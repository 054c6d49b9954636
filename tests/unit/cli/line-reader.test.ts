/** LineReader: lines cut from bytes in any chunking, long lines in bounded parts, invalid UTF-8 counted (issue 21). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countInvalidUtf8, LineReader, type ReadLine } from '../../../src/cli/lines.js';

/** Feeds `bytes` to a reader in the given chunk sizes, then ends it. */
function readAll(bytes: Buffer, max: number, cuts: number[]): ReadLine[] {
  const reader = new LineReader(max);
  const out: ReadLine[] = [];
  let at = 0;
  for (const n of cuts) {
    if (at >= bytes.length) break;
    // A reused block: the reader must copy what it keeps.
    const block = Buffer.from(bytes.subarray(at, at + n));
    out.push(...reader.push(block));
    block.fill(0x21);
    expect(reader.heldBytes).toBeLessThanOrEqual(max);
    at += n;
  }
  if (at < bytes.length) out.push(...reader.push(Buffer.from(bytes.subarray(at))));
  out.push(...reader.end());
  return out;
}

/** Joins parts back into whole lines. */
function join(lines: ReadLine[]): string[] {
  const whole: string[] = [];
  let current = '';
  for (const l of lines) {
    current += l.text;
    if (l.last) {
      whole.push(current);
      current = '';
    }
  }
  expect(current).toBe('');
  return whole;
}

/** The reference: split on "\n", drop one "\r" before it, drop the empty string after a final "\n". */
function reference(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

const textArb = fc.array(
  fc.oneof(fc.constantFrom('\n', '\r\n', '\r', 'a', 'é', '日', '🚀', ' '), fc.string({ maxLength: 30 })),
  { maxLength: 60 },
).map((parts) => parts.join(''));
const cutsArb = fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 40 });

describe('LineReader', () => {
  it('gives the lines of valid UTF-8 text whatever the chunking; parts stay within the limit and join back', () => {
    fc.assert(
      fc.property(textArb, fc.integer({ min: 4, max: 64 }), cutsArb, (text, max, cuts) => {
        const lines = readAll(Buffer.from(text), max, cuts);
        for (const l of lines) {
          expect(Buffer.byteLength(l.text)).toBeLessThanOrEqual(max);
          expect(l.invalidBytes).toBe(0);
        }
        // A line with parts numbers them 1, 2, ...; a whole line is part 0.
        let expectedPart = 1;
        for (const l of lines) {
          if (l.part === 0) {
            expect(l.last).toBe(true);
            continue;
          }
          expect(l.part).toBe(expectedPart);
          expectedPart = l.last ? 1 : expectedPart + 1;
        }
        const joined = join(lines);
        // Cutting a "\r\n" is avoided, so joined parts equal the reference lines exactly.
        expect(joined).toEqual(reference(text));
      }),
      { numRuns: 1_500 },
    );
  });

  it('never splits a character: every part decodes without replacement characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 200 }), fc.integer({ min: 4, max: 16 }), cutsArb, (text, max, cuts) => {
        // Without U+FFFD of its own (fast-check's graphemes include it): any in the parts was made by a cut.
        const clean = text.replaceAll('\n', '').replaceAll('\r', '').replaceAll('\uFFFD', '');
        const lines = readAll(Buffer.from(clean), max, cuts);
        for (const l of lines) expect(l.text).not.toContain('\uFFFD');
        expect(lines.map((l) => l.text).join('')).toBe(clean);
      }),
    );
  });

  it('counts invalid UTF-8 bytes, the same in any chunking and for any limit', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), cutsArb, (raw, cuts) => {
        const bytes = Buffer.from(raw.map((b) => (b === 0x0a ? 0x20 : b)));
        const whole = readAll(bytes, 1 << 20, cuts);
        const expected = bytes.length === 0 ? 0 : countInvalidUtf8(bytes, bytes.toString('utf8'));
        expect(whole.reduce((n, l) => n + l.invalidBytes, 0)).toBe(expected);
        if (bytes.length > 0) expect(whole).toHaveLength(1);
      }),
    );
  });

  it('countInvalidUtf8: 0 for valid text (a genuine U+FFFD included), one per stray byte', () => {
    const count = (b: Buffer): number => countInvalidUtf8(b, b.toString('utf8'));
    expect(count(Buffer.from('ok \uFFFD 日本'))).toBe(0);
    expect(count(Buffer.from([0x61, 0xff, 0x62]))).toBe(1);
    expect(count(Buffer.from([0xc3]))).toBe(1); // a lone lead byte
    expect(count(Buffer.from([0xe6, 0x97]))).toBe(2); // a truncated 3-byte character
    expect(count(Buffer.from([0x80, 0x80, 0x80, 0x41]))).toBe(3);
    expect(count(Buffer.concat([Buffer.from('\uFFFD'), Buffer.from([0xfe])]))).toBe(1);
  });

  it('holds at most the limit of a line that never ends, whatever its length', () => {
    const reader = new LineReader(1_000);
    const block = Buffer.alloc(4_096, 0x78);
    let parts = 0;
    let bytes = 0;
    for (let i = 0; i < 1_000; i++) {
      for (const l of reader.push(block)) {
        parts++;
        bytes += l.text.length;
        expect(l.last).toBe(false);
      }
      expect(reader.heldBytes).toBeLessThanOrEqual(1_000);
    }
    const [last] = reader.end();
    expect(last?.last).toBe(true);
    expect(bytes + (last?.text.length ?? 0)).toBe(4_096_000);
    expect(parts).toBe(4_095);
  });
});
