/**
 * What a valid PutLogEvents request is, as functions of plain data. Used by the buffer (to check
 * input and to plan batches) and by the embedded endpoint (to refuse what AWS refuses, with AWS's
 * messages), so that the two can never disagree. See `shared/spec/cloudwatch-logs-rules.md`.
 */
import { calculateEventSize } from './event-size.js';
import {
  type BatchLimits,
  MAX_BATCH_BYTES,
  MAX_BATCH_EVENTS,
  MAX_BATCH_SPAN_MS,
  MAX_EVENT_AGE_MS,
  MAX_EVENT_BYTES,
  MAX_EVENT_FUTURE_MS,
  MAX_NAME_LENGTH,
} from './limits.js';
import type { InputLogEvent, RejectedLogEventsInfo, RejectReason } from './types.js';

/** AWS's pattern for log group names (CreateLogGroup reference). */
export const LOG_GROUP_NAME_PATTERN = /^[.\-_/#A-Za-z0-9]+$/;

/** Characters a log stream name may not contain (CreateLogStream reference). */
const STREAM_FORBIDDEN = /[:*]/;

/** Why `name` is not a valid log group name, or `undefined` when it is. */
export function logGroupNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name.length < 1 || name.length > MAX_NAME_LENGTH) return `must be 1 to ${MAX_NAME_LENGTH} characters`;
  if (!LOG_GROUP_NAME_PATTERN.test(name)) return 'may only contain the characters [.-_/#A-Za-z0-9]';
  if (isReservedLogGroupName(name)) return 'must not start with "aws/" (reserved by AWS)';
  return undefined;
}

/** Why `name` is not a valid log stream name, or `undefined` when it is. */
export function logStreamNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name.length < 1 || name.length > MAX_NAME_LENGTH) return `must be 1 to ${MAX_NAME_LENGTH} characters`;
  if (STREAM_FORBIDDEN.test(name)) return 'must not contain ":" or "*"';
  return undefined;
}

/** Why `timestamp` is not a valid event timestamp, or `undefined` when it is. */
export function timestampProblem(timestamp: unknown): string | undefined {
  if (typeof timestamp !== 'number') return 'must be a number of milliseconds since the epoch';
  if (!Number.isSafeInteger(timestamp)) return 'must be an integer number of milliseconds';
  if (timestamp < 0) return 'must be >= 0';
  return undefined;
}

/** Why `message` is not a valid event message, or `undefined` when it is. */
export function messageProblem(message: unknown): string | undefined {
  if (typeof message !== 'string') return 'must be a string';
  if (message.length === 0) return 'must not be empty';
  return undefined;
}


/** A rule a batch breaks, with the error AWS answers for it. */
export interface BatchViolation {
  /** Short rule id, for tests and reports. */
  rule: 'empty' | 'count' | 'message' | 'timestamp' | 'event-size' | 'batch-size' | 'order' | 'span';
  /** The AWS error code (`__type`). */
  type: 'InvalidParameterException';
  /** AWS's message for it. */
  message: string;
  /** Index of the offending event, where one event is at fault. */
  index?: number;
}

/**
 * The first rule that `events` breaks, checked in the order AWS checks them, or `undefined`
 * when the batch is valid. The 24 h span is checked over all events given; the endpoint passes
 * only the events it did not reject as too old or too new.
 */
export function findBatchViolation(events: readonly InputLogEvent[], limits: BatchLimits = {}): BatchViolation | undefined {
  const maxEvents = limits.maxEvents ?? MAX_BATCH_EVENTS;
  const maxBytes = limits.maxBytes ?? MAX_BATCH_BYTES;
  const maxEventBytes = limits.maxEventBytes ?? MAX_EVENT_BYTES;
  if (events.length === 0) {
    return invalid('empty', validationMessage('[]', 'logEvents', 'Member must have length greater than or equal to 1'));
  }
  if (events.length > maxEvents) {
    return invalid(
      'count',
      validationMessage('[...]', 'logEvents', `Member must have length less than or equal to ${maxEvents}`),
    );
  }
  const eventProblem = fieldViolation(events);
  if (eventProblem !== undefined) return eventProblem;
  let total = 0;
  for (let i = 0; i < events.length; i++) {
    const size = calculateEventSize((events[i] as InputLogEvent).message);
    if (size > maxEventBytes) {
      return { ...invalid('event-size', `Log event too large: ${size} bytes exceeds limit of ${maxEventBytes}`), index: i };
    }
    total += size;
  }
  if (total > maxBytes) {
    return invalid('batch-size', `Upload too large: ${total} bytes exceeds limit of ${maxBytes}`);
  }
  for (let i = 1; i < events.length; i++) {
    if ((events[i] as InputLogEvent).timestamp < (events[i - 1] as InputLogEvent).timestamp) {
      return {
        ...invalid('order', 'Log events in a single PutLogEvents request must be in chronological order.'),
        index: i,
      };
    }
  }
  const span = spanViolation(events, limits.maxSpanMs ?? MAX_BATCH_SPAN_MS);
  return span;
}

