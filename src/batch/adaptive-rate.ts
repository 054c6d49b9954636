/**
 * Client-side rate control for one process (issue 18): additive-increase / multiplicative-decrease
 * (AIMD) on the process's request rate, driven only by the throttles it sees. Many processes that
 * each run one of these, with no coordination, converge on a shared account quota and share it
 * fairly (Chiu & Jain, 1989: AIMD is the linear control that converges to both efficiency and
 * fairness).
 *
 * Why a rate and not a concurrency (Vector's adaptive request concurrency): a quota is a number of
 * requests per second, and a throttled request is answered at once. A process that keeps one
 * request in flight over a 2 ms loopback round trip still sends 500 requests/s; over AWS's ~20 ms,
 * 50 requests/s. Concurrency only limits the rate through the round-trip time (Little's law), which
 * says nothing about the quota; a fleet of 50 processes at concurrency 1 already exceeds a quota of
 * 200/s tenfold. Pacing the request rate controls the quantity the quota counts.
 *
 * Zero dependencies, no timers, no I/O: the clock and the random source are injected, so a test can
 * run a whole fleet in simulated time. The owner asks {@link AdaptiveRate.reserve} how long to wait
 * before each request and reports each answer with {@link AdaptiveRate.onResult}.
 *
 * Until the first throttle nothing is paced (`reserve` returns 0). The first throttle sets the
 * limit to the rate measured over the last window times `decreaseFactor`; further throttles cut it
 * by `decreaseFactor` at most once per `windowMs`; every second without a cut adds a step of
 * `increasePerSecond` (times the square root of the last throttled rate over 10/s, when that is
 * higher). Once the limit has climbed, without a throttle for `probeAfterMs`, a whole cut above
 * the rate that was last throttled, it also grows multiplicatively (`probeFactor` per second):
 * the quota has grown, or the overload that cut it has ended. After `resetAfterMs` without any
 * throttle, and while the process uses less than three quarters of its limit, the limit is
 * dropped: unpaced again.
 *
 * Why it converges. A fleet at its quota is throttled when the sum of its rates exceeds it; each
 * throttle cuts one process (the one whose request found the bucket empty: more often a faster
 * one) by 40%, every process adds the same step per second. Additive steps keep the differences
 * between processes while cuts shrink them, so rates approach equal shares (max-min fair: a
 * process that needs less is never cut for long); and the sum returns to the quota after every
 * cut (Chiu & Jain). The step grows with the square root of the rate, not in proportion to it:
 * a proportional step keeps the ratios between processes (no convergence to fairness), a
 * sub-linear one still converges, and it lets large processes climb back after a cut in one to
 * two minutes (100-500 requests/s each) instead of three to thirteen with a fixed step.
 *
 * Why it does not oscillate, and why throttles stay rare. At the quota, cuts come at the rate the
 * fleet's steps add up to, over the size of a cut: with n processes paced near r requests/s each, n
 * x step / (0.4 x r) per second, one throttle or a little more each, out of n x r attempts per
 * second: step / (0.4 x r²) of the attempts (bench:fleet's two heavy processes at 12/s: 0.27 / (0.4
 * x 144) = 0.5%, where the old 0.5/s step and 30% cut gave 2-3%; 50 processes sharing 5,000/s at
 * 100/s each: 0.02%; but 1,000 processes at 5/s each: 2.5%). The sum never strays far: one cut
 * takes 40% off one process, the steps add it back over ~20 s, and the bucket's burst absorbs the
 * overshoot in between. Three rules keep a cut from turning into a storm: at most one cut per
 * window; requests that were booked before a cut and are still waiting are booked again at the new
 * rate ({@link AdaptivePacer}); and probing, the one multiplicative increase, waits until the limit
 * is a whole cut above where it was last throttled: near that rate (where a fleet at its quota
 * always is) the increase stays additive, however long the quiet. The price of rare cuts is slower
 * equalisation: a process that is cut twice in a row by bad luck takes ~20 s to climb back, so over
 * a 40 s window the worst process of a fleet gets 0.7-0.9 of its fair share (0.6-0.8 among ten
 * heavy processes).
 *
 * Throttles that do not depend on the rate (a fault injector's `throttleRate`) drive any AIMD
 * controller down to where cuts and additive increases balance (about 1.5 requests/s at 30% random
 * throttles with the defaults): the premise is an account quota, where slowing down ends throttles.
 */

import type { CallOutcome, Pacer } from './sender.js';

