/**
 * A faster PutLogEvents request body, for the AWS SDK v3 client (opt-in; issue 6).
 *
 * Profiling the benchmark (`bench/`, `node --cpu-prof`) showed the SDK's schema serializer
 * (`@smithy/core` JSON codec, `writeJsonString`) spending about a quarter of the client's CPU
 * copying each 1 MB batch into a byte buffer one character at a time. This plugin produces the
 * same JSON written straight into bytes instead (the events escaped by the engine's native
 * `JSON.stringify`, a run of them at a time). It changes how the body is
 * produced, nothing else: the SDK still resolves credentials (its chain), region and endpoint,
 * builds the request, sets `Content-Length`, signs it with SigV4 (hashing this body), retries,
 * and parses the response.
 *
 * How: two middlewares around the SDK's serializer, placed by step and priority (`serialize`,
 * high: before it; `build`, high: after it, before Content-Length and signing). The first writes
 * the body from the input and hands the SDK serializer the same input with an empty `logEvents`
 * (so it has almost nothing to copy); the second puts the prepared body, as bytes, on the
 * request the SDK built. Body memory is reused: a delivered request's buffer takes a later body
 * (a burst otherwise leaves a ~1 MB garbage buffer per request until the next GC). Any input
 * the fast writer cannot vouch for (an unknown member, an `entity`, an event that is not
 * `{ timestamp: finite number, message: string }`) goes through the SDK's own serializer untouched.
 *
 * Meaning, not bytes: the body is the JSON the SDK writes, member for member (tests parse both
 * and compare). Lone surrogates are written as `\uXXXX` escapes, as the SDK's writer and
 * `JSON.stringify` both do (cwbatch's buffer has already made messages well-formed anyway).
 *
 * @example
 * const client = createCloudWatchLogsClient({ region: 'eu-west-1' });
 * client.middlewareStack.use(fastPutLogEventsBody());
 * const flush = createCloudWatchFlushFunction({ client });
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';

/** Names of the two middlewares (to find or remove them in a middleware stack). */
export const FAST_BODY_MIDDLEWARE_NAMES = Object.freeze({
  prepare: 'cwbatchFastBodyPrepare',
  apply: 'cwbatchFastBodyApply',
});

const PREPARED = Symbol('cwbatch.fastBody');
const OPTIONAL_MEMBERS = new Set(['sequenceToken']);
const KNOWN_MEMBERS = new Set(['logGroupName', 'logStreamName', 'logEvents', 'sequenceToken']);
/** Body buffers kept for reuse per plugin (one per request a client usually has in flight). */
const POOL_SIZE = 4;
/** A body buffer larger than this (a batch of escaped messages) is not kept. */
const POOL_MAX_BYTES = 4 * 1024 * 1024;
/** Body buffers are let go after this long (ms) without a body written. */
const POOL_IDLE_MS = 5_000;

type Stack = CloudWatchLogsClient['middlewareStack'];

interface Args {
  input: Record<string | symbol, unknown>;
  request?: unknown;
}

/**
 * True when the fast writers can vouch for `input`: only the members the SDK writes, strings where
 * it expects strings, and plain `{ timestamp: finite number, message: string }` events. Anything
 * else goes through the SDK's own serializer.
 */
function isPlainInput(input: Record<string, unknown>): boolean {
  const { logGroupName, logStreamName, logEvents } = input;
  if (typeof logGroupName !== 'string' || typeof logStreamName !== 'string' || !Array.isArray(logEvents)) return false;
  // A plain array, and no `toJSON` JSON.stringify would call (the SDK's serializer calls none).
  if (Object.getPrototypeOf(logEvents) !== Array.prototype || 'toJSON' in logEvents) return false;
  for (const key of Object.keys(input)) {
    if (!KNOWN_MEMBERS.has(key) && input[key] !== undefined) return false;
    if (OPTIONAL_MEMBERS.has(key) && input[key] !== undefined && typeof input[key] !== 'string') return false;
  }
  for (let i = 0; i < logEvents.length; i++) {
    const event = logEvents[i] as unknown;
    if (event === null || typeof event !== 'object') return false;
    // Plain objects only: a prototype could carry a toJSON the SDK would not call.
    const proto = Object.getPrototypeOf(event) as unknown;
    if (proto !== Object.prototype && proto !== null) return false;
    const { timestamp, message } = event as { timestamp?: unknown; message?: unknown };
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || typeof message !== 'string') return false;
    // Only the two members the SDK writes; an event with others is left to the SDK.
    for (const key in event) {
      if (key !== 'timestamp' && key !== 'message' && (event as Record<string, unknown>)[key] !== undefined) return false;
    }
  }
  return true;
}

