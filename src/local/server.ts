/**
 * The embedded CloudWatch Logs endpoint: a `node:http` server speaking AWS JSON 1.1 (POST /,
 * `X-Amz-Target: Logs_20140328.<Operation>`), in memory, with injectable faults. The real AWS SDK
 * client pointed at its `url` should not be able to tell it from AWS.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
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

const TARGET_PREFIX = 'Logs_20140328.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** Refuse bodies past this size instead of buffering without end (far above any valid request). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Default of {@link LocalEndpointOptions.maxInFlightBytes}. */
const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

/** What to answer: a status and a JSON payload (an error payload carries `__type`). */
interface Reply {
  status: number;
  payload: unknown;
  /** Close the connection after answering (the request's body was not read). */
  close?: boolean;
  /** Content type of the answer; default AWS JSON 1.1. */
  contentType?: string;
}

function errorReply(status: number, type: string, message: string): Reply {
  return { status, payload: { __type: type, message } };
}

function replyOf(error: ServiceError): Reply {
  return errorReply(error.status, error.type, error.message);
}

/** Bytes of request bodies held, against a global bound. */
class InFlightBudget {
  readonly #max: number;
  bytes = 0;
  peakBytes = 0;
  refused = 0;
  tooLarge = 0;

  constructor(max: number) {
    this.#max = max;
  }

  /** Takes `n` bytes when they fit under the bound; false (nothing taken) when they do not. */
  take(n: number): boolean {
    if (this.bytes + n > this.#max) return false;
    this.bytes += n;
    if (this.bytes > this.peakBytes) this.peakBytes = this.bytes;
    return true;
  }

  release(n: number): void {
    this.bytes -= n;
  }

  resetCounters(): void {
    this.peakBytes = this.bytes;
    this.refused = 0;
    this.tooLarge = 0;
  }
}

/** The outcome of reading a body: the bytes, or why they were not kept. */
type BodyRead = { kind: 'ok'; body: Buffer | undefined } | { kind: 'too-large' } | { kind: 'over-budget' };

/**
 * Reads the whole body under both bounds: the per-request {@link MAX_BODY_BYTES} and the
 * global budget. A declared `content-length` is checked (and reserved) before a byte is read,
 * and read into one buffer of that size; a chunked body is reserved chunk by chunk. Bytes
 * reserved are added to `held.bytes`, for the caller to release once the request is answered.
 */
function readBody(req: IncomingMessage, budget: InFlightBudget, held: { bytes: number }): Promise<BodyRead> {
  const declared = Number(req.headers['content-length']);
  const known = req.headers['content-length'] !== undefined && Number.isSafeInteger(declared) && declared >= 0;
  if (known && declared > MAX_BODY_BYTES) return discard(req, { kind: 'too-large' });
  if (known) {
    if (!budget.take(declared)) return discard(req, { kind: 'over-budget' });
    held.bytes += declared;
  }
  return new Promise((resolve, reject) => {
    const whole = known ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let length = 0;
    let refused: BodyRead | undefined;
    req.on('data', (chunk: Buffer) => {
      if (refused !== undefined) return;
      if (length + chunk.length > (known ? declared : MAX_BODY_BYTES)) {
        refused = { kind: 'too-large' };
      } else if (whole !== undefined) {
        chunk.copy(whole, length);
      } else if (budget.take(chunk.length)) {
        held.bytes += chunk.length;
        chunks.push(chunk);
      } else {
        refused = { kind: 'over-budget' };
      }
      length += chunk.length;
      if (refused !== undefined) chunks.length = 0;
    });
    req.on('end', () => {
      if (refused !== undefined) resolve(refused);
      else if (whole !== undefined) resolve({ kind: 'ok', body: length === declared ? whole : whole.subarray(0, length) });
      else resolve({ kind: 'ok', body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length) });
    });
    req.on('error', reject);
  });
}

/** Discards a body without holding it, and answers `outcome` at once. */
function discard(req: IncomingMessage, outcome: BodyRead): Promise<BodyRead> {
  req.resume();
  return Promise.resolve(outcome);
}

