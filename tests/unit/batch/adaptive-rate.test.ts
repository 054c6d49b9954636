import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { AdaptivePacer, AdaptiveRate } from '../../../src/batch/adaptive-rate.js';
import { ConcurrencySlots } from '../../../src/batch/sender.js';
import { BatchBufferImpl, validateBatchConfig } from '../../../src/batch/index.js';
import type { BatchBufferOptions } from '../../../src/batch/index.js';
import { awsError, recorder } from './helpers.js';
import type { AdaptiveRateOptions } from '../../../src/batch/adaptive-rate.js';
import { mulberry32 as prng } from '../../../src/local/faults.js';

function clock(start = 1_000_000): { now: () => number; set: (t: number) => void; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, set: (v) => (t = v), advance: (ms) => (t += ms) };
}

describe('AdaptiveRate: single controller', () => {
  it('paces nothing and changes nothing until the first throttle', () => {
    const c = clock();
    const rate = new AdaptiveRate({ now: c.now, random: () => 0.5 });
    for (let i = 0; i < 1_000; i++) {
      expect(rate.reserve()).toBe(0);
      rate.onResult(false);
      c.advance(1);
    }
    expect(rate.rate).toBe(Infinity);
    expect(rate.stats()).toMatchObject({ throttles: 0, decreases: 0, paced: 0, resets: 0 });
  });

  it('sets the first limit from the measured send rate times the decrease factor', () => {
    const c = clock();
    const rate = new AdaptiveRate({ now: c.now, random: () => 0.5, decreaseFactor: 0.5 });
    // 100 requests/s for 2 s.
    for (let i = 0; i < 200; i++) {
      rate.reserve();
      rate.onResult(false);
      c.advance(10);
    }
    rate.onResult(true);
    expect(rate.rate).toBeGreaterThan(45);
    expect(rate.rate).toBeLessThan(55);
  });

  it('decreases at most once per window, however many throttles arrive in it', () => {
    const c = clock();
    const rate = new AdaptiveRate({ now: c.now, random: () => 0.5, windowMs: 1_000, decreaseFactor: 0.5 });
    for (let i = 0; i < 100; i++) {
      rate.reserve();
      c.advance(10);
    }
    rate.onResult(true);
    const first = rate.rate;
    for (let i = 0; i < 50; i++) {
      c.advance(10); // 500 ms of throttles: still the same window
      rate.onResult(true);
    }
    // No decrease inside the window; only the additive increase of 0.5 s at most.
    expect(rate.rate).toBeGreaterThanOrEqual(first);
    expect(rate.rate).toBeLessThanOrEqual(first + 0.5 + 1e-9);
    expect(rate.stats().decreases).toBe(1);
    expect(rate.stats().throttles).toBe(51);
    c.advance(500);
    rate.onResult(true);
    expect(rate.stats().decreases).toBe(2);
    expect(rate.rate).toBeLessThan(first * 0.5 + 1.5);
  });

  it('increases additively, by increasePerSecond per second, while the limit binds', () => {
    const c = clock();
    const rate = new AdaptiveRate({ now: c.now, random: () => 0.5, increasePerSecond: 2, jitter: 0 });
    for (let i = 0; i < 100; i++) {
      rate.reserve();
      c.advance(10);
    }
    rate.onResult(true);
    const start = rate.rate;
    // Keep the pacer busy (send as soon as allowed) for 5 s with no throttle.
    const end = c.now() + 5_000;
    while (c.now() < end) {
      const wait = rate.reserve();
      c.advance(Math.max(1, wait));
      rate.onResult(false);
    }
    // The step: 2/s per second, times sqrt(last throttled rate / 10) as that rate (~100/s) is above 10/s.
    const step = 2 * Math.sqrt(start / 0.6 / 10);
    const gained = rate.rate - start;
    expect(gained).toBeGreaterThan(step * 5 - 1);
    expect(gained).toBeLessThan(step * 5 + 1);
  });

  it('spaces requests at the limit: n reservations span about n / rate seconds', () => {
    const c = clock();
    const rate = new AdaptiveRate({ now: c.now, random: prng(3), jitter: 0.2 });
    for (let i = 0; i < 50; i++) {
      rate.reserve();
      c.advance(20);
    }
    rate.onResult(true); // ~50/s measured -> 35/s
    const limit = rate.rate;
    let last = 0;
    for (let i = 0; i < 200; i++) last = rate.reserve(); // all booked at the same instant
    const expectedMs = (200 / limit) * 1000;
    expect(last).toBeGreaterThan(expectedMs * 0.9);
    expect(last).toBeLessThan(expectedMs * 1.1);
  });

  /** A controller throttled once after `perSecond` requests/s, then kept busy (sending as soon as allowed) with no throttle. */
  function busyAfterOneCut(
    options: AdaptiveRateOptions,
    perSecond = 20,
  ): { rate: AdaptiveRate; first: number; ceiling: number; runFor: (ms: number) => void; advance: (ms: number) => void } {
    const c = clock();
    const rate = new AdaptiveRate({ now: c.now, random: () => 0.5, jitter: 0, ...options });
    for (let i = 0; i < perSecond; i++) {
      rate.reserve();
      c.advance(1_000 / perSecond);
    }
    rate.onResult(true);
    const first = rate.rate;
    const runFor = (ms: number): void => {
      const end = c.now() + ms;
      while (c.now() < end) {
        c.advance(Math.max(1, rate.reserve()));
        rate.onResult(false);
      }
    };
    return { rate, first, ceiling: first / (options.decreaseFactor ?? 0.6), runFor, advance: c.advance };
  }

  it('does not probe near the rate that was throttled: additive only, however long the quiet, until a whole cut above it', () => {
    // decreaseFactor 0.5: cut from ~8/s to ~4/s; probing may start at 8 x (2 - 0.5) = 12/s, which
    // the additive increase (0.5/s per second; under 10/s the step is not scaled) reaches after ~16 s.
    const { rate, first, ceiling, runFor } = busyAfterOneCut({ decreaseFactor: 0.5, increasePerSecond: 0.5, probeAfterMs: 5_000, probeFactor: 1.5 }, 8);
    expect(first).toBeGreaterThan(3.5);
    expect(first).toBeLessThan(4.5);
    runFor(12_000); // 12 s of quiet, more than twice probeAfterMs: still additive
    expect(rate.rate - first).toBeGreaterThan(6 - 0.3);
    expect(rate.rate - first).toBeLessThan(6 + 0.3);
    runFor(((ceiling * 1.5 - rate.rate - 0.5) / 0.5) * 1_000); // to 0.5/s under the threshold
    const before = rate.rate;
    expect(before).toBeLessThan(ceiling * 1.5);
    expect(before - first).toBeLessThan(ceiling * 1.5 - first);
    runFor(5_000); // past it: multiplicative, far more than the 2.5/s of the additive increase
    expect(rate.rate - before).toBeGreaterThan(3 * 2.5);
    expect(rate.stats()).toMatchObject({ decreases: 1, resets: 0 });
  });

  it('recovers once throttling has ended: past the threshold it probes, and a run of cuts lowers the threshold with the limit', () => {
    const c = clock();
    const rate = new AdaptiveRate({ now: c.now, random: () => 0.5, jitter: 0 });
    for (let i = 0; i < 20; i++) {
      rate.reserve();
      c.advance(10);
    }
    rate.onResult(true); // 200/s measured -> 120/s
    for (let i = 0; i < 8; i++) {
      c.advance(1_000);
      rate.onResult(true); // an overload: cut every window, down to ~2/s
    }
    const low = rate.rate;
    expect(low).toBeLessThan(3);
    // The overload is over: the limit climbs back to 1.4x the last throttled rate (~4.7/s) at
    // 0.25/s per second, then grows 1.5x per second: well past 20/s within 20 s.
    const end = c.now() + 20_000;
    while (c.now() < end) {
      c.advance(Math.max(1, rate.reserve()));
      rate.onResult(false);
    }
    expect(rate.rate).toBeGreaterThan(20);
    expect(rate.stats().resets).toBe(0);
  });

  it('grows its additive step with the square root of the throttled rate above 10/s (a fleet of big processes recovers in time)', () => {
    const small = busyAfterOneCut({ increasePerSecond: 0.25, probeAfterMs: 1e9 }, 10);
    const big = busyAfterOneCut({ increasePerSecond: 0.25, probeAfterMs: 1e9 }, 1_000);
    small.runFor(10_000);
    big.runFor(10_000);
    expect(small.rate.rate - small.first).toBeCloseTo(2.5, 0);
    // Last throttled rate ~1,000/s: step 0.25 x sqrt(100) = 2.5/s per second.
    expect(big.rate.rate - big.first).toBeGreaterThan(22);
    expect(big.rate.rate - big.first).toBeLessThan(27);
  });

  it('keeps a limit that binds after resetAfterMs without a throttle; drops it once the process uses less than it', () => {
    const { rate, runFor, advance } = busyAfterOneCut({ resetAfterMs: 10_000, probeAfterMs: 1e9 });
    runFor(15_000);
    expect(rate.rate).toBeLessThan(Infinity);
    expect(rate.stats().resets).toBe(0);
    // Idle for two windows: the limit no longer binds, and it is dropped.
    advance(2_000);
    expect(rate.reserve()).toBe(0);
    expect(rate.rate).toBe(Infinity);
    expect(rate.stats().resets).toBe(1);
  });

  it('is unpaced again after resetAfterMs without a throttle', () => {
    const c = clock();
    const rate = new AdaptiveRate({ now: c.now, random: () => 0.5, resetAfterMs: 10_000 });
    for (let i = 0; i < 20; i++) {
      rate.reserve();
      c.advance(50);
    }
    rate.onResult(true);
    expect(rate.rate).toBeLessThan(Infinity);
    c.advance(9_000);
    rate.reserve();
    expect(rate.rate).toBeLessThan(Infinity);
    c.advance(1_001);
    expect(rate.reserve()).toBe(0);
    expect(rate.rate).toBe(Infinity);
    expect(rate.stats().resets).toBe(1);
  });

  it('works below one request per second and never goes under minRate', () => {
    const c = clock();
    const rate = new AdaptiveRate({ now: c.now, random: () => 0.5, minRate: 0.2, jitter: 0, increasePerSecond: 0.01 });
    rate.reserve();
    for (let i = 0; i < 40; i++) {
      c.advance(1_000);
      rate.onResult(true);
    }
    expect(rate.rate).toBeCloseTo(0.2, 1);
    // One interval (5 s at 0.2/s) after the last throttle, then one interval more.
    const first = rate.reserve();
    const second = rate.reserve();
    expect(first).toBeGreaterThan(4_900);
    expect(first).toBeLessThanOrEqual(5_000);
    expect(second - first).toBeGreaterThan(4_900);
    expect(second - first).toBeLessThanOrEqual(5_000);
  });

  it('rejects bad options, naming them', () => {
    expect(() => new AdaptiveRate({ decreaseFactor: 1 })).toThrow(/decreaseFactor/);
    expect(() => new AdaptiveRate({ decreaseFactor: 0 })).toThrow(RangeError);
    expect(() => new AdaptiveRate({ increasePerSecond: -1 })).toThrow(/increasePerSecond.*-1/);
    expect(() => new AdaptiveRate({ windowMs: Number.NaN })).toThrow(/windowMs/);
    expect(() => new AdaptiveRate({ minRate: 0 })).toThrow(/minRate/);
    expect(() => new AdaptiveRate({ jitter: 1 })).toThrow(/jitter/);
    expect(() => new AdaptiveRate({ probeFactor: 1 })).toThrow(/probeFactor/);
    expect(() => new AdaptiveRate({ probeAfterMs: 0 })).toThrow(/probeAfterMs/);
    expect(() => new AdaptiveRate({ now: 5 as unknown as () => number })).toThrow(TypeError);
    expect(() => new AdaptiveRate({ increasePerSecond: '1' as unknown as number })).toThrow(TypeError);
  });

  it('never hands out a negative or non-finite wait, and its rate stays within [minRate, Infinity] (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ dt: fc.integer({ min: 0, max: 5_000 }), throttled: fc.boolean(), reserve: fc.boolean() }), { maxLength: 300 }),
        (steps) => {
          const c = clock();
          const rate = new AdaptiveRate({ now: c.now, random: prng(1) });
          for (const step of steps) {
            c.advance(step.dt);
            if (step.reserve) {
              const wait = rate.reserve();
              if (!(wait >= 0 && Number.isFinite(wait))) return false;
            }
            rate.onResult(step.throttled);
            const r = rate.rate;
            if (!(r === Infinity || (r >= 0.05 && Number.isFinite(r)))) return false;
          }
          return true;
        },
      ),
    );
  });
});

