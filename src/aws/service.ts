import type {
  CloudWatchLogsClient,
  CloudWatchLogsClientConfig,
  CreateLogGroupCommand as CreateLogGroup,
  CreateLogStreamCommand as CreateLogStream,
  PutLogEventsCommandInput,
  PutRetentionPolicyCommand as PutRetentionPolicy,
} from '@aws-sdk/client-cloudwatch-logs';
import { backoffDelay, classifyError } from '../batch/retry.js';
import { sleep } from '../batch/sleep.js';
import type { FlushResult, InputLogEvent } from '../batch/types.js';
import { createCloudWatchLogsClient } from './client.js';
import { fastPutLogEventsBody } from './fast-body.js';
import { isResourceAlreadyExists, isResourceNotFound } from './errors.js';
import { validateLogGroupCreateOptions, type LogGroupCreateOptions } from './group-options.js';
import { sdk } from './sdk.js';

const { CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand, PutRetentionPolicyCommand } = sdk;

/**
 * Where a {@link LogEventsService} gets its client: an existing one (`client`, which the service
 * never configures or destroys), or a configuration (`clientConfig`) from which it builds one with
 * `maxAttempts: 1` unless the configuration says otherwise (see {@link createCloudWatchLogsClient}),
 * and, unless `fastBody` is `false`, the {@link fastPutLogEventsBody} plugin.
 */
export type LogEventsServiceOptions = LogEventsServiceCommonOptions &
  (
    | { client: CloudWatchLogsClient; clientConfig?: undefined; fastBody?: undefined }
    | {
        client?: undefined;
        clientConfig?: CloudWatchLogsClientConfig | undefined;
        /**
         * The client built from `clientConfig` writes PutLogEvents bodies with the
         * `fastPutLogEventsBody` plugin (the same JSON, written straight into bytes; the SDK still
         * signs and sends it). Default `true`; `false` leaves the SDK's own serializer.
         */
        fastBody?: boolean | undefined;
      }
  );

/**
 * What a {@link LogEventsService} does whatever its client: how it creates missing groups
 * ({@link LogGroupCreateOptions}: the defaults of {@link LogEventsService.ensureLogGroup}, checked
 * at construction) and how it retries a throttled create.
 */
export interface LogEventsServiceCommonOptions extends LogGroupCreateOptions {
  /** Retries of a throttled or failed CreateLogGroup / CreateLogStream / PutRetentionPolicy. */
  createRetry?: CreateRetryOptions | undefined;
}

/**
 * Retries of the create calls (CreateLogGroup 10/s and CreateLogStream 50/s per account, far
 * below PutLogEvents' 5,000/s: a fleet that starts, or rotates its stream names at midnight,
 * meets them). Throttling, 5xx, network errors and `OperationAbortedException` are retried with
 * full-jitter exponential back-off; anything else, or the call's signal aborting, ends it at once.
 * Past `maxAttempts` the last error is thrown: the flush function throws it to the buffer, which
 * keeps the batch (in order, at the front of its stream) and retries it with its own back-off.
 */
export interface CreateRetryOptions {
  /** Attempts of one create call, the first included (1 = no retry). Default 5. */
  maxAttempts?: number | undefined;
  /** Base of the back-off, ms: the n-th retry waits a random time below `baseDelayMs * 2^(n-1)`. Default 200. */
  baseDelayMs?: number | undefined;
  /** Cap of one back-off, ms. Default 5,000. */
  maxDelayMs?: number | undefined;
  /** Random source in [0, 1) for the jitter. Default `Math.random`. */
  random?: (() => number) | undefined;
  /**
   * Waits `ms` (or until `signal` aborts), for tests. Default: a timer, which keeps the process
   * alive while it runs, as the request in progress does.
   */
  sleep?: ((ms: number, signal: AbortSignal | undefined) => Promise<void>) | undefined;
}

/** {@link CreateRetryOptions}, checked and defaulted. */
interface CreateRetry {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  random: () => number;
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
}

const CREATE_RETRY_DEFAULTS = { maxAttempts: 5, baseDelayMs: 200, maxDelayMs: 5_000 } as const;

/** Arguments of {@link LogEventsService.put}, as the seed calls it. */
export interface PutLogEventsArgs {
  logGroupName: string;
  logStreamName: string;
  /** Events in chronological order, obeying every PutLogEvents rule. */
  logEvents: InputLogEvent[];
  /** Legacy sequence token; sent only when given (AWS ignores it since January 2023). */
  sequenceToken?: string | undefined;
}

/** Per-call options of the service's methods. */
export interface CallOptions {
  /** Cancels the request (handed to the SDK as `abortSignal`); the call rejects with the SDK's `AbortError`. */
  signal?: AbortSignal | undefined;
}

