/** Shared helpers for the batch tests: a recording flush function, deferreds, the accounting identity. */
import { expect } from 'vitest';
import { BatchBufferImpl } from '../../../src/batch/index.js';
import type { BatchBufferOptions, BatchMetrics, FlushContext, FlushFunction, FlushResult, InputLogEvent } from '../../../src/batch/index.js';

export interface Call {
  group: string;
  stream: string;
  events: InputLogEvent[];
  token: string | undefined;
  signal: AbortSignal | undefined;
}

export interface Recorder {
  flush: FlushFunction;
  calls: Call[];
  /** Every message handed to the flush function, in order. */
  messages(): string[];
}

/**
 * A flush function that records each call (a copy of the batch) and answers with `answer`
 * (default: resolve undefined). `answer` may throw or return a promise.
 */
export function recorder(
  answer: (call: Call, index: number) => Promise<FlushResult | void | undefined> | FlushResult | void | undefined = () => undefined,
): Recorder {
  const calls: Call[] = [];
  const flush: FlushFunction = async (group, stream, events, token, context?: FlushContext) => {
    const call: Call = { group, stream, events: events.map((e) => ({ ...e })), token, signal: context?.signal };
    calls.push(call);
    return answer(call, calls.length - 1);
  };
  return { flush, calls, messages: () => calls.flatMap((c) => c.events.map((e) => e.message)) };
}

export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * A recording flush function whose calls each wait for a gate the test opens (`gates[i].resolve()`),
 * counting how many are in progress now (`active()`) and at most (`maxActive()`).
 */
export function gatedRecorder(): Recorder & { gates: Deferred[]; active(): number; maxActive(): number } {
  const gates: Deferred[] = [];
  let active = 0;
  let maxActive = 0;
  const rec = recorder(async () => {
    active++;
    maxActive = Math.max(maxActive, active);
    const gate = deferred();
    gates.push(gate);
    await gate.promise;
    active--;
  });
  return { ...rec, gates, active: () => active, maxActive: () => maxActive };
}

/** accepted = delivered + rejected + dropped + buffered + inFlight, and the by-reason maps add up. */
export function expectIdentity(m: BatchMetrics): void {
  expect(m.eventsAccepted).toBe(m.eventsDelivered + m.eventsRejected + m.eventsDropped + m.eventsBuffered + m.eventsInFlight);
  expect(Object.values(m.droppedByReason).reduce((a, b) => a + b, 0)).toBe(m.eventsDropped);
  expect(Object.values(m.rejectedByReason).reduce((a, b) => a + b, 0)).toBe(m.eventsRejected);
  expect(m.eventsBuffered).toBeGreaterThanOrEqual(0);
  expect(m.eventsInFlight).toBeGreaterThanOrEqual(0);
  expect(m.bytesBuffered).toBeGreaterThanOrEqual(0);
  expect(m.bytesInFlight).toBeGreaterThanOrEqual(0);
  if (m.eventsBuffered === 0) expect(m.bytesBuffered).toBe(0);
  if (m.eventsInFlight === 0) expect(m.bytesInFlight).toBe(0);
}

/** An error shaped like the AWS SDK's service exceptions (duck-typed, no SDK import). */
export function awsError(name: string, status = 400, extra: Record<string, unknown> = {}): Error {
  const error = new Error(`${name} from the test`);
  Object.defineProperty(error, 'name', { value: name, enumerable: false, configurable: true, writable: true });
  Object.assign(error, { $metadata: { httpStatusCode: status }, ...extra });
  return error;
}

/** Lets every pending microtask (and promise chain of reasonable depth) run. */
export async function settle(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

export const G = '/app/logs';
export const S = 'stream-1';
export const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);

export function ev(i: number, message = `message ${i}`, timestamp = T0 + i): InputLogEvent {
  return { timestamp, message };
}

/** A flush function whose calls stay pending until the test answers them. */
export function gate(): {
  flush: FlushFunction;
  pending: Array<{ events: InputLogEvent[]; token: string | undefined; answer: Deferred<unknown> }>;
} {
  const pending: Array<{ events: InputLogEvent[]; token: string | undefined; answer: Deferred<unknown> }> = [];
  const flush: FlushFunction = (_group, _stream, events, token) => {
    const answer = deferred<unknown>();
    pending.push({ events: [...events], token, answer });
    return answer.promise as Promise<undefined>;
  };
  return { flush, pending };
}

/**
 * A buffer with a fixed clock (T0), a fixed random source and no back-off delay, whose drops and
 * background errors are recorded: `b` is the buffer.
 */
export function reportingBuffer(
  flush: FlushFunction,
  options: BatchBufferOptions = {},
): { b: BatchBufferImpl; dropped: Array<{ events: InputLogEvent[]; reason: string }>; errors: unknown[] } {
  const dropped: Array<{ events: InputLogEvent[]; reason: string }> = [];
  const errors: unknown[] = [];
  const b = new BatchBufferImpl(flush, {
    now: () => T0,
    random: () => 0.5,
    retryBaseDelayMs: 0,
    throttleBaseDelayMs: 0,
    retryMaxDelayMs: 0,
    ...options,
    onDrop: (events, reason) => dropped.push({ events, reason }),
    onError: (e) => errors.push(e),
  });
  return { b, dropped, errors };
}