describe('AdaptivePacer', () => {
  it('books a request that waited through a decrease again, at the new rate (behind those booked since)', async () => {
    const c = clock(0);
    const rate = new AdaptiveRate({ now: c.now, random: () => 0.5, jitter: 0, decreaseFactor: 0.5, windowMs: 1, increasePerSecond: 1e-9 });
    const sleeps: Array<{ at: number; resolve: () => void }> = [];
    const sleep = (ms: number): Promise<void> => new Promise<void>((resolve) => sleeps.push({ at: c.now() + ms, resolve }));
    /** Runs the clock to the next pending sleep and ends it (no real time passes). */
    const wakeNext = async (): Promise<void> => {
      sleeps.sort((a, b) => a.at - b.at);
      const next = sleeps.shift();
      if (next === undefined) throw new Error('nothing sleeps');
      c.set(next.at);
      next.resolve();
      for (let i = 0; i < 5; i++) await Promise.resolve();
    };
    const pacer = new AdaptivePacer(new ConcurrencySlots(10), rate, sleep);
    await pacer.acquire();
    pacer.release('throttled'); // paced from now on
    const interval = 1_000 / rate.rate;
    const passed: number[] = [];
    const all = [0, 1, 2].map(async () => {
      await pacer.acquire();
      passed.push(c.now());
    });
    // Booked at 1, 2 and 3 intervals. The first goes; its answer is a throttle: the rate halves.
    await wakeNext();
    expect(passed).toEqual([interval]);
    pacer.release('throttled');
    expect(rate.rate).toBeCloseTo(1_000 / interval / 2, 6);
    // The two still waiting were booked at the old rate: each wakes, books again, and goes at the new spacing.
    for (let i = 0; i < 4 && passed.length < 3; i++) await wakeNext();
    await Promise.all(all);
    // The schedule had been booked up to 4 intervals; from there on, one new interval (2 old ones) each.
    expect(passed[1]).toBeCloseTo(4 * interval, 6); // was due at 2 intervals
    expect(passed[2]).toBeCloseTo(6 * interval, 6); // was due at 3
    expect(rate.stats().decreases).toBe(2);
  });

  it('without a decrease during the wait, sends at the booked time (no second booking)', async () => {
    const c = clock(0);
    const rate = new AdaptiveRate({ now: c.now, random: () => 0.5, jitter: 0, increasePerSecond: 1e-9 });
    const waits: number[] = [];
    const pacer = new AdaptivePacer(new ConcurrencySlots(10), rate, async (ms) => {
      waits.push(ms);
      c.advance(ms);
    });
    await pacer.acquire();
    pacer.release('throttled');
    const interval = 1_000 / rate.rate;
    for (let i = 0; i < 3; i++) {
      await pacer.acquire();
      pacer.release('delivered');
    }
    expect(waits).toHaveLength(3);
    for (const w of waits) expect(w).toBeCloseTo(interval, 6);
  });
});

