/**
 * Pure pieces behind the embedded endpoint: the time-window split (shared rules module), the
 * sorted per-stream store, the seeded PRNG and the token bucket.
 */
import { describe, expect, it } from 'vitest';
import { findBatchViolation, nameValidationMessage, splitByTimeWindow } from '../../../src/batch/rules.js';
import { FaultInjector, mulberry32 } from '../../../src/local/faults.js';
import { LocalStore, newStream } from '../../../src/local/store.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 10, 26);
const at = (offset: number) => ({ timestamp: NOW + offset, message: 'm' });

describe('splitByTimeWindow', () => {
  it('gives AWS index semantics: exclusive old/expired ends, inclusive new start', () => {
    const batch = [at(-20 * DAY), at(-15 * DAY), at(-3 * DAY), at(0), at(3 * HOUR)];
    expect(splitByTimeWindow(batch, NOW)).toEqual({ tooOldEnd: 2, expiredEnd: 0, tooNewStart: 4, acceptedStart: 2 });
    expect(splitByTimeWindow(batch, NOW, 1)).toEqual({ tooOldEnd: 2, expiredEnd: 3, tooNewStart: 4, acceptedStart: 3 });
    // Retention longer than 14 days: nothing is expired that is not already too old.
    expect(splitByTimeWindow(batch, NOW, 30).expiredEnd).toBe(0);
  });

  it('treats the bounds as "more than": exactly 14 days old and exactly 2 h ahead are kept', () => {
    expect(splitByTimeWindow([at(-14 * DAY), at(2 * HOUR)], NOW)).toEqual({ tooOldEnd: 0, expiredEnd: 0, tooNewStart: 2, acceptedStart: 0 });
  });

  it('handles all-rejected batches', () => {
    expect(splitByTimeWindow([at(-15 * DAY)], NOW)).toMatchObject({ tooOldEnd: 1, acceptedStart: 1, tooNewStart: 1 });
    expect(splitByTimeWindow([at(5 * HOUR)], NOW)).toMatchObject({ tooOldEnd: 0, acceptedStart: 0, tooNewStart: 0 });
  });
});

describe('rules messages used by the endpoint', () => {
  it('prints a missing member as a bare null', () => {
    expect(findBatchViolation([{ timestamp: 1 } as never])?.message).toBe(
      "1 validation error detected: Value null at 'logEvents.1.member.message' failed to satisfy constraint: Member must not be null",
    );
  });

  it('validates names with the service model patterns', () => {
    expect(nameValidationMessage('group', '/ok/name_1.#-', 'logGroupName')).toBeUndefined();
    expect(nameValidationMessage('stream', 'a*b', 'logStreamName')).toMatch(/pattern: \[\^:\*\]\*$/);
    expect(nameValidationMessage('stream', '', 'logStreamName')).toMatch(/greater than or equal to 1$/);
    expect(nameValidationMessage('group', undefined, 'logGroupName')).toMatch(/Value null at 'logGroupName'/);
  });
});

describe('LocalStore', () => {
  it('appends in order and merges an older batch stably', () => {
    const store = new LocalStore(true);
    const s = newStream('s', 0);
    const first = [1, 3, 5].map((t) => ({ timestamp: t, message: `a${t}` }));
    const second = [0, 3, 6].map((t) => ({ timestamp: t, message: `b${t}` }));
    store.append(s, first, 0, 3, [27, 27, 27], 10);
    store.append(s, second, 0, 3, [27, 27, 27], 20);
    expect(s.events.map((e) => e.message)).toEqual(['b0', 'a1', 'a3', 'b3', 'a5', 'b6']);
    expect(s).toMatchObject({ eventCount: 6, storedBytes: 162, firstEventTimestamp: 0, lastEventTimestamp: 6, lastIngestionTime: 20 });
  });

  it('keeps only counts when keepEvents is false', () => {
    const store = new LocalStore(false);
    const s = newStream('s', 0);
    store.append(s, [{ timestamp: 1, message: 'x' }], 0, 1, [27], 0);
    expect(s.events).toEqual([]);
    expect(s.eventCount).toBe(1);
  });
});

describe('faults', () => {
  it('mulberry32 is deterministic per seed and in [0, 1)', () => {
    const a = mulberry32(9);
    const b = mulberry32(9);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('the requestsPerSecond bucket refills from the injected clock', () => {
    let now = 0;
    const f = new FaultInjector({ requestsPerSecond: 10 }, 1, () => now);
    const kinds = Array.from({ length: 12 }, () => f.decide().kind);
    expect(kinds.filter((k) => k === 'none')).toHaveLength(10);
    now += 100;
    expect(f.decide().kind).toBe('none');
    expect(f.decide().kind).toBe('error');
    expect(f.counters.throttledByRequestsPerSecond).toBe(3);
  });
});