/**
 * Options of {@link LogEventsService.ensureLogGroup}: the signal, and the group's settings
 * ({@link LogGroupCreateOptions}: retention, class, KMS key, tags), each used only when this call
 * creates the group (never applied to a group that already existed). A field left `undefined`
 * takes the service's own option.
 */
export interface EnsureLogGroupOptions extends CallOptions, LogGroupCreateOptions {}

/** A cached create-if-missing: in flight (`done` false) or known to exist (`done` true). */
interface Ensured {
  promise: Promise<void>;
  done: boolean;
}

/**
 * The CloudWatch Logs calls cwbatch makes, over one AWS SDK v3 client: PutLogEvents, and
 * create-if-missing of groups and streams with a cache (concurrent callers share one request).
 *
 * Errors are the SDK's own, unwrapped, so that `name` and `$metadata` reach the buffer's
 * classifier (`classifyError`) intact.
 *
 * IAM actions: `logs:PutLogEvents`, plus `logs:CreateLogGroup`, `logs:CreateLogStream` and (with
 * retention) `logs:PutRetentionPolicy` for create-if-missing.
 */
export class LogEventsService {
  /** The SDK client every call goes through. */
  readonly client: CloudWatchLogsClient;
  readonly #ownsClient: boolean;
  readonly #groups = new Map<string, Ensured>();
  /** Streams by group, so that forgetting a group forgets its streams. */
  readonly #streams = new Map<string, Map<string, Ensured>>();
  /** Groups this service created whose retention policy has not been set yet (the call failed). */
  readonly #retentionPending = new Map<string, number>();
  readonly #groupDefaults: Readonly<LogGroupCreateOptions>;
  readonly #retry: CreateRetry;
  #destroyed = false;