// ------------------------------------------------------------------ fleet simulation

interface SimResult {
  goodput: number;
  throttledShare: number;
  jain: number;
  worst: number;
  delivered: number[];
  fair: number[];
}

/** Max-min fair shares of `capacity` among `demands` (water filling). */
export function maxMinFair(demands: readonly number[], capacity: number): number[] {
  const share = demands.map(() => 0);
  let left = capacity;
  let open = demands.map((_, i) => i);
  while (open.length > 0 && left > 1e-12) {
    const each = left / open.length;
    const satisfied = open.filter((i) => (demands[i] as number) - (share[i] as number) <= each);
    if (satisfied.length === 0) {
      for (const i of open) share[i] = (share[i] as number) + each;
      break;
    }
    for (const i of satisfied) {
      left -= (demands[i] as number) - (share[i] as number);
      share[i] = demands[i] as number;
    }
    open = open.filter((i) => !satisfied.includes(i));
  }
  return share;
}

function jain(x: readonly number[]): number {
  const sum = x.reduce((a, b) => a + b, 0);
  const squares = x.reduce((a, b) => a + b * b, 0);
  return (sum * sum) / (x.length * squares);
}

/**
 * N processes, each with its own controller, sharing one token bucket of `quota` requests/s
 * (burst: one second of quota), in simulated 1-ms steps. Each process has `demand` requests/s
 * arriving (a backlog), up to `lanes` requests in flight, a round trip of `rttMs`; a throttled
 * request is sent again (after the pacer's wait). A request that waited through a decrease is
 * booked again, as AdaptivePacer does. The processes take their turns in a random order each
 * step (a fixed order hands the first ones the tokens that refill each step, and a process that
 * is never throttled). Measured after `warmupMs`.
 */