/**
 * Writes the PutLogEvents JSON body for `input`, or returns `undefined` when the input has
 * anything the SDK's serializer would treat differently (then the SDK serializes it).
 */
export function writePutLogEventsBody(input: Record<string, unknown>): string | undefined {
  if (!isPlainInput(input)) return undefined;
  const { logGroupName, logStreamName, logEvents, sequenceToken } = input;
  // The engine writes the whole body in one native JSON.stringify call: about 4x faster than
  // stringifying event by event and joining.
  const body: Record<string, unknown> = { logGroupName, logStreamName, logEvents };
  if (typeof sequenceToken === 'string') body['sequenceToken'] = sequenceToken;
  return JSON.stringify(body);
}

/** Characters of messages per `JSON.stringify` call: each call's string stays a small heap object. */
const CHUNK_CHARS = 16_384;

/**
 * The same body as {@link writePutLogEventsBody}, byte for byte, written straight into bytes
 * (into `into` when it is large enough, else into a new buffer): `body` is the body, a view of
 * `backing`. No ~1 MB string is built and then copied (issue 6: at 100,000 events, each request's
 * body string and its bytes were garbage waiting for the next GC, about 2 MB per request).
 * The events go through the engine's native `JSON.stringify` a run at a time (runs of about
 * {@link CHUNK_CHARS} message characters), each run's JSON written as UTF-8 into the buffer:
 * one native pass per run, where writing event by event (a test for messages needing no escapes,
 * `JSON.stringify` of each other message, a template per event, then one copy per 16 KB) cost
 * 5,730 instructions per pino line, whose quotes always need escapes: 5,396 now (-6%), and for
 * plain text lines of the same length 3,922 instead of 4,543 (issue 20; cachegrind, 5,000-event
 * bodies). `undefined`: as there.
 */
export function writePutLogEventsBodyBytes(input: Record<string, unknown>, into?: Buffer): { body: Buffer; backing: Buffer } | undefined {
  if (!isPlainInput(input)) return undefined;
  const logEvents = input['logEvents'] as ReadonlyArray<{ timestamp: number; message: string }>;
  const sequenceToken = input['sequenceToken'];
  const head = `{"logGroupName":${JSON.stringify(input['logGroupName'])},"logStreamName":${JSON.stringify(input['logStreamName'])},"logEvents":`;
  // A first guess (exact for ASCII messages needing no escapes, plus room for the timestamps); grown when short.
  let estimate = head.length * 3 + 64 + (typeof sequenceToken === 'string' ? sequenceToken.length * 3 + 32 : 0);
  for (let i = 0; i < logEvents.length; i++) estimate += (logEvents[i] as { message: string }).message.length + 48;
  // A new buffer gets an eighth more, rounded up to 64 KiB, so that it can take the next bodies too (they vary in size).
  let bytes = into !== undefined && into.length >= estimate ? into : Buffer.allocUnsafeSlow(Math.ceil((estimate * 1.125) / 65_536) * 65_536);
  let at = 0;
  // Writes `text` (JSON: its non-ASCII characters take up to 3 bytes per UTF-16 unit), growing the buffer when it might not fit.
  const put = (text: string): void => {
    if (at + text.length * 3 > bytes.length) {
      const need = at + Buffer.byteLength(text, 'utf8');
      if (need > bytes.length) {
        const larger = Buffer.allocUnsafeSlow(Math.max(bytes.length * 2, need));
        bytes.copy(larger, 0, 0, at);
        bytes = larger;
      }
    }
    at += bytes.write(text, at, 'utf8');
  };
  put(head);
  const count = logEvents.length;
  if (count === 0) put('[');
  let from = 0;
  let chars = 0;
  for (let i = 0; i < count; i++) {
    chars += (logEvents[i] as { message: string }).message.length;
    if (chars < CHUNK_CHARS && i < count - 1) continue;
    // `[{"timestamp":..,"message":".."},...]`: what JSON.stringify writes for these events inside the whole body.
    const start = at;
    put(JSON.stringify(from === 0 && i === count - 1 ? logEvents : logEvents.slice(from, i + 1)));
    // Runs join into one array: the first run's `[` opens it, a later run's `[` becomes the comma
    // between runs; every run's `]` is overwritten (the last one by the tail's).
    if (from > 0) bytes[start] = 0x2c;
    at--;
    from = i + 1;
    chars = 0;
  }
  put(typeof sequenceToken === 'string' ? `],"sequenceToken":${JSON.stringify(sequenceToken)}}` : ']}');
  return { body: bytes.subarray(0, at), backing: bytes };
}

