/** One CloudWatch Logs event, exactly the shape PutLogEvents takes. */
export interface InputLogEvent {
  /** Milliseconds since the Unix epoch; an integer >= 0. */
  timestamp: number;
  /** The message; at least one character. Sized in UTF-8 bytes. */
  message: string;
}

/**
 * A structured event for {@link BatchBuffer.addStructured}: written as one JSON object per event
 * so that CloudWatch Logs Insights discovers every field.
 */
export interface StructuredLogEvent {
  /** Severity, e.g. `info`. Written as the top-level `level` field. */
  level: string;
  /** Human-readable text. Written as the top-level `message` field. */
  message: string;
  /** Optional trace id, written at the top level as `traceId`. */
  traceId?: string | undefined;
  /** Optional request id, written at the top level as `requestId`. */
  requestId?: string | undefined;
  /** Extra fields, merged beside the four above (never overwriting them). */
  fields?: Record<string, unknown> | undefined;
  /** Event time in ms since the epoch; defaults to the buffer's clock at the time of the call. */
  timestamp?: number | undefined;
}

/** AWS's `rejectedLogEventsInfo`, with AWS's index semantics (see the rules document). */
export interface RejectedLogEventsInfo {
  /** Index of the first too-new event (inclusive); the rest of the batch from there was rejected. */
  tooNewLogEventStartIndex?: number | undefined;
  /** Exclusive end of the too-old prefix: the number of leading events older than 14 days. */
  tooOldLogEventEndIndex?: number | undefined;
  /** Exclusive end of the expired prefix: leading events older than the group's retention. */
  expiredLogEventEndIndex?: number | undefined;
}

/** What a {@link FlushFunction} resolves to. */
export interface FlushResult {
  /** Legacy sequence token for the next call (ignored by AWS since 2023). */
  nextSequenceToken?: string | undefined;
  /** Events AWS refused one by one while storing the rest of the batch. */
  rejectedLogEventsInfo?: RejectedLogEventsInfo | undefined;
}

/** Extra context handed to a flush function. */
export interface FlushContext {
  /** Aborted when the buffer gives up on this call (`flushTimeoutMs`, or `stop()`'s deadline). */
  signal: AbortSignal;
}

/**
 * Sends one batch. The batch always obeys every PutLogEvents rule. Resolve when the service has
 * answered; throw the service's error (duck-typed: `name`, `code`, `$metadata`) on failure.
 */
export type FlushFunction = (
  logGroup: string,
  logStream: string,
  events: InputLogEvent[],
  sequenceToken?: string,
  context?: FlushContext,
) => Promise<FlushResult | void | undefined>;

/** What happens to an event whose size exceeds `maxEventBytes`. */
export type OversizedEventPolicy = 'split' | 'truncate' | 'drop';

/** What `add()` does when `maxBufferedBytes` would be exceeded. */
export type OverflowPolicy = 'block' | 'drop-oldest' | 'drop-newest';

/** Why the service refused events one by one (from `rejectedLogEventsInfo`). */
export type RejectReason = 'too-old' | 'too-new' | 'expired';

/**
 * Why the buffer dropped events (by policy; always reported). Every reason counts in
 * `eventsDropped`: the events left this buffer without a delivery it saw. Three are stop()'s:
 * - `shutdown`: left at stop()'s deadline and not stored (never sent, or the service answered
 *   that it did not store them): lost.
 * - `unknown`: a request carrying them got no answer (still in flight at stop()'s deadline, or cut
 *   off after `flushTimeoutMs` and never delivered since): the service may have stored them.
 * - `kept`: durable mode; left at stop()'s deadline and kept in the spool, so the next process
 *   with the same spool delivers them (those of them whose outcome was unknown may then be
 *   stored twice). Not lost.
 */
export type DropReason = 'oversized' | 'overflow' | 'failed' | 'invalid' | 'shutdown' | 'unknown' | 'kept';

/** Information about an event larger than `maxEventBytes`. */
export interface OversizedEventInfo {
  logGroup: string;
  logStream: string;
  /** Size of the original event in bytes, including the 26-byte overhead. */
  bytes: number;
  /** What was done with it, per `oversizedEventPolicy`. */
  action: OversizedEventPolicy;
  /** Number of events that entered the buffer for it (parts for `split`, 1 for `truncate`, 0 for `drop`). */
  parts: number;
}