export function simulate(opts: {
  demands: number[];
  quota: number;
  durationMs: number;
  warmupMs: number;
  rttMs: number;
  lanes: number;
  seed: number;
  options?: AdaptiveRateOptions;
}): SimResult {
  const { demands, quota, durationMs, warmupMs, rttMs, lanes, seed } = opts;
  let t = 0;
  const now = (): number => t;
  const random = prng(seed);
  const n = demands.length;
  const controllers = demands.map((_, i) => new AdaptiveRate({ ...opts.options, now, random: prng(seed * 1000 + i) }));
  const backlog = demands.map(() => random()); // random phase
  const lanesBusyUntil = demands.map(() => new Array<number>(lanes).fill(0));
  // Per lane: time the paced send happens (or -1), time the answer arrives (or -1), and its verdict.
  const sendAt = demands.map(() => new Array<number>(lanes).fill(-1));
  // Per lane: the controller's decreases when the send was booked (-1: sent unpaced, nothing to book again).
  const bookedAt = demands.map(() => new Array<number>(lanes).fill(-1));
  const answerAt = demands.map(() => new Array<number>(lanes).fill(-1));
  const verdict = demands.map(() => new Array<boolean>(lanes).fill(false));
  let tokens = quota;
  const accepted = demands.map(() => 0);
  let attempts = 0;
  let throttled = 0;
  for (t = 0; t < durationMs; t++) {
    tokens = Math.min(quota, tokens + quota / 1000);
    const measuring = t >= warmupMs;
    const first = Math.floor(random() * n);
    const step = random() < 0.5 ? 1 : n - 1;
    for (let k = 0; k < n; k++) {
      const i = (first + k * step) % n;
      backlog[i] = (backlog[i] as number) + (demands[i] as number) / 1000;
      const ctl = controllers[i] as AdaptiveRate;
      const busy = lanesBusyUntil[i] as number[];
      const sends = sendAt[i] as number[];
      const booked = bookedAt[i] as number[];
      const answers = answerAt[i] as number[];
      const verdicts = verdict[i] as boolean[];
      for (let l = 0; l < lanes; l++) {
        if (answers[l] === t) {
          answers[l] = -1;
          const wasThrottled = verdicts[l] as boolean;
          ctl.onResult(wasThrottled);
          if (wasThrottled) backlog[i] = (backlog[i] as number) + 1;
          busy[l] = t;
        }
        if (sends[l] === t && booked[l] !== -1 && booked[l] !== ctl.decreases) {
          // Cut while it waited: book it again at the new rate (AdaptivePacer).
          booked[l] = ctl.decreases;
          const again = Math.ceil(ctl.rebook());
          if (again > 0) sends[l] = t + again;
        }
        if (sends[l] === t) {
          sends[l] = -1;
          let ok = false;
          if (tokens >= 1) {
            tokens -= 1;
            ok = true;
          }
          if (measuring) {
            attempts++;
            if (ok) accepted[i] = (accepted[i] as number) + 1;
            else throttled++;
          }
          verdicts[l] = !ok;
          answers[l] = t + rttMs;
        }
        if ((busy[l] as number) <= t && sends[l] === -1 && answers[l] === -1 && (backlog[i] as number) >= 1) {
          backlog[i] = (backlog[i] as number) - 1;
          const wait = Math.ceil(ctl.reserve());
          booked[l] = wait > 0 ? ctl.decreases : -1;
          // Sent in the next step at the earliest (this step's sends are already done).
          sends[l] = t + Math.max(1, wait);
          busy[l] = Infinity;
        }
      }
    }
  }
  const seconds = (durationMs - warmupMs) / 1000;
  const delivered = accepted.map((a) => a / seconds);
  const fair = maxMinFair(demands, quota);
  const ratios = delivered.map((d, i) => d / (fair[i] as number));
  return {
    goodput: accepted.reduce((a, b) => a + b, 0) / seconds / quota,
    throttledShare: throttled / attempts,
    jain: jain(ratios),
    worst: Math.min(...ratios),
    delivered,
    fair,
  };
}

