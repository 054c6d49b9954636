import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_CONFIG, validateBatchConfig } from '../../../src/batch/index.js';

describe('DEFAULT_BATCH_CONFIG', () => {
  it('has the seed defaults and the rest', () => {
    expect(DEFAULT_BATCH_CONFIG).toEqual({
      maxEvents: 10_000,
      maxBytes: 1_048_576,
      flushIntervalMs: 5_000,
      maxRetries: 3,
      maxEventBytes: 1_048_576,
      oversizedEventPolicy: 'split',
      retryBaseDelayMs: 100,
      throttleBaseDelayMs: 500,
      retryMaxDelayMs: 20_000,
      maxRequeues: 3,
      maxBufferedBytes: 64 * 1024 * 1024,
      overflowPolicy: 'block',
      maxConcurrentFlushes: 4,
      flushTimeoutMs: 30_000,
      shutdownTimeoutMs: 30_000,
      adaptiveRate: true,
      streamIdleTimeoutMs: 300_000,
      bisectionBudget: 10,
    });
    expect(Object.isFrozen(DEFAULT_BATCH_CONFIG)).toBe(true);
  });
});

describe('validateBatchConfig', () => {
  it('fills in defaults and keeps given values; ignores hooks and unknown keys', () => {
    expect(validateBatchConfig()).toEqual(DEFAULT_BATCH_CONFIG);
    expect(validateBatchConfig({})).toEqual(DEFAULT_BATCH_CONFIG);
    const seedCustom = { maxEvents: 5000, maxBytes: 524288, flushIntervalMs: 2000, maxRetries: 5 };
    // The seed README's custom configuration works as written: maxEventBytes follows maxBytes down.
    expect(validateBatchConfig(seedCustom)).toEqual({ ...DEFAULT_BATCH_CONFIG, ...seedCustom, maxEventBytes: 524_288 });
    expect(validateBatchConfig({ maxBytes: 300_000, maxEventBytes: 262_144 }).maxEventBytes).toBe(262_144);
    const withHook = { maxRetries: 0, onDrop: () => undefined } as never;
    expect(validateBatchConfig(withHook).maxRetries).toBe(0);
  });

  it('accepts the boundaries', () => {
    expect(validateBatchConfig({ maxEvents: 1 }).maxEvents).toBe(1);
    expect(validateBatchConfig({ maxEvents: 10_000 }).maxEvents).toBe(10_000);
    expect(validateBatchConfig({ maxEventBytes: 262_144, maxBytes: 262_144 }).maxBytes).toBe(262_144);
    expect(validateBatchConfig({ shutdownTimeoutMs: 0 }).shutdownTimeoutMs).toBe(0);
    expect(validateBatchConfig({ streamIdleTimeoutMs: 0 }).streamIdleTimeoutMs).toBe(0);
    expect(() => validateBatchConfig({ streamIdleTimeoutMs: -1 })).toThrow(/`streamIdleTimeoutMs`.*got -1/);
    expect(() => validateBatchConfig({ streamIdleTimeoutMs: 1.5 })).toThrow(RangeError);
    expect(() => validateBatchConfig({ streamIdleTimeoutMs: '5' as unknown as number })).toThrow(TypeError);
    expect(validateBatchConfig({ retryBaseDelayMs: 0, throttleBaseDelayMs: 0, retryMaxDelayMs: 0 }).retryMaxDelayMs).toBe(0);
  });

  const ranges: Array<[string, unknown, RegExp]> = [
    ['maxEvents', 0, /`maxEvents`.*between 1 and 10000, got 0/],
    ['maxEvents', 10_001, /`maxEvents`.*got 10001/],
    ['maxEvents', 1.5, /`maxEvents`.*got 1\.5/],
    ['maxEvents', Number.NaN, /`maxEvents`.*got NaN/],
    ['maxBytes', 1_048_577, /`maxBytes`.*got 1048577/],
    ['maxBytes', 1_000, /`maxBytes`.*got 1000/],
    ['flushIntervalMs', 0, /`flushIntervalMs`.*got 0/],
    ['flushIntervalMs', Infinity, /`flushIntervalMs`.*got Infinity/],
    ['maxRetries', -1, /`maxRetries`.*got -1/],
    ['maxEventBytes', 100_000, /`maxEventBytes`.*got 100000/],
    ['maxEventBytes', 1_048_577, /`maxEventBytes`.*got 1048577/],
    ['oversizedEventPolicy', 'explode', /`oversizedEventPolicy`.*'split', 'truncate', 'drop'.*got 'explode'/],
    ['overflowPolicy', 'wait', /`overflowPolicy`.*got 'wait'/],
    ['maxConcurrentFlushes', 0, /`maxConcurrentFlushes`.*got 0/],
    ['flushTimeoutMs', 0, /`flushTimeoutMs`.*got 0/],
    ['maxBufferedBytes', 26, /`maxBufferedBytes`.*got 26/],
    ['maxRequeues', -1, /`maxRequeues`.*got -1/],
  ];
  for (const [key, value, message] of ranges) {
    it(`RangeError for ${key} = ${String(value)}`, () => {
      expect(() => validateBatchConfig({ [key]: value })).toThrow(RangeError);
      expect(() => validateBatchConfig({ [key]: value })).toThrow(message);
    });
  }

  const types: Array<[string, unknown, RegExp]> = [
    ['maxEvents', '100', /`maxEvents`.*got '100' \(a string\)/],
    ['maxBytes', null, /`maxBytes`.*got null/],
    ['flushIntervalMs', true, /`flushIntervalMs`.*got true \(boolean\)/],
    ['maxRetries', 3n, /`maxRetries`/],
    ['oversizedEventPolicy', 1, /`oversizedEventPolicy`.*got 1 \(number\)/],
    ['overflowPolicy', {}, /`overflowPolicy`/],
  ];
  for (const [key, value, message] of types) {
    it(`TypeError for ${key} = ${typeof value}`, () => {
      expect(() => validateBatchConfig({ [key]: value } as never)).toThrow(TypeError);
      expect(() => validateBatchConfig({ [key]: value } as never)).toThrow(message);
    });
  }

  it('cross-checks: maxEventBytes <= maxBytes, retryMaxDelayMs >= retryBaseDelayMs', () => {
    expect(() => validateBatchConfig({ maxBytes: 300_000, maxEventBytes: 400_000 })).toThrow(/`maxEventBytes` \(400000\).*`maxBytes` \(300000\)/);
    expect(() => validateBatchConfig({ maxBytes: 300_000, maxEventBytes: 400_000 })).toThrow(RangeError);
    expect(() => validateBatchConfig({ retryBaseDelayMs: 500, retryMaxDelayMs: 100 })).toThrow(/`retryMaxDelayMs` \(100\).*`retryBaseDelayMs` \(500\)/);
  });

  it('TypeError for a non-object configuration', () => {
    expect(() => validateBatchConfig(null as never)).toThrow(TypeError);
    expect(() => validateBatchConfig(42 as never)).toThrow(/got number/);
  });
});
