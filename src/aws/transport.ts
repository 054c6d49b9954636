/**
 * What the pino and winston transports share (architecture.md: "if a transport grows logic that
 * a second transport would also need, that logic belongs in batch or aws"): splitting their
 * options into batch configuration and client configuration, turning a record's time into an
 * event timestamp, a buffer wired to CloudWatch with every loss reported, and "deliver
 * everything now, within a deadline".
 *
 * Exported from its own path (`src/aws/transport.ts`) so that it does not touch `index.ts`.
 */
import type { CloudWatchLogsClientConfig } from '@aws-sdk/client-cloudwatch-logs';
import { BatchBufferImpl } from '../batch/buffer.js';
import { DEFAULT_BATCH_CONFIG } from '../batch/config.js';
import { CwbatchError, describe } from '../batch/errors.js';
import { compileNameTemplate, type NameSource, type NameTemplate } from '../batch/name-template.js';
export { eventTimestamp } from '../batch/event-timestamp.js';
import type { SpoolOptions } from '../batch/types.js';
import type { BatchConfig, BatchHooks, BatchMetrics, DropReason, FlushFunction, InputLogEvent, RejectReason } from '../batch/types.js';
import { createCloudWatchFlushFunction } from './flush-function.js';
import type { LogGroupClass } from './group-options.js';
import type { LogEventsService } from './service.js';

/**
 * Options both transports accept: where the events go, how the client is built, and any
 * {@link BatchConfig} field (`maxEvents`, `flushIntervalMs`, `maxRetries`, `overflowPolicy`, ...).
 * For pino every value must survive structured cloning (it crosses into pino's worker thread).
 */
export interface CloudWatchTransportOptions extends Partial<BatchConfig> {
  /**
   * The log group: a name, or a template evaluated per record (`{date}`, `{hour}`, `{hostname}`,
   * `{pid}`, `{field:KEY|DEFAULT}`; see `compileNameTemplate`), or a function
   * `(event, record) => name` (not through `pino.transport()`, whose options must be plain data).
   * Created when missing (see `createMissing`).
   */
  logGroupName: NameSource;
  /**
   * The log stream: a name, a template or a function, as {@link logGroupName}. `{date}` and
   * `{hour}` are those of each record's own time (UTC), so a long-running process writes each day
   * to that day's stream. Created when missing.
   */
  logStreamName: NameSource;
  /**
   * Configuration of the SDK client the transport builds (region, credentials, endpoint, ...),
   * with `maxAttempts: 1` unless it sets its own (the buffer owns retries). Default `{}`: all from
   * the environment (`AWS_REGION`, `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, the credential chain).
   */
  clientConfig?: CloudWatchLogsClientConfig | undefined;
  /**
   * Write PutLogEvents bodies with the `fastPutLogEventsBody` plugin (the same JSON, written
   * straight into bytes; the SDK still signs and sends it). Default `true`; `false` leaves the
   * SDK's serializer.
   */
  fastBody?: boolean | undefined;
  /** Create the log group and stream when PutLogEvents says they are missing. Default `true`. */
  createMissing?: boolean | undefined;
  /** Retention in days for a log group the transport creates (1, 3, 5, 7, 14, 30, ...). Default: none (never expire). */
  retentionInDays?: number | undefined;
  /** Log class of a log group the transport creates. Default: AWS's, `'STANDARD'`. Cannot be changed later. */
  logGroupClass?: LogGroupClass | undefined;
  /** ARN of a symmetric KMS key for a log group the transport creates. Default: none. */
  kmsKeyId?: string | undefined;
  /** Tags of a log group the transport creates (1 to 50; AWS's key and value rules). Default: none. */
  tags?: Readonly<Record<string, string>> | undefined;
  /**
   * Durable mode: `{ dir, fsync?, maxBytes?, segmentBytes? }` (see the core's `spool` option).
   * Events are appended to segment files in `dir` before they count as accepted and replayed by
   * the next process if this one dies. One transport per directory. Default: off (memory only).
   */
  spool?: SpoolOptions | undefined;
}

/** Something the transport could not deliver, or a background failure it will retry. */
export interface TransportFailure {
  /** `dropped`: lost by policy or deadline; `rejected`: refused by the service one by one; `error`: a failed flush, kept for a retry. */
  kind: 'dropped' | 'rejected' | 'error';
  /** The drop or reject reason (`shutdown`, `failed`, `too-old`, ...); `flush` for `error`. */
  reason: DropReason | RejectReason | 'flush';
  /** Number of events concerned (0 for `error`). */
  count: number;
  /** A one-line description, prefixed with the transport's name. */
  message: string;
  /** The underlying error, when there is one. */
  error?: unknown;
}

