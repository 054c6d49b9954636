/**
 * The CloudWatch Logs operations the embedded endpoint speaks, as functions from a parsed JSON
 * request to a JSON response (or a thrown {@link ServiceError}), and {@link OPERATIONS}, the one
 * table the server looks them up in. Groups, streams and PutLogEvents are here; reading back is
 * in `read.ts`, tags in `tags.ts`, metric and subscription filters in `metric-filters.ts`. Every
 * PutLogEvents rule comes from `src/batch/rules.ts`, the module the buffer's planner uses too,
 * so the two agree. Request members are read with `validate.ts` (wrong JSON type: 400
 * SerializationException; broken constraint: 400 InvalidParameterException; never a 500).
 */
import { calculateEventSize } from '../batch/event-size.js';
import {
  findBatchViolation,
  nullMessage,
  RETENTION_DAYS,
  rejectedInfoOf,
  reservedLogGroupNameMessage,
  spanViolation,
  splitByTimeWindow,
  validationMessage,
} from '../batch/rules.js';
import type { InputLogEvent } from '../batch/types.js';
import { checkName, groupArn, groupFromRequest, streamFromRequest } from './lookup.js';
import type { Handler, OperationContext, PutStats } from './lookup.js';
import { countMetricFilters, deleteMetricFilter, describeMetricFilters, describeSubscriptionFilters, putMetricFilter } from './metric-filters.js';
import { filterLogEvents, getLogEvents } from './read.js';
import type { LocalLogGroup, LocalLogStream } from './store.js';
import { listTagsForResource, listTagsLogGroup, readTags, tagLogGroup, tagResource, untagLogGroup, untagResource } from './tags.js';
import {
  invalidParameter,
  mutuallyExclusive,
  pageByName,
  readBoolean,
  readInteger,
  readString,
  readStringList,
  ServiceError,
} from './validate.js';
import type { Body, StringRule } from './validate.js';

export { ServiceError };
export type { Handler, OperationContext, PutStats };

/** Log classes (service model enum); a group's class is set at creation and never changes. */
export const LOG_GROUP_CLASSES = ['STANDARD', 'INFREQUENT_ACCESS', 'DELIVERY'] as const;

