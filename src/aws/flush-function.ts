import type { CloudWatchLogsClient, CloudWatchLogsClientConfig } from '@aws-sdk/client-cloudwatch-logs';
import type { FlushContext, FlushFunction, FlushResult, InputLogEvent } from '../batch/types.js';
import { isResourceNotFound } from './errors.js';
import { validateLogGroupCreateOptions, type LogGroupCreateOptions } from './group-options.js';
import { LogEventsService, type CreateRetryOptions, type PutLogEventsArgs } from './service.js';

/**
 * Options of {@link createCloudWatchFlushFunction}. Give at most one of `service`, `client`,
 * `clientConfig`. The group settings ({@link LogGroupCreateOptions}: `retentionInDays`,
 * `logGroupClass`, `kmsKeyId`, `tags`) apply to groups this flush function creates
 * (`createMissing`), and are checked at construction.
 */
export interface CloudWatchFlushOptions extends LogGroupCreateOptions {
  /** A service to send through (shared, e.g., between several buffers). Not destroyed by cwbatch. */
  service?: LogEventsService | undefined;
  /**
   * An SDK client of your own. It is used as configured: its own retries (SDK default
   * `maxAttempts: 3`) multiply the buffer's (see the README, "Two retry layers"). Not destroyed
   * by cwbatch.
   */
  client?: CloudWatchLogsClient | undefined;
  /**
   * Configuration of a client built for this flush function, with `maxAttempts: 1` unless it
   * sets `maxAttempts` or `retryStrategy`. Default `{}` (region, credentials and endpoint from
   * the environment, e.g. `AWS_REGION`, `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`).
   */
  clientConfig?: CloudWatchLogsClientConfig | undefined;
  /**
   * The client built from `clientConfig` (or from the environment) writes PutLogEvents bodies
   * with the `fastPutLogEventsBody` plugin: the same JSON, written straight into bytes, then
   * signed and sent by the SDK as usual. Default `true`; `false` leaves the SDK's own serializer.
   * Not for a `client` or `service` of your own (add the plugin to your client instead).
   */
  fastBody?: boolean | undefined;
  /**
   * On `ResourceNotFoundException` from PutLogEvents, create the missing log stream (and its log
   * group when that is missing too), then send the batch again, once. Default `true`.
   */
  createMissing?: boolean | undefined;
  /**
   * Retries of throttled create calls, for the service this function builds (see
   * {@link CreateRetryOptions}; default 5 attempts, 200 ms base). Not with a `service` of your own.
   */
  createRetry?: CreateRetryOptions | undefined;
  /**
   * Send the buffer's legacy sequence token and return the service's next one. Only for old
   * emulators: AWS ignores tokens since January 2023. Default `false`.
   */
  useSequenceTokens?: boolean | undefined;
}

/**
 * The flush function returned by {@link createCloudWatchFlushFunction}, with the service it
 * sends through (e.g. to call `service.destroy()` after the buffer has stopped).
 */
export interface CloudWatchFlushFunction extends FlushFunction {
  /** The service this flush function sends through. */
  readonly service: LogEventsService;
}

/**
 * A {@link FlushFunction} for `BatchBufferImpl` that sends each batch with PutLogEvents.
 *
 * - Errors are re-thrown exactly as the SDK threw them (`name`, `$metadata`, `$retryable`
 *   intact): the buffer classifies them and owns every retry. This function never retries,
 *   except the single re-send after creating a missing group/stream (`createMissing`).
 * - `rejectedLogEventsInfo` is passed through, so the buffer reports too-old, too-new and
 *   expired events through `onRejected`.
 * - The buffer's abort signal (`flushTimeoutMs`, `stop()`'s deadline) is handed to the SDK,
 *   which cancels the request (and, on a client of your own, its internal retries).
 *
 * Two retry layers: a client built from `clientConfig` makes one HTTP attempt per call, so a
 * batch costs at most `maxRetries + 1` PutLogEvents requests. A `client` of your own keeps its
 * retry strategy: with the SDK default (`maxAttempts: 3`) a batch may cost up to
 * `3 × (maxRetries + 1)` requests, and one buffer attempt lasts as long as the SDK's retries
 * (bounded by `flushTimeoutMs`). Build that client with `maxAttempts: 1` to let the buffer
 * decide alone.
 *
 * Missing groups and streams: on `ResourceNotFoundException` it creates the stream (and the group
 * when that is missing too: with the group settings), then sends again, once. Create calls are
 * retried when throttled (`createRetry`); "already exists" counts as created. It never calls
 * DescribeLogStreams.
 *
 * IAM actions: `logs:PutLogEvents`; with `createMissing`, `logs:CreateLogGroup` and
 * `logs:CreateLogStream`; with `retentionInDays`, `logs:PutRetentionPolicy`; with `tags`,
 * `logs:TagResource`; with `kmsKeyId`, a key policy that lets CloudWatch Logs use the key.
 *
 * @throws TypeError / RangeError naming the option for an invalid option.
 */