describe('AdaptiveRate: a fleet sharing one quota (deterministic simulation, no real time)', () => {
  it('max-min fair shares: light demands are met, heavy ones split the rest', () => {
    expect(maxMinFair([2, 2, 16, 16], 20)).toEqual([2, 2, 8, 8]);
    expect(maxMinFair([1, 1], 10)).toEqual([1, 1]);
  });

  it("bench:fleet's fleet (2 heavy, 8 light processes offering 1.2x a quota of 40/s) meets every target", () => {
    const demands = [...new Array<number>(2).fill(16), ...new Array<number>(8).fill(2)];
    const r = simulate({ demands, quota: 40, durationMs: 120_000, warmupMs: 20_000, rttMs: 5, lanes: 4, seed: 7 });
    // (Seeds 7-12: goodput 0.99-1.00, throttled 0.3-0.7%, Jain 0.98-1.00, worst 0.67-0.97.)
    expect(r.goodput).toBeGreaterThanOrEqual(0.95);
    expect(r.throttledShare).toBeLessThanOrEqual(0.02);
    expect(r.jain).toBeGreaterThanOrEqual(0.95);
    expect(r.worst).toBeGreaterThanOrEqual(0.7);
  });

  it('50 processes (10 heavy, 40 light) offering 1.2x a quota of 200/s converge: goodput >= 95%, throttled <= 1%, Jain >= 0.95', () => {
    const demands = [...new Array<number>(10).fill(16), ...new Array<number>(40).fill(2)];
    const r = simulate({ demands, quota: 200, durationMs: 120_000, warmupMs: 20_000, rttMs: 5, lanes: 4, seed: 7 });
    // (Seeds 7-12: goodput 1.00, throttled 0.4-0.6%, Jain 0.987-0.996, worst 0.58-0.78.) The worst
    // of ten heavy processes is the price of throttling rarely: each process is cut only every
    // ~15 s, at random (a throttle falls on whichever request finds the bucket empty), and an
    // unlucky one takes ~20 s to climb back; the old tuning (increase 0.5/s, decrease 0.7) cut
    // twice as often and kept the worst at 0.82-0.87, at 1.4% throttled here and 2-3% in bench:fleet.
    expect(r.goodput).toBeGreaterThanOrEqual(0.95);
    expect(r.throttledShare).toBeLessThanOrEqual(0.01);
    expect(r.jain).toBeGreaterThanOrEqual(0.95);
    expect(r.worst).toBeGreaterThanOrEqual(0.5);
  });

  it('any fleet offering 1.1-1.5x its quota converges on it and does not oscillate: goodput >= 85%, throttled <= 5%, Jain >= 0.9 (property)', () => {
    // Wider than bench:fleet's mix, so looser than its targets: at a quota of 20-25/s shared by up
    // to 11 processes, fair shares of 2-6/s make the 0.25/s additive step large next to them, and
    // throttles reach 2.5-4.3% (seed 42 of this property, 30 runs: 0.1-2.5% throttled, goodput
    // 0.90-1.02, Jain 0.93-1.00; 2 heavy + 8 light at 20/s x 1.1: 0.4-4.3% over seeds 11-15).
    // Fixed back-off keeps ~30% of attempts throttled at 1.2x. Seeded, as the figures above: the
    // tail is wider than the bound (1 heavy + 8 light at 22/s x 1.5, simulation seed 625491:
    // 6.5% throttled, its neighbours 0.9-1.8%), and CI must not depend on the draw.
    fc.assert(
      fc.property(
        fc.record({
          heavy: fc.integer({ min: 1, max: 3 }),
          light: fc.integer({ min: 2, max: 8 }),
          quota: fc.integer({ min: 20, max: 60 }),
          factor: fc.double({ min: 1.1, max: 1.5, noNaN: true }),
          seed: fc.integer({ min: 1, max: 1_000_000 }),
        }),
        ({ heavy, light, quota, factor, seed }) => {
          // Heavy processes offer 8x a light one; together factor x quota.
          const unit = (factor * quota) / (8 * heavy + light);
          const demands = [...new Array<number>(heavy).fill(8 * unit), ...new Array<number>(light).fill(unit)];
          const r = simulate({ demands, quota, durationMs: 60_000, warmupMs: 20_000, rttMs: 5, lanes: 4, seed });
          return r.goodput >= 0.85 && r.throttledShare <= 0.05 && r.jain >= 0.9;
        },
      ),
      { numRuns: 10, seed: 42 },
    );
  }, 60_000);

  it('a fleet offering under 90% of the quota is never throttled, so never paced', () => {
    const demands = [...new Array<number>(10).fill(10), ...new Array<number>(40).fill(1.9)];
    const sum = demands.reduce((a, b) => a + b, 0);
    expect(sum / 200).toBeLessThan(0.9);
    const r = simulate({ demands, quota: 200, durationMs: 60_000, warmupMs: 0, rttMs: 5, lanes: 4, seed: 11 });
    expect(r.throttledShare).toBe(0);
    expect(r.worst).toBeGreaterThan(0.97);
  });

  it('without the controller (every process unpaced, retrying at once), the same fleet is throttled heavily', () => {
    // The control experiment: a controller that never leaves "unpaced" (decreaseFactor barely
    // below 1, reset at once) behaves like plain retries: the simulation must show the difference.
    const demands = [...new Array<number>(10).fill(16), ...new Array<number>(40).fill(2)];
    const r = simulate({
      demands,
      quota: 200,
      durationMs: 40_000,
      warmupMs: 10_000,
      rttMs: 5,
      lanes: 4,
      seed: 7,
      options: { decreaseFactor: 0.999999, resetAfterMs: 1e-9 },
    });
    expect(r.throttledShare).toBeGreaterThan(0.1);
  });
});

