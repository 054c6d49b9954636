/**
 * `cwbatch/emf`: CloudWatch metrics without PutMetricData, as Embedded Metric Format (EMF) lines
 * shipped through cwbatch's buffer to a log group with PutLogEvents: batched, retried, bounded in
 * memory, optionally spooled to disk, every loss reported.
 *
 * ```js
 * import { EmfSink } from 'cwbatch/emf';
 * const metrics = new EmfSink({ logGroupName: '/metrics/api', logStreamName: '{hostname}', namespace: 'Shop' });
 * const m = metrics.logger();
 * m.putDimensions({ Service: 'checkout' });
 * m.putMetric('Latency', 42, 'Milliseconds');
 * m.setProperty('requestId', 'abc');
 * m.flush(); // one EMF line (more when beyond the limits), buffered
 * await metrics.close(); // delivers
 * ```
 *
 * Why our own small logger rather than a sink behind `aws-embedded-metrics`: that library's sink
 * and environment interfaces (`ISink`, `IEnvironment`, `MetricsContext`, `LogSerializer`) are not
 * in its public entry point (deep imports into its `lib/`, with no `exports` map to promise them),
 * its default environment detection probes the network, and its `flush()` is asynchronous per
 * logger. Ours is the same vocabulary (`putMetric`, `putDimensions`, `setProperty`, `flush`),
 * synchronous, with no dependency, and its lines are checked against the specification's limits
 * at the call that would break them.
 */
import { createCloudWatchFlushFunction } from '../aws/flush-function.js';
import type { LogEventsService } from '../aws/service.js';
import { TransportSink, type CloudWatchTransportOptions, type TransportFailure } from '../aws/transport.js';
import type { BatchMetrics, FlushFunction } from '../batch/types.js';
import {
  dimensionValueProblem,
  isUnit,
  MAX_DIMENSIONS_PER_SET,
  nameProblem,
  serializeEmf,
  type MetricEntry,
  type StorageResolution,
  type Unit,
} from './format.js';

export { DeliveryWarning } from '../aws/transport.js';
export type { TransportFailure } from '../aws/transport.js';
export {
  MAX_DIMENSION_VALUE_LENGTH,
  MAX_DIMENSIONS_PER_SET,
  MAX_METRICS_PER_LINE,
  MAX_NAME_LENGTH,
  MAX_VALUES_PER_METRIC,
  serializeEmf,
  UNITS,
} from './format.js';
export type { EmfDocument, MetricEntry, StorageResolution, Unit } from './format.js';

/** The header the EMF specification asks PutLogEvents clients to send (added to the client cwbatch builds). */
export const EMF_LOG_FORMAT_HEADER = { name: 'x-amzn-logs-format', value: 'json/emf' } as const;

/** Options of {@link EmfSink}: the transports' options, plus the metrics defaults. */
export interface EmfSinkOptions extends CloudWatchTransportOptions {
  /** The CloudWatch namespace of every metric, 1-255 characters (a logger may set its own). */
  namespace: string;
  /** Dimensions every logger starts with, as one dimension set. Default: none (one empty set). */
  dimensions?: Readonly<Record<string, string>> | undefined;
  /** Called for every loss and background failure. Default: `console.warn`. Must not throw. */
  onFailure?: ((failure: TransportFailure) => void) | undefined;
  /** Send through this service instead of building a client (add the `x-amzn-logs-format` header yourself). Not destroyed by cwbatch. */
  service?: LogEventsService | undefined;
  /** Send through this flush function instead of CloudWatch (tests, other sinks). */
  flushFunction?: FlushFunction | undefined;
  /** Clock in ms since the epoch, for line timestamps. Default `Date.now`. */
  now?: (() => number) | undefined;
}

const NAME = 'cwbatch/emf';
const OWN_KEYS = ['namespace', 'dimensions', 'onFailure', 'service', 'flushFunction', 'now'] as const;
const CLIENT_KEYS = ['clientConfig', 'fastBody', 'createMissing', 'retentionInDays'] as const;

/**
 * Where EMF lines go: one CloudWatch Logs stream, through cwbatch's buffer. Make a
 * {@link MetricsLogger} per unit of work with {@link logger}; {@link close} before the process ends.
 */
