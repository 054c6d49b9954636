import { describe, expect, it } from 'vitest';
import { backoffDelay, classifyError, isRetryable, type ErrorKind } from '../../../src/batch/index.js';
import { bisectionCalls, nextStep, type AttemptState } from '../../../src/batch/retry.js';
import { awsError } from './helpers.js';

describe('classifyError (duck typing, never instanceof)', () => {
  const cases: Array<[string, unknown, ErrorKind]> = [
    ['ThrottlingException by name', awsError('ThrottlingException'), 'throttling'],
    ['429 by status', Object.assign(new Error('x'), { $metadata: { httpStatusCode: 429 } }), 'throttling'],
    ['$retryable.throttling', Object.assign(new Error('x'), { $retryable: { throttling: true } }), 'throttling'],
    ['ServiceUnavailableException', awsError('ServiceUnavailableException', 503), 'transient'],
    ['InternalServerError', awsError('InternalServerError', 500), 'transient'],
    ['RequestTimeoutException', awsError('RequestTimeoutException'), 'transient'],
    ['any 5xx', Object.assign(new Error('x'), { $metadata: { httpStatusCode: 504 } }), 'transient'],
    ['ECONNRESET code', Object.assign(new Error('x'), { code: 'ECONNRESET' }), 'transient'],
    ['EPIPE code', Object.assign(new Error('x'), { code: 'EPIPE' }), 'transient'],
    ['SDK TimeoutError', Object.assign(new Error('x'), { name: 'TimeoutError' }), 'transient'],
    ['our FlushTimeoutError code', { name: 'FlushTimeoutError', code: 'FLUSH_TIMEOUT' }, 'transient'],
    ['cause chain', new Error('outer', { cause: Object.assign(new Error('inner'), { code: 'ETIMEDOUT' }) }), 'transient'],
    ['AggregateError of network errors', new AggregateError([Object.assign(new Error('a'), { code: 'ECONNREFUSED' })]), 'transient'],
    ['__type with namespace and suffix', { __type: 'com.amazonaws.logs#ThrottlingException:extra' }, 'throttling'],
    ['InvalidSequenceTokenException', awsError('InvalidSequenceTokenException'), 'sequence-token'],
    ['DataAlreadyAcceptedException', awsError('DataAlreadyAcceptedException'), 'already-accepted'],
    ['InvalidParameterException', awsError('InvalidParameterException'), 'invalid'],
    ['AccessDeniedException', awsError('AccessDeniedException'), 'fatal'],
    ['ResourceNotFoundException', awsError('ResourceNotFoundException'), 'fatal'],
    ['400 without a known name', Object.assign(new Error('x'), { $metadata: { httpStatusCode: 400 } }), 'fatal'],
    ['a string', 'boom', 'fatal'],
    ['undefined', undefined, 'fatal'],
  ];
  for (const [label, error, kind] of cases) {
    it(`${label} -> ${kind}`, () => {
      expect(classifyError(error)).toBe(kind);
    });
  }

  it('a self-referencing cause does not loop', () => {
    const e = new Error('loop') as Error & { cause?: unknown };
    e.cause = e;
    expect(classifyError(e)).toBe('fatal');
  });

  it('isRetryable: throttling, transient and sequence-token only', () => {
    expect((['throttling', 'transient', 'sequence-token', 'already-accepted', 'invalid', 'fatal'] as ErrorKind[]).map(isRetryable)).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});

describe('backoffDelay (full jitter)', () => {
  it('is floor(random * min(cap, base * 2^(attempt - 1)))', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffDelay(a, 100, 20_000, () => 0.5))).toEqual([50, 100, 200, 400, 800]);
    expect(backoffDelay(20, 100, 20_000, () => 0.5)).toBe(10_000);
    expect(backoffDelay(1, 100, 20_000, () => 0)).toBe(0);
    expect(backoffDelay(3, 100, 20_000, () => 0.999_999)).toBe(399);
  });

  it('stays within [0, cap) for any attempt, even huge ones', () => {
    for (const attempt of [1, 10, 100, 1_000, 10_000]) {
      const d = backoffDelay(attempt, 500, 20_000, () => 0.999_999);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(20_000);
      expect(Number.isInteger(d)).toBe(true);
    }
  });
});