/** Information about a retry of one batch. */
export interface RetryInfo {
  logGroup: string;
  logStream: string;
  /** 1 for the first retry. */
  attempt: number;
  /** Back-off before this retry, in ms. */
  delayMs: number;
  error: unknown;
}

/** Buffer configuration. Every field is optional at construction; see DEFAULT_BATCH_CONFIG. */
export interface BatchConfig {
  /** Most events in one batch. Default 10,000 (the AWS maximum). Range 1 to 10,000. */
  maxEvents: number;
  /** Most bytes in one batch, counted as sum of (UTF-8 bytes + 26). Default 1,048,576 (the AWS maximum). */
  maxBytes: number;
  /** Interval of the background flush timer, ms. Default 5,000. */
  flushIntervalMs: number;
  /** Retries of one batch per flush, after the first attempt. Default 3. */
  maxRetries: number;
  /** Largest event including the 26-byte overhead. Default 1,048,576, or `maxBytes` when that is smaller; at least 262,144; at most `maxBytes`. */
  maxEventBytes: number;
  /** What to do with an event over `maxEventBytes`. Default `'split'` (lossless). */
  oversizedEventPolicy: OversizedEventPolicy;
  /** Base of the exponential back-off, ms. Default 100. */
  retryBaseDelayMs: number;
  /** Base of the back-off after a `ThrottlingException`, ms. Default 500. */
  throttleBaseDelayMs: number;
  /** Cap of any single back-off, ms. Default 20,000. */
  retryMaxDelayMs: number;
  /** How often events that failed with a non-retryable error are requeued before being dropped. Default 3. */
  maxRequeues: number;
  /** Bound on buffered plus in-flight bytes. Default 64 MiB. */
  maxBufferedBytes: number;
  /** What `add()` does when `maxBufferedBytes` would be exceeded. Default `'block'`. */
  overflowPolicy: OverflowPolicy;
  /** Most flush-function calls in flight at once, across streams. Default 4. */
  maxConcurrentFlushes: number;
  /** A flush-function call that has not settled after this many ms is aborted and retried. Default 30,000. */
  flushTimeoutMs: number;
  /** How long `stop()` keeps trying to deliver before dropping what is left, ms. Default 30,000. */
  shutdownTimeoutMs: number;
  /**
   * Adapt this buffer's request rate to the throttles it sees (AIMD, see `adaptive-rate.ts`), so
   * that a fleet of processes sharing one account quota converges on it without coordination.
   * Nothing is paced until the first `ThrottlingException`; then every request (retries included)
   * also waits for the pacer, on top of the back-off. `false`: today's fixed back-off only.
   * Default true.
   */
  adaptiveRate: boolean;
  /**
   * The state of a stream with nothing buffered or in flight is released after this long idle,
   * ms, so that memory stays flat when stream names churn (a name per day, per tenant, per job).
   * 0 keeps every stream for the buffer's life. Default 300,000 (5 minutes). Checked on the flush
   * timer's tick and when a new stream appears (no timer per stream), so a stream goes up to a
   * quarter of this (at least 1 s) later. The cost: a released stream that comes back starts
   * afresh, so the flush function may make a create call again (createCloudWatchFlushFunction
   * creates a missing stream on its first PutLogEvents failure), and its legacy sequence token is
   * forgotten (the next call learns it from the service's `InvalidSequenceTokenException`).
   */
  streamIdleTimeoutMs: number;
  /**
   * The bisection budget, in invalid events: a batch the service refuses as a whole
   * (`InvalidParameterException`) is searched for the events it refuses, at most
   * `bisectionBudget × (⌈log2 n⌉ + 2) + 1` calls for a batch of n events, enough to isolate that
   * many invalid events (about ⌈log2 n⌉ + 2 calls each; every valid event is delivered). Past the
   * budget the rest of the batch is dropped with reason `invalid` and the service's error
   * (`onDrop`), never retried. 0 drops an invalid batch whole after one call. Default 10 (a batch
   * of 10,000 events costs at most 161 calls). Range 0 to 10,000.
   */
  bisectionBudget: number;
}