/** The SigV4 check AWS makes before anything else: a signed request (signatures are not verified). */
function authProblem(req: IncomingMessage): Reply | undefined {
  const auth = req.headers.authorization;
  if (auth === undefined || auth === '') {
    // Coral services refuse unsigned JSON requests this way.
    return errorReply(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  if (!auth.startsWith('AWS4-HMAC-SHA256 ')) {
    return errorReply(
      400,
      'IncompleteSignatureException',
      `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${auth}`,
    );
  }
  return undefined;
}

/** The operation a request targets (`X-Amz-Target: Logs_20140328.<Operation>`), or an UnknownOperationException reply. */
function route(req: IncomingMessage): { operationName: string } | Reply {
  const target = req.headers['x-amz-target'];
  const operationName = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
  if (req.method !== 'POST' || !OPERATIONS.has(operationName)) {
    return errorReply(
      400,
      'UnknownOperationException',
      `Unknown operation ${String(target)}. The embedded endpoint supports: ${[...OPERATIONS.keys()].sort().join(', ')}.`,
    );
  }
  return { operationName };
}

/**
 * The JSON object of a body, or a SerializationException reply. The body is taken out of `read`
 * once decoded, so that its bytes can be freed while the text is parsed (a 60 MiB body then
 * costs about two copies at a time, not three).
 */
function parseInput(read: { body: Buffer | undefined }): Record<string, unknown> | Reply {
  let input: unknown;
  try {
    const text = read.body === undefined ? '' : read.body.toString('utf8');
    read.body = undefined;
    input = text.length === 0 ? {} : JSON.parse(text);
  } catch {
    return errorReply(400, 'SerializationException', 'Malformed JSON in the request body.');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return errorReply(400, 'SerializationException', 'Expected a JSON object as the request body.');
  }
  return input as Record<string, unknown>;
}

function isReply(v: unknown): v is Reply {
  return typeof v === 'object' && v !== null && 'status' in v && 'payload' in v;
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
  const port = options.port ?? 0;
  const host = options.host ?? '127.0.0.1';
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
  const now = options.now ?? Date.now;
  const requireAuth = options.requireAuth ?? true;
  const store = new LocalStore(options.keepEvents ?? true);
  const putStats: PutStats = { eventsStored: 0, tooOld: 0, tooNew: 0, expired: 0 };
  const faults = new FaultInjector(options.faults ?? {}, options.seed ?? 1, now);
  const budget = new InFlightBudget(maxInFlightBytes);
  const emf = new EmfExtractor();
  const quotas = new AccountQuotas(validateQuotas(options.quotas ?? {}, OPERATIONS), now);
  const ctx: OperationContext = {
    store,
    now,
    maxEventBytes,
    region: options.region ?? 'us-east-1',
    accountId: '000000000000',
    stats: putStats,
    onStored: (group, stream, events, start, end) => {
      emf.extract(events, start, end);
      options.onStored?.(group, stream, events, start, end);
    },
  };
  let requests = 0;
  let putRequests = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  /** The one place where an operation is looked up and called (hooks such as quotas go here). */
  async function dispatch(operationName: string, input: Record<string, unknown>): Promise<unknown> {
    // Looked up per request (not cached): benchmarks wrap entries of OPERATIONS to count events.
    const operation = OPERATIONS.get(operationName);
    if (operation === undefined) throw new ServiceError(400, 'UnknownOperationException', `Unknown operation ${operationName}`);
    return await operation(ctx, input);
  }

  /** Answers one request, step by step; resolves to the reply, or `undefined` when the socket was dropped on purpose. */
  async function answer(req: IncomingMessage, held: { bytes: number }): Promise<Reply | undefined> {
    const read = await readBody(req, budget, held);
    if (read.kind === 'over-budget') {
      budget.refused++;
      return { ...errorReply(503, 'ServiceUnavailableException', 'Too many bytes of requests in flight; retry later.'), close: true };
    }
    if (read.kind === 'too-large') {
      budget.tooLarge++;
      return { ...errorReply(413, 'RequestEntityTooLargeException', 'Request entity too large'), close: true };
    }
    if (req.method === 'GET' && req.url === '/metrics') {
      return { status: 200, payload: emf.snapshot(), contentType: 'application/json' };
    }
    const delay = faults.latency();
    if (delay > 0) await sleep(delay, timers);
    const denied = requireAuth ? authProblem(req) : undefined;
    if (denied !== undefined) return denied;
    const routed = route(req);
    if (isReply(routed)) return routed;
    const input = parseInput(read);
    if (isReply(input)) return input;
    const { operationName } = routed;
    if (quotas.active && !quotas.admit(operationName, input)) {
      if (operationName === 'PutLogEvents') putRequests++;
      return errorReply(THROTTLING_ANSWER.status, THROTTLING_ANSWER.type, THROTTLING_ANSWER.message);
    }
    let storeThenFail = false;
    if (operationName === 'PutLogEvents') {
      putRequests++;
      const decision = faults.decide();
      if (decision.kind === 'drop') return undefined;
      if (decision.kind === 'error') return errorReply(decision.status, decision.type, decision.message);
      storeThenFail = decision.storeThenFail;
    }
    let output: unknown;
    try {
      output = await dispatch(operationName, input);
    } catch (error) {
      if (error instanceof ServiceError) return replyOf(error);
      return errorReply(500, 'InternalFailure', `Internal error: ${describe(error)}`);
    }
    if (storeThenFail) {
      // The events are stored, but the client is told otherwise: a retry makes duplicates.
      faults.counters.storeThenFail++;
      const fault = unavailable();
      return errorReply(fault.status, fault.type, fault.message);
    }
    return { status: 200, payload: output };
  }

  const server = createServer((req, res) => {
    requests++;
    const held = { bytes: 0 };
    res.once('close', () => budget.release(held.bytes));
    answer(req, held).then(
      (reply) => {
        if (reply === undefined) req.socket.destroy(); // a dropped connection: no status line ever
        else safeSend(res, reply);
      },
      (error: unknown) => {
        // Last line of defence: whatever went wrong, answer 500 rather than crash or hang.
        safeSend(res, errorReply(500, 'InternalFailure', `Internal error: ${describe(error)}`));
      },
    );
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that misbehaves at the HTTP level gets a 400 and its socket closed, never a crash.
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  let closed: Promise<void> | undefined;

  const storeView: LocalEndpointStore = {
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

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    store: storeView,
    metrics: () => emf.snapshot(),
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return closed;
    },
    setFaults(next) {
      faults.set(next);
    },
    reset() {
      store.clear();
      emf.clear();
      faults.reset();
      quotas.reset();
      budget.resetCounters();
      requests = 0;
      putRequests = 0;
      putStats.eventsStored = 0;
      putStats.tooOld = 0;
      putStats.tooNew = 0;
      putStats.expired = 0;
    },
    stats() {
      return {
        requests,
        putLogEventsRequests: putRequests,
        eventsStored: putStats.eventsStored,
        rejected: { tooOld: putStats.tooOld, tooNew: putStats.tooNew, expired: putStats.expired },
        faults: { ...faults.counters },
        quotas: quotas.stats(),
        inFlight: { bytes: budget.bytes, peakBytes: budget.peakBytes, refused: budget.refused, tooLarge: budget.tooLarge },
      };
    },
  };
}

/**
 * Writes a reply. Errors carry `__type` in the body (botocore reads it) and the
 * `x-amzn-ErrorType` header (the JS SDK prefers it), as AWS's JSON 1.1 services answer.
 */
function send(res: ServerResponse, reply: Reply): void {
  const text = JSON.stringify(reply.payload);
  const headers: Record<string, string | number> = {
    'content-type': reply.contentType ?? CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  };
  const type = (reply.payload as { __type?: unknown } | null)?.__type;
  if (reply.status >= 400 && typeof type === 'string') headers['x-amzn-errortype'] = type;
  if (reply.close === true) headers['connection'] = 'close';
  res.writeHead(reply.status, headers);
  res.end(text);
}

function safeSend(res: ServerResponse, reply: Reply): void {
  try {
    if (res.headersSent) res.destroy();
    else send(res, reply);
  } catch {
    res.destroy();
  }
}

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

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