  constructor(options: LogEventsServiceOptions = {}) {
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`Expected \`options\` to be an object with \`client\` or \`clientConfig\`, got ${String(options)}`);
    }
    if (options.client !== undefined && options.clientConfig !== undefined) {
      throw new TypeError('Expected either `client` or `clientConfig`, not both');
    }
    this.#groupDefaults = validateLogGroupCreateOptions(options);
    this.#retry = checkCreateRetry(options.createRetry);
    const fastBody = options.fastBody;
    if (fastBody !== undefined && typeof fastBody !== 'boolean') {
      throw new TypeError(`Expected \`fastBody\` to be a boolean, got ${typeof fastBody}`);
    }
    if (options.client !== undefined) {
      if (fastBody !== undefined) {
        throw new TypeError('`fastBody` applies to a client built from `clientConfig`; add fastPutLogEventsBody() to your own client instead');
      }
      if (typeof (options.client as { send?: unknown }).send !== 'function') {
        throw new TypeError('Expected `client` to be a CloudWatchLogsClient (an object with a `send` method)');
      }
      this.client = options.client;
      this.#ownsClient = false;
    } else {
      this.client = createCloudWatchLogsClient(options.clientConfig ?? {});
      if (fastBody !== false) this.client.middlewareStack.use(fastPutLogEventsBody());
      this.#ownsClient = true;
    }
  }

  /**
   * Sends one PutLogEvents request. Resolves to the service's `nextSequenceToken` (legacy) and
   * `rejectedLogEventsInfo` (events refused one by one, with AWS's index semantics); rejects with
   * the SDK's error as thrown.
   */
  async put(args: PutLogEventsArgs, options?: CallOptions): Promise<FlushResult> {
    const input: PutLogEventsCommandInput = {
      logGroupName: args.logGroupName,
      logStreamName: args.logStreamName,
      logEvents: args.logEvents,
    };
    if (args.sequenceToken !== undefined) input.sequenceToken = args.sequenceToken;
    const command = new PutLogEventsCommand(input);
    const signal = options?.signal;
    const output = signal === undefined ? await this.client.send(command) : await this.client.send(command, { abortSignal: signal });
    return { nextSequenceToken: output.nextSequenceToken, rejectedLogEventsInfo: output.rejectedLogEventsInfo };
  }

  /** The group settings this service creates groups with (its options, checked; only the fields set). */
  get groupDefaults(): Readonly<LogGroupCreateOptions> {
    return this.#groupDefaults;
  }

  /**
   * Creates the log group unless it exists: `ResourceAlreadyExistsException` counts as success.
   * The outcome is cached; concurrent callers share one request. A group this call creates gets
   * `logGroupClass`, `kmsKeyId` and `tags` with CreateLogGroup, then `retentionInDays` with
   * PutRetentionPolicy (if that fails, the call rejects and the next call for the group sets it
   * again). Throttled calls are retried ({@link CreateRetryOptions}).
   *
   * @throws TypeError / RangeError (synchronously) for invalid group settings in `options`.
   */
  ensureLogGroup(logGroupName: string, options?: EnsureLogGroupOptions): Promise<void> {
    const cached = this.#groups.get(logGroupName);
    if (cached !== undefined) return cached.promise;
    const settings = this.#settings(options);
    return this.#track(this.#groups, logGroupName, this.#createGroup(logGroupName, settings, options?.signal));
  }

  /**
   * Creates the log stream unless it exists: `ResourceAlreadyExistsException` counts as success.
   * The outcome is cached; concurrent callers share one request. Rejects with the SDK's
   * `ResourceNotFoundException` when the group does not exist (it does not create the group).
   */
  ensureLogStream(logGroupName: string, logStreamName: string, options?: CallOptions): Promise<void> {
    let streams = this.#streams.get(logGroupName);
    if (streams === undefined) {
      streams = new Map();
      this.#streams.set(logGroupName, streams);
    }
    const cached = streams.get(logStreamName);
    if (cached !== undefined) return cached.promise;
    const command = new CreateLogStreamCommand({ logGroupName, logStreamName });
    return this.#track(streams, logStreamName, this.#create(command, options?.signal));
  }

  /**
   * Creates the log stream, and its log group when that is missing too, unless they exist. Tries
   * the stream first, so that a caller allowed only `logs:CreateLogStream` works when just the
   * stream is missing; on `ResourceNotFoundException` it forgets the group (it may have been
   * deleted while cwbatch ran), creates it (with `retentionInDays`, if given) and the stream.
   */
  async ensureDestination(logGroupName: string, logStreamName: string, options: EnsureLogGroupOptions = {}): Promise<void> {
    const call: CallOptions = options.signal === undefined ? {} : { signal: options.signal };
    try {
      await this.ensureLogStream(logGroupName, logStreamName, call);
    } catch (error) {
      if (!isResourceNotFound(error)) throw error;
      this.forget(logGroupName);
      await this.ensureLogGroup(logGroupName, options);
      await this.ensureLogStream(logGroupName, logStreamName, call);
    }
  }

  /**
   * Forgets what the cache knows about a group (and all its streams), or about one stream: the
   * next `ensure*` call asks the service again. Used when a group or stream was deleted while
   * cwbatch ran. Creations still in flight are kept (their result is fresh).
   */
  forget(logGroupName: string, logStreamName?: string): void {
    const streams = this.#streams.get(logGroupName);
    if (logStreamName !== undefined) {
      if (streams?.get(logStreamName)?.done) streams.delete(logStreamName);
      return;
    }
    if (this.#groups.get(logGroupName)?.done) this.#groups.delete(logGroupName);
    if (streams !== undefined) {
      for (const [name, entry] of streams) if (entry.done) streams.delete(name);
    }
  }

  /**
   * Destroys the client if this service built it (closing its sockets); a client passed in is
   * left alone. Idempotent.
   */
  destroy(): void {
    if (this.#destroyed) return;
    this.#destroyed = true;
    if (this.#ownsClient) this.client.destroy();
  }

  /** The service's group settings, overridden by the call's (checked when the call gives any). */
  #settings(options: EnsureLogGroupOptions | undefined): Readonly<LogGroupCreateOptions> {
    if (options === undefined) return this.#groupDefaults;
    const { retentionInDays, logGroupClass, kmsKeyId, tags } = options;
    if (retentionInDays === undefined && logGroupClass === undefined && kmsKeyId === undefined && tags === undefined) return this.#groupDefaults;
    const d = this.#groupDefaults;
    return validateLogGroupCreateOptions({
      retentionInDays: retentionInDays ?? d.retentionInDays,
      logGroupClass: logGroupClass ?? d.logGroupClass,
      kmsKeyId: kmsKeyId ?? d.kmsKeyId,
      tags: tags ?? d.tags,
    });
  }

  async #createGroup(logGroupName: string, settings: Readonly<LogGroupCreateOptions>, signal: AbortSignal | undefined): Promise<void> {
    const { logGroupClass, kmsKeyId, tags, retentionInDays } = settings;
    const command = new CreateLogGroupCommand({
      logGroupName,
      ...(logGroupClass === undefined ? {} : { logGroupClass }),
      ...(kmsKeyId === undefined ? {} : { kmsKeyId }),
      ...(tags === undefined ? {} : { tags: { ...tags } }),
    });
    const created = await this.#create(command, signal);
    const retention = created ? retentionInDays : this.#retentionPending.get(logGroupName);
    if (retention === undefined) return;
    this.#retentionPending.set(logGroupName, retention);
    await this.#sendWithRetry(new PutRetentionPolicyCommand({ logGroupName, retentionInDays: retention }), signal);
    this.#retentionPending.delete(logGroupName);
  }

  /** Sends a Create* command; resolves `true` if it created the resource, `false` if it existed. */
  async #create(command: CreateLogGroup | CreateLogStream, signal: AbortSignal | undefined): Promise<boolean> {
    try {
      await this.#sendWithRetry(command, signal);
      return true;
    } catch (error) {
      if (isResourceAlreadyExists(error)) return false;
      throw error;
    }
  }

  /**
   * {@link #send}, retrying throttling and transient failures with full-jitter back-off (see
   * {@link CreateRetryOptions}); anything else, an aborted signal or the last attempt's error is thrown.
   */
  async #sendWithRetry(command: CreateLogGroup | CreateLogStream | PutRetentionPolicy, signal: AbortSignal | undefined): Promise<unknown> {
    const { maxAttempts, baseDelayMs, maxDelayMs, random } = this.#retry;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.#send(command, signal);
      } catch (error) {
        // "Already exists" is an answer, not a failure (the caller decides); so is an abort.
        if (attempt >= maxAttempts || aborted(signal) || isResourceAlreadyExists(error)) throw error;
        const kind = classifyError(error);
        // A request that already waited out its whole timeout is not sent again here: the caller
        // (the buffer's back-off, or the CLI's start check) decides, so a silent endpoint fails
        // after one request timeout, not after maxAttempts of them.
        if ((kind !== 'throttling' && kind !== 'transient') || isTimeout(error)) throw error;
        // The pause is NOT unref()'d, on purpose: it is part of a create call somebody awaits (a flush
        // in progress), like the request's own socket; unref()'d, a process with nothing else to do
        // exited in the middle of it (code 0, the batch neither delivered nor reported). Bounded: with
        // the defaults, about 3 s over all attempts.
        await (this.#retry.sleep ?? sleep)(backoffDelay(attempt, baseDelayMs, maxDelayMs, random), signal);
        if (aborted(signal)) throw error;
      }
    }
  }

  #send(
    command: CreateLogGroup | CreateLogStream | PutRetentionPolicy,
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    // The union defeats `send`'s overloads; each command is a valid input on its own.
    const client = this.client as unknown as {
      send(command: unknown, options?: { abortSignal: AbortSignal }): Promise<unknown>;
    };
    return signal === undefined ? client.send(command) : client.send(command, { abortSignal: signal });
  }

  /** Caches `work` under `key` while in flight and once it succeeds; a failure is not cached. */
  #track(cache: Map<string, Ensured>, key: string, work: Promise<unknown>): Promise<void> {
    const entry: Ensured = {
      promise: work.then(
        () => {
          entry.done = true;
        },
        (error: unknown) => {
          if (cache.get(key) === entry) cache.delete(key);
          throw error;
        },
      ),
      done: false,
    };
    cache.set(key, entry);
    return entry.promise;
  }
}