/** Callbacks and injectable sources; none is required. */
export interface BatchHooks {
  /** Events the service refused one by one (they are not re-sent). */
  onRejected?: ((events: InputLogEvent[], reason: RejectReason, logGroup: string, logStream: string) => void) | undefined;
  /**
   * Events dropped by policy, with the reason, the error where there is one (else `undefined`),
   * and the log group and stream they were added to (one call per stream). The last two were
   * added later: a callback that takes only the first three works as before.
   */
  onDrop?: ((events: InputLogEvent[], reason: DropReason, error: unknown, logGroup: string, logStream: string) => void) | undefined;
  /** Background errors (timer flushes, callbacks that threw). Defaults to a console warning. */
  onError?: ((error: unknown) => void) | undefined;
  /** Each event over `maxEventBytes`, after the policy was applied. */
  onOversized?: ((info: OversizedEventInfo) => void) | undefined;
  /** Each retry, before its back-off. */
  onRetry?: ((info: RetryInfo) => void) | undefined;
  /** Clock in ms since the epoch; default `Date.now`. */
  now?: (() => number) | undefined;
  /** Random source in [0, 1) for back-off jitter; default `Math.random`. */
  random?: (() => number) | undefined;
}

/** Options accepted by the BatchBufferImpl constructor. */
export type BatchBufferOptions = Partial<BatchConfig> &
  BatchHooks & {
    /**
     * Durable mode: every accepted event is appended to a segment file in `spool.dir` before
     * `add()` resolves, and replayed by the next process if this one dies. Off by default.
     */
    spool?: SpoolOptions | undefined;
  };

/** Counters returned by {@link BatchBuffer.getMetrics}. */
export interface BatchMetrics {
  /** Events currently buffered (not yet handed to the flush function). */
  eventsBuffered: number;
  /** Bytes currently buffered (UTF-8 + 26 per event). */
  bytesBuffered: number;
  /** Flush-function calls in progress. */
  flushesPending: number;
  /** Flush-function calls that succeeded. */
  flushesCompleted: number;
  /** Flushes that gave up after their retries (events requeued or dropped). */
  flushesFailed: number;
  /** Events that entered the buffer (a split event counts as its parts). */
  eventsAccepted: number;
  /** Events handed to the flush function and not yet settled. */
  eventsInFlight: number;
  /** Events the service stored. */
  eventsDelivered: number;
  /** Events the service refused one by one. */
  eventsRejected: number;
  /** Events dropped by policy. */
  eventsDropped: number;
  /** Bytes delivered (UTF-8 + 26 per event). */
  bytesDelivered: number;
  /** Retries of flush-function calls. */
  retries: number;
  /** Bytes handed to the flush function and not yet settled. */
  bytesInFlight: number;
  /** `eventsRejected` by reason. */
  rejectedByReason: Record<RejectReason, number>;
  /** `eventsDropped` by reason. */
  droppedByReason: Record<DropReason, number>;
  /** Events over `maxEventBytes` that were split (counted once per original event). */
  eventsSplit: number;
  /** Events over `maxEventBytes` that were truncated. */
  eventsTruncated: number;
  /** Streams whose state the buffer holds now (idle ones are released after `streamIdleTimeoutMs`). */
  streams: number;
}

/** Options of {@link BatchBuffer.stop}. */
export interface StopOptions {
  /** Deadline for delivering what is left, ms; default `shutdownTimeoutMs`. */
  timeoutMs?: number | undefined;
}

/** The seed's buffer interface. */
export interface BatchBuffer {
  start(): void;
  add(logGroup: string, logStream: string, event: InputLogEvent): Promise<void>;
  addStructured(logGroup: string, logStream: string, event: StructuredLogEvent): Promise<void>;
  flush(logGroup: string, logStream: string): Promise<void>;
  flushAll(): Promise<void>;
  getMetrics(): BatchMetrics;
  stop(options?: StopOptions): Promise<void>;
}

/** When appended records reach the disk. */
export type SpoolFsync = 'always' | 'batch' | 'never';

/** Options of durable mode (`spool` in the buffer's options). */
export interface SpoolOptions {
  /** Directory of the spool; created if missing. One process at a time. */
  dir: string;
  /**
   * `'always'`: fsync after every record, before `add()` resolves (slowest, safest);
   * `'batch'` (default): written before `add()` resolves, fsync'd in the background (libuv's
   *   thread pool, at most every 100 ms: a power loss can lose about the last 100 ms);
   * `'never'`: leave it to the operating system (survives a process crash, not a power loss).
   */
  fsync?: SpoolFsync | undefined;
  /** Most bytes of segments on disk; past it, `add()` follows the buffer's overflow policy. Default 1 GiB. */
  maxBytes?: number | undefined;
  /** Size at which a new segment is started. Default 8 MiB. */
  segmentBytes?: number | undefined;
}
