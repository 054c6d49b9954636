/**
 * The CloudWatch Logs operations the embedded endpoint speaks, as functions from a parsed JSON
 * request to a JSON response (or a thrown {@link ServiceError}). Every PutLogEvents rule comes
 * from `src/batch/rules.ts`, the module the buffer's planner uses too, so the two agree.
 */
import { calculateEventSize } from '../batch/event-size.js';
import {
  findBatchViolation,
  nameValidationMessage,
  nullMessage,
  RETENTION_DAYS,
  rejectedInfoOf,
  reservedLogGroupNameMessage,
  spanViolation,
  splitByTimeWindow,
  validationMessage,
} from '../batch/rules.js';
import type { InputLogEvent } from '../batch/types.js';
import { LocalStore, lowerBound, newStream } from './store.js';
import type { LocalLogGroup, LocalLogStream, StoredLogEvent } from './store.js';

/** An error answered the AWS JSON 1.1 way: HTTP status plus `{"__type", "message"}`. */
export class ServiceError extends Error {
  readonly status: number;
  readonly type: string;

  constructor(status: number, type: string, message: string) {
    super(message);
    this.status = status;
    this.type = type;
  }

  override get name(): string {
    return 'ServiceError';
  }
}

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

type Body = Record<string, unknown>;
type Handler = (ctx: OperationContext, body: Body) => unknown;

/** Most bytes of events in one GetLogEvents / FilterLogEvents answer (API reference: 1 MB). */
const MAX_READ_BYTES = 1_048_576;

const GROUP_MISSING = 'The specified log group does not exist.';
const STREAM_MISSING = 'The specified log stream does not exist.';

function invalidParameter(message: string): ServiceError {
  return new ServiceError(400, 'InvalidParameterException', message);
}

function checkName(kind: 'group' | 'stream', value: unknown, path: string): string {
  const problem = nameValidationMessage(kind, value, path);
  if (problem !== undefined) throw invalidParameter(problem);
  return value as string;
}

/** The group named by `logGroupName` or `logGroupIdentifier` (read calls accept either; an ARN's name part is used). */
function groupFromRequest(ctx: OperationContext, body: Body, allowIdentifier: boolean): LocalLogGroup {
  let name: unknown = body.logGroupName;
  if (name == null && allowIdentifier && typeof body.logGroupIdentifier === 'string') {
    const id = body.logGroupIdentifier;
    const marker = ':log-group:';
    const at = id.indexOf(marker);
    name = at >= 0 ? id.slice(at + marker.length).replace(/:\*$/, '') : id;
  }
  checkName('group', name, 'logGroupName');
  const group = ctx.store.groups.get(name as string);
  if (group === undefined) throw new ServiceError(400, 'ResourceNotFoundException', GROUP_MISSING);
  return group;
}

function streamFromRequest(group: LocalLogGroup, body: Body): LocalLogStream {
  const name = checkName('stream', body.logStreamName, 'logStreamName');
  const stream = group.streams.get(name);
  if (stream === undefined) throw new ServiceError(400, 'ResourceNotFoundException', STREAM_MISSING);
  return stream;
}

function optionalInteger(body: Body, key: string, min: number, max: number): number | undefined {
  const v = body[key];
  if (v == null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new ServiceError(400, 'SerializationException', `Expected an integer for '${key}'`);
  }
  if (v < min) throw invalidParameter(validationMessage(String(v), key, `Member must have value greater than or equal to ${min}`));
  if (v > max) throw invalidParameter(validationMessage(String(v), key, `Member must have value less than or equal to ${max}`));
  return v;
}

function groupArn(ctx: OperationContext, name: string): string {
  return `arn:aws:logs:${ctx.region}:${ctx.accountId}:log-group:${name}`;
}

function sequenceToken(stream: LocalLogStream): string {
  // Legacy: AWS ignores tokens since January 2023 but still returns one; digits like AWS's.
  return String(stream.sequence).padStart(56, '4');
}