/** The first event whose message or timestamp breaks the service model, with AWS's message. */
function fieldViolation(events: readonly InputLogEvent[]): BatchViolation | undefined {
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as InputLogEvent;
    if (messageProblem(event.message) !== undefined) {
      return {
        ...invalid(
          'message',
          event.message == null
            ? nullMessage(`logEvents.${i + 1}.member.message`)
            : validationMessage(
                String(event.message),
                `logEvents.${i + 1}.member.message`,
                'Member must have length greater than or equal to 1',
              ),
        ),
        index: i,
      };
    }
    if (timestampProblem(event.timestamp) !== undefined) {
      return {
        ...invalid(
          'timestamp',
          event.timestamp == null
            ? nullMessage(`logEvents.${i + 1}.member.timestamp`)
            : validationMessage(
                String(event.timestamp),
                `logEvents.${i + 1}.member.timestamp`,
                'Member must have value greater than or equal to 0',
              ),
        ),
        index: i,
      };
    }
  }
  return undefined;
}

/** The 24 h rule alone, over events already known to be in order. */
export function spanViolation(events: readonly InputLogEvent[], maxSpanMs: number = MAX_BATCH_SPAN_MS): BatchViolation | undefined {
  if (events.length < 2) return undefined;
  const first = (events[0] as InputLogEvent).timestamp;
  const last = (events[events.length - 1] as InputLogEvent).timestamp;
  if (last - first > maxSpanMs) {
    return invalid('span', 'The batch of log events in a single PutLogEvents request cannot span more than 24 hours.');
  }
  return undefined;
}

/** AWS's wording for a request validation error. */
export function validationMessage(value: string, path: string, constraint: string): string {
  return `1 validation error detected: Value '${value}' at '${path}' failed to satisfy constraint: ${constraint}`;
}

/**
 * AWS's wording when a required member is absent: the value is printed as a bare `null`, not
 * quoted (Coral validation, as seen in AWS error responses).
 */
export function nullMessage(path: string): string {
  return `1 validation error detected: Value null at '${path}' failed to satisfy constraint: Member must not be null`;
}

/** The pattern AWS prints in its validation message for a bad log group name (service model). */
export const LOG_GROUP_NAME_PATTERN_TEXT = '[\\.\\-_/#A-Za-z0-9]+';

/** The pattern AWS prints in its validation message for a bad log stream name (service model). */
export const LOG_STREAM_NAME_PATTERN_TEXT = '[^:*]*';

/**
 * AWS's validation message for a log group or stream name that breaks the service model's
 * constraints (null, length 1 to 512, pattern), or `undefined` when the name is valid. `path` is
 * the request member, e.g. `logGroupName`. The `aws/` prefix is not checked here: AWS enforces it
 * only when a group is created (see {@link reservedLogGroupNameMessage}).
 */
export function nameValidationMessage(kind: 'group' | 'stream', name: unknown, path: string): string | undefined {
  if (name == null) return nullMessage(path);
  if (typeof name !== 'string') return validationMessage(String(name), path, 'Member must be a string');
  if (name.length < 1) return validationMessage(name, path, 'Member must have length greater than or equal to 1');
  if (name.length > MAX_NAME_LENGTH) {
    return validationMessage(name, path, `Member must have length less than or equal to ${MAX_NAME_LENGTH}`);
  }
  const bad = kind === 'group' ? !LOG_GROUP_NAME_PATTERN.test(name) : STREAM_FORBIDDEN.test(name);
  if (bad) {
    const pattern = kind === 'group' ? LOG_GROUP_NAME_PATTERN_TEXT : LOG_STREAM_NAME_PATTERN_TEXT;
    return validationMessage(name, path, `Member must satisfy regular expression pattern: ${pattern}`);
  }
  return undefined;
}

/**
 * Message for CreateLogGroup with a name in the reserved `aws/` namespace, or `undefined`.
 * Inferred wording (AWS documents the rule, not the text).
 */
export function reservedLogGroupNameMessage(name: string): string | undefined {
  return isReservedLogGroupName(name) ? 'Log group names starting with "aws/" are reserved for AWS.' : undefined;
}

/**
 * Whether a log group name is in the namespace AWS keeps for itself. The CreateLogGroup reference
 * lists "Log group names can't start with the string aws/" among its naming rules; no API lets a
 * caller make such a group, so nothing this library writes can ever land in one. Both sides apply
 * it: the buffer refuses such a group at add() (InvalidNameError), and the embedded endpoint at
 * CreateLogGroup and at PutLogEvents (InvalidParameterException, before the group is looked up).
 */
export function isReservedLogGroupName(name: string): boolean {
  return name.startsWith('aws/');
}

/** The retention periods PutRetentionPolicy accepts, in days (service model enum). */
export const RETENTION_DAYS: readonly number[] = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * How AWS splits a chronologically sorted batch by its time window: a prefix too old (more than
 * 14 days before `now`), then a prefix older than the group's retention, then the events it
 * stores, then a suffix too new (more than 2 hours after `now`). Indices follow AWS's
 * `rejectedLogEventsInfo` semantics: `tooOldEnd` and `expiredEnd` are exclusive ends,
 * `tooNewStart` an inclusive start; stored events are `[acceptedStart, tooNewStart)`.
 */
