/**
 * `cwbatch/otel`: an OpenTelemetry `LogRecordExporter` (for `@opentelemetry/sdk-logs` 3.x) that
 * ships every log record to CloudWatch Logs through cwbatch's buffer (batched, retried, the
 * memory bound and overflow policy, optional spool, every loss reported).
 *
 * ```js
 * import { LoggerProvider, BatchLogRecordProcessor } from '@opentelemetry/sdk-logs';
 * import { CloudWatchLogRecordExporter } from 'cwbatch/otel';
 * const exporter = new CloudWatchLogRecordExporter({ logGroupName: '/otel/{service.name}' });
 * const provider = new LoggerProvider({ processors: [new BatchLogRecordProcessor({ exporter })] });
 * // ... provider.getLogger('app').emit({ body: 'hello', severityText: 'INFO' });
 * await provider.shutdown(); // delivers everything exported
 * ```
 *
 * - Each record becomes one JSON line in the shape of the OpenTelemetry Collector's
 *   `awscloudwatchlogsexporter` (see `format.ts`), with the record's `hrTime` as its timestamp.
 * - `export()` calls back SUCCESS once every record is accepted into the buffer (at once when it
 *   has room; under `overflowPolicy: 'block'`, once room is made), FAILED only when some record
 *   was lost (not buffered: the exporter was shut down, or the record could not be serialized or
 *   named). A record accepted and lost later (the shutdown deadline, repeated refusals) is
 *   reported through `onFailure`: it was after the callback, as for every exporter that batches.
 * - `forceFlush()` waits for delivery; `shutdown()` delivers what was exported (within
 *   `shutdownTimeoutMs`), reports the rest, and releases the SDK client.
 *
 * No OpenTelemetry code is imported at run time (only types): the exporter works with whichever
 * copy of the SDK the application loads.
 */
