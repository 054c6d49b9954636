/**
 * Account quotas of the embedded endpoint (issue 18): one token bucket per operation, shared by
 * every client of the endpoint, as AWS's per-account, per-Region request quotas are. A call over
 * the quota is answered 400 `ThrottlingException` "Rate exceeded", and counted.
 *
 * Each bucket holds one second of its quota (at least one token, so that quotas below 1/s still
 * let a call through now and then) and starts full; it refills continuously from the injected
 * clock. AWS does not document its burst; one second of quota is the assumption (see the README,
 * "Fleets").
 */

/** Requests per second allowed per operation, e.g. `{ PutLogEvents: 400, CreateLogStream: 50 }`. */
export type LocalQuotas = Readonly<Record<string, number>>;

/**
 * AWS's default CloudWatch Logs quotas, requests/s per account and Region (CloudWatch Logs
 * quotas page): PutLogEvents 5,000 (US East (N. Virginia), US West (Oregon) and Europe (Ireland);
 * 1,500 elsewhere), CreateLogStream 50, CreateLogGroup 10, DescribeLogStreams 25. Accounts may have
 * had them raised; read yours in the Service Quotas console.
 */
export const AWS_DEFAULT_QUOTAS: LocalQuotas = Object.freeze({
  PutLogEvents: 5_000,
  CreateLogStream: 50,
  CreateLogGroup: 10,
  DescribeLogStreams: 25,
});

/** Calls admitted and throttled. */
export interface QuotaCounters {
  accepted: number;
  throttled: number;
}

/** PutLogEvents calls admitted and throttled for one stream. */
export interface StreamQuotaCounters extends QuotaCounters {
  logGroupName: string;
  logStreamName: string;
}

/** What the quotas have seen since the start (or the last `reset`). */
export interface QuotaStats {
  /** Per operation that has a quota. */
  byOperation: Record<string, QuotaCounters>;
  /** PutLogEvents per stream named in the request (every stream that made a call), sorted by group then stream. */
  putLogEventsByStream: StreamQuotaCounters[];
}

/**
 * Checks a quota set: every value a positive finite number of requests/s, every key a non-empty
 * operation name. Throws `TypeError`/`RangeError` naming the bad entry. Returns a copy.
 */
export function validateQuotas(quotas: unknown, knownOperations?: ReadonlySet<string> | ReadonlyMap<string, unknown>): Record<string, number> {
  if (quotas === null || typeof quotas !== 'object' || Array.isArray(quotas)) {
    throw new TypeError(`Expected \`quotas\` to be an object of operation name to requests/s, got ${Array.isArray(quotas) ? 'an array' : String(quotas)}`);
  }
  const out: Record<string, number> = {};
  for (const [name, value] of Object.entries(quotas as Record<string, unknown>)) {
    if (knownOperations !== undefined && !knownOperations.has(name)) {
      throw new RangeError(`Expected \`quotas\` to name CloudWatch Logs operations, got unknown operation '${name}'`);
    }
    if (typeof value !== 'number') throw new TypeError(`Expected \`quotas.${name}\` to be a positive number of requests/s, got ${typeof value}`);
    if (!(value > 0 && Number.isFinite(value))) {
      throw new RangeError(`Expected \`quotas.${name}\` to be a positive number of requests/s, got ${value}`);
    }
    out[name] = value;
  }
  return out;
}

interface Bucket {
  rate: number;
  capacity: number;
  tokens: number;
  refilledAt: number;
  counters: QuotaCounters;
}

/** The buckets of one endpoint. */
export class AccountQuotas {
  readonly #buckets = new Map<string, Bucket>();
  readonly #now: () => number;
  /** group -> stream -> counters, PutLogEvents only. */
  readonly #streams = new Map<string, Map<string, QuotaCounters>>();