/** Tuning of {@link AdaptiveRate}. Every field is optional. */
export interface AdaptiveRateOptions {
  /** Clock, ms; default `Date.now`. Only differences are used. */
  now?: (() => number) | undefined;
  /** Random source in [0, 1) for the pacing jitter; default `Math.random`. */
  random?: (() => number) | undefined;
  /** Factor applied to the rate on a throttle (the "MD"), in (0, 1). Default 0.6. */
  decreaseFactor?: number | undefined;
  /**
   * Requests/s added to the rate per second without a decrease (the "AI"), > 0; multiplied by
   * √(c / 10) when the last throttled rate c is above 10 requests/s. Default 0.25.
   */
  increasePerSecond?: number | undefined;
  /** At most one decrease per window, ms; also the span the send rate is measured over. Default 1,000. */
  windowMs?: number | undefined;
  /** Lowest rate, requests/s, > 0. Default 0.05 (one request per 20 s). */
  minRate?: number | undefined;
  /**
   * Probing: once a process has gone `probeAfterMs` without a throttle and its limit has climbed
   * a whole cut above the rate last throttled (that rate times `2 - decreaseFactor`), its rate also
   * grows by `probeFactor` per second (on top of the additive increase). A limit left low by an
   * overload that has ended then recovers in seconds, while a process near the rate where it was
   * throttled (a fleet at its quota) stays in plain AIMD however long it goes unthrottled.
   * Default 5,000 ms.
   */
  probeAfterMs?: number | undefined;
  /** Growth per second while probing, > 1. Default 1.5. */
  probeFactor?: number | undefined;
  /** Unpaced again after this long without a throttle, once the process uses under 3/4 of its limit, ms. Default 30,000. */
  resetAfterMs?: number | undefined;
  /** Spread of each pacing interval: uniform in [1 - jitter, 1 + jitter] times the mean, in [0, 1). Default 0.2. */
  jitter?: number | undefined;
}

/** Counters of {@link AdaptiveRate}, for metrics and tests. */
export interface AdaptiveRateStats {
  /** Current limit, requests/s; `Infinity` while unpaced. */
  rate: number;
  /** Throttles reported. */
  throttles: number;
  /** Decreases applied (at most one per window). */
  decreases: number;
  /** Requests that had to wait for the pacer. */
  paced: number;
  /** Total pacing wait handed out, ms. */
  pacedMs: number;
  /** Times the limit was dropped after `resetAfterMs` without a throttle. */
  resets: number;
}

/** Defaults of {@link AdaptiveRateOptions}. */
export const ADAPTIVE_RATE_DEFAULTS = Object.freeze({
  decreaseFactor: 0.6,
  increasePerSecond: 0.25,
  windowMs: 1_000,
  minRate: 0.05,
  resetAfterMs: 30_000,
  probeAfterMs: 5_000,
  probeFactor: 1.5,
  jitter: 0.2,
});

/** The limit is dropped after a quiet spell only while the process uses less than this share of it (the limit does not bind). */
const RESET_USE = 0.75;

/** How many times {@link AdaptivePacer} books a waiting request again after decreases. */
const MAX_REBOOKS = 3;

/** Above this last throttled rate (requests/s) the additive step grows with its square root. */
const STEP_REFERENCE_RATE = 10;

/** Shortest span a send rate is measured over, ms. */
const MIN_SPAN_MS = 100;

/** AIMD pacer of one process's requests. See the module comment. */
export class AdaptiveRate {
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #decrease: number;
  readonly #increase: number;
  readonly #windowMs: number;
  readonly #minRate: number;
  readonly #resetAfterMs: number;
  readonly #jitter: number;
  readonly #probeAfterMs: number;
  readonly #probeFactor: number;
  /** The limit the last decrease cut (the rate that was throttled), requests/s; probing waits until the limit is a whole cut above it. */
  #ceiling = Infinity;

  /** requests/s; Infinity while unpaced. */
  #rate = Infinity;
  /** Earliest time the next request may go (ms, pacer's schedule). */
  #nextAt = 0;
  #lastDecreaseAt = -Infinity;
  #lastThrottleAt = -Infinity;
  #lastUpdateAt = 0;
  // Send-rate measurement: requests started in the current and the previous window.
  #windowStart = 0;
  #current = 0;
  #previous = 0;
  /** True while the current window began after an idle spell (or at the start): nothing before it counts. */
  #fresh = true;

  #throttles = 0;
  #decreases = 0;
  #paced = 0;
  #pacedMs = 0;
  #resets = 0;

