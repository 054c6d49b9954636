import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { resolveStreamName } from '../../../src/aws/index.js';

const now = () => Date.UTC(2026, 10, 26, 23, 59, 59, 999);

describe('resolveStreamName', () => {
  it('replaces {hostname}, {pid} and {date} (UTC)', () => {
    expect(resolveStreamName('{hostname}/{date}/{pid}', { now, hostname: 'web-1', pid: 4242 })).toBe('web-1/2026-11-26/4242');
  });

  it('uses UTC at the day boundary, not local time', () => {
    expect(resolveStreamName('{date}', { now: () => Date.UTC(2026, 0, 1, 0, 0, 0) })).toBe('2026-01-01');
    expect(resolveStreamName('{date}', { now: () => Date.UTC(2025, 11, 31, 23, 59, 59, 999) })).toBe('2025-12-31');
  });

  it('replaces every occurrence and keeps other text', () => {
    expect(resolveStreamName('app-{pid}-{pid} [x]', { pid: 7 })).toBe('app-7-7 [x]');
    expect(resolveStreamName('plain')).toBe('plain');
  });

  it('defaults to os.hostname(), process.pid and the real clock', () => {
    const today = new Date().toISOString().slice(0, 10);
    const name = resolveStreamName('{hostname}.{pid}.{date}');
    expect(name).toBe(`${hostname()}.${process.pid}.${today}`);
  });

  it('refuses unknown placeholders, naming them', () => {
    expect(() => resolveStreamName('{host}-{pid}', { pid: 1 })).toThrow(RangeError);
    expect(() => resolveStreamName('{host}', {})).toThrow(/`\{host\}`/);
  });

  it('refuses a result that is not a valid stream name', () => {
    expect(() => resolveStreamName('{hostname}', { hostname: 'a:b' })).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(() => resolveStreamName('')).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
    expect(() => resolveStreamName('x'.repeat(513))).toThrow(/512/);
  });
});