/** Opaque paging token: base64url of a small JSON object. */
function encodeToken(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function decodeToken<T>(token: unknown, check: (v: unknown) => v is T): T {
  if (typeof token !== 'string') throw invalidParameter('The specified nextToken is invalid.');
  try {
    const v: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (check(v)) return v;
  } catch {
    // fall through: AWS answers an unknown token as an invalid parameter.
  }
  throw invalidParameter('The specified nextToken is invalid.');
}

function isOffsetToken(v: unknown): v is { o: number } {
  return typeof v === 'object' && v !== null && Number.isInteger((v as { o?: unknown }).o) && (v as { o: number }).o >= 0;
}

// ---------------------------------------------------------------------------------------------
// Groups and streams

function createLogGroup(ctx: OperationContext, body: Body): unknown {
  const name = checkName('group', body.logGroupName, 'logGroupName');
  const reserved = reservedLogGroupNameMessage(name);
  if (reserved !== undefined) throw invalidParameter(reserved);
  if (ctx.store.groups.has(name)) {
    throw new ServiceError(400, 'ResourceAlreadyExistsException', 'The specified log group already exists');
  }
  ctx.store.groups.set(name, { name, creationTime: ctx.now(), retentionInDays: undefined, streams: new Map() });
  return {};
}

function createLogStream(ctx: OperationContext, body: Body): unknown {
  const group = groupFromRequest(ctx, body, false);
  const name = checkName('stream', body.logStreamName, 'logStreamName');
  if (group.streams.has(name)) {
    throw new ServiceError(400, 'ResourceAlreadyExistsException', 'The specified log stream already exists');
  }
  group.streams.set(name, newStream(name, ctx.now()));
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

function page<T>(items: T[], body: Body, defaultLimit: number): { items: T[]; nextToken?: string } {
  const limit = optionalInteger(body, 'limit', 1, defaultLimit) ?? defaultLimit;
  const start = body.nextToken == null ? 0 : decodeToken(body.nextToken, isOffsetToken).o;
  const slice = items.slice(start, start + limit);
  return start + limit < items.length ? { items: slice, nextToken: encodeToken({ o: start + limit }) } : { items: slice };
}

function describeLogGroups(ctx: OperationContext, body: Body): unknown {
  const prefix = typeof body.logGroupNamePrefix === 'string' ? body.logGroupNamePrefix : '';
  const names = [...ctx.store.groups.keys()].filter((n) => n.startsWith(prefix)).sort();
  const { items, nextToken } = page(names, body, 50);
  const logGroups = items.map((name) => {
    const g = ctx.store.groups.get(name) as LocalLogGroup;
    let storedBytes = 0;
    for (const s of g.streams.values()) storedBytes += s.storedBytes;
    const arn = groupArn(ctx, name);
    return {
      logGroupName: name,
      creationTime: g.creationTime,
      ...(g.retentionInDays === undefined ? {} : { retentionInDays: g.retentionInDays }),
      metricFilterCount: 0,
      arn: `${arn}:*`,
      logGroupArn: arn,
      storedBytes,
      logGroupClass: 'STANDARD',
    };
  });
  return nextToken === undefined ? { logGroups } : { logGroups, nextToken };
}

function describeLogStreams(ctx: OperationContext, body: Body): unknown {
  const group = groupFromRequest(ctx, body, true);
  const orderBy = body.orderBy ?? 'LogStreamName';
  if (orderBy !== 'LogStreamName' && orderBy !== 'LastEventTime') {
    throw invalidParameter(
      validationMessage(String(orderBy), 'orderBy', 'Member must satisfy enum value set: [LogStreamName, LastEventTime]'),
    );
  }
  const prefix = typeof body.logStreamNamePrefix === 'string' ? body.logStreamNamePrefix : '';
  if (prefix !== '' && orderBy === 'LastEventTime') {
    throw invalidParameter('Cannot order by LastEventTime with a logStreamNamePrefix.');
  }
  let streams = [...group.streams.values()].filter((s) => s.name.startsWith(prefix));
  streams.sort((a, b) =>
    orderBy === 'LogStreamName'
      ? a.name < b.name ? -1 : a.name > b.name ? 1 : 0
      : (a.lastEventTimestamp ?? 0) - (b.lastEventTimestamp ?? 0) || (a.name < b.name ? -1 : 1),
  );
  if (body.descending === true) streams = streams.reverse();
  const { items, nextToken } = page(streams, body, 50);
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
  if (ctx.onStored !== undefined && split.tooNewStart > split.acceptedStart) {
    ctx.onStored(group.name, stream.name, events, split.acceptedStart, split.tooNewStart);
  }

  const rejected = rejectedInfoOf(split, events.length);
  const result: Record<string, unknown> = { nextSequenceToken: sequenceToken(stream) };
  if (rejected !== undefined) result.rejectedLogEventsInfo = rejected;
  return result;
}

// ---------------------------------------------------------------------------------------------
// Reading back

function timeRange(events: readonly StoredLogEvent[], body: Body): [number, number] {
  const startTime = optionalInteger(body, 'startTime', 0, Number.MAX_SAFE_INTEGER);
  const endTime = optionalInteger(body, 'endTime', 0, Number.MAX_SAFE_INTEGER);
  // startTime inclusive, endTime exclusive (GetLogEvents / FilterLogEvents reference).
  const lo = startTime === undefined ? 0 : lowerBound(events, startTime);
  const hi = endTime === undefined ? events.length : Math.max(lo, lowerBound(events, endTime));
  return [lo, hi];
}

function outputEvent(e: StoredLogEvent): { timestamp: number; message: string; ingestionTime: number } {
  return { timestamp: e.timestamp, message: e.message, ingestionTime: e.ingestionTime };
}

const TOKEN_PATTERN = /^([fb])\/(\d+)$/;

/**
 * GetLogEvents. Tokens are `f/<index>` (read forward from index) and `b/<index>` (read backward,
 * ending before index), like AWS's `f/…` and `b/…`. At the end of the stream AWS returns the
 * token it was given, which is how readers know to stop; this does the same.
 */
function getLogEvents(ctx: OperationContext, body: Body): unknown {
  const group = groupFromRequest(ctx, body, true);
  const stream = streamFromRequest(group, body);
  const events = stream.events;
  const limit = optionalInteger(body, 'limit', 1, 10_000) ?? 10_000;
  const [lo, hi] = timeRange(events, body);
  let forward: boolean;
  let position: number;
  if (body.nextToken != null) {
    const match = typeof body.nextToken === 'string' ? TOKEN_PATTERN.exec(body.nextToken) : null;
    if (match === null) throw invalidParameter('The specified nextToken is invalid.');
    forward = match[1] === 'f';
    position = Math.min(hi, Math.max(lo, Number(match[2])));
  } else {
    forward = body.startFromHead === true;
    position = forward ? lo : hi;
  }
  let start: number;
  let end: number;
  if (forward) {
    start = position;
    end = start;
    let bytes = 0;
    while (end < hi && end - start < limit) {
      const size = calculateEventSize((events[end] as StoredLogEvent).message);
      if (end > start && bytes + size > MAX_READ_BYTES) break;
      bytes += size;
      end++;
    }
  } else {
    end = position;
    start = end;
    let bytes = 0;
    while (start > lo && end - start < limit) {
      const size = calculateEventSize((events[start - 1] as StoredLogEvent).message);
      if (start < end && bytes + size > MAX_READ_BYTES) break;
      bytes += size;
      start--;
    }
  }
  const out = new Array<ReturnType<typeof outputEvent>>(end - start);
  for (let i = start; i < end; i++) out[i - start] = outputEvent(events[i] as StoredLogEvent);
  return { events: out, nextForwardToken: `f/${end}`, nextBackwardToken: `b/${start}` };
}

/** A plain-text pattern: every whitespace-separated term must occur (AWS's term semantics); a quoted pattern must occur as is. */
function textMatcher(pattern: unknown): (message: string) => boolean {
  if (typeof pattern !== 'string' || pattern.trim() === '') return () => true;
  const trimmed = pattern.trim();
  if (trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"')) {
    const phrase = trimmed.slice(1, -1);
    return (m) => m.includes(phrase);
  }
  const terms = trimmed.split(/\s+/);
  return (m) => terms.every((t) => m.includes(t));
}

function isFilterToken(v: unknown): v is { o: number } {
  return isOffsetToken(v);
}

/** FilterLogEvents: events of the chosen streams, interleaved by timestamp, paged by an offset token. */
function filterLogEvents(ctx: OperationContext, body: Body): unknown {
  const group = groupFromRequest(ctx, body, true);
  const limit = optionalInteger(body, 'limit', 1, 10_000) ?? 10_000;
  let streams = [...group.streams.values()];
  if (Array.isArray(body.logStreamNames)) {
    if (body.logStreamNamePrefix != null) {
      throw invalidParameter('logStreamNames and logStreamNamePrefix are mutually exclusive');
    }
    const wanted = new Set(body.logStreamNames as unknown[]);
    streams = streams.filter((s) => wanted.has(s.name));
  } else if (typeof body.logStreamNamePrefix === 'string') {
    const prefix = body.logStreamNamePrefix;
    streams = streams.filter((s) => s.name.startsWith(prefix));
  }
  streams.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const matches = textMatcher(body.filterPattern);
  const skip = body.nextToken == null ? 0 : decodeToken(body.nextToken, isFilterToken).o;

  // k-way merge over the streams' time ranges; ties go to the stream that sorts first by name.
  const cursors = streams.map((s) => {
    const [lo, hi] = timeRange(s.events, body);
    return { stream: s, index: lo, end: hi };
  });
  const out: Array<Record<string, unknown>> = [];
  let seen = 0;
  let bytes = 0;
  let more = false;
  for (;;) {
    let best = -1;
    let bestTs = Infinity;
    for (let c = 0; c < cursors.length; c++) {
      const cur = cursors[c] as (typeof cursors)[number];
      if (cur.index < cur.end) {
        const ts = (cur.stream.events[cur.index] as StoredLogEvent).timestamp;
        if (ts < bestTs) {
          bestTs = ts;
          best = c;
        }
      }
    }
    if (best < 0) break;
    const cur = cursors[best] as (typeof cursors)[number];
    const e = cur.stream.events[cur.index] as StoredLogEvent;
    const eventIndex = cur.index;
    cur.index++;
    if (!matches(e.message)) continue;
    if (seen++ < skip) continue;
    const size = calculateEventSize(e.message);
    if (out.length >= limit || (out.length > 0 && bytes + size > MAX_READ_BYTES)) {
      more = true;
      break;
    }
    bytes += size;
    out.push({
      logStreamName: cur.stream.name,
      timestamp: e.timestamp,
      message: e.message,
      ingestionTime: e.ingestionTime,
      eventId: `${String(best).padStart(6, '0')}${String(eventIndex).padStart(12, '0')}`,
    });
  }
  const result: Record<string, unknown> = {
    events: out,
    searchedLogStreams: streams.map((s) => ({ logStreamName: s.name, searchedCompletely: !more })),
  };
  if (more) result.nextToken = encodeToken({ o: skip + out.length });
  return result;
}

/** Every operation the endpoint answers, by its `X-Amz-Target` suffix. */
export const OPERATIONS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
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
]);
