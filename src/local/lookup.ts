/**
 * What every operation of the embedded endpoint shares: its context, and finding the log group
 * or stream a request names (with the service model's checks on the names).
 */
import { nameValidationMessage } from '../batch/rules.js';
import type { InputLogEvent } from '../batch/types.js';
import type { LocalLogGroup, LocalLogStream, LocalStore } from './store.js';
import { invalidParameter, notFound, readString, ServiceError, wrongType } from './validate.js';
import type { Body } from './validate.js';

/** What the operations need from the endpoint. */
export interface OperationContext {
  store: LocalStore;
  now: () => number;
  maxEventBytes: number;
  region: string;
  accountId: string;
  /** Counters of PutLogEvents outcomes. */
  stats: PutStats;
  /** Observer of stored events (see `LocalEndpointOptions.onStored`). */
  onStored?: ((group: string, stream: string, events: readonly InputLogEvent[], start: number, end: number) => void) | undefined;
}

/** Counters of what PutLogEvents stored and rejected. */
export interface PutStats {
  eventsStored: number;
  tooOld: number;
  tooNew: number;
  expired: number;
}

/**
 * One operation: a parsed JSON request to a JSON response, or a thrown `ServiceError`. Long
 * operations (FilterLogEvents) answer a promise so that they can yield to other requests.
 */
export type Handler = (ctx: OperationContext, body: Body) => unknown;

/** AWS's message for a log group that does not exist (ResourceNotFoundException). */
export const GROUP_MISSING = 'The specified log group does not exist.';
/** AWS's message for a log stream that does not exist (ResourceNotFoundException). */
export const STREAM_MISSING = 'The specified log stream does not exist.';

/** Service model of `logGroupIdentifier`: a name or an ARN. */
const IDENTIFIER_PATTERN: readonly [RegExp, string] = [/^[\w#+=/:,.@-]*$/, '[\\w#+=/:,.@-]*'];

/** A log group or stream name member, checked as the service model says. */
export function checkName(kind: 'group' | 'stream', value: unknown, path: string): string {
  if (value != null && typeof value !== 'string') throw wrongType(path, 'a string');
  const problem = nameValidationMessage(kind, value, path);
  if (problem !== undefined) throw invalidParameter(problem);
  return value as string;
}

/** The log group name in an ARN (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME[:*]`), or the identifier itself. */
export function groupNameOfIdentifier(id: string): string {
  const marker = ':log-group:';
  const at = id.indexOf(marker);
  return at >= 0 ? id.slice(at + marker.length).replace(/:\*$/, '') : id;
}

/**
 * The group a request names. With `allowIdentifier`, `logGroupName` or `logGroupIdentifier`
 * (a name or an ARN): exactly one of them, as the API reference requires.
 */
export function groupFromRequest(ctx: OperationContext, body: Body, allowIdentifier: boolean): LocalLogGroup {
  let name: string;
  if (allowIdentifier) {
    const hasName = body.logGroupName != null;
    const hasId = body.logGroupIdentifier != null;
    if (hasName && hasId) {
      throw invalidParameter('LogGroup name and LogGroup ARN are mutually exclusive parameters.');
    }
    if (!hasName && !hasId) {
      throw invalidParameter('Either logGroupName or logGroupIdentifier must be specified.');
    }
    if (hasId) {
      const id = readString(body, 'logGroupIdentifier', { min: 1, max: 2048, pattern: IDENTIFIER_PATTERN }) as string;
      name = groupNameOfIdentifier(id);
    } else {
      name = checkName('group', body.logGroupName, 'logGroupName');
    }
  } else {
    name = checkName('group', body.logGroupName, 'logGroupName');
  }
  const group = ctx.store.groups.get(name);
  if (group === undefined) throw notFound(GROUP_MISSING);
  return group;
}

/** The stream `logStreamName` names in `group`. */
export function streamFromRequest(group: LocalLogGroup, body: Body): LocalLogStream {
  const name = checkName('stream', body.logStreamName, 'logStreamName');
  const stream = group.streams.get(name);
  if (stream === undefined) throw notFound(STREAM_MISSING);
  return stream;
}

/** A log group's ARN (without the trailing `:*`). */
export function groupArn(ctx: OperationContext, name: string): string {
  return `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${name}`;
}

export { ServiceError };