function checkCreateRetry(options: CreateRetryOptions | undefined): CreateRetry {
  if (options === undefined) return { ...CREATE_RETRY_DEFAULTS, random: Math.random };
  if (options === null || typeof options !== 'object') throw new TypeError(`Expected \`createRetry\` to be an object, got ${String(options)}`);
  const maxAttempts = options.maxAttempts ?? CREATE_RETRY_DEFAULTS.maxAttempts;
  const baseDelayMs = options.baseDelayMs ?? CREATE_RETRY_DEFAULTS.baseDelayMs;
  const maxDelayMs = options.maxDelayMs ?? CREATE_RETRY_DEFAULTS.maxDelayMs;
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) {
    throw new RangeError(`Expected \`createRetry.maxAttempts\` to be an integer between 1 and 100, got ${String(maxAttempts)}`);
  }
  for (const [name, value] of [['baseDelayMs', baseDelayMs], ['maxDelayMs', maxDelayMs]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`Expected \`createRetry.${name}\` to be an integer >= 0 (ms), got ${String(value)}`);
  }
  const random = options.random ?? Math.random;
  if (typeof random !== 'function') throw new TypeError(`Expected \`createRetry.random\` to be a function, got ${typeof random}`);
  const custom = options.sleep;
  if (custom !== undefined && typeof custom !== 'function') throw new TypeError(`Expected \`createRetry.sleep\` to be a function, got ${typeof custom}`);
  return custom === undefined ? { maxAttempts, baseDelayMs, maxDelayMs, random } : { maxAttempts, baseDelayMs, maxDelayMs, random, sleep: custom };
}

/** A function, not an inline test: the signal may abort while awaiting, which inline narrowing would hide. */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** Whether `error` is a request or connection timeout (the SDK's node-http-handler names them `TimeoutError`). */
function isTimeout(error: unknown): boolean {
  if (error === null || typeof error !== 'object') return false;
  const { name, code } = error as { name?: unknown; code?: unknown };
  return name === 'TimeoutError' || name === 'RequestTimeout' || name === 'RequestTimeoutException' || code === 'ETIMEDOUT';
}