  /** Throws `RangeError`/`TypeError` naming the option for a bad value. */
  constructor(options: AdaptiveRateOptions = {}) {
    this.#now = fn('now', options.now) ?? Date.now;
    this.#random = fn('random', options.random) ?? Math.random;
    this.#decrease = num('decreaseFactor', options.decreaseFactor, ADAPTIVE_RATE_DEFAULTS.decreaseFactor, (v) => v > 0 && v < 1, 'a number in (0, 1)');
    this.#increase = num('increasePerSecond', options.increasePerSecond, ADAPTIVE_RATE_DEFAULTS.increasePerSecond, (v) => v > 0 && v < Infinity, 'a positive number');
    this.#windowMs = num('windowMs', options.windowMs, ADAPTIVE_RATE_DEFAULTS.windowMs, (v) => v > 0 && v < Infinity, 'a positive number');
    this.#minRate = num('minRate', options.minRate, ADAPTIVE_RATE_DEFAULTS.minRate, (v) => v > 0 && v < Infinity, 'a positive number');
    this.#resetAfterMs = num('resetAfterMs', options.resetAfterMs, ADAPTIVE_RATE_DEFAULTS.resetAfterMs, (v) => v > 0, 'a positive number');
    this.#probeAfterMs = num('probeAfterMs', options.probeAfterMs, ADAPTIVE_RATE_DEFAULTS.probeAfterMs, (v) => v > 0, 'a positive number');
    this.#probeFactor = num('probeFactor', options.probeFactor, ADAPTIVE_RATE_DEFAULTS.probeFactor, (v) => v > 1 && v < Infinity, 'a number > 1');
    this.#jitter = num('jitter', options.jitter, ADAPTIVE_RATE_DEFAULTS.jitter, (v) => v >= 0 && v < 1, 'a number in [0, 1)');
    const now = this.#now();
    this.#windowStart = now;
    this.#lastUpdateAt = now;
  }

  /** The current limit, requests/s; `Infinity` while unpaced. */
  get rate(): number {
    return this.#rate;
  }

  /**
   * Books the next request and returns how long to wait before sending it, ms (0: send now).
   * Call once per attempt, retries included. Unpaced, this only counts the request.
   */
  reserve(): number {
    const now = this.#now();
    this.#count(now);
    return this.#book(now);
  }

  /**
   * Books again a request that {@link reserve} booked before a decrease (its turn was set at the
   * old, higher rate) and returns its new wait, ms. Unlike `reserve` it does not count the
   * request again.
   */
  rebook(): number {
    return this.#book(this.#now());
  }

  /** Decreases so far (as in {@link AdaptiveRate.stats}, without the copy): tells whether one happened during a wait. */
  get decreases(): number {
    return this.#decreases;
  }