function isPutLogEvents(context: { commandName?: unknown }): boolean {
  return context.commandName === 'PutLogEventsCommand';
}

/**
 * An SDK plugin (`client.middlewareStack.use(...)` or `command.middlewareStack.use(...)`) that
 * writes PutLogEvents bodies with `JSON.stringify` instead of the SDK's serializer. Other
 * commands are untouched. See the module comment for what it keeps and why.
 */
export function fastPutLogEventsBody(): { applyToStack(stack: Stack): void } {
  // Body buffers to write the next requests into. A client sends a few requests at once (cwbatch:
  // maxConcurrentFlushes, 4 by default), each body ~1 MB; reusing their memory keeps a burst from
  // leaving one garbage buffer per request until the next GC (issue 6: peak RSS).
  const free: Buffer[] = [];
  // Kept only while bodies are being written: once a whole POOL_IDLE_MS passes without one, the
  // buffers go (a burst must not pin ~5 MB for the life of the client). The timer is unref'd.
  let trim: ReturnType<typeof setTimeout> | undefined;
  let wrote = false;
  const keep = (backing: Buffer): void => {
    if (free.length >= POOL_SIZE || backing.length > POOL_MAX_BYTES) return;
    free.push(backing);
    if (trim !== undefined) return;
    const check = (): void => {
      if (wrote) {
        wrote = false;
        trim = setTimeout(check, POOL_IDLE_MS);
        trim.unref();
      } else {
        trim = undefined;
        free.length = 0;
      }
    };
    wrote = false;
    trim = setTimeout(check, POOL_IDLE_MS);
    trim.unref();
  };
  return {
    applyToStack(stack: Stack): void {
      // By step and priority, not relative to the serializer by name: a relative middleware whose
      // target is missing makes the SDK throw on every send, so a renamed serializer in a later
      // SDK would stop all delivery. 'serialize' + high runs before the serializer (normal);
      // 'build' + high runs after every serialize middleware and before Content-Length (normal).
      const add = stack.add.bind(stack) as (middleware: unknown, options: unknown) => void;
      add(
        (next: (args: Args) => Promise<unknown>, context: { commandName?: unknown }) => (args: Args) => {
          if (!isPutLogEvents(context)) return next(args);
          const spare = free.pop();
          wrote = true;
          const written = writePutLogEventsBodyBytes(args.input as Record<string, unknown>, spare);
          if (written === undefined) {
            if (spare !== undefined) free.push(spare);
            return next(args);
          }
          if (spare !== undefined && written.backing !== spare) free.push(spare);
          // The SDK serializer still builds the request (method, path, headers, endpoint): give it
          // nothing to copy. The prepared body travels on a symbol, which serializers ignore.
          return next({ ...args, input: { ...args.input, logEvents: [], [PREPARED]: written.body } }).then((output) => {
            // The request succeeded, retries included: the service read the whole body and the SDK
            // is done with it, so its memory may take the next body. After a failure it is left to
            // the GC (an aborted request might still be writing it).
            keep(written.backing);
            return output;
          });
        },
        { name: FAST_BODY_MIDDLEWARE_NAMES.prepare, step: 'serialize', priority: 'high', override: true },
      );
      add(
        (next: (args: Args) => Promise<unknown>) => (args: Args) => {
          const body = args.input[PREPARED];
          const request = args.request as { body?: unknown; headers?: Record<string, string> } | undefined;
          if (Buffer.isBuffer(body) && request !== undefined && request !== null && typeof request === 'object') {
            // Bytes, not a string: the SDK then hashes (SigV4), measures and sends these same
            // bytes, where a string body was converted at each step (bench, 1M events: 2.61 ->
            // 2.36 CPU s per 1M events, peak RSS 415 -> 385 MiB).
            request.body = body;
            // Content-Length is set later (build step) from this body; drop any value computed for the placeholder.
            if (request.headers !== undefined) {
              for (const name of Object.keys(request.headers)) if (name.toLowerCase() === 'content-length') delete request.headers[name];
            }
          }
          return next(args);
        },
        { name: FAST_BODY_MIDDLEWARE_NAMES.apply, step: 'build', priority: 'high', override: true },
      );
    },
  };
}
