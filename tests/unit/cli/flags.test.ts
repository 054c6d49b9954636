/** Flag values (issue 21): every invalid value is a UsageError naming the flag and its range; endpoint and Region resolved once. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_REQUEST_TIMEOUT_MS, resolveDestination } from '../../../src/cli/endpoint.js';
import { parseShipArgs, type ShipOptions } from '../../../src/cli/ship-options.js';
import { formatDuration, formatSize, parseDuration, parseSize, UsageError } from '../../../src/cli/usage.js';

const ship = (...extra: string[]): ShipOptions => parseShipArgs(['-g', 'g', '-s', 's', ...extra]) as ShipOptions;
const usageError = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error('no UsageError');
};

describe('ship flags', () => {
  it.each([
    [['--max-buffer', '99999999G'], /^--max-buffer must be between 1M to 64G, got "99999999G"$/],
    [['--max-buffer', '512K'], /^--max-buffer must be between 1M to 64G/],
    [['--flush-interval', '1000h'], /^--flush-interval must be between 1ms to 24h, got "1000h"$/],
    [['--flush-interval', '0'], /^--flush-interval must be between 1ms to 24h/],
    [['--shutdown-timeout', '1000h'], /^--shutdown-timeout must be between 0ms to 24h, got "1000h"$/],
    [['--multiline-timeout', 'soon'], /^--multiline-timeout expects a duration such as 500ms, 5s or 2m \(1ms to 1h\)/],
    [['--oversized', 'shrink'], /^--oversized expects one of split, truncate, drop, got "shrink"$/],
    [['--invalid-utf8', 'keep'], /^--invalid-utf8 expects one of replace, drop/],
    [['--multiline', 'java'], /^--multiline expects one of auto/],
    [['--multiline-start', '(unclosed'], /^--multiline-start expects a JavaScript regular expression/],
    [['--multiline', 'auto', '--multiline-start', 'x'], /exclude each other/],
  ])('%j is refused: %s', (args, message) => {
    expect(usageError(() => ship(...args))).toMatch(message);
  });

  it('accepts the bounds and the documented defaults', () => {
    const defaults = ship();
    expect(defaults).toMatchObject({ flushIntervalMs: 1_000, maxBufferedBytes: 64 * 1024 ** 2, shutdownTimeoutMs: 30_000, oversized: 'split', invalidUtf8: 'replace', multiline: undefined, multilineTimeoutMs: 1_000 });
    expect(ship('--max-buffer', '64G', '--flush-interval', '24h', '--shutdown-timeout', '0').maxBufferedBytes).toBe(64 * 1024 ** 3);
    expect(ship('--multiline-start', '^\\d').multiline).toEqual({ start: /^\d/ });
  });

  it('parseDuration/parseSize: any value either parses within the range or is a UsageError naming the flag', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), fc.nat(1_000_000), fc.nat(1_000_000), (value, a, b) => {
        const [min, max] = a <= b ? [a, b] : [b, a];
        for (const parse of [parseDuration, parseSize]) {
          try {
            const n = parse('x', value, -1, min, max);
            expect(n).toBeGreaterThanOrEqual(min);
            expect(n).toBeLessThanOrEqual(max);
          } catch (error) {
            expect(error).toBeInstanceOf(UsageError);
            expect((error as Error).message.startsWith('--x ')).toBe(true);
          }
        }
      }),
    );
  });

  it('formatDuration/formatSize read back as the same value', () => {
    fc.assert(
      fc.property(fc.nat(100 * 86_400_000), fc.nat(2 ** 40), (ms, bytes) => {
        expect(parseDuration('x', formatDuration(ms), -1, 0, Number.MAX_SAFE_INTEGER)).toBe(ms);
        expect(parseSize('x', formatSize(bytes), -1)).toBe(bytes);
      }),
    );
  });
});

describe('resolveDestination', () => {
  it('the flag, then AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, then AWS_ENDPOINT_URL; us-east-1 with a custom endpoint', () => {
    expect(resolveDestination({ endpoint: 'http://127.0.0.1:1' }, {})).toEqual({
      endpoint: 'http://127.0.0.1:1',
      region: 'us-east-1',
      label: 'http://127.0.0.1:1',
      connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
      requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS,
    });
    const env = { AWS_ENDPOINT_URL_CLOUDWATCH_LOGS: 'http://a:1', AWS_ENDPOINT_URL: 'http://b:1', AWS_REGION: 'eu-west-1' };
    expect(resolveDestination({}, env)).toMatchObject({ endpoint: undefined, label: 'http://a:1', region: 'eu-west-1' });
    expect(resolveDestination({}, { AWS_ENDPOINT_URL: 'http://b:1' })).toMatchObject({ label: 'http://b:1', region: 'us-east-1' });
    expect(resolveDestination({ region: 'ap-south-1' }, {})).toMatchObject({ label: 'the AWS endpoint of ap-south-1' });
    expect(resolveDestination({}, {})).toMatchObject({ region: undefined, label: 'the AWS endpoint of the configured Region' });
    expect(resolveDestination({ 'connect-timeout': '2s', 'request-timeout': '500ms' }, {})).toMatchObject({ connectTimeoutMs: 2_000, requestTimeoutMs: 500 });
  });

  it('refuses a URL that does not parse or is not http(s), naming where it came from, and timeouts out of range', () => {
    expect(usageError(() => resolveDestination({ endpoint: 'not a url' }, {}))).toMatch(/^--endpoint expects an http:\/\/ or https:\/\/ URL .*got "not a url"$/);
    expect(usageError(() => resolveDestination({ endpoint: 'ftp://x' }, {}))).toMatch(/^--endpoint expects an http/);
    expect(usageError(() => resolveDestination({}, { AWS_ENDPOINT_URL: 'nope' }))).toMatch(/^AWS_ENDPOINT_URL expects an http/);
    expect(usageError(() => resolveDestination({ region: 'Not A Region' }, {}))).toMatch(/^--region expects a Region name/);
    expect(usageError(() => resolveDestination({ 'request-timeout': '1h' }, {}))).toMatch(/^--request-timeout must be between 1ms to 10m/);
    expect(usageError(() => resolveDestination({ 'connect-timeout': '0' }, {}))).toMatch(/^--connect-timeout must be between 1ms to 10m/);
  });
});
