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
import { OPERATIONS, ServiceError } from './operations.js';
import { AccountQuotas, THROTTLING_ANSWER, validateQuotas } from './quotas.js';
import type { LocalQuotas, QuotaStats } from './quotas.js';
import type { OperationContext, PutStats } from './operations.js';
import { LocalStore } from './store.js';
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
}

const TARGET_PREFIX = 'Logs_20140328.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** Refuse bodies past this size instead of buffering without end (far above any valid request). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;

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
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(`Expected \`port\` to be an integer between 0 and 65535, got ${String(port)}`);
  }
  if (!Number.isInteger(maxEventBytes) || maxEventBytes < LEGACY_MAX_EVENT_BYTES || maxEventBytes > MAX_EVENT_BYTES) {
    throw new RangeError(
      `Expected \`maxEventBytes\` to be an integer between ${LEGACY_MAX_EVENT_BYTES} and ${MAX_EVENT_BYTES}, got ${String(maxEventBytes)}`,
    );
  }
  const now = options.now ?? Date.now;
  const requireAuth = options.requireAuth ?? true;
  const store = new LocalStore(options.keepEvents ?? true);
  const putStats: PutStats = { eventsStored: 0, tooOld: 0, tooNew: 0, expired: 0 };
  const faults = new FaultInjector(options.faults ?? {}, options.seed ?? 1, now);
  const quotas = new AccountQuotas(validateQuotas(options.quotas ?? {}, OPERATIONS), now);
  const ctx: OperationContext = {
    store,
    now,
    maxEventBytes,
    region: options.region ?? 'us-east-1',
    accountId: '000000000000',
    stats: putStats,
    onStored: options.onStored,
  };
  let requests = 0;
  let putRequests = 0;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    requests++;
    handle(req, res).catch((error: unknown) => {
      // Last line of defence: whatever went wrong, answer 500 rather than crash or hang.
      safeSend(res, 500, { __type: 'InternalFailure', message: `Internal error: ${describe(error)}` });
    });
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

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const delay = faults.latency();
    if (delay > 0) await sleep(delay, timers);
    if (body === undefined) {
      send(res, 413, { __type: 'RequestEntityTooLargeException', message: 'Request entity too large' });
      return;
    }
    if (requireAuth) {
      const auth = req.headers.authorization;
      if (auth === undefined || auth === '') {
        // Coral services refuse unsigned JSON requests this way (see the report for the sources).
        send(res, 400, { __type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' });
        return;
      }
      if (!auth.startsWith('AWS4-HMAC-SHA256 ')) {
        send(res, 400, {
          __type: 'IncompleteSignatureException',
          message: `Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters. Authorization=${auth}`,
        });
        return;
      }
    }
    const target = req.headers['x-amz-target'];
    const operationName = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    // Looked up per request (not cached): benchmarks wrap entries of OPERATIONS to count events.
    const operation = OPERATIONS.get(operationName);
    if (req.method !== 'POST' || operation === undefined) {
      send(res, 400, { __type: 'UnknownOperationException', message: `Unknown operation ${String(target)}` });
      return;
    }
    let input: unknown;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
    } catch {
      send(res, 400, { __type: 'SerializationException', message: 'Malformed JSON in the request body.' });
      return;
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      send(res, 400, { __type: 'SerializationException', message: 'Expected a JSON object as the request body.' });
      return;
    }
    const isPut = operationName === 'PutLogEvents';
    if (quotas.active && !quotas.admit(operationName, input as Record<string, unknown>)) {
      if (isPut) putRequests++;
      const t = THROTTLING_ANSWER;
      send(res, t.status, { __type: t.type, message: t.message }, t.type);
      return;
    }
    let storeThenFail = false;
    if (isPut) {
      putRequests++;
      const decision = faults.decide();
      if (decision.kind === 'drop') {
        // Simulates a connection lost mid-request: no status line ever reaches the client.
        req.socket.destroy();
        return;
      }
      if (decision.kind === 'error') {
        send(res, decision.status, { __type: decision.type, message: decision.message });
        return;
      }
      storeThenFail = decision.storeThenFail;
    }
    let output: unknown;
    try {
      output = operation(ctx, input as Record<string, unknown>);
    } catch (error) {
      if (error instanceof ServiceError) {
        send(res, error.status, { __type: error.type, message: error.message });
        return;
      }
      send(res, 500, { __type: 'InternalFailure', message: `Internal error: ${describe(error)}` });
      return;
    }
    if (storeThenFail) {
      // The events are stored, but the client is told otherwise: a retry makes duplicates.
      faults.counters.storeThenFail++;
      const fault = unavailable();
      send(res, fault.status, { __type: fault.type, message: fault.message });
      return;
    }
    send(res, 200, output);
  }

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
  };

  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    store: storeView,
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
      faults.reset();
      quotas.reset();
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
      };
    },
  };
}

/** The whole body as one Buffer, or `undefined` when it exceeds {@link MAX_BODY_BYTES}. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      length += chunk.length;
      if (length > MAX_BODY_BYTES) {
        tooLarge = true;
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, length)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, payload: unknown, errorType?: string): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
    ...(errorType === undefined ? {} : { 'x-amzn-errortype': errorType }),
  });
  res.end(text);
}

function safeSend(res: ServerResponse, status: number, payload: unknown): void {
  try {
    if (res.headersSent) res.destroy();
    else send(res, status, payload);
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
