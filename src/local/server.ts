/**
 * The embedded CloudWatch Logs endpoint: a `node:http` server speaking AWS JSON 1.1 (POST /,
 * `X-Amz-Target: Logs_20140328.<Operation>`), in memory, with injectable faults. The real AWS SDK
 * client pointed at its `url` should not be able to tell it from AWS.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { LEGACY_MAX_EVENT_BYTES, MAX_EVENT_BYTES } from '../batch/limits.js';
import type { InputLogEvent } from '../batch/types.js';
import { FaultInjector, unavailable } from './faults.js';
import type { FaultCounters, LocalFaults } from './faults.js';
import { metricFilterValues } from './metric-filters.js';
import type { MetricFilterValues } from './metric-filters.js';
import { OPERATIONS, ServiceError } from './operations.js';
import { AccountQuotas, THROTTLING_ANSWER, validateQuotas } from './quotas.js';
import type { LocalQuotas, QuotaStats } from './quotas.js';
import type { OperationContext, PutStats } from './operations.js';
import { LocalStore } from './store.js';
import { EmfExtractor, type ExtractedMetrics } from './emf.js';
import {
  authProblem,
  DEFAULT_MAX_IN_FLIGHT_BYTES,
  describe,
  errorReply,
  InFlightBudget,
  isReply,
  parseInput,
  readBody,
  replyOf,
  route,
  safeSend,
  type Reply,
} from './http.js';
import type { StoredLogEvent } from './store.js';

/** Options of {@link startLocalEndpoint}. */
export interface LocalEndpointOptions {
  /** TCP port; default 0 (a free port, see `url`). */
  port?: number | undefined;
  /** Interface to listen on; default `127.0.0.1` (loopback only). */
  host?: string | undefined;
  /** Faults to inject from the start; default none. Replace later with `setFaults`. */
  faults?: LocalFaults | undefined;
  /** Largest event incl. the 26-byte overhead, bytes; default 1,048,576 (AWS since April 2025), at least 262,144. */
  maxEventBytes?: number | undefined;
  /** Keep event bodies for read-back; default true. False keeps only counts (benchmarks). */
  keepEvents?: boolean | undefined;
  /** Clock in ms since the epoch, for the time window, token bucket and ingestion times; default `Date.now`. */
  now?: (() => number) | undefined;
  /** Seed of the fault PRNG; default 1. The same seed and faults give the same fault sequence. */
  seed?: number | undefined;
  /** Refuse requests without a SigV4 `Authorization` header, as AWS does; default true. Signatures are never verified. */
  requireAuth?: boolean | undefined;
  /** Region used in ARNs; default `us-east-1`. */
  region?: string | undefined;
  /**
   * Called after each PutLogEvents that stored events, with the request's events and the stored
   * range `[start, end)`. Lets a benchmark count lost and duplicated events with
   * `keepEvents: false`. Must not throw (a throw is answered as 500 InternalFailure).
   */
  onStored?: ((logGroupName: string, logStreamName: string, events: readonly InputLogEvent[], start: number, end: number) => void) | undefined;
  /**
   * Account quotas, requests/s per operation, shared by every client (a token bucket each, burst
   * one second of quota, at least one call): e.g. `{ PutLogEvents: 400, CreateLogStream: 50 }`, or
   * `AWS_DEFAULT_QUOTAS`. Calls beyond are answered 400 `ThrottlingException` "Rate exceeded".
   * Default none.
   */
  quotas?: LocalQuotas | undefined;
  /**
   * Most bytes of request bodies held at once, over all requests; default 67,108,864 (64 MiB,
   * room for about 58 concurrent PutLogEvents of the largest valid size).
   * A request that would go past it is answered 503 ServiceUnavailableException at once (its
   * body is discarded unread), so memory stays bounded whatever many clients send. Each request
   * is also limited to 64 MiB (413 beyond).
   */
  maxInFlightBytes?: number | undefined;
}

/** Counters of what the endpoint has seen. */
export interface LocalEndpointStats {
  /** HTTP requests received (any operation, answered or not). */
  requests: number;
  /** PutLogEvents requests received, faulted ones included. */
  putLogEventsRequests: number;
  /** Events stored by PutLogEvents. */
  eventsStored: number;
  /** Events rejected one by one, by reason. */
  rejected: { tooOld: number; tooNew: number; expired: number };
  /** Faults injected, by kind. */
  faults: FaultCounters;
  /** Calls admitted and throttled by `quotas`, per operation and per PutLogEvents stream (empty without quotas). */
  quotas: QuotaStats;
  /** Request bodies: bytes held now, the most held at once, and requests refused by `maxInFlightBytes` (503) or the per-request limit (413). */
  inFlight: { bytes: number; peakBytes: number; refused: number; tooLarge: number };
}