const GROUP_NAME_RULE: StringRule = { min: 1, max: 512, pattern: [/^[.\-_/#A-Za-z0-9]+$/, '[\\.\\-_/#A-Za-z0-9]+'] };
const GROUP_PATTERN_RULE: StringRule = { min: 0, max: 512, pattern: [/^[.\-_/#A-Za-z0-9]*$/, '[\\.\\-_/#A-Za-z0-9]*'] };
const STREAM_NAME_RULE: StringRule = { min: 1, max: 512, pattern: [/^[^:*]*$/, '[^:*]*'] };
const KMS_KEY_ARN = /^arn:[\w-]+:kms:[\w-]+:\d{12}:key\/[\w-]+$/;

function sequenceToken(stream: LocalLogStream): string {
  // Legacy: AWS ignores tokens since January 2023 but still returns one; digits like AWS's.
  return String(stream.sequence).padStart(56, '4');
}

// ---------------------------------------------------------------------------------------------
// Groups and streams

function createLogGroup(ctx: OperationContext, body: Body): unknown {
  const name = checkName('group', body.logGroupName, 'logGroupName');
  const kmsKeyId = readString(body, 'kmsKeyId', { max: 256 });
  const logGroupClass = readString(body, 'logGroupClass', { enum: LOG_GROUP_CLASSES }) ?? 'STANDARD';
  const tags = readTags(body, false);
  readBoolean(body, 'deletionProtectionEnabled');
  const reserved = reservedLogGroupNameMessage(name);
  if (reserved !== undefined) throw invalidParameter(reserved);
  if (kmsKeyId !== undefined && !KMS_KEY_ARN.test(kmsKeyId)) {
    // CreateLogGroup reference: "specify the key ARN" (aliases and bare key ids are refused).
    throw invalidParameter(`Specified KMS key ${kmsKeyId} is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/KEY-ID).`);
  }
  if (ctx.store.groups.has(name)) {
    throw new ServiceError(400, 'ResourceAlreadyExistsException', 'The specified log group already exists');
  }
  const group: LocalLogGroup = {
    name,
    creationTime: ctx.now(),
    retentionInDays: undefined,
    logGroupClass,
    kmsKeyId,
    tags: tags ?? new Map(),
    streams: new Map(),
    metricFilters: new Map(),
  };
  ctx.store.groups.set(name, group);
  return {};
}

function createLogStream(ctx: OperationContext, body: Body): unknown {
  const group = groupFromRequest(ctx, body, false);
  const name = checkName('stream', body.logStreamName, 'logStreamName');
  if (group.streams.has(name)) {
    throw new ServiceError(400, 'ResourceAlreadyExistsException', 'The specified log stream already exists');
  }
  group.streams.set(name, ctx.store.newStream(name, ctx.now()));
  return {};
}

function deleteLogGroup(ctx: OperationContext, body: Body): unknown {
  const group = groupFromRequest(ctx, body, false);
  ctx.store.groups.delete(group.name);
  return {};
}

function deleteLogStream(ctx: OperationContext, body: Body): unknown {
  const group = groupFromRequest(ctx, body, false);
  const stream = streamFromRequest(group, body);
  group.streams.delete(stream.name);
  return {};
}

function putRetentionPolicy(ctx: OperationContext, body: Body): unknown {
  const group = groupFromRequest(ctx, body, true);
  const days = body.retentionInDays;
  if (days == null) throw invalidParameter(nullMessage('retentionInDays'));
  if (typeof days !== 'number' || !RETENTION_DAYS.includes(days)) {
    throw invalidParameter(
      validationMessage(String(days), 'retentionInDays', `Member must satisfy enum value set: [${RETENTION_DAYS.join(', ')}]`),
    );
  }
  group.retentionInDays = days;
  return {};
}

function deleteRetentionPolicy(ctx: OperationContext, body: Body): unknown {
  const group = groupFromRequest(ctx, body, true);
  group.retentionInDays = undefined;
  return {};
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * DescribeLogGroups: by name (ASCII order), filtered by `logGroupNamePrefix`, or by
 * `logGroupNamePattern` (a case-sensitive substring; the answer then has only `arn`,
 * `creationTime` and `logGroupName`, as the reference says), or by `logGroupIdentifiers`;
 * optionally by `logGroupClass`. The token is the last name listed.
 */
function describeLogGroups(ctx: OperationContext, body: Body): unknown {
  mutuallyExclusive(body, 'logGroupNamePrefix', 'logGroupNamePattern');
  mutuallyExclusive(body, 'logGroupIdentifiers', 'logGroupNamePrefix');
  mutuallyExclusive(body, 'logGroupIdentifiers', 'logGroupNamePattern');
  const prefix = readString(body, 'logGroupNamePrefix', GROUP_NAME_RULE);
  const pattern = readString(body, 'logGroupNamePattern', GROUP_PATTERN_RULE);
  const identifiers = readStringList(body, 'logGroupIdentifiers', { min: 1, max: 50 }, { min: 1, max: 2048, pattern: [/^[\w#+=/:,.@-]*$/, '[\\w#+=/:,.@-]*'] });
  const logGroupClass = readString(body, 'logGroupClass', { enum: LOG_GROUP_CLASSES });
  const limit = readInteger(body, 'limit', 1, 50) ?? 50;
  readBoolean(body, 'includeLinkedAccounts');
  readStringList(body, 'accountIdentifiers', { min: 0, max: 20 }, { min: 12, max: 12, pattern: [/^\d{12}$/, '^\\d{12}$'] });
  const wanted = identifiers === undefined ? undefined : new Set(identifiers.map((id) => id.replace(/^arn:.*:log-group:/, '').replace(/:\*$/, '')));
  const names = [...ctx.store.groups.keys()]
    .filter((n) => (prefix === undefined || n.startsWith(prefix)) && (pattern === undefined || n.includes(pattern)))
    .filter((n) => wanted === undefined || wanted.has(n))
    .filter((n) => logGroupClass === undefined || ctx.store.groups.get(n)?.logGroupClass === logGroupClass)
    .sort(byName);
  const { items, nextToken } = pageByName(names, (n) => n, body, limit);
  const logGroups = items.map((name) => {
    const g = ctx.store.groups.get(name) as LocalLogGroup;
    const arn = groupArn(ctx, name);
    if (pattern !== undefined) return { logGroupName: name, creationTime: g.creationTime, arn: `${arn}:*` };
    let storedBytes = 0;
    for (const s of g.streams.values()) storedBytes += s.storedBytes;
    return {
      logGroupName: name,
      creationTime: g.creationTime,
      ...(g.retentionInDays === undefined ? {} : { retentionInDays: g.retentionInDays }),
      metricFilterCount: g.metricFilters.size,
      arn: `${arn}:*`,
      storedBytes,
      ...(g.kmsKeyId === undefined ? {} : { kmsKeyId: g.kmsKeyId }),
      logGroupClass: g.logGroupClass,
      logGroupArn: arn,
    };
  });
  return nextToken === undefined ? { logGroups } : { logGroups, nextToken };
}

/** Sort key of a stream when ordered by LastEventTime: the time (zero-padded), then the name. */
function lastEventKey(s: LocalLogStream): string {
  return `${String(s.lastEventTimestamp ?? 0).padStart(17, '0')}\u0000${s.name}`;
}

/**
 * DescribeLogStreams: by name or by last event time, ascending or descending; the token is the
 * sort key of the last stream listed.
 */
function describeLogStreams(ctx: OperationContext, body: Body): unknown {
  const group = groupFromRequest(ctx, body, true);
  const orderBy = readString(body, 'orderBy', { enum: ['LogStreamName', 'LastEventTime'] }) ?? 'LogStreamName';
  const prefix = readString(body, 'logStreamNamePrefix', STREAM_NAME_RULE);
  const descending = readBoolean(body, 'descending') ?? false;
  const limit = readInteger(body, 'limit', 1, 50) ?? 50;
  if (prefix !== undefined && orderBy === 'LastEventTime') {
    throw invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.');
  }
  const keyOf = orderBy === 'LogStreamName' ? (s: LocalLogStream) => s.name : lastEventKey;
  const streams = [...group.streams.values()]
    .filter((s) => prefix === undefined || s.name.startsWith(prefix))
    .sort((a, b) => byName(keyOf(a), keyOf(b)) * (descending ? -1 : 1));
  const { items, nextToken } = pageByName(streams, keyOf, body, limit, descending);
  const logStreams = items.map((s) => ({
    logStreamName: s.name,
    creationTime: s.creationTime,
    ...(s.firstEventTimestamp === undefined ? {} : { firstEventTimestamp: s.firstEventTimestamp }),
    ...(s.lastEventTimestamp === undefined ? {} : { lastEventTimestamp: s.lastEventTimestamp }),
    ...(s.lastIngestionTime === undefined ? {} : { lastIngestionTime: s.lastIngestionTime }),
    uploadSequenceToken: sequenceToken(s),
    arn: `${groupArn(ctx, group.name)}:log-stream:${s.name}`,
    storedBytes: 0,
  }));
  return nextToken === undefined ? { logStreams } : { logStreams, nextToken };
}

// ---------------------------------------------------------------------------------------------
// PutLogEvents

function putLogEvents(ctx: OperationContext, body: Body): unknown {
  // Request validation first, as AWS validates the model before looking anything up.
  const groupName = checkName('group', body.logGroupName, 'logGroupName');
  // The reserved aws/ namespace: the same rule the buffer applies at add() (rules.ts).
  const reserved = reservedLogGroupNameMessage(groupName);
  if (reserved !== undefined) throw invalidParameter(reserved);
  checkName('stream', body.logStreamName, 'logStreamName');
  const raw = body.logEvents;
  if (raw == null) {
    throw invalidParameter(nullMessage('logEvents'));
  }
  if (!Array.isArray(raw)) throw new ServiceError(400, 'SerializationException', "Expected a list for 'logEvents'");
  for (const item of raw as unknown[]) {
    // A list member that is not a structure cannot be deserialized at all (before any rule).
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new ServiceError(400, 'SerializationException', "Expected a structure as a member of 'logEvents'");
    }
  }
  const events = raw as InputLogEvent[];
  // The span is checked later, over the events not rejected as too old/new (rules doc).
  const violation = findBatchViolation(events, { maxEventBytes: ctx.maxEventBytes, maxSpanMs: Infinity });
  if (violation !== undefined) throw invalidParameter(violation.message);
  const group = groupFromRequest(ctx, body, false);
  const stream = streamFromRequest(group, body);

  const now = ctx.now();
  const split = splitByTimeWindow(events, now, group.retentionInDays);
  const accepted = events.slice(split.acceptedStart, split.tooNewStart);
  const span = spanViolation(accepted);
  if (span !== undefined) throw invalidParameter(span.message);

  const sizes = new Array<number>(events.length);
  for (let i = split.acceptedStart; i < split.tooNewStart; i++) {
    sizes[i] = calculateEventSize((events[i] as InputLogEvent).message);
  }
  ctx.store.append(stream, events, split.acceptedStart, split.tooNewStart, sizes, now);
  ctx.stats.eventsStored += split.tooNewStart - split.acceptedStart;
  ctx.stats.tooOld += split.tooOldEnd;
  ctx.stats.expired += split.expiredEnd > 0 ? split.expiredEnd - split.tooOldEnd : 0;
  ctx.stats.tooNew += events.length - split.tooNewStart;
  if (group.metricFilters.size > 0) countMetricFilters(group, events, split.acceptedStart, split.tooNewStart);
  if (ctx.onStored !== undefined && split.tooNewStart > split.acceptedStart) {
    ctx.onStored(group.name, stream.name, events, split.acceptedStart, split.tooNewStart);
  }

  const rejected = rejectedInfoOf(split, events.length);
  const result: Record<string, unknown> = { nextSequenceToken: sequenceToken(stream) };
  if (rejected !== undefined) result.rejectedLogEventsInfo = rejected;
  return result;
}

/**
 * Every operation the endpoint answers, by its `X-Amz-Target` suffix. Mutable on purpose:
 * benchmarks wrap entries (e.g. PutLogEvents, to count events); the server looks an operation up
 * per request. Anything else is answered UnknownOperationException, with this list.
 */
export const OPERATIONS: Map<string, Handler> = new Map<string, Handler>([
  ['CreateLogGroup', createLogGroup],
  ['CreateLogStream', createLogStream],
  ['DeleteLogGroup', deleteLogGroup],
  ['DeleteLogStream', deleteLogStream],
  ['DescribeLogGroups', describeLogGroups],
  ['DescribeLogStreams', describeLogStreams],
  ['PutRetentionPolicy', putRetentionPolicy],
  ['DeleteRetentionPolicy', deleteRetentionPolicy],
  ['PutLogEvents', putLogEvents],
  ['GetLogEvents', getLogEvents],
  ['FilterLogEvents', filterLogEvents],
  ['TagResource', tagResource],
  ['UntagResource', untagResource],
  ['ListTagsForResource', listTagsForResource],
  ['TagLogGroup', tagLogGroup],
  ['UntagLogGroup', untagLogGroup],
  ['ListTagsLogGroup', listTagsLogGroup],
  ['PutMetricFilter', putMetricFilter],
  ['DescribeMetricFilters', describeMetricFilters],
  ['DeleteMetricFilter', deleteMetricFilter],
  ['DescribeSubscriptionFilters', describeSubscriptionFilters],
]);
