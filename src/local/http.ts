/**
 * The HTTP side of the embedded endpoint, one step of a request each: reading a body under both
 * bounds (the per-request limit and the in-flight budget), the SigV4 presence check, routing by
 * `X-Amz-Target`, parsing the JSON input, and writing a reply as AWS's JSON 1.1 services do.
 * server.ts calls them in order; none of them knows the store or the operations' rules.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { OPERATIONS, type ServiceError } from './operations.js';

const TARGET_PREFIX = 'Logs_20140328.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
/** Refuse bodies past this size instead of buffering without end (far above any valid request). */
const MAX_BODY_BYTES = 64 * 1024 * 1024;
/** Default of `LocalEndpointOptions.maxInFlightBytes`, bytes (64 MiB). */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024;

/** What to answer: a status and a JSON payload (an error payload carries `__type`). */
export interface Reply {
  status: number;
  payload: unknown;
  /** Close the connection after answering (the request's body was not read). */
  close?: boolean;
  /** Content type of the answer; default AWS JSON 1.1. */
  contentType?: string;
}

/** An error reply: `__type` and `message`, as AWS answers them. */
export function errorReply(status: number, type: string, message: string): Reply {
  return { status, payload: { __type: type, message } };
}

/** The reply of an operation's {@link ServiceError}. */
export function replyOf(error: ServiceError): Reply {
  return errorReply(error.status, error.type, error.message);
}

/** Bytes of request bodies held, against a global bound. */
export class InFlightBudget {
  readonly #max: number;
  /** Bytes held now. */
  bytes = 0;
  /** The most bytes held at once (since the last `resetCounters()`). */
  peakBytes = 0;
  /** Requests answered 503 because their body would have gone past the bound. */
  refused = 0;
  /** Requests answered 413: a body over the per-request limit. */
  tooLarge = 0;

  /** @param max - The bound on bytes held at once, over all requests. */
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

  /** Gives back `n` bytes taken earlier (the request was answered). */
  release(n: number): void {
    this.bytes -= n;
  }

  /** Forgets the counters (the bytes held now stay held). */
  resetCounters(): void {
    this.peakBytes = this.bytes;
    this.refused = 0;
    this.tooLarge = 0;
  }
}

/** The outcome of reading a body: the bytes, or why they were not kept. */
export type BodyRead = { kind: 'ok'; body: Buffer | undefined } | { kind: 'too-large' } | { kind: 'over-budget' };

/**
 * Reads the whole body under both bounds: the per-request {@link MAX_BODY_BYTES} and the
 * global budget. A declared `content-length` is checked (and reserved) before a byte is read,
 * and read into one buffer of that size; a chunked body is reserved chunk by chunk. Bytes
 * reserved are added to `held.bytes`, for the caller to release once the request is answered.
 */
export function readBody(req: IncomingMessage, budget: InFlightBudget, held: { bytes: number }): Promise<BodyRead> {
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
export function authProblem(req: IncomingMessage): Reply | undefined {
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
export function route(req: IncomingMessage): { operationName: string } | Reply {
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
export function parseInput(read: { body: Buffer | undefined }): Record<string, unknown> | Reply {
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

/** Whether a step's result is a reply (the request ends there) rather than its value. */
export function isReply(v: unknown): v is Reply {
  return typeof v === 'object' && v !== null && 'status' in v && 'payload' in v;
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

/** Writes `reply`, or destroys the response when that is no longer possible (headers sent, socket gone). */
export function safeSend(res: ServerResponse, reply: Reply): void {
  try {
    if (res.headersSent) res.destroy();
    else send(res, reply);
  } catch {
    res.destroy();
  }
}

/** The message of an error, or the thrown value as text. */
export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