/** Read access to what the endpoint stores, for tests. */
export interface LocalEndpointStore {
  /** Names of the log groups, sorted. */
  groupNames(): string[];
  /** Names of a group's streams, sorted; empty when the group does not exist. */
  streamNames(logGroupName: string): string[];
  /** Events stored in a stream (counted even with `keepEvents: false`); 0 when it does not exist. */
  eventCount(logGroupName: string, logStreamName: string): number;
  /** A copy of a stream's events in timestamp order; empty when absent or `keepEvents` is false. */
  events(logGroupName: string, logStreamName: string): StoredLogEvent[];
  /** Sum of `eventCount` over every stream. */
  totalEvents(): number;
  /** A group's tags (sorted by key); empty when the group does not exist. */
  tags(logGroupName: string): Record<string, string>;
  /** What each metric filter of a group has counted from the events stored since it was put; empty when the group does not exist. */
  metricFilterValues(logGroupName: string): MetricFilterValues[];
}

/** A running endpoint. */
export interface LocalEndpoint {
  /** Base URL, e.g. `http://127.0.0.1:38211`; give it to the SDK client as `endpoint`. */
  readonly url: string;
  /** The port actually bound. */
  readonly port: number;
  /** Stops listening and destroys open connections. Idempotent. */
  close(): Promise<void>;
  /** Replaces the whole fault set; `setFaults({})` clears it. */
  setFaults(faults: LocalFaults): void;
  /** Clears every group, stream, event and counter, and reseeds the fault PRNG. Faults stay set. */
  reset(): void;
  /** Counters (a snapshot). */
  stats(): LocalEndpointStats;
  /** Read access to stored data. */
  readonly store: LocalEndpointStore;
  /** EMF metrics extracted from stored events, as CloudWatch extracts them (also `GET /metrics`, JSON). */
  metrics(): ExtractedMetrics;
}

/** {@link LocalEndpointOptions}, checked and defaulted. */
interface EndpointConfig {
  port: number;
  host: string;
  maxEventBytes: number;
  maxInFlightBytes: number;
  now: () => number;
  requireAuth: boolean;
}

/**
 * Starts the embedded endpoint. Resolves once it listens.
 *
 * @example
 * const endpoint = await startLocalEndpoint();
 * const client = new CloudWatchLogsClient({ endpoint: endpoint.url, region: 'us-east-1',
 *   credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
 */
export async function startLocalEndpoint(options: LocalEndpointOptions = {}): Promise<LocalEndpoint> {
  const config = checkOptions(options);
  const handler = new RequestHandler(config, options);
  const server = createServer((req, res) => handler.handle(req, res));
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that misbehaves at the HTTP level gets a 400 and its socket closed, never a crash.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await listen(server, config.port, config.host);
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    store: handler.storeView(),
    metrics: () => handler.metrics(),
    close() {
      closed ??= new Promise<void>((resolve) => {
        handler.cancelTimers();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
    setFaults: (next) => handler.setFaults(next),
    reset: () => handler.reset(),
    stats: () => handler.stats(),
  };
}

/** Checks the options that have a range; throws RangeError naming the option and value. */
function checkOptions(options: LocalEndpointOptions): EndpointConfig {
  const port = options.port ?? 0;
  const maxEventBytes = options.maxEventBytes ?? MAX_EVENT_BYTES;
  const maxInFlightBytes = options.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Expected \`port\` to be an integer between 0 and 65535, got ${String(port)}`);
  }
  if (!Number.isInteger(maxEventBytes) || maxEventBytes < LEGACY_MAX_EVENT_BYTES || maxEventBytes > MAX_EVENT_BYTES) {
    throw new RangeError(
      `Expected \`maxEventBytes\` to be an integer between ${LEGACY_MAX_EVENT_BYTES} and ${MAX_EVENT_BYTES}, got ${String(maxEventBytes)}`,
    );
  }
  if (!Number.isSafeInteger(maxInFlightBytes) || maxInFlightBytes < 1024 * 1024) {
    throw new RangeError(`Expected \`maxInFlightBytes\` to be an integer of at least 1048576 (1 MiB), got ${String(maxInFlightBytes)}`);
  }
  return {
    port,
    host: options.host ?? '127.0.0.1',
    maxEventBytes,
    maxInFlightBytes,
    now: options.now ?? Date.now,
    requireAuth: options.requireAuth ?? true,
  };
}

