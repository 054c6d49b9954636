/**
 * One clear line for the failures a user of the CLI meets (issue 4): missing group or stream,
 * missing or refused credentials, an unreachable endpoint, no Region. Never a stack trace.
 */
import { awsErrorCode } from '../aws/errors.js';

const CREDENTIAL_CODES = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'SignatureDoesNotMatch',
  'InvalidClientTokenId',
  'ExpiredTokenException',
  'ExpiredToken',
  'MissingAuthenticationTokenException',
  'MissingAuthenticationToken',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'TimeoutError',
  'RequestTimeout',
]);

export { endpointLabel } from './endpoint.js';

/** The network error code of `error` (possibly nested in `cause` or an AggregateError). */
function networkCode(error: unknown, depth = 0): string | undefined {
  if (error === null || typeof error !== 'object' || depth > 4) return undefined;
  const e = error as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return e.code;
  if (typeof e.name === 'string' && NETWORK_CODES.has(e.name)) return e.name;
  if (Array.isArray(e.errors)) {
    for (const inner of e.errors) {
      const code = networkCode(inner, depth + 1);
      if (code !== undefined) return code;
    }
  }
  return networkCode(e.cause, depth + 1);
}

function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message.split('\n')[0] ?? message : String(error);
}

/**
 * The SDK client's timeouts (set by `buildClient`) as one line naming the flag that sets them;
 * `undefined` for any other error.
 */
function timeoutText(error: unknown, where: string): string | undefined {
  const e = error as { name?: unknown; message?: unknown } | null;
  if (e?.name !== 'TimeoutError' || typeof e.message !== 'string') return undefined;
  const ms = /(\d+) ?ms/.exec(e.message)?.[1];
  const after = ms === undefined ? '' : ` within ${Number(ms) / 1000} s`;
  if (/establish a connection/.test(e.message)) return `cannot connect to CloudWatch Logs at ${where}${after} (--connect-timeout)`;
  return `no answer from CloudWatch Logs at ${where}${after} (--request-timeout)`;
}

/** Unwraps the buffer's FlushFailedError (and similar) to the service's error. */
export function rootError(error: unknown): unknown {
  let current = error;
  for (let i = 0; i < 5; i++) {
    const e = current as { name?: unknown; cause?: unknown } | null;
    if (e === null || typeof e !== 'object') return current;
    if ((e.name === 'FlushFailedError' || e.name === 'AggregateError') && e.cause !== undefined) current = e.cause;
    else if (e.name === 'AggregateError' && Array.isArray((e as { errors?: unknown }).errors)) {
      current = ((e as { errors: unknown[] }).errors)[0];
    } else return current;
  }
  return current;
}

/**
 * One line describing `error` for a person: what went wrong and what to do, e.g.
 * "cannot reach CloudWatch Logs at http://127.0.0.1:9 (ECONNREFUSED)".
 */
export function describeError(error: unknown, where: string): string {
  const root = rootError(error);
  const name = (root as { name?: unknown } | null)?.name;
  const code = awsErrorCode(root);
  const timeout = timeoutText(root, where);
  if (timeout !== undefined) return timeout;
  const net = networkCode(root);
  if (net !== undefined) return `cannot reach CloudWatch Logs at ${where} (${net})`;
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(messageOf(root))) {
    return 'no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (any values, e.g. test/test, work for the embedded endpoint)';
  }
  if (/Region is missing/i.test(messageOf(root))) return 'no AWS Region: pass --region or set AWS_REGION';
  if (code !== undefined && CREDENTIAL_CODES.has(code)) {
    return `CloudWatch Logs at ${where} refused the credentials (${code}: ${messageOf(root)})`;
  }
  if (code === 'AccessDeniedException') {
    return `access denied (${messageOf(root)}); cwbatch needs logs:PutLogEvents, and logs:CreateLogGroup + logs:CreateLogStream unless --no-create`;
  }
  if (code !== undefined && code !== 'Error') return `${code}: ${messageOf(root)}`;
  return messageOf(root);
}
