/** Defaults and validation of {@link BatchConfig}. Bad options throw at construction, naming the option and the value. */
import { LEGACY_MAX_EVENT_BYTES, MAX_BATCH_BYTES, MAX_BATCH_EVENTS, MAX_EVENT_BYTES, EVENT_OVERHEAD_BYTES } from './limits.js';
import type { BatchConfig, OverflowPolicy, OversizedEventPolicy } from './types.js';

/** The defaults: the seed's four, then the rest. */
export const DEFAULT_BATCH_CONFIG: Readonly<BatchConfig> = Object.freeze({
  maxEvents: MAX_BATCH_EVENTS,
  maxBytes: MAX_BATCH_BYTES,
  flushIntervalMs: 5_000,
  maxRetries: 3,
  maxEventBytes: MAX_EVENT_BYTES,
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

const OVERSIZED_POLICIES: readonly OversizedEventPolicy[] = ['split', 'truncate', 'drop'];
const OVERFLOW_POLICIES: readonly OverflowPolicy[] = ['block', 'drop-oldest', 'drop-newest'];

/**
 * Fills in defaults and checks every option. Unknown keys are ignored (hooks travel in the same
 * object). Throws `TypeError` for a wrong type and `RangeError` for a value out of range, e.g.
 * "Expected `maxEvents` to be an integer between 1 and 10000, got 0".
 */
export function validateBatchConfig(config: Partial<BatchConfig> = {}): BatchConfig {
  if (config === null || typeof config !== 'object') {
    throw new TypeError(`Expected the batch configuration to be an object, got ${config === null ? 'null' : typeof config}`);
  }
  const pick = <K extends keyof BatchConfig>(key: K): BatchConfig[K] =>
    (config[key] === undefined ? DEFAULT_BATCH_CONFIG[key] : config[key]) as BatchConfig[K];
  const maxBytes = integer('maxBytes', pick('maxBytes'), LEGACY_MAX_EVENT_BYTES, MAX_BATCH_BYTES);
  // Unset, maxEventBytes follows a smaller maxBytes down: the seed's own custom configuration
  // (`maxBytes: 524288`) must work as written. Only an explicit conflict is an error.
  const maxEventBytes = config.maxEventBytes === undefined ? Math.min(DEFAULT_BATCH_CONFIG.maxEventBytes, maxBytes) : config.maxEventBytes;
  const resolved: BatchConfig = {
    maxEvents: integer('maxEvents', pick('maxEvents'), 1, MAX_BATCH_EVENTS),
    maxBytes,
    flushIntervalMs: integer('flushIntervalMs', pick('flushIntervalMs'), 1, 2_147_483_647),
    maxRetries: integer('maxRetries', pick('maxRetries'), 0, 100),
    maxEventBytes: integer('maxEventBytes', maxEventBytes, LEGACY_MAX_EVENT_BYTES, MAX_EVENT_BYTES),
    oversizedEventPolicy: oneOf('oversizedEventPolicy', pick('oversizedEventPolicy'), OVERSIZED_POLICIES),
    retryBaseDelayMs: integer('retryBaseDelayMs', pick('retryBaseDelayMs'), 0, 3_600_000),
    throttleBaseDelayMs: integer('throttleBaseDelayMs', pick('throttleBaseDelayMs'), 0, 3_600_000),
    retryMaxDelayMs: integer('retryMaxDelayMs', pick('retryMaxDelayMs'), 0, 3_600_000),
    maxRequeues: integer('maxRequeues', pick('maxRequeues'), 0, 1_000),
    maxBufferedBytes: integer('maxBufferedBytes', pick('maxBufferedBytes'), EVENT_OVERHEAD_BYTES + 1, Number.MAX_SAFE_INTEGER),
    overflowPolicy: oneOf('overflowPolicy', pick('overflowPolicy'), OVERFLOW_POLICIES),
    maxConcurrentFlushes: integer('maxConcurrentFlushes', pick('maxConcurrentFlushes'), 1, 1_000),
    flushTimeoutMs: integer('flushTimeoutMs', pick('flushTimeoutMs'), 1, 2_147_483_647),
    shutdownTimeoutMs: integer('shutdownTimeoutMs', pick('shutdownTimeoutMs'), 0, 2_147_483_647),
    adaptiveRate: boolean('adaptiveRate', pick('adaptiveRate')),
    streamIdleTimeoutMs: integer('streamIdleTimeoutMs', pick('streamIdleTimeoutMs'), 0, Number.MAX_SAFE_INTEGER),
    bisectionBudget: integer('bisectionBudget', pick('bisectionBudget'), 0, MAX_BATCH_EVENTS),
  };
  if (resolved.maxEventBytes > resolved.maxBytes) {
    throw new RangeError(
      `Expected \`maxEventBytes\` (${resolved.maxEventBytes}) to be at most \`maxBytes\` (${resolved.maxBytes}): one event must fit in a batch`,
    );
  }
  if (resolved.retryMaxDelayMs < resolved.retryBaseDelayMs) {
    throw new RangeError(
      `Expected \`retryMaxDelayMs\` (${resolved.retryMaxDelayMs}) to be at least \`retryBaseDelayMs\` (${resolved.retryBaseDelayMs})`,
    );
  }
  return resolved;
}

function integer(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number') {
    throw new TypeError(`Expected \`${name}\` to be an integer between ${min} and ${max}, got ${describeValue(value)}`);
  }
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`Expected \`${name}\` to be an integer between ${min} and ${max}, got ${value}`);
  }
  return value;
}

function boolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`Expected \`${name}\` to be a boolean, got ${describeValue(value)}`);
  return value;
}

function oneOf<T extends string>(name: string, value: unknown, allowed: readonly T[]): T {
  if (typeof value !== 'string') {
    throw new TypeError(`Expected \`${name}\` to be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describeValue(value)}`);
  }
  if (!(allowed as readonly string[]).includes(value)) {
    throw new RangeError(`Expected \`${name}\` to be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got '${value}'`);
  }
  return value as T;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value}' (a string)`;
  return `${String(value)} (${typeof value})`;
}