export class EmfSink {
  /** The transport sink (buffer, group, resolved stream name). */
  readonly sink: TransportSink;
  /** The default namespace. */
  readonly namespace: string;
  readonly #dimensions: Readonly<Record<string, string>> | undefined;
  readonly #ownService: LogEventsService | undefined;
  readonly #report: (failure: TransportFailure) => void;
  readonly #now: () => number;
  #closing: Promise<void> | undefined;
  /** Lines waiting for room (full buffer under `'block'`), and the promise of the last (they are taken in order). */
  #waiting = 0;
  #lastWait: Promise<void> = Promise.resolve();

  /** @throws TypeError / RangeError naming the option when an option is missing, unknown or invalid. */
  constructor(options: EmfSinkOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`Expected the options of ${NAME} to be an object, got ${options === null ? 'null' : typeof options}`);
    }
    const namespaceProblem = nameProblem(options.namespace);
    if (namespaceProblem !== undefined) throw new RangeError(`Invalid \`namespace\` of ${NAME}: ${namespaceProblem}`);
    this.namespace = options.namespace;
    if (options.dimensions !== undefined) checkDimensions(options.dimensions, '`dimensions`');
    this.#dimensions = options.dimensions === undefined ? undefined : { ...options.dimensions };
    const { onFailure, now } = options;
    if (onFailure !== undefined && typeof onFailure !== 'function') throw new TypeError(`Expected \`onFailure\` to be a function, got ${typeof onFailure}`);
    if (now !== undefined && typeof now !== 'function') throw new TypeError(`Expected \`now\` to be a function, got ${typeof now}`);
    this.#report = onFailure ?? ((failure) => console.warn(`[DeliveryWarning] ${failure.message}`));
    this.#now = now ?? Date.now;

    const rest: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options)) {
      if (!(OWN_KEYS as readonly string[]).includes(key) && !(CLIENT_KEYS as readonly string[]).includes(key)) rest[key] = value;
    }
    let flushFunction = options.flushFunction;
    if (flushFunction === undefined) {
      const created = createCloudWatchFlushFunction({
        service: options.service,
        clientConfig: options.clientConfig,
        fastBody: options.service === undefined ? options.fastBody : undefined,
        createMissing: options.createMissing,
        retentionInDays: options.retentionInDays,
      });
      if (options.service === undefined) {
        this.#ownService = created.service;
        addLogFormatHeader(created.service);
      }
      flushFunction = created;
    } else if (options.service !== undefined || options.clientConfig !== undefined) {
      throw new TypeError(`Expected at most one of \`flushFunction\`, \`service\` and \`clientConfig\` in ${NAME}`);
    }
    try {
      this.sink = new TransportSink({
        name: NAME,
        options: rest,
        flushFunction,
        // A line cut in two is no longer JSON, so no longer a metric: drop (and report) instead.
        defaults: { oversizedEventPolicy: 'drop' },
        report: (failure) => this.#safeReport(failure),
      });
    } catch (error) {
      // A bad option: release the client built above.
      this.#ownService?.destroy();
      throw error;
    }
  }

  /** A new logger with this sink's namespace and default dimensions. */
  logger(): MetricsLogger {
    return new MetricsLogger(this, this.namespace, this.#dimensions);
  }

  /**
   * Buffers ready-made lines (what {@link MetricsLogger.flush} does). Returns the number of lines
   * buffered; the others were lost (the sink is closed, or a line is refused) and are reported.
   */
  write(lines: readonly string[], timestamp: number = this.#now()): number {
    let buffered = 0;
    for (const line of lines) {
      try {
        if (this.sink.tryAdd(timestamp, line)) {
          buffered++;
          continue;
        }
        // Full under 'block' (or durable mode): keep the line, in order, once there is room.
        this.#waiting++;
        this.#lastWait = this.sink.add(timestamp, line).then(
          () => {
            this.#waiting--;
          },
          (error: unknown) => {
            this.#waiting--;
            this.#lost(error);
          },
        );
        buffered++;
      } catch (error) {
        this.#lost(error);
      }
    }
    return buffered;
  }

  /**
   * Lines written while the buffer was full (`overflowPolicy: 'block'`, the default) wait for room
   * in memory, beyond `maxBufferedBytes`: a producer that can wait should `await sink.room()`
   * when {@link waiting} is above 0. Resolves once no line waits (at once when none does).
   */
  room(): Promise<void> {
    return this.#waiting === 0 ? Promise.resolve() : this.#lastWait;
  }

  /** Lines waiting for room in the buffer (see {@link room}). */
  get waiting(): number {
    return this.#waiting;
  }

  /** Delivers everything buffered (retrying) within `timeoutMs` (default `shutdownTimeoutMs`); resolves to the number of lines left. Never rejects. */
  flush(timeoutMs?: number): Promise<number> {
    return this.sink.deliver(timeoutMs);
  }

  /** Stops: delivers what is buffered within `shutdownTimeoutMs`, reports the rest, releases the client. Idempotent; never rejects. */
  close(): Promise<void> {
    this.#closing ??= this.sink.stop().finally(() => this.#ownService?.destroy());
    return this.#closing;
  }

  /** The buffer's counters (lines delivered, dropped, buffered, ...). */
  getMetrics(): BatchMetrics {
    return this.sink.getMetrics();
  }

  /** The clock (for loggers). */
  now(): number {
    return this.#now();
  }

  #lost(error: unknown): void {
    this.#safeReport(this.sink.notBuffered(error));
  }

  #safeReport(failure: TransportFailure): void {
    try {
      this.#report(failure);
    } catch {
      // A reporter that throws must not break delivery.
    }
  }
}

