/**
 * Duck-typed checks of AWS errors. Never `instanceof`: a user's client may come from another copy
 * of the SDK, and the core classifies errors the same way (src/batch/retry.ts).
 */

/** The AWS error code of `error` (`name`, else `code`, else `__type`), without namespace or suffix. */
export function awsErrorCode(error: unknown): string | undefined {
  if (error === null || typeof error !== 'object') return undefined;
  const e = error as { name?: unknown; code?: unknown; __type?: unknown };
  const raw = typeof e.name === 'string' && e.name !== 'Error' ? e.name : typeof e.code === 'string' ? e.code : e.__type;
  if (typeof raw !== 'string') return undefined;
  // AWS's `__type` may read "namespace#Code:extra" (rules document, "Wire protocol").
  const hash = raw.lastIndexOf('#');
  const code = hash === -1 ? raw : raw.slice(hash + 1);
  const colon = code.indexOf(':');
  return colon === -1 ? code : code.slice(0, colon);
}

/** The group or stream named in the request does not exist. */
export function isResourceNotFound(error: unknown): boolean {
  return awsErrorCode(error) === 'ResourceNotFoundException';
}

/** A Create* call found the resource already there: success for create-if-missing. */
export function isResourceAlreadyExists(error: unknown): boolean {
  return awsErrorCode(error) === 'ResourceAlreadyExistsException';
}
