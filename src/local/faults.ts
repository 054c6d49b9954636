/**
 * Fault injection for the embedded endpoint: throttling, 5xx answers, latency, dropped
 * connections and "stored, then failed" answers, drawn from a seeded PRNG so that a test that
 * sets a seed sees the same faults on the same requests every run.
 */

/**
 * Faults to inject. Rates are fractions in [0, 1] of PutLogEvents requests and add up to at most
 * 1: one draw per request picks at most one kind, so `throttleRate: 0.1, unavailableRate: 0.1`
 * faults exactly 20% of requests, half of them each way.
 */
export interface LocalFaults {
  /** PutLogEvents requests allowed per second (token bucket on the endpoint's clock); beyond it, 400 `ThrottlingException` "Rate exceeded". */
  requestsPerSecond?: number | undefined;
  /** Fraction of PutLogEvents answered 400 `ThrottlingException` "Rate exceeded". */
  throttleRate?: number | undefined;
  /** Fraction of PutLogEvents answered 503 `ServiceUnavailableException`. */
  unavailableRate?: number | undefined;
  /** Fraction of PutLogEvents answered 500 `InternalFailure`. */
  internalErrorRate?: number | undefined;
  /** Delay before answering any request, ms: a number, or `[min, max]` drawn uniformly per request. */
  latencyMs?: number | readonly [number, number] | undefined;
  /** Fraction of PutLogEvents whose socket is destroyed without an answer. */
  dropConnectionRate?: number | undefined;
  /** Fraction of PutLogEvents whose events are stored, then answered 503 (duplicates on retry). */
  storeThenFailRate?: number | undefined;
}

/** How many faults of each kind were injected. */
export interface FaultCounters {
  throttledByRate: number;
  throttledByRequestsPerSecond: number;
  unavailable: number;
  internalError: number;
  droppedConnections: number;
  storeThenFail: number;
  delayedRequests: number;
}

/** What to do with one PutLogEvents request, decided before it is processed. */
export type FaultDecision =
  | { kind: 'none'; storeThenFail: boolean }
  | { kind: 'drop' }
  | { kind: 'error'; status: number; type: string; message: string };

/** mulberry32: a tiny, fast, seedable PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Empty counters. */
export function zeroCounters(): FaultCounters {
  return {
    throttledByRate: 0,
    throttledByRequestsPerSecond: 0,
    unavailable: 0,
    internalError: 0,
    droppedConnections: 0,
    storeThenFail: 0,
    delayedRequests: 0,
  };
}

const RATE_KEYS = ['throttleRate', 'unavailableRate', 'internalErrorRate', 'dropConnectionRate', 'storeThenFailRate'] as const;

/** Checks a fault set, throwing a `RangeError` that names the bad option. */
export function validateFaults(faults: LocalFaults): LocalFaults {
  for (const key of RATE_KEYS) {
    const v = faults[key];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) {
      throw new RangeError(`Expected \`faults.${key}\` to be a number between 0 and 1, got ${String(v)}`);
    }
  }
  if (rateSum(faults) > 1 + 1e-9) {
    throw new RangeError(
      `Expected the fault rates (\`faults.${RATE_KEYS.join('`, `faults.')}\`) to add up to at most 1, got ${rateSum(faults)}`,
    );
  }
  const rps = faults.requestsPerSecond;
  if (rps !== undefined && !(typeof rps === 'number' && rps > 0)) {
    throw new RangeError(`Expected \`faults.requestsPerSecond\` to be a positive number, got ${String(rps)}`);
  }
  const lat = faults.latencyMs;
  if (lat !== undefined) {
    const ok =
      typeof lat === 'number'
        ? lat >= 0
        : Array.isArray(lat) && lat.length === 2 && lat[0] >= 0 && lat[1] >= lat[0];
    if (!ok) throw new RangeError(`Expected \`faults.latencyMs\` to be a number >= 0 or a [min, max] range, got ${JSON.stringify(lat)}`);
  }
  return { ...faults };
}

/** Decides, request by request, which fault to inject. */
export class FaultInjector {
  #faults: LocalFaults = {};
  #random: () => number;
  #latencyRandom: () => number;
  readonly #seed: number;
  readonly #now: () => number;
  #tokens = 0;
  #refilledAt = 0;
  counters: FaultCounters = zeroCounters();