/**
 * Collects metrics for one unit of work (a request, a job) and writes them as EMF lines on
 * {@link flush}. Mirrors `aws-embedded-metrics`' `MetricsLogger`: the namespace, dimensions and
 * properties stay after a flush; the metrics are cleared. A dimension key has one value per
 * logger (a later `putDimensions` with the same key sets it for every set).
 */
export class MetricsLogger {
  readonly #sink: EmfSink;
  #namespace: string;
  #dimensionSets: string[][] = [];
  #dimensionValues: Record<string, string> = {};
  #properties: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  #metrics = new Map<string, MetricEntry>();
  #timestamp: number | undefined;

  /** Use {@link EmfSink.logger}. */
  constructor(sink: EmfSink, namespace: string, dimensions?: Readonly<Record<string, string>>) {
    this.#sink = sink;
    this.#namespace = namespace;
    if (dimensions !== undefined && Object.keys(dimensions).length > 0) this.putDimensions(dimensions);
  }

  /** Sets the namespace of this logger's metrics (1-255 characters). */
  setNamespace(namespace: string): this {
    const problem = nameProblem(namespace);
    if (problem !== undefined) throw new RangeError(`Invalid namespace: ${problem}`);
    this.#namespace = namespace;
    return this;
  }

  /**
   * Adds one dimension set (at most 30 keys: a set cannot be split without changing the identity
   * of the metrics it names, so more throws a RangeError). Keys are 1-255 characters, values 1-1024.
   */
  putDimensions(dimensions: Readonly<Record<string, string>>): this {
    checkDimensions(dimensions, 'dimensions');
    for (const key of Object.keys(dimensions)) {
      if (this.#metrics.has(key)) throw new RangeError(`Dimension \`${key}\` has the name of a metric of this logger`);
    }
    const keys = Object.keys(dimensions);
    Object.assign(this.#dimensionValues, dimensions);
    if (!this.#dimensionSets.some((set) => set.length === keys.length && set.every((k, i) => k === keys[i]))) this.#dimensionSets.push(keys);
    return this;
  }

  /** Replaces every dimension set (none: `setDimensions()` gives metrics without dimensions). */
  setDimensions(...dimensionSets: ReadonlyArray<Readonly<Record<string, string>>>): this {
    for (const set of dimensionSets) checkDimensions(set, 'dimensions');
    this.#dimensionSets = [];
    this.#dimensionValues = {};
    for (const set of dimensionSets) this.putDimensions(set);
    return this;
  }

  /**
   * Adds a value to a metric (values of one name accumulate until {@link flush}; beyond 100, the
   * next line carries the rest). `unit` is a CloudWatch unit (default: none given, CloudWatch
   * assumes `None`); `resolution` 1 (high resolution) or 60 (default), the same for every value of a name.
   *
   * @throws RangeError for an invalid name, a value that is not a finite number, an unknown unit, a
   *   resolution other than 1 or 60, or a unit/resolution different from the one this name already has.
   */
  putMetric(name: string, value: number, unit?: Unit, resolution: StorageResolution = 60): this {
    const problem = nameProblem(name);
    if (problem !== undefined) throw new RangeError(`Invalid metric name: ${problem}`);
    if (name === '_aws' || Object.hasOwn(this.#dimensionValues, name)) throw new RangeError(`Metric name \`${name}\` is reserved or a dimension of this logger`);
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`Expected the value of metric \`${name}\` to be a finite number, got ${String(value)}`);
    if (unit !== undefined && !isUnit(unit)) throw new RangeError(`Unknown unit \`${String(unit)}\` of metric \`${name}\`; expected a CloudWatch unit such as Count, Milliseconds, Bytes`);
    if (resolution !== 1 && resolution !== 60) throw new RangeError(`Expected the resolution of metric \`${name}\` to be 1 or 60, got ${String(resolution)}`);
    const entry = this.#metrics.get(name);
    if (entry === undefined) {
      this.#metrics.set(name, { values: [value], unit, resolution });
      return this;
    }
    if (entry.resolution !== resolution) throw new RangeError(`Metric \`${name}\` already has resolution ${entry.resolution}, got ${resolution}`);
    if (unit !== undefined && entry.unit !== undefined && entry.unit !== unit) throw new RangeError(`Metric \`${name}\` already has unit ${entry.unit}, got ${unit}`);
    entry.unit ??= unit;
    entry.values.push(value);
    return this;
  }

  /** Sets a property: a member of every line, searchable in Logs Insights, not a metric. Any JSON value. */
  setProperty(key: string, value: unknown): this {
    if (typeof key !== 'string' || key === '' || key === '_aws') throw new RangeError(`Invalid property key ${JSON.stringify(key)}`);
    this.#properties[key] = value;
    return this;
  }

  /** Sets the timestamp of the next lines (ms since the epoch). Default: the time of {@link flush}. */
  setTimestamp(timestamp: number | Date): this {
    const ms = timestamp instanceof Date ? timestamp.getTime() : timestamp;
    if (!Number.isSafeInteger(ms)) throw new RangeError(`Expected a timestamp in ms since the epoch, got ${String(timestamp)}`);
    this.#timestamp = ms;
    return this;
  }

  /** The lines {@link flush} would write now (nothing is cleared). */
  serialize(timestamp: number = this.#timestamp ?? this.#sink.now()): string[] {
    return serializeEmf({
      namespace: this.#namespace,
      dimensionSets: this.#dimensionSets,
      dimensionValues: this.#dimensionValues,
      metrics: this.#metrics,
      properties: this.#properties,
      timestamp,
    });
  }

  /**
   * Writes the metrics as EMF lines into the sink's buffer (synchronously; delivery follows) and
   * clears them; returns the number of lines written. Nothing to write, nothing written.
   */
  flush(): number {
    const timestamp = this.#timestamp ?? this.#sink.now();
    const lines = this.serialize(timestamp);
    this.#metrics = new Map();
    this.#timestamp = undefined;
    return lines.length === 0 ? 0 : this.#sink.write(lines, timestamp);
  }
}

function checkDimensions(dimensions: unknown, what: string): void {
  if (dimensions === null || typeof dimensions !== 'object' || Array.isArray(dimensions)) {
    throw new TypeError(`Expected ${what} to be an object of dimension names to values, got ${dimensions === null ? 'null' : typeof dimensions}`);
  }
  const entries = Object.entries(dimensions);
  if (entries.length > MAX_DIMENSIONS_PER_SET) {
    throw new RangeError(`Expected at most ${MAX_DIMENSIONS_PER_SET} dimensions in one set (${what}), got ${entries.length}`);
  }
  for (const [key, value] of entries) {
    const keyProblem = nameProblem(key);
    if (keyProblem !== undefined || key === '_aws') throw new RangeError(`Invalid dimension name ${JSON.stringify(key)} in ${what}: ${keyProblem ?? 'reserved'}`);
    const valueProblem = dimensionValueProblem(value);
    if (valueProblem !== undefined) throw new RangeError(`Invalid value of dimension \`${key}\` in ${what}: ${valueProblem}`);
  }
}

/** Adds `x-amzn-logs-format: json/emf` to the PutLogEvents requests of a client cwbatch built. */
function addLogFormatHeader(service: LogEventsService): void {
  service.client.middlewareStack.add(
    (next, context) => async (args) => {
      const request = args.request as { headers?: Record<string, string> } | undefined;
      if ((context as { commandName?: string }).commandName === 'PutLogEventsCommand' && request?.headers !== undefined) {
        request.headers[EMF_LOG_FORMAT_HEADER.name] = EMF_LOG_FORMAT_HEADER.value;
      }
      return next(args);
    },
    { step: 'build', name: 'cwbatchEmfLogFormatHeader' },
  );
}