/** Resolves once `server` listens on `port` and `host`; rejects with the listen error (e.g. EADDRINUSE). */
function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * The endpoint's state (the store, the faults, the quotas, the in-flight budget, the counters)
 * and the answer to one request, in steps: read the body under both bounds, authenticate, route,
 * parse, admit (quotas, then faults), dispatch, respond.
 */
class RequestHandler {
  readonly #config: EndpointConfig;
  readonly #store: LocalStore;
  readonly #putStats: PutStats = { eventsStored: 0, tooOld: 0, tooNew: 0, expired: 0 };
  readonly #faults: FaultInjector;
  readonly #budget: InFlightBudget;
  readonly #emf = new EmfExtractor();
  readonly #quotas: AccountQuotas;
  readonly #ctx: OperationContext;
  /** Timers of injected latency, cleared by `close()`. */
  readonly #timers = new Set<NodeJS.Timeout>();
  #requests = 0;
  #putRequests = 0;

  constructor(config: EndpointConfig, options: LocalEndpointOptions) {
    const { now } = config;
    this.#config = config;
    this.#store = new LocalStore(options.keepEvents ?? true);
    this.#faults = new FaultInjector(options.faults ?? {}, options.seed ?? 1, now);
    this.#budget = new InFlightBudget(config.maxInFlightBytes);
    this.#quotas = new AccountQuotas(validateQuotas(options.quotas ?? {}, OPERATIONS), now);
    const emf = this.#emf;
    this.#ctx = {
      store: this.#store,
      now,
      maxEventBytes: config.maxEventBytes,
      region: options.region ?? 'us-east-1',
      accountId: '000000000000',
      stats: this.#putStats,
      onStored: (group, stream, events, start, end) => {
        emf.extract(events, start, end);
        options.onStored?.(group, stream, events, start, end);
      },
    };
  }

  /** The `node:http` request listener: answers, then releases the body's bytes once the response closes. */
  handle(req: IncomingMessage, res: ServerResponse): void {
    this.#requests++;
    const held = { bytes: 0 };
    res.once('close', () => this.#budget.release(held.bytes));
    this.#answer(req, held).then(
      (reply) => {
        if (reply === undefined) req.socket.destroy(); // a dropped connection: no status line ever
        else safeSend(res, reply);
      },
      (error: unknown) => {
        // Last line of defence: whatever went wrong, answer 500 rather than crash or hang.
        safeSend(res, errorReply(500, 'InternalFailure', `Internal error: ${describe(error)}`));
      },
    );
  }

  /** Answers one request, step by step; resolves to the reply, or `undefined` when the socket is to be dropped on purpose. */
  async #answer(req: IncomingMessage, held: { bytes: number }): Promise<Reply | undefined> {
    const read = await readBody(req, this.#budget, held);
    if (read.kind !== 'ok') return this.#refuseBody(read.kind);
    if (req.method === 'GET' && req.url === '/metrics') {
      return { status: 200, payload: this.#emf.snapshot(), contentType: 'application/json' };
    }
    const delay = this.#faults.latency();
    if (delay > 0) await sleep(delay, this.#timers);
    const denied = this.#config.requireAuth ? authProblem(req) : undefined;
    if (denied !== undefined) return denied;
    const routed = route(req);
    if (isReply(routed)) return routed;
    const input = parseInput(read);
    if (isReply(input)) return input;
    return await this.#call(routed.operationName, input);
  }

  /** The answer to a body that was not kept: over the in-flight budget (503) or too large (413). */
  #refuseBody(kind: 'over-budget' | 'too-large'): Reply {
    if (kind === 'over-budget') {
      this.#budget.refused++;
      return { ...errorReply(503, 'ServiceUnavailableException', 'Too many bytes of requests in flight; retry later.'), close: true };
    }
    this.#budget.tooLarge++;
    return { ...errorReply(413, 'RequestEntityTooLargeException', 'Request entity too large'), close: true };
  }

  /** Admits the call (quotas, then the injected faults of PutLogEvents), dispatches it, and turns the outcome into a reply. */
  async #call(operationName: string, input: Record<string, unknown>): Promise<Reply | undefined> {
    const isPut = operationName === 'PutLogEvents';
    if (this.#quotas.active && !this.#quotas.admit(operationName, input)) {
      if (isPut) this.#putRequests++;
      return errorReply(THROTTLING_ANSWER.status, THROTTLING_ANSWER.type, THROTTLING_ANSWER.message);
    }
    let storeThenFail = false;
    if (isPut) {
      this.#putRequests++;
      const decision = this.#faults.decide();
      if (decision.kind === 'drop') return undefined;
      if (decision.kind === 'error') return errorReply(decision.status, decision.type, decision.message);
      storeThenFail = decision.storeThenFail;
    }
    let output: unknown;
    try {
      output = await this.#dispatch(operationName, input);
    } catch (error) {
      if (error instanceof ServiceError) return replyOf(error);
      return errorReply(500, 'InternalFailure', `Internal error: ${describe(error)}`);
    }
    if (storeThenFail) {
      // The events are stored, but the client is told otherwise: a retry makes duplicates.
      this.#faults.counters.storeThenFail++;
      const fault = unavailable();
      return errorReply(fault.status, fault.type, fault.message);
    }
    return { status: 200, payload: output };
  }

  /** The one place where an operation is looked up and called (hooks such as quotas go before it). */
  async #dispatch(operationName: string, input: Record<string, unknown>): Promise<unknown> {
    // Looked up per request (not cached): benchmarks wrap entries of OPERATIONS to count events.
    const operation = OPERATIONS.get(operationName);
    if (operation === undefined) throw new ServiceError(400, 'UnknownOperationException', `Unknown operation ${operationName}`);
    return await operation(this.#ctx, input);
  }

  /** EMF metrics extracted so far. */
  metrics(): ExtractedMetrics {
    return this.#emf.snapshot();
  }

  /** Replaces the whole fault set. */
  setFaults(next: LocalFaults): void {
    this.#faults.set(next);
  }

  /** Clears the timers of injected latency (at close). */
  cancelTimers(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
  }

  /** Forgets every group, stream, event and counter; reseeds the faults. */
  reset(): void {
    this.#store.clear();
    this.#emf.clear();
    this.#faults.reset();
    this.#quotas.reset();
    this.#budget.resetCounters();
    this.#requests = 0;
    this.#putRequests = 0;
    const stats = this.#putStats;
    stats.eventsStored = 0;
    stats.tooOld = 0;
    stats.tooNew = 0;
    stats.expired = 0;
  }

  /** A snapshot of the counters. */
  stats(): LocalEndpointStats {
    const { tooOld, tooNew, expired, eventsStored } = this.#putStats;
    const budget = this.#budget;
    return {
      requests: this.#requests,
      putLogEventsRequests: this.#putRequests,
      eventsStored,
      rejected: { tooOld, tooNew, expired },
      faults: { ...this.#faults.counters },
      quotas: this.#quotas.stats(),
      inFlight: { bytes: budget.bytes, peakBytes: budget.peakBytes, refused: budget.refused, tooLarge: budget.tooLarge },
    };
  }

  /** Read access to the store, copies only. */
  storeView(): LocalEndpointStore {
    const store = this.#store;
    return {
      groupNames: () => [...store.groups.keys()].sort(),
      streamNames: (g) => [...(store.groups.get(g)?.streams.keys() ?? [])].sort(),
      eventCount: (g, s) => store.groups.get(g)?.streams.get(s)?.eventCount ?? 0,
      events: (g, s) => (store.groups.get(g)?.streams.get(s)?.events ?? []).map((e) => ({ ...e })),
      totalEvents: () => {
        let total = 0;
        for (const g of store.groups.values()) for (const s of g.streams.values()) total += s.eventCount;
        return total;
      },
      tags: (g) => Object.fromEntries([...(store.groups.get(g)?.tags ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      metricFilterValues: (g) => {
        const group = store.groups.get(g);
        return group === undefined ? [] : metricFilterValues(group);
      },
    };
  }
}

/** Resolves after `ms`; the timer is unref()'d and kept in `timers` so that `close()` can clear it. */
function sleep(ms: number, timers: Set<NodeJS.Timeout>): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(() => {
      timers.delete(t);
      resolve();
    }, ms);
    // Never keep a process alive for an injected delay (architecture: every timer unref'd).
    t.unref();
    timers.add(t);
  });
}