  #book(now: number): number {
    if (this.#rate === Infinity) return 0;
    this.#update(now);
    if (this.#rate === Infinity) return 0;
    const at = Math.max(now, this.#nextAt);
    const spread = this.#jitter === 0 ? 1 : 1 - this.#jitter + 2 * this.#jitter * this.#random();
    this.#nextAt = at + (1000 / this.#rate) * spread;
    const wait = at - now;
    if (wait > 0) {
      this.#paced++;
      this.#pacedMs += wait;
    }
    return wait;
  }

  /** Reports the answer to a request: `throttled` when the service said ThrottlingException (or the like). */
  onResult(throttled: boolean): void {
    if (!throttled) {
      if (this.#rate !== Infinity) this.#update(this.#now());
      return;
    }
    const now = this.#now();
    this.#throttles++;
    this.#lastThrottleAt = now;
    if (this.#rate !== Infinity) this.#update(now);
    const gap = now - this.#lastDecreaseAt;
    if (gap < this.#windowMs) return;
    this.#lastDecreaseAt = now;
    this.#decreases++;
    const wasUnpaced = this.#rate === Infinity;
    const base = wasUnpaced ? this.#measured(now) : this.#rate;
    this.#ceiling = base;
    this.#rate = Math.max(this.#minRate, base * this.#decrease);
    if (wasUnpaced) this.#lastUpdateAt = now;
    // The next request (the throttled one's retry, most often) waits at least one interval.
    this.#nextAt = Math.max(this.#nextAt, now + 1000 / this.#rate);
  }

  /** Counters (a snapshot). */
  stats(): AdaptiveRateStats {
    return {
      rate: this.#rate,
      throttles: this.#throttles,
      decreases: this.#decreases,
      paced: this.#paced,
      pacedMs: this.#pacedMs,
      resets: this.#resets,
    };
  }

  /** Additive increase for the time since the last update, capped near twice the measured use; the reset after a quiet spell. */
  #update(now: number): void {
    if (now - this.#lastThrottleAt >= this.#resetAfterMs && now - this.#lastDecreaseAt >= this.#resetAfterMs && this.#measured(now) < RESET_USE * this.#rate) {
      this.#rate = Infinity;
      this.#resets++;
      this.#lastUpdateAt = now;
      return;
    }
    const dt = now - this.#lastUpdateAt;
    this.#lastUpdateAt = now;
    if (dt <= 0) return;
    let raised = this.#rate + (this.#step() * dt) / 1000;
    const quiet = now - this.#lastThrottleAt;
    if (quiet >= this.#probeAfterMs && this.#rate >= this.#ceiling * (2 - this.#decrease)) raised *= this.#probeFactor ** (dt / 1000);
    // A limit far above what the process sends means nothing (and would let a sudden burst
    // through at once): keep it within twice the measured use, plus one step.
    const cap = Math.max(this.#minRate, 2 * this.#measured(now) + this.#step());
    this.#rate = Math.max(this.#rate > cap ? this.#rate : Math.min(raised, cap), this.#minRate);
  }

  /**
   * The additive increase, requests/s per second: `increasePerSecond`, times the square root of
   * the last throttled rate over {@link STEP_REFERENCE_RATE} when that is higher.
   */
  #step(): number {
    const c = this.#ceiling;
    return c > STEP_REFERENCE_RATE && c !== Infinity ? this.#increase * Math.sqrt(c / STEP_REFERENCE_RATE) : this.#increase;
  }

  #count(now: number): void {
    this.#roll(now);
    this.#current++;
  }

  #roll(now: number): void {
    const elapsed = now - this.#windowStart;
    if (elapsed < this.#windowMs) return;
    if (elapsed < 2 * this.#windowMs) {
      this.#previous = this.#current;
      this.#windowStart += this.#windowMs;
      this.#fresh = false;
    } else {
      this.#previous = 0;
      this.#windowStart = now;
      this.#fresh = true;
    }
    this.#current = 0;
  }

  /**
   * Requests/s started over the last one to two windows. After an idle spell only the time since
   * the first request counts (at least {@link MIN_SPAN_MS}): a burst after a pause is measured as
   * the burst it is, not averaged with the pause (which would set the first limit far too low).
   */
  #measured(now: number): number {
    this.#roll(now);
    const span = this.#fresh ? Math.max(MIN_SPAN_MS, now - this.#windowStart) : now - this.#windowStart + this.#windowMs;
    return ((this.#previous + this.#current) * 1000) / span;
  }
}

function fn(name: string, value: unknown): (() => number) | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'function') throw new TypeError(`Expected \`${name}\` to be a function, got ${typeof value}`);
  return value as () => number;
}

function num(name: string, value: unknown, fallback: number, ok: (v: number) => boolean, what: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw new TypeError(`Expected \`${name}\` to be ${what}, got ${typeof value}`);
  if (Number.isNaN(value) || !ok(value)) throw new RangeError(`Expected \`${name}\` to be ${what}, got ${value}`);
  return value;
}

/**
 * The {@link Pacer} of a buffer with `adaptiveRate` (the sender asks it before each call): first
 * the request rate ({@link AdaptiveRate}: no wait until the first throttle), then the concurrency
 * slots. `sleep` is the buffer's own, which stop()'s deadline ends.
 */
export class AdaptivePacer implements Pacer {
  readonly #slots: Pacer;
  readonly #rate: AdaptiveRate;
  readonly #sleep: (ms: number) => Promise<void>;

  constructor(slots: Pacer, rate: AdaptiveRate, sleep: (ms: number) => Promise<void>) {
    this.#slots = slots;
    this.#rate = rate;
    this.#sleep = sleep;
  }

  acquire(): Promise<void> {
    const wait = this.#rate.reserve();
    // Unpaced (no throttle yet, the common case): the slots' own promise, nothing more per call.
    return wait > 0 ? this.#paced(wait) : this.#slots.acquire();
  }

  async #paced(first: number): Promise<void> {
    // A request that waited through a decrease had its turn booked at the old rate: book it again
    // at the new one (behind those booked since), so the cut applies at once to every request
    // already waiting, not only to those booked after it. Bounded: a wait that stop()'s deadline
    // ends returns at once.
    let wait = first;
    for (let rebooks = 0; wait > 0; rebooks++) {
      const decreases = this.#rate.decreases;
      await this.#sleep(wait);
      if (this.#rate.decreases === decreases || rebooks === MAX_REBOOKS) break;
      wait = this.#rate.rebook();
    }
    await this.#slots.acquire();
  }

  release(outcome: CallOutcome): void {
    if (outcome !== 'not-called') this.#rate.onResult(outcome === 'throttled');
    this.#slots.release(outcome);
  }
}
