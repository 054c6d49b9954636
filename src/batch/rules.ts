/**
 * What a valid PutLogEvents request is, as functions of plain data. Used by the buffer (to check
 * input and to plan batches) and by the embedded endpoint (to refuse what AWS refuses, with AWS's
 * messages), so that the two can never disagree. See `shared/spec/cloudwatch-logs-rules.md`.
 */
import { utf8ByteLength } from './event-size.js';
import {
  EVENT_OVERHEAD_BYTES,
  MAX_BATCH_BYTES,
  MAX_BATCH_EVENTS,
  MAX_BATCH_SPAN_MS,
  MAX_EVENT_BYTES,
  MAX_NAME_LENGTH,
} from './limits.js';
import type { InputLogEvent } from './types.js';

/** AWS's pattern for log group names (CreateLogGroup reference). */
export const LOG_GROUP_NAME_PATTERN = /^[.\-_/#A-Za-z0-9]+$/;

/** Characters a log stream name may not contain (CreateLogStream reference). */
const STREAM_FORBIDDEN = /[:*]/;

/** Why `name` is not a valid log group name, or `undefined` when it is. */
export function logGroupNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'must be a string';
  if (name.length < 1 || name.length > MAX_NAME_LENGTH) return `must be 1 to ${MAX_NAME_LENGTH} characters`;
  if (!LOG_GROUP_NAME_PATTERN.test(name)) return 'may only contain the characters [.-_/#A-Za-z0-9]';
  if (name.startsWith('aws/')) return 'must not start with "aws/" (reserved by AWS)';
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

/** Limits a batch is checked against; each defaults to the AWS maximum. */
export interface BatchLimits {
  maxEvents?: number;
  maxBytes?: number;
  maxEventBytes?: number;
  maxSpanMs?: number;
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
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as InputLogEvent;
    if (messageProblem(event.message) !== undefined) {
      return {
        ...invalid(
          'message',
          validationMessage(
            String(event.message ?? ''),
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
          validationMessage(
            String(event.timestamp),
            `logEvents.${i + 1}.member.timestamp`,
            'Member must have value greater than or equal to 0',
          ),
        ),
        index: i,
      };
    }
  }
  let total = 0;
  for (let i = 0; i < events.length; i++) {
    const size = utf8ByteLength((events[i] as InputLogEvent).message) + EVENT_OVERHEAD_BYTES;
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

function invalid(rule: BatchViolation['rule'], message: string): BatchViolation {
  return { rule, type: 'InvalidParameterException', message };
}
