import { describe, expect, it } from 'vitest';
import { calculateEventSize, splitMessage, truncateMessage, utf8ByteLength } from '../../../src/batch/index.js';

describe('event sizing', () => {
  it('UTF-8 bytes + 26, never string length', () => {
    expect(calculateEventSize({ timestamp: 0, message: 'Log message' })).toBe(11 + 26);
    expect(calculateEventSize('🚀')).toBe(4 + 26); // 2 UTF-16 units, 4 bytes
    expect(calculateEventSize('ü€')).toBe(2 + 3 + 26);
    expect(utf8ByteLength('\uD800')).toBe(3); // a lone surrogate is sent as U+FFFD
    expect(utf8ByteLength('')).toBe(0);
  });

  it('splitMessage cuts on code point boundaries, in order', () => {
    expect(splitMessage('abcdefghij', 4)).toEqual(['abcd', 'efgh', 'ij']);
    expect(splitMessage('a😀b😀', 4)).toEqual(['a', '😀', 'b', '😀']);
    expect(splitMessage('a😀b😀', 5)).toEqual(['a😀', 'b😀']);
    expect(splitMessage('€€€', 4)).toEqual(['€', '€', '€']);
    expect(splitMessage('short', 100)).toEqual(['short']);
    expect(() => splitMessage('x', 3)).toThrow(RangeError);
  });

  it('truncateMessage keeps the longest prefix that fits', () => {
    expect(truncateMessage('a😀b', 4)).toBe('a');
    expect(truncateMessage('a😀b', 5)).toBe('a😀');
    expect(truncateMessage('abc', 3)).toBe('abc');
    expect(truncateMessage('😀', 3)).toBe('');
  });
});