/**
 * A {@link TransportFailure} as an error object (code `DELIVERY_WARNING`), for transports that
 * report through events (winston's `'warn'`). Match on `code`, not `instanceof`.
 */
export class DeliveryWarning extends CwbatchError {
  /** See {@link TransportFailure.kind}. */
  readonly kind: TransportFailure['kind'];
  /** See {@link TransportFailure.reason}. */
  readonly reason: TransportFailure['reason'];
  /** Number of events concerned (0 for a retried flush failure). */
  readonly count: number;

  constructor(failure: TransportFailure) {
    super('DELIVERY_WARNING', failure.message, failure.error === undefined ? undefined : { cause: failure.error });
    this.kind = failure.kind;
    this.reason = failure.reason;
    this.count = failure.count;
  }

  override get name(): string {
    return 'DeliveryWarning';
  }
}

/** Options of {@link TransportSink}. */
export interface TransportSinkOptions {
  /** Name used in messages and option errors, e.g. `cwbatch/pino`. */
  name: string;
  /** The user's options (see {@link CloudWatchTransportOptions}). */
  options: Readonly<Record<string, unknown>>;
  /** Keys the caller handles itself (they are not errors). */
  ownKeys?: readonly string[] | undefined;
  /** Batch defaults that differ from the core's for this transport (e.g. a shorter `shutdownTimeoutMs`). */
  defaults?: Partial<BatchConfig> | undefined;
  /** Where to send through instead of a client built from `clientConfig`. */
  service?: LogEventsService | undefined;
  /** A flush function of your own (tests, other sinks); exclusive with `service`/`clientConfig`. */
  flushFunction?: FlushFunction | undefined;
  /** Called for every loss and background failure. Must not throw (if it does, it is ignored). */
  report: (failure: TransportFailure) => void;
}

const BATCH_KEYS = Object.keys(DEFAULT_BATCH_CONFIG) as ReadonlyArray<keyof BatchConfig>;
const COMMON_KEYS = [
  'logGroupName',
  'logStreamName',
  'clientConfig',
  'fastBody',
  'createMissing',
  'retentionInDays',
  'logGroupClass',
  'kmsKeyId',
  'tags',
  'spool',
] as const;

const DROP_TEXT: Record<DropReason, string> = {
  oversized: 'larger than `maxEventBytes` (oversizedEventPolicy: drop)',
  overflow: 'the buffer was full (`maxBufferedBytes`, overflowPolicy)',
  failed: 'the service refused them repeatedly (`maxRequeues`)',
  invalid: 'the service called them invalid',
  shutdown: 'not delivered before the shutdown deadline (`shutdownTimeoutMs`)',
  unknown: 'no answer before the shutdown deadline (`shutdownTimeoutMs`): the service may have stored them',
  kept: 'kept in the spool for the next run (not delivered before `shutdownTimeoutMs`)',
};
const REJECT_TEXT: Record<RejectReason, string> = {
  'too-old': 'older than 14 days (or than the group retention)',
  'too-new': 'more than 2 hours in the future',
  expired: 'older than the log group retention',
};

/**
 * A buffer wired to CloudWatch Logs, with every drop, rejection and background failure reported.
 * Group and stream names are evaluated per event from their templates. Owns the SDK client it
 * builds (destroyed by {@link stop}).
 */
export class TransportSink {
  /** The log group's template as given (the name itself when it has no placeholder; `a function`), for messages. */
  readonly logGroupName: string;
  /** The log stream's template as given, for messages. */
  readonly logStreamName: string;
  /** The compiled log group name. */
  readonly groupTemplate: NameTemplate;
  /** The compiled log stream name. */
  readonly streamTemplate: NameTemplate;
  /** Whether the names read the record (`{field:...}` or a function): transports parse records only then. */
  readonly usesRecord: boolean;
  /** The buffer (exposed for metrics and tests). */
  readonly buffer: BatchBufferImpl;
  /** Durable mode (`spool` given): {@link tryAdd} then always refuses, and add() resolves once the event is on disk. */
  readonly durable: boolean;
  readonly #retryBaseDelayMs: number;
  readonly #shutdownTimeoutMs: number;
  readonly #ownService: LogEventsService | undefined;
  readonly #report: (failure: TransportFailure) => void;
  readonly #name: string;
  #lastError: unknown;