  /** `quotas` must have passed {@link validateQuotas}. */
  constructor(quotas: LocalQuotas, now: () => number) {
    this.#now = now;
    const start = now();
    for (const [name, rate] of Object.entries(quotas)) {
      const capacity = Math.max(1, rate);
      this.#buckets.set(name, { rate, capacity, tokens: capacity, refilledAt: start, counters: { accepted: 0, throttled: 0 } });
    }
  }

  /** Whether any quota is set. */
  get active(): boolean {
    return this.#buckets.size > 0;
  }

  /**
   * Spends a token of `operation`'s bucket if there is one. True: go on; false: answer with
   * {@link throttlingAnswer}. Operations without a quota always pass, uncounted. For
   * PutLogEvents, also counts per stream (names read from the request, unchecked).
   */
  admit(operation: string, body: Readonly<Record<string, unknown>>): boolean {
    const bucket = this.#buckets.get(operation);
    if (bucket === undefined) return true;
    const now = this.#now();
    const elapsed = now - bucket.refilledAt;
    if (elapsed > 0) {
      bucket.tokens = Math.min(bucket.capacity, bucket.tokens + (elapsed * bucket.rate) / 1000);
      bucket.refilledAt = now;
    }
    const ok = bucket.tokens >= 1;
    if (ok) {
      bucket.tokens -= 1;
      bucket.counters.accepted++;
    } else {
      bucket.counters.throttled++;
    }
    if (operation === 'PutLogEvents') {
      const group = typeof body.logGroupName === 'string' ? body.logGroupName : '';
      const stream = typeof body.logStreamName === 'string' ? body.logStreamName : '';
      let streams = this.#streams.get(group);
      if (streams === undefined) this.#streams.set(group, (streams = new Map()));
      let counters = streams.get(stream);
      if (counters === undefined) streams.set(stream, (counters = { accepted: 0, throttled: 0 }));
      if (ok) counters.accepted++;
      else counters.throttled++;
    }
    return ok;
  }

  /** Counters (a snapshot). */
  stats(): QuotaStats {
    const byOperation: Record<string, QuotaCounters> = {};
    for (const [name, bucket] of this.#buckets) byOperation[name] = { ...bucket.counters };
    const putLogEventsByStream: StreamQuotaCounters[] = [];
    for (const group of [...this.#streams.keys()].sort()) {
      const streams = this.#streams.get(group) as Map<string, QuotaCounters>;
      for (const stream of [...streams.keys()].sort()) {
        putLogEventsByStream.push({ logGroupName: group, logStreamName: stream, ...(streams.get(stream) as QuotaCounters) });
      }
    }
    return { byOperation, putLogEventsByStream };
  }

  /** Clears the counters and fills every bucket. */
  reset(): void {
    const now = this.#now();
    for (const bucket of this.#buckets.values()) {
      bucket.tokens = bucket.capacity;
      bucket.refilledAt = now;
      bucket.counters = { accepted: 0, throttled: 0 };
    }
    this.#streams.clear();
  }
}

/** The answer AWS gives a call over an account quota: HTTP 400, `ThrottlingException`, "Rate exceeded". */
export const THROTTLING_ANSWER = Object.freeze({
  status: 400,
  type: 'ThrottlingException',
  message: 'Rate exceeded',
});

/**
 * Parses `OP=N` (the CLI's `--quota`): an operation name and a positive number of requests/s
 * (decimals allowed, e.g. `CreateLogGroup=0.5`). Throws `RangeError` naming the text.
 */
export function parseQuota(text: string): [string, number] {
  const at = text.indexOf('=');
  const name = at > 0 ? text.slice(0, at).trim() : '';
  const raw = at > 0 ? text.slice(at + 1).trim() : '';
  const value = raw === '' ? Number.NaN : Number(raw);
  if (name === '' || !(value > 0 && Number.isFinite(value))) {
    throw new RangeError(`Expected a quota as OPERATION=REQUESTS_PER_SECOND (e.g. PutLogEvents=400), got ${JSON.stringify(text)}`);
  }
  return [name, value];
}