import type { LogRecordExporter, ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { createCloudWatchFlushFunction } from '../aws/flush-function.js';
import type { LogEventsService } from '../aws/service.js';
import { TransportSink, type CloudWatchTransportOptions, type TransportFailure } from '../aws/transport.js';
import { DEFAULT_BATCH_CONFIG, validateBatchConfig } from '../batch/config.js';
import { describe } from '../batch/errors.js';
import type { BatchConfig, BatchMetrics, FlushFunction } from '../batch/types.js';
import { formatLogRecord, recordTimestamp, resourceAttributesJson } from './format.js';
import { NameTemplate, type TemplateSources } from './template.js';

export { DeliveryWarning } from '../aws/transport.js';
export type { TransportFailure } from '../aws/transport.js';
export { formatLogRecord, recordTimestamp } from './format.js';
export { ABSENT_ATTRIBUTE, NameTemplate } from './template.js';
export type { TemplateSources } from './template.js';

/** What `export()` hands its callback (the SDK's `ExportResult`, taken from its own signature). */
export type ExportResult = Parameters<Parameters<LogRecordExporter['export']>[1]>[0];

/** `ExportResultCode.SUCCESS` / `FAILED` of `@opentelemetry/core` (numbers, so nothing is imported at run time). */
const SUCCESS = 0;
const FAILED = 1;

/** The stream when `logStreamName` is not given: one per service, host and process. */
export const DEFAULT_LOG_STREAM_NAME = '{service.name}/{hostname}/{pid}';

/** Options of {@link CloudWatchLogRecordExporter}: the transports' options, names as templates. */
export interface CloudWatchLogRecordExporterOptions extends Omit<CloudWatchTransportOptions, 'logStreamName'> {
  /**
   * The log group, or a template over the resource's attributes: `{service.name}`,
   * `{key|fallback}`, plus `{hostname}`, `{pid}`, `{date}` (see the README, "OpenTelemetry").
   * An absent attribute without a fallback becomes `undefined`. Created when missing.
   */
  logGroupName: string;
  /** The log stream, or a template as for `logGroupName`. Default {@link DEFAULT_LOG_STREAM_NAME}. */
  logStreamName?: string | undefined;
  /**
   * Write each record's body alone, as text (a string body as it is, anything else as JSON), as
   * the Collector's `raw_log` does: for bodies that already are the line you want (e.g. EMF).
   * Default `false`.
   */
  rawLog?: boolean | undefined;
  /** Called for every loss and background failure. Default: `console.warn`. Must not throw. */
  onFailure?: ((failure: TransportFailure) => void) | undefined;
  /** Send through this service instead of building a client from `clientConfig`. Not destroyed by cwbatch. */
  service?: LogEventsService | undefined;
  /** Send through this flush function instead of CloudWatch (tests, other sinks). */
  flushFunction?: FlushFunction | undefined;
  /** Values of `{hostname}`, `{pid}`, `{date}` (tests). Default: the machine's. */
  templateSources?: TemplateSources | undefined;
}

const NAME = 'cwbatch/otel';
const CLIENT_KEYS = ['clientConfig', 'fastBody', 'createMissing', 'retentionInDays'] as const;
const OWN_KEYS = ['logGroupName', 'logStreamName', 'rawLog', 'onFailure', 'service', 'flushFunction', 'templateSources'] as const;
const KNOWN_KEYS = new Set<string>([...OWN_KEYS, ...CLIENT_KEYS, 'spool', ...Object.keys(DEFAULT_BATCH_CONFIG)]);

/** Where a resource's records go, and its attributes serialized once. */
interface Destination {
  group: string;
  stream: string;
  resourceJson: string | undefined;
}

/** A `LogRecordExporter` delivering to CloudWatch Logs through cwbatch's buffer. */
export class CloudWatchLogRecordExporter implements LogRecordExporter {
  readonly #group: NameTemplate;
  readonly #stream: NameTemplate;
  readonly #rawLog: boolean;
  readonly #report: (failure: TransportFailure) => void;
  readonly #flushFunction: FlushFunction;
  /** The service this exporter built from `clientConfig` (destroyed on shutdown), if any. */
  readonly #ownService: LogEventsService | undefined;
  readonly #sinkOptions: Record<string, unknown>;
  readonly #templateSources: TemplateSources;
  readonly #destinations = new WeakMap<object, Destination>();
  #sink: TransportSink | undefined;
  /** Exports waiting for room (or for the one before them), in order; undefined when none. */
  #tail: Promise<void> | undefined;
  #shutdown: Promise<void> | undefined;
  /** `eventsDelivered` when a forceFlush() last gave up with events left (the service failing), else undefined. */
  #gaveUpAt: number | undefined;

  /** @throws TypeError / RangeError naming the option when an option is missing, unknown or invalid. */
  constructor(options: CloudWatchLogRecordExporterOptions) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`Expected the options of ${NAME} to be an object, got ${options === null ? 'null' : typeof options}`);
    }
    for (const key of Object.keys(options)) {
      if (!KNOWN_KEYS.has(key)) {
        throw new TypeError(`Unknown option \`${key}\` of ${NAME}; expected one of ${[...KNOWN_KEYS].map((k) => `\`${k}\``).join(', ')}`);
      }
    }
    this.#group = new NameTemplate(options.logGroupName, 'group', 'logGroupName');
    this.#stream = new NameTemplate(options.logStreamName ?? DEFAULT_LOG_STREAM_NAME, 'stream', 'logStreamName');
    if (options.rawLog !== undefined && typeof options.rawLog !== 'boolean') {
      throw new TypeError(`Expected \`rawLog\` to be a boolean, got ${typeof options.rawLog}`);
    }
    this.#rawLog = options.rawLog ?? false;
    const onFailure = options.onFailure;
    if (onFailure !== undefined && typeof onFailure !== 'function') {
      throw new TypeError(`Expected \`onFailure\` to be a function, got ${typeof onFailure}`);
    }
    this.#report = onFailure ?? ((failure) => console.warn(`[DeliveryWarning] ${failure.message}`));
    this.#templateSources = options.templateSources ?? {};
    this.#group.check(this.#templateSources);
    this.#stream.check(this.#templateSources);

    const sinkOptions: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(options)) {
      if (!(OWN_KEYS as readonly string[]).includes(key) && !(CLIENT_KEYS as readonly string[]).includes(key)) sinkOptions[key] = value;
    }
    // Checked now (the sink itself is built once the first record names its stream).
    validateBatchConfig(sinkOptions as Partial<BatchConfig>);
    this.#sinkOptions = sinkOptions;

    const { flushFunction, service } = options;
    if (flushFunction !== undefined) {
      if (typeof flushFunction !== 'function') throw new TypeError(`Expected \`flushFunction\` to be a function, got ${typeof flushFunction}`);
      if (service !== undefined || options.clientConfig !== undefined) {
        throw new TypeError(`Expected at most one of \`flushFunction\`, \`service\` and \`clientConfig\` in ${NAME}`);
      }
      this.#flushFunction = flushFunction;
      this.#ownService = undefined;
    } else {
      const created = createCloudWatchFlushFunction({
        service,
        clientConfig: options.clientConfig,
        fastBody: service === undefined ? options.fastBody : undefined,
        createMissing: options.createMissing,
        retentionInDays: options.retentionInDays,
      });
      this.#flushFunction = created;
      this.#ownService = service === undefined ? created.service : undefined;
    }
    // Names that do not depend on the resource: build the sink now, so that a bad option throws here.
    if (!this.#group.usesResource && !this.#stream.usesResource) {
      try {
        this.#sinkFor(this.#destination({ attributes: {} }));
      } catch (error) {
        this.#ownService?.destroy();
        throw error;
      }
    }
  }

  /**
   * Buffers the records, then calls back SUCCESS (every record accepted) or FAILED (some record
   * lost, with an error saying how many and why; each loss is also reported through `onFailure`).
   */
  export(logs: ReadableLogRecord[], resultCallback: (result: ExportResult) => void): void {
    const done = (lost: number, firstError: unknown): void => {
      if (lost === 0) {
        resultCallback({ code: SUCCESS });
        return;
      }
      const error = new Error(`${NAME}: ${lost} of ${logs.length} log record(s) not buffered: ${describe(firstError)}`, { cause: firstError });
      resultCallback({ code: FAILED, error } as ExportResult);
    };
    const state = { lost: 0, firstError: undefined as unknown };
    if (this.#shutdown !== undefined) {
      state.lost = logs.length;
      state.firstError = new Error('the exporter is shut down');
      this.#safeReport({ kind: 'dropped', reason: 'shutdown', count: logs.length, message: `${NAME}: ${logs.length} log record(s) exported after shutdown` });
      done(state.lost, state.firstError);
      return;
    }
    let index = 0;
    if (this.#tail === undefined) {
      index = this.#takeNow(logs, state);
      if (index === logs.length) {
        done(state.lost, state.firstError);
        return;
      }
    }
    const tail: Promise<void> = (this.#tail ?? Promise.resolve())
      .then(() => this.#takeWaiting(logs, index, state))
      .then(() => done(state.lost, state.firstError))
      .finally(() => {
        if (this.#tail === tail) this.#tail = undefined;
      });
    this.#tail = tail;
  }

  /**
   * Waits for pending exports, then delivers everything buffered (retrying, within
   * `shutdownTimeoutMs`). Never rejects. After a call that gave up with events left, later calls
   * return without waiting until the service delivers again: `BatchLogRecordProcessor` calls
   * `forceFlush()` once per batch of its queue when it flushes or shuts down, and an outage would
   * otherwise cost `shutdownTimeoutMs` per batch (the buffer keeps retrying in the background, and
   * `shutdown()` still delivers within its own deadline).
   */
  async forceFlush(): Promise<void> {
    await this.#tail;
    const sink = this.#sink;
    if (sink === undefined) return;
    if (this.#gaveUpAt !== undefined) {
      if (sink.getMetrics().eventsDelivered === this.#gaveUpAt) return;
      this.#gaveUpAt = undefined;
    }
    const left = await sink.deliver();
    if (left > 0) {
      this.#gaveUpAt = sink.getMetrics().eventsDelivered;
      this.#safeReport({
        kind: 'error',
        reason: 'flush',
        count: 0,
        message: `${NAME}: forceFlush: ${left} event(s) not delivered in time; still buffered, delivery continues${
          sink.lastError === undefined ? '' : `; last error: ${describe(sink.lastError)}`
        }`,
      });
    }
  }

  /**
   * Refuses further exports, delivers what was exported within `shutdownTimeoutMs`, reports the
   * rest as dropped (`shutdown`), and destroys the SDK client it built. Idempotent; never rejects.
   */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#stop();
    return this.#shutdown;
  }

  /** The buffer's counters (delivered, rejected, dropped, buffered, ...); undefined until the first record names its stream (or at once for names without resource placeholders). */
  getMetrics(): BatchMetrics | undefined {
    return this.#sink?.getMetrics();
  }

  /** The sink (buffer, group and stream of the first resource), once built. */
  get sink(): TransportSink | undefined {
    return this.#sink;
  }

  async #stop(): Promise<void> {
    try {
      await this.#tail;
      await this.#sink?.stop();
    } finally {
      this.#ownService?.destroy();
    }
  }

  /** Buffers records while the buffer takes them at once; returns the index of the first that must wait. */
  #takeNow(logs: ReadableLogRecord[], state: { lost: number; firstError: unknown }): number {
    for (let i = 0; i < logs.length; i++) {
      const record = logs[i] as ReadableLogRecord;
      let accepted: boolean;
      try {
        const { sink, dest, timestamp, message } = this.#prepare(record);
        accepted =
          dest.group === sink.logGroupName && dest.stream === sink.logStreamName
            ? sink.tryAdd(timestamp, message)
            : sink.buffer.tryAdd(dest.group, dest.stream, { timestamp, message });
      } catch (error) {
        this.#lost(state, error);
        continue;
      }
      if (!accepted) return i;
    }
    return logs.length;
  }

  /** Buffers records from `start` on, each waiting for room (`add()`), in order. */
  async #takeWaiting(logs: ReadableLogRecord[], start: number, state: { lost: number; firstError: unknown }): Promise<void> {
    for (let i = start; i < logs.length; i++) {
      try {
        const { sink, dest, timestamp, message } = this.#prepare(logs[i] as ReadableLogRecord);
        await (dest.group === sink.logGroupName && dest.stream === sink.logStreamName
          ? sink.add(timestamp, message)
          : sink.buffer.add(dest.group, dest.stream, { timestamp, message }));
      } catch (error) {
        this.#lost(state, error);
      }
    }
  }

  #prepare(record: ReadableLogRecord): { sink: TransportSink; dest: Destination; timestamp: number; message: string } {
    const dest = this.#destination(record.resource);
    const sink = this.#sinkFor(dest);
    const message = this.#rawLog ? rawMessage(record.body) : formatLogRecord(record, dest.resourceJson ?? null);
    return { sink, dest, timestamp: recordTimestamp(record), message };
  }

  #lost(state: { lost: number; firstError: unknown }, error: unknown): void {
    state.lost++;
    state.firstError ??= error;
    const failure: TransportFailure =
      this.#sink !== undefined
        ? this.#sink.notBuffered(error)
        : { kind: 'dropped', reason: 'invalid', count: 1, message: `${NAME}: 1 log record not buffered: ${describe(error)}`, error };
    this.#safeReport(failure);
  }

  /** Group, stream and resource JSON of a resource (cached per resource object: the SDK keeps one per provider). */
  #destination(resource: { attributes: Readonly<Record<string, unknown>> }): Destination {
    let dest = this.#destinations.get(resource);
    if (dest === undefined) {
      const attributes = resource.attributes;
      dest = {
        group: this.#group.resolve(attributes, this.#templateSources),
        stream: this.#stream.resolve(attributes, this.#templateSources),
        resourceJson: resourceAttributesJson(attributes),
      };
      this.#destinations.set(resource, dest);
    }
    return dest;
  }

  /**
   * The one sink (one buffer, one memory bound, one spool), named after the first destination.
   * Records of another resource (an exporter shared by several providers) go into the same
   * buffer under their own group and stream.
   */
  #sinkFor(dest: Destination): TransportSink {
    this.#sink ??= new TransportSink({
      name: NAME,
      options: { ...this.#sinkOptions, logGroupName: dest.group, logStreamName: dest.stream },
      flushFunction: this.#flushFunction,
      report: (failure) => this.#safeReport(failure),
    });
    return this.#sink;
  }

  #safeReport(failure: TransportFailure): void {
    try {
      this.#report(failure);
    } catch {
      // A reporter that throws must not break delivery.
    }
  }
}

/** `rawLog`: the body as text. */
function rawMessage(body: unknown): string {
  if (typeof body === 'string') return body;
  const json = JSON.stringify(body ?? null);
  return json;
}

export default CloudWatchLogRecordExporter;