  /** @throws TypeError / RangeError naming the option when an option is missing, unknown or invalid. */
  constructor(sinkOptions: TransportSinkOptions) {
    const { name, options, report } = sinkOptions;
    checkOptionKeys(name, options, sinkOptions.ownKeys);
    // Compiled once (unknown placeholders, invalid fixed text: thrown here, naming the option).
    this.groupTemplate = compileNameTemplate(options['logGroupName'] as NameSource, 'logGroupName');
    this.streamTemplate = compileNameTemplate(options['logStreamName'] as NameSource, 'logStreamName');
    this.logGroupName = this.groupTemplate.source;
    this.logStreamName = this.streamTemplate.source;
    this.usesRecord = this.groupTemplate.usesRecord || this.streamTemplate.usesRecord;
    this.#name = name;
    this.#report = report;
    const { flushFunction, ownService } = flushFunctionOf(sinkOptions);
    this.#ownService = ownService;
    this.buffer = new BatchBufferImpl(flushFunction, {
      ...batchConfigOf(options, sinkOptions.defaults),
      // Validated by the spool itself (TypeError/RangeError naming `spool.<field>`).
      spool: options['spool'] as SpoolOptions | undefined,
      ...this.#bufferCallbacks(),
    });
    this.durable = options['spool'] !== undefined;
    this.#retryBaseDelayMs = this.buffer.config.retryBaseDelayMs;
    this.#shutdownTimeoutMs = this.buffer.config.shutdownTimeoutMs;
    this.buffer.start();
  }

  /** The buffer's hooks: every drop and rejection reported, retries remembered, flush failures reported. */
  #bufferCallbacks(): Required<Pick<BatchHooks, 'onDrop' | 'onRejected' | 'onRetry' | 'onError'>> {
    return {
      onDrop: (events, reason, error) => this.#emit('dropped', reason, events, DROP_TEXT[reason], error),
      onRejected: (events, reason, group, stream) =>
        this.#emit('rejected', reason, events, `refused by the service: ${REJECT_TEXT[reason]}`, undefined, `${group}/${stream}`),
      // Not reported (retries are routine), but remembered: it is the cause of a later drop.
      onRetry: (info) => {
        this.#lastError = info.error;
      },
      onError: (error) => {
        this.#lastError = error;
        this.#safeReport({ kind: 'error', reason: 'flush', count: 0, message: `${this.#name}: ${describe(error)}`, error });
      },
    };
  }

  /** The resolved `shutdownTimeoutMs`: the deadline of {@link deliver} and {@link stop} by default. */
  get shutdownTimeoutMs(): number {
    return this.#shutdownTimeoutMs;
  }

  /** The last flush failure seen (kept and retried, or the cause of a later drop), if any. */
  get lastError(): unknown {
    return this.#lastError;
  }

  /**
   * Buffers one event for the group and stream its names evaluate to; resolves when accepted
   * (waits for room under `'block'`). Rejects with `InvalidNameError` when a name evaluates to an
   * invalid one.
   * @param record The log record, for `{field:...}` placeholders and name functions.
   */
  add(timestamp: number, message: string, record?: unknown): Promise<void> {
    const event = { timestamp, message };
    let group: string;
    let stream: string;
    try {
      group = this.groupTemplate.evaluate(event, record);
      stream = this.streamTemplate.evaluate(event, record);
    } catch (error) {
      return Promise.reject(error as Error);
    }
    return this.buffer.add(group, stream, event);
  }

  /**
   * Buffers one event at once when that needs no waiting (see `BatchBufferImpl.tryAdd`): `true`
   * when accepted; `false`, buffering nothing, when {@link add} would have to wait (full under
   * `'block'`, oversized, durable mode). Throws what {@link add} rejects with.
   */
  tryAdd(timestamp: number, message: string, record?: unknown): boolean {
    const event = { timestamp, message };
    return this.buffer.tryAdd(this.groupTemplate.evaluate(event, record), this.streamTemplate.evaluate(event, record), event);
  }

  /**
   * The failure to report for one record that `add()`/`tryAdd()` refused (it was never buffered):
   * `shutdown` after the transport stopped, `invalid` for a record the buffer cannot take.
   * One place, so that every transport says the same thing.
   */
  notBuffered(error: unknown): TransportFailure {
    const stopped = (error as { code?: unknown } | null)?.code === 'BUFFER_STOPPED';
    return {
      kind: 'dropped',
      reason: stopped ? 'shutdown' : 'invalid',
      count: 1,
      message: `${this.#name}: 1 event not buffered: ${describe(error)}`,
      error,
    };
  }

  /** Events buffered or in flight. */
  pending(): number {
    const m = this.buffer.getMetrics();
    return m.eventsBuffered + m.eventsInFlight;
  }

  /** The buffer's counters. */
  getMetrics(): BatchMetrics {
    return this.buffer.getMetrics();
  }

  /**
   * Delivers everything buffered now, retrying failed flushes (with the buffer's back-off) until
   * nothing is left or `timeoutMs` passes. Never rejects; resolves to the number of events still
   * buffered or in flight (0 means all delivered, rejected or dropped, each reported). What is
   * left stays buffered for a later flush.
   */
  async deliver(timeoutMs: number = this.#shutdownTimeoutMs): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending() > 0 && Date.now() < deadline) {
      try {
        await withDeadline(this.buffer.flushAll(), deadline);
      } catch (error) {
        this.#lastError = error;
        // Requeued for the next round (the buffer reports what it dropped); pause as the buffer would.
        await pause(Math.min(this.#retryBaseDelayMs, Math.max(0, deadline - Date.now())));
      }
    }
    return this.pending();
  }

  /**
   * Stops the buffer: refuses new events, delivers what is left within `timeoutMs` (default
   * `shutdownTimeoutMs`), reports what could not be delivered as dropped (`shutdown`), and
   * destroys the SDK client this sink built. Idempotent; never rejects.
   */
  async stop(timeoutMs: number = this.#shutdownTimeoutMs): Promise<void> {
    try {
      await this.buffer.stop({ timeoutMs: Math.max(0, timeoutMs) });
    } finally {
      this.#ownService?.destroy();
    }
  }

  #emit(
    kind: 'dropped' | 'rejected',
    reason: DropReason | RejectReason,
    events: InputLogEvent[],
    why: string,
    error?: unknown,
    destination = `${this.logGroupName}/${this.logStreamName}`,
  ): void {
    const count = events.length;
    const cause =
      error !== undefined ? `: ${describe(error)}` : (reason === 'shutdown' || reason === 'unknown') && this.#lastError !== undefined ? `; last error: ${describe(this.#lastError)}` : '';
    const message = `${this.#name}: ${count} event(s) for ${destination} ${kind} (${reason}), ${why}${cause}`;
    this.#safeReport(error === undefined ? { kind, reason, count, message } : { kind, reason, count, message, error });
  }

  #safeReport(failure: TransportFailure): void {
    try {
      this.#report(failure);
    } catch {
      // A reporter that throws must not break delivery.
    }
  }
}