// ------------------------------------------------------------------ the hook in the buffer

describe('adaptiveRate in BatchBufferImpl (fake timers, no real time)', () => {
  const G = '/g';
  const S = 's';
  const T0 = Date.UTC(2026, 11, 5, 12);
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Times (ms after T0) of each flush call, for a buffer of `n` one-event batches sent one at a time. */
  async function callTimes(n: number, throttleAt: ReadonlySet<number>, options: BatchBufferOptions): Promise<{ times: number[]; delays: number[] }> {
    vi.useFakeTimers({ now: T0 });
    const times: number[] = [];
    const delays: number[] = [];
    const rec = recorder((_c, i) => {
      times.push(Date.now() - T0);
      if (throttleAt.has(i)) throw awsError('ThrottlingException', 400);
    });
    const buffer = new BatchBufferImpl(rec.flush, {
      maxEvents: 1,
      maxConcurrentFlushes: 1,
      random: () => 0.5,
      onError: () => undefined,
      onRetry: (info) => delays.push(info.delayMs),
      ...options,
    });
    for (let i = 0; i < n; i++) await buffer.add(G, S, { timestamp: T0 + i, message: `m${i}` });
    const done = buffer.flush(G, S);
    await vi.advanceTimersByTimeAsync(60_000);
    await done;
    expect(buffer.getMetrics().eventsDelivered).toBe(n);
    return { times, delays };
  }

  it('without throttles, changes nothing: the same calls at the same times as adaptiveRate false', async () => {
    const on = await callTimes(30, new Set(), { adaptiveRate: true });
    const off = await callTimes(30, new Set(), { adaptiveRate: false });
    expect(on.times).toEqual(off.times);
    expect(on.times.every((t) => t === 0)).toBe(true);
  });

  it('after a throttle, retries after the back-off and spaces every later request at the pacer\'s rate', async () => {
    const { times, delays } = await callTimes(20, new Set([10]), { adaptiveRate: true, throttleBaseDelayMs: 20 });
    // 10 delivered at once, the 11th throttled: a burst of 11 is measured over the shortest span
    // (100 ms): 110 requests/s, limit 66/s (decreaseFactor 0.6), so ~15 ms apart; the retry waits
    // its back-off (10 ms with jitter 0.5) and the pacer (15 ms from the throttle), whichever ends later.
    expect(times.slice(0, 11)).toEqual(new Array<number>(11).fill(0));
    expect(delays).toEqual([10]);
    const gaps = times.slice(11).map((t, i) => t - (times[10 + i] as number));
    expect(gaps).toHaveLength(10);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(14);
      expect(gap).toBeLessThanOrEqual(16);
    }
    expect((times[20] as number) - (times[10] as number)).toBeGreaterThanOrEqual(148);
    expect((times[20] as number) - (times[10] as number)).toBeLessThanOrEqual(154);
    // adaptiveRate false: today's fixed back-off (500 ms base, jitter 0.5 -> 250 ms), then all at once.
    const off = await callTimes(20, new Set([10]), { adaptiveRate: false, throttleBaseDelayMs: 500 });
    expect(off.delays).toEqual([250]);
    expect(off.times.slice(11)).toEqual(new Array<number>(10).fill(250));
  });

  it("ends a pacing wait at stop()'s deadline: nothing is called after it, the rest is dropped as shutdown", async () => {
    vi.useFakeTimers({ now: T0 });
    const calls: number[] = [];
    const dropped: string[] = [];
    const buffer = new BatchBufferImpl(
      async () => {
        calls.push(Date.now() - T0);
        if (calls.length > 5) throw awsError('ThrottlingException', 400);
      },
      {
        maxEvents: 1,
        maxConcurrentFlushes: 1,
        random: () => 0.5,
        onError: () => undefined,
        onDrop: (events, reason) => dropped.push(...events.map((e) => `${reason}:${e.message}`)),
      },
    );
    for (let i = 0; i < 40; i++) await buffer.add(G, S, { timestamp: T0 + i, message: `m${i}` });
    let stopped = false;
    const stopping = buffer.stop({ timeoutMs: 2_000 }).then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(2_000);
    await stopping;
    expect(stopped).toBe(true);
    expect(Math.max(...calls)).toBeLessThanOrEqual(2_000);
    const after = calls.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls.length).toBe(after);
    const m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(5);
    expect(m.droppedByReason.shutdown).toBe(35);
    expect(dropped.every((d) => d.startsWith('shutdown:'))).toBe(true);
  });

  it('is validated: a non-boolean adaptiveRate is a TypeError naming it', () => {
    expect(() => validateBatchConfig({ adaptiveRate: 'yes' as unknown as boolean })).toThrow(/adaptiveRate.*'yes'/);
    expect(() => validateBatchConfig({ adaptiveRate: 1 as unknown as boolean })).toThrow(TypeError);
    expect(validateBatchConfig({}).adaptiveRate).toBe(true);
    expect(validateBatchConfig({ adaptiveRate: false }).adaptiveRate).toBe(false);
  });
});