export interface TimeWindowSplit {
  /** Number of leading events more than 14 days old (exclusive end). */
  tooOldEnd: number;
  /**
   * Exclusive end of the leading events older than the retention period. Events that are both
   * too old and expired count as too old, so `expiredEnd > tooOldEnd` only when some event is
   * expired but not too old (inferred: AWS does not document the overlap).
   */
  expiredEnd: number;
  /** Index of the first event more than 2 hours in the future; `events.length` when none. */
  tooNewStart: number;
  /** First stored event: `max(tooOldEnd, expiredEnd)`. */
  acceptedStart: number;
}

/**
 * Splits a sorted batch by AWS's time window (see {@link TimeWindowSplit}). `now` is in ms since
 * the epoch; `retentionInDays` is the group's retention, `undefined` for "never expire". The
 * batch must already be in chronological order (checked first by {@link findBatchViolation}).
 */
export function splitByTimeWindow(
  events: readonly InputLogEvent[],
  now: number,
  retentionInDays?: number,
): TimeWindowSplit {
  const n = events.length;
  const oldBefore = now - MAX_EVENT_AGE_MS;
  const expiredBefore = retentionInDays === undefined ? -Infinity : now - retentionInDays * 86_400_000;
  const newAfter = now + MAX_EVENT_FUTURE_MS;
  let tooOldEnd = 0;
  while (tooOldEnd < n && (events[tooOldEnd] as InputLogEvent).timestamp < oldBefore) tooOldEnd++;
  let expiredEnd = tooOldEnd;
  while (expiredEnd < n && (events[expiredEnd] as InputLogEvent).timestamp < expiredBefore) expiredEnd++;
  if (expiredEnd === tooOldEnd) expiredEnd = 0;
  let tooNewStart = n;
  while (tooNewStart > 0 && (events[tooNewStart - 1] as InputLogEvent).timestamp > newAfter) tooNewStart--;
  const acceptedStart = Math.max(tooOldEnd, expiredEnd);
  // A batch wholly too old and too new at once cannot happen (it is sorted), but keep the
  // accepted range well-formed whatever the input.
  if (tooNewStart < acceptedStart) tooNewStart = acceptedStart;
  return { tooOldEnd, expiredEnd, tooNewStart, acceptedStart };
}

/**
 * The `rejectedLogEventsInfo` PutLogEvents answers for a batch split by time window (producer:
 * the embedded endpoint), or `undefined` when nothing was rejected. The reader is
 * {@link rejectedRanges}: the two are kept side by side so the index semantics live in one place.
 */
export function rejectedInfoOf(split: TimeWindowSplit, n: number): RejectedLogEventsInfo | undefined {
  const info: RejectedLogEventsInfo = {};
  if (split.tooOldEnd > 0) info.tooOldLogEventEndIndex = split.tooOldEnd;
  if (split.expiredEnd > 0) info.expiredLogEventEndIndex = split.expiredEnd;
  if (split.tooNewStart < n) info.tooNewLogEventStartIndex = split.tooNewStart;
  return Object.keys(info).length > 0 ? info : undefined;
}

/** One reason's share of a batch a `rejectedLogEventsInfo` names: events `[start, end)`. */
export interface RejectedRange {
  reason: RejectReason;
  start: number;
  end: number;
}

/**
 * The events of a batch of `n` that a `rejectedLogEventsInfo` names, by reason (reader: the
 * buffer's settlement). AWS's semantics: too-old and expired are leading prefixes (exclusive
 * ends), too-new a suffix from its (inclusive) start index. Where the two prefixes overlap, "too
 * old" is reported. Indices that are absent or not numbers are ignored; the rest are clamped to
 * [0, n]. Empty ranges are left out; the ranges never overlap.
 */
export function rejectedRanges(info: RejectedLogEventsInfo, n: number): RejectedRange[] {
  const tooOldEnd = clampIndex(info.tooOldLogEventEndIndex, n, 0);
  const expiredEnd = clampIndex(info.expiredLogEventEndIndex, n, 0);
  const tooNewStart = clampIndex(info.tooNewLogEventStartIndex, n, n);
  const prefixEnd = Math.min(Math.max(tooOldEnd, expiredEnd), tooNewStart);
  const oldEnd = Math.min(tooOldEnd, prefixEnd);
  const ranges: RejectedRange[] = [
    { reason: 'too-old', start: 0, end: oldEnd },
    { reason: 'expired', start: oldEnd, end: prefixEnd },
    { reason: 'too-new', start: tooNewStart, end: n },
  ];
  return ranges.filter((range) => range.end > range.start);
}

/** An index from rejectedLogEventsInfo, clamped to [0, n]; `fallback` when absent or not a number. */
function clampIndex(value: unknown, n: number, fallback: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) return fallback;
  return Math.min(n, Math.max(0, Math.trunc(value)));
}

function invalid(rule: BatchViolation['rule'], message: string): BatchViolation {
  return { rule, type: 'InvalidParameterException', message };
}
