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
 * by `decreaseFactor` at most once per `windowMs`; every second without a cut adds
 * `increasePerSecond`. A process that has been quiet for long (see `probeAfterMs`) also grows its
 * rate multiplicatively, so that the end of an overload is found in seconds. After `resetAfterMs`
 * without any throttle the limit is dropped: unpaced again.
 *
 * Throttles that do not depend on the rate (a fault injector's `throttleRate`) drive any AIMD
 * controller down to where cuts and additive increases balance (about 3 requests/s at 30% random
 * throttles with the defaults): the premise is an account quota, where slowing down ends throttles.
 */

import type { CallOutcome, Pacer } from './sender.js';

/** Tuning of {@link AdaptiveRate}. Every field is optional. */
export interface AdaptiveRateOptions {
  /** Clock, ms; default `Date.now`. Only differences are used. */
  now?: (() => number) | undefined;
  /** Random source in [0, 1) for the pacing jitter; default `Math.random`. */
  random?: (() => number) | undefined;
  /** Factor applied to the rate on a throttle (the "MD"), in (0, 1). Default 0.7. */
  decreaseFactor?: number | undefined;
  /** Requests/s added to the rate per second without a decrease (the "AI"), > 0. Default 0.5. */
  increasePerSecond?: number | undefined;
  /** At most one decrease per window, ms; also the span the send rate is measured over. Default 1,000. */
  windowMs?: number | undefined;
  /** Lowest rate, requests/s, > 0. Default 0.05 (one request per 20 s). */
  minRate?: number | undefined;
  /**
   * Probing: once a process has gone `probeAfterMs` without a throttle, and three times as long as
   * it usually goes between two decreases, its rate also grows by `probeFactor` per second (on top
   * of the additive increase). A limit left low by an overload that has ended then recovers in
   * seconds, not minutes, while a process that is throttled every few seconds (a fleet at its
   * quota) stays in plain AIMD. Default 5,000 ms.
   */
  probeAfterMs?: number | undefined;
  /** Growth per second while probing, > 1. Default 1.5. */
  probeFactor?: number | undefined;
  /** Unpaced again after this long without a throttle, ms. Default 30,000. */
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
  decreaseFactor: 0.7,
  increasePerSecond: 0.5,
  windowMs: 1_000,
  minRate: 0.05,
  resetAfterMs: 30_000,
  probeAfterMs: 5_000,
  probeFactor: 1.5,
  jitter: 0.2,
});

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
  /** Moving average of the time between two decreases, ms (probing waits for three of them). */
  #decreaseGapMs: number;

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
    this.#decreaseGapMs = this.#windowMs;
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
    const now = this.#now();
    if (!throttled) {
      if (this.#rate !== Infinity) this.#update(now);
      return;
    }
    this.#throttles++;
    this.#lastThrottleAt = now;
    if (this.#rate !== Infinity) this.#update(now);
    const gap = now - this.#lastDecreaseAt;
    if (gap < this.#windowMs) return;
    if (gap < this.#resetAfterMs) this.#decreaseGapMs = 0.7 * this.#decreaseGapMs + 0.3 * gap;
    this.#lastDecreaseAt = now;
    this.#decreases++;
    const wasUnpaced = this.#rate === Infinity;
    const base = wasUnpaced ? this.#measured(now) : this.#rate;
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
    if (now - this.#lastThrottleAt >= this.#resetAfterMs && now - this.#lastDecreaseAt >= this.#resetAfterMs) {
      this.#rate = Infinity;
      this.#resets++;
      this.#lastUpdateAt = now;
      return;
    }
    const dt = now - this.#lastUpdateAt;
    this.#lastUpdateAt = now;
    if (dt <= 0) return;
    let raised = this.#rate + (this.#increase * dt) / 1000;
    const quiet = now - this.#lastThrottleAt;
    if (quiet >= this.#probeAfterMs && quiet >= 5 * this.#decreaseGapMs) raised *= this.#probeFactor ** (dt / 1000);
    // A limit far above what the process sends means nothing (and would let a sudden burst
    // through at once): keep it within twice the measured use, plus one step.
    const cap = Math.max(this.#minRate, 2 * this.#measured(now) + this.#increase);
    this.#rate = Math.max(this.#rate > cap ? this.#rate : Math.min(raised, cap), this.#minRate);
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

  async acquire(): Promise<void> {
    const wait = this.#rate.reserve();
    if (wait > 0) await this.#sleep(wait);
    await this.#slots.acquire();
  }

  release(outcome: CallOutcome): void {
    if (outcome !== 'not-called') this.#rate.onResult(outcome === 'throttled');
    this.#slots.release(outcome);
  }
}
