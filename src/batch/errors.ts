/**
 * The error family of cwbatch: each class has a fixed `name` and a stable `code`, and carries
 * its cause (ES2022 `cause`) where there is one. Callers match on `code`, never on `instanceof`
 * (two copies of the package would break it).
 */

/** Base of every error cwbatch throws. */
export class CwbatchError extends Error {
  /** Stable, machine-readable code, e.g. `INVALID_EVENT`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }

  override get name(): string {
    return 'CwbatchError';
  }
}

/** An event passed to `add()` is not one PutLogEvents can take; nothing was buffered for it. */
export class InvalidLogEventError extends CwbatchError {
  /** The field that was wrong: `timestamp`, `message`, `event`, `fields`. */
  readonly field: string;
  /** The value that was given (for messages, a short preview). */
  readonly value: unknown;

  constructor(field: string, value: unknown, reason: string) {
    super('INVALID_EVENT', `Invalid log event: \`${field}\` ${reason}, got ${preview(value)}`);
    this.field = field;
    this.value = value;
  }

  override get name(): string {
    return 'InvalidLogEventError';
  }
}

/** A log group or stream name breaks AWS's naming rules. */
export class InvalidNameError extends CwbatchError {
  /** `logGroupName` or `logStreamName`. */
  readonly field: string;
  readonly value: unknown;

  constructor(field: string, value: unknown, reason: string) {
    super('INVALID_NAME', `Invalid ${field}: ${reason}, got ${preview(value)}`);
    this.field = field;
    this.value = value;
  }

  override get name(): string {
    return 'InvalidNameError';
  }
}

/** `add()` after `stop()`, or an `add()` still waiting for room when `stop()` was called. */
export class BufferStoppedError extends CwbatchError {
  constructor() {
    super('BUFFER_STOPPED', 'The buffer is stopped: no more events are accepted');
  }

  override get name(): string {
    return 'BufferStoppedError';
  }
}

/** A flush could not deliver everything; the events that failed are buffered again. */
export class FlushFailedError extends CwbatchError {
  readonly logGroup: string;
  readonly logStream: string;
  /** Events that went back to the buffer. */
  readonly eventCount: number;

  constructor(logGroup: string, logStream: string, eventCount: number, cause: unknown) {
    super(
      'FLUSH_FAILED',
      `Flush of ${logGroup}/${logStream} failed; ${eventCount} event(s) kept in the buffer for a later flush: ${describe(cause)}`,
      { cause },
    );
    this.logGroup = logGroup;
    this.logStream = logStream;
    this.eventCount = eventCount;
  }

  override get name(): string {
    return 'FlushFailedError';
  }
}

/** The flush function did not settle within `flushTimeoutMs`. Retryable. */
export class FlushTimeoutError extends CwbatchError {
  constructor(timeoutMs: number) {
    super('FLUSH_TIMEOUT', `The flush function did not settle within ${timeoutMs} ms`);
  }

  override get name(): string {
    return 'FlushTimeoutError';
  }
}

/** The flush function returned something that is not a FlushResult. */
export class InvalidFlushResultError extends CwbatchError {
  constructor(value: unknown) {
    super('INVALID_FLUSH_RESULT', `The flush function resolved to ${preview(value)}; expected an object or undefined`);
  }

  override get name(): string {
    return 'InvalidFlushResultError';
  }
}

/** Short, safe rendering of a value for error messages. */
export function preview(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return `${JSON.stringify(shown)} (${value.length} characters)`;
  }
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined || value === null) {
    return String(value);
  }
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

/** One line describing any thrown value. */
export function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return preview(error);
}