  constructor(faults: LocalFaults, seed: number, now: () => number) {
    this.#seed = seed;
    this.#now = now;
    this.#random = mulberry32(seed);
    // Latency applies to every request; its own stream keeps read calls from shifting the
    // PutLogEvents fault sequence, so a seeded test replays whatever else it calls.
    this.#latencyRandom = mulberry32(seed ^ 0x9e3779b9);
    this.set(faults);
  }

  /** Replaces the whole fault set (`{}` clears it). The PRNG is not reseeded. */
  set(faults: LocalFaults): void {
    this.#faults = validateFaults(faults);
    this.#tokens = bucketCapacity(this.#faults.requestsPerSecond ?? 0);
    this.#refilledAt = this.#now();
  }

  /** The current fault set (a copy). */
  get(): LocalFaults {
    return { ...this.#faults };
  }

  /** Clears counters and reseeds the PRNGs, so a run after `reset()` replays from the start. */
  reset(): void {
    this.counters = zeroCounters();
    this.#random = mulberry32(this.#seed);
    this.#latencyRandom = mulberry32(this.#seed ^ 0x9e3779b9);
    this.#tokens = bucketCapacity(this.#faults.requestsPerSecond ?? 0);
    this.#refilledAt = this.#now();
  }

  /** Delay to apply to this request, ms (0 for none). */
  latency(): number {
    const lat = this.#faults.latencyMs;
    if (lat === undefined) return 0;
    const ms = typeof lat === 'number' ? lat : lat[0] + (lat[1] - lat[0]) * this.#latencyRandom();
    if (ms > 0) this.counters.delayedRequests++;
    return ms;
  }

  /**
   * The fault for one PutLogEvents request. One uniform draw decides whether the request is
   * faulted at all and which way: the rates are consecutive shares of [0, 1) (drop, throttle,
   * 503, 500, store-then-fail, in that order), so exactly a fraction `sum of rates` of requests
   * is faulted and each kind gets its own rate (the rates must add up to at most 1). The
   * `requestsPerSecond` bucket is separate: it throttles what the draw let through.
   */
  decide(): FaultDecision {
    const f = this.#faults;
    const total = rateSum(f);
    const u = total > 0 ? this.#random() : 1;
    let edge = f.dropConnectionRate ?? 0;
    if (u < edge) {
      this.counters.droppedConnections++;
      return { kind: 'drop' };
    }
    if (f.requestsPerSecond !== undefined && !this.#takeToken(f.requestsPerSecond)) {
      this.counters.throttledByRequestsPerSecond++;
      return throttled();
    }
    if (u < (edge += f.throttleRate ?? 0)) {
      this.counters.throttledByRate++;
      return throttled();
    }
    if (u < (edge += f.unavailableRate ?? 0)) {
      this.counters.unavailable++;
      return unavailable();
    }
    if (u < (edge += f.internalErrorRate ?? 0)) {
      this.counters.internalError++;
      return { kind: 'error', status: 500, type: 'InternalFailure', message: 'An internal error occurred.' };
    }
    return { kind: 'none', storeThenFail: u < edge + (f.storeThenFailRate ?? 0) };
  }

  /**
   * Token bucket of `rate` per second, refilled from the injected clock. It holds
   * max(rate, 1) tokens, so a rate below 1/s still lets one request through every 1/rate s.
   */
  #takeToken(rate: number): boolean {
    const now = this.#now();
    const elapsed = Math.max(0, now - this.#refilledAt);
    this.#refilledAt = now;
    this.#tokens = Math.min(bucketCapacity(rate), this.#tokens + (elapsed * rate) / 1000);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return true;
    }
    return false;
  }
}

/** Tokens the `requestsPerSecond` bucket holds when full: the rate, but at least one whole request. */
function bucketCapacity(rate: number): number {
  return Math.max(1, rate);
}

/** Sum of the fault rates (the faulted fraction of PutLogEvents requests, before `requestsPerSecond`). */
function rateSum(f: LocalFaults): number {
  let sum = 0;
  for (const key of RATE_KEYS) sum += f[key] ?? 0;
  return sum;
}

function throttled(): FaultDecision {
  return { kind: 'error', status: 400, type: 'ThrottlingException', message: 'Rate exceeded' };
}

/** The 503 answer, shared by `unavailableRate` and `storeThenFailRate`. */
export function unavailable(): FaultDecision & { kind: 'error' } {
  return {
    kind: 'error',
    status: 503,
    type: 'ServiceUnavailableException',
    message: 'The service cannot complete the request.',
  };
}