export function createCloudWatchFlushFunction(options: CloudWatchFlushOptions = {}): CloudWatchFlushFunction {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`Expected \`options\` to be an object, got ${String(options)}`);
  }
  const { service: given, client, clientConfig } = options;
  const sources = Number(given !== undefined) + Number(client !== undefined) + Number(clientConfig !== undefined);
  if (sources > 1) throw new TypeError('Expected at most one of `service`, `client` and `clientConfig`');
  // Structural, not `instanceof` (two copies of cwbatch would break it); catches a client passed as `service`.
  if (given !== undefined && (typeof given.put !== 'function' || typeof given.ensureLogStream !== 'function')) {
    throw new TypeError('Expected `service` to be a LogEventsService');
  }
  const createMissing = options.createMissing ?? true;
  const useSequenceTokens = options.useSequenceTokens ?? false;
  if (typeof createMissing !== 'boolean') throw new TypeError(`Expected \`createMissing\` to be a boolean, got ${String(createMissing)}`);
  if (typeof useSequenceTokens !== 'boolean') {
    throw new TypeError(`Expected \`useSequenceTokens\` to be a boolean, got ${String(useSequenceTokens)}`);
  }
  const groupSettings = validateLogGroupCreateOptions(options);
  const createRetry = options.createRetry;
  if (createRetry !== undefined && given !== undefined) {
    throw new TypeError('`createRetry` applies to the service cwbatch builds; pass it to your own LogEventsService instead');
  }
  // Its type is checked by LogEventsService, which builds the client.
  const fastBody = options.fastBody;
  if (fastBody !== undefined && (given !== undefined || client !== undefined)) {
    throw new TypeError('`fastBody` applies to the client cwbatch builds from `clientConfig`; add fastPutLogEventsBody() to your own client instead');
  }
  const service =
    given ??
    (client !== undefined
      ? new LogEventsService({ client, createRetry })
      : new LogEventsService({ clientConfig: clientConfig ?? {}, fastBody, createRetry }));
  // Per call, so that they also apply through a service of the caller's (its own settings fill the gaps).
  const groupOptions = groupSettings;

  async function createAndResend(args: PutLogEventsArgs, signal: AbortSignal | undefined): Promise<FlushResult> {
    const { logGroupName: group, logStreamName: stream } = args;
    // The cache may say "exists" for a group or stream deleted while we ran: ask the service again.
    service.forget(group, stream);
    // A stream created now has no sequence token yet (legacy emulators would refuse the old one).
    const { sequenceToken: _stale, ...fresh } = args;
    await service.ensureDestination(group, stream, { ...groupOptions, signal });
    // Forgotten once created: this function asks the service again anyway (above), and a cache
    // entry per stream ever created grew without end when stream names churn (issue 17).
    service.forget(group, stream);
    return service.put(fresh, { signal });
  }

  const flush = async (
    logGroup: string,
    logStream: string,
    events: InputLogEvent[],
    sequenceToken?: string,
    context?: FlushContext,
  ): Promise<FlushResult> => {
    const args: PutLogEventsArgs = { logGroupName: logGroup, logStreamName: logStream, logEvents: events };
    if (useSequenceTokens && sequenceToken !== undefined) args.sequenceToken = sequenceToken;
    const signal = context?.signal;
    let result: FlushResult;
    try {
      result = await service.put(args, { signal });
    } catch (error) {
      if (!createMissing || !isResourceNotFound(error)) throw error;
      result = await createAndResend(args, signal);
    }
    // Without tokens, don't hand one back: the buffer then has none to keep or send.
    return useSequenceTokens ? result : { rejectedLogEventsInfo: result.rejectedLogEventsInfo };
  };
  return Object.assign(flush, { service }) as CloudWatchFlushFunction;
}