/** Throws a TypeError naming the option when `options` is no object or has a key nobody handles. */
function checkOptionKeys(name: string, options: Readonly<Record<string, unknown>>, ownKeys: readonly string[] = []): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`Expected the options of ${name} to be an object, got ${options === null ? 'null' : typeof options}`);
  }
  const known = new Set<string>([...COMMON_KEYS, ...BATCH_KEYS, ...ownKeys]);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) {
      throw new TypeError(`Unknown option \`${key}\` of ${name}; expected one of ${[...known].map((k) => `\`${k}\``).join(', ')}`);
    }
  }
}

/** The transport's batch defaults, overridden by every batch setting the user gave. */
function batchConfigOf(options: Readonly<Record<string, unknown>>, defaults: Partial<BatchConfig> | undefined): Partial<BatchConfig> {
  const batchConfig: Partial<BatchConfig> = { ...defaults };
  for (const key of BATCH_KEYS) {
    if (options[key] !== undefined) (batchConfig as Record<string, unknown>)[key] = options[key];
  }
  return batchConfig;
}

/**
 * The flush function the buffer sends through: the caller's own, or CloudWatch's through the
 * service handed in or a client built from `clientConfig` (then `ownService`: destroyed by stop()).
 */
function flushFunctionOf(sinkOptions: TransportSinkOptions): { flushFunction: FlushFunction; ownService: LogEventsService | undefined } {
  const { name, options, service, flushFunction } = sinkOptions;
  const clientConfig = options['clientConfig'] as CloudWatchLogsClientConfig | undefined;
  if (flushFunction !== undefined) {
    if (typeof flushFunction !== 'function') throw new TypeError(`Expected \`flushFunction\` to be a function, got ${typeof flushFunction}`);
    if (service !== undefined || clientConfig !== undefined) {
      throw new TypeError(`Expected at most one of \`flushFunction\`, \`service\` and \`clientConfig\` in ${name}`);
    }
    return { flushFunction, ownService: undefined };
  }
  const created = createCloudWatchFlushFunction({
    service,
    clientConfig,
    // The user's option; for the client built from clientConfig only (a service handed in is the caller's).
    fastBody: service === undefined ? (options['fastBody'] as boolean | undefined) : undefined,
    createMissing: options['createMissing'] as boolean | undefined,
    retentionInDays: options['retentionInDays'] as number | undefined,
    logGroupClass: options['logGroupClass'] as LogGroupClass | undefined,
    kmsKeyId: options['kmsKeyId'] as string | undefined,
    tags: options['tags'] as Record<string, string> | undefined,
  });
  // A service handed in belongs to the caller; one built from clientConfig belongs to us.
  return { flushFunction: created, ownService: service === undefined ? created.service : undefined };
}

/** `promise`, or a rejection once `deadline` (ms since the epoch) has passed (someone awaits it: the timer stays ref'd). */
function withDeadline<T>(promise: Promise<T>, deadline: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('deadline')), Math.max(0, deadline - Date.now()));
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(1, ms)));
}