describe('nextStep (pure: settle | bisect | retry(delay) | give up)', () => {
  const policy = { maxRetries: 3, retryBaseDelayMs: 100, throttleBaseDelayMs: 500, retryMaxDelayMs: 20_000 };
  const state = (over: Partial<AttemptState> = {}): AttemptState => ({
    events: 10,
    attempt: 1,
    failureStreak: 0,
    now: 1_000,
    deadline: undefined,
    random: () => 0.5,
    ...over,
  });

  it('settles data the service already has as delivered, and one invalid event as invalid', () => {
    expect(nextStep('already-accepted', state(), policy)).toEqual({ kind: 'settle', as: 'delivered' });
    expect(nextStep('invalid', state({ events: 1 }), policy)).toEqual({ kind: 'settle', as: 'invalid' });
  });

  it('bisects an invalid batch of two or more events', () => {
    expect(nextStep('invalid', state({ events: 2 }), policy)).toEqual({ kind: 'bisect' });
  });

  it('drops an invalid batch as invalid once the bisection budget is spent', () => {
    expect(nextStep('invalid', state({ events: 10, bisectCallsLeft: 1 }), policy)).toEqual({ kind: 'bisect' });
    expect(nextStep('invalid', state({ events: 10, bisectCallsLeft: 0 }), policy)).toEqual({ kind: 'settle', as: 'invalid' });
    expect(nextStep('invalid', state({ events: 1, bisectCallsLeft: 5 }), policy)).toEqual({ kind: 'settle', as: 'invalid' });
  });

  it('bisectionCalls: budget × (⌈log2 n⌉ + 2) + 1, and 1 for one event or no budget', () => {
    expect(bisectionCalls(10_000, 10)).toBe(161);
    expect(bisectionCalls(10_000, 3)).toBe(49);
    expect(bisectionCalls(2, 1)).toBe(4);
    expect(bisectionCalls(1, 10)).toBe(1);
    expect(bisectionCalls(10_000, 0)).toBe(1);
  });

  it('gives up at once on a fatal error, not retryable', () => {
    expect(nextStep('fatal', state(), policy)).toEqual({ kind: 'give-up', retryable: false });
  });

  it('retries with full-jitter back-off (throttling on its own base) until maxRetries, then gives up retryable', () => {
    expect(nextStep('transient', state({ attempt: 1 }), policy)).toEqual({ kind: 'retry', delayMs: 50 });
    expect(nextStep('throttling', state({ attempt: 1 }), policy)).toEqual({ kind: 'retry', delayMs: 250 });
    expect(nextStep('sequence-token', state({ attempt: 3, failureStreak: 1 }), policy)).toEqual({ kind: 'retry', delayMs: 400 });
    expect(nextStep('transient', state({ attempt: 4 }), policy)).toEqual({ kind: 'give-up', retryable: true });
  });

  it('while stopping, retries until the deadline (not maxRetries), never sleeping past it', () => {
    expect(nextStep('transient', state({ attempt: 50, now: 1_000, deadline: 1_030 }), policy)).toEqual({ kind: 'retry', delayMs: 30 });
    expect(nextStep('transient', state({ attempt: 1, now: 1_030, deadline: 1_030 }), policy)).toEqual({ kind: 'give-up', retryable: true });
  });

  it('reads the random source only when it retries', () => {
    let draws = 0;
    const random = (): number => {
      draws++;
      return 0;
    };
    nextStep('fatal', state({ random }), policy);
    nextStep('invalid', state({ random }), policy);
    nextStep('transient', state({ attempt: 9, random }), policy);
    expect(draws).toBe(0);
    nextStep('transient', state({ random }), policy);
    expect(draws).toBe(1);
  });
});
