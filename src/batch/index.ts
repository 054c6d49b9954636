/**
 * cwbatch core: the CloudWatch Logs batch buffer. Zero runtime dependencies; knows nothing of
 * the AWS SDK, pino, winston or HTTP. Named exports only.
 */
export { BatchBufferImpl } from './buffer.js';
export { DEFAULT_BATCH_CONFIG, validateBatchConfig } from './config.js';
export {
  BufferStoppedError,
  CwbatchError,
  FlushFailedError,
  FlushTimeoutError,
  InvalidFlushResultError,
  InvalidLogEventError,
  InvalidNameError,
} from './errors.js';
export { eventTimestamp } from './event-timestamp.js';
export { calculateEventSize, splitMessage, truncateMessage, utf8ByteLength } from './event-size.js';
export {
  EVENT_OVERHEAD_BYTES,
  LEGACY_MAX_EVENT_BYTES,
  MAX_BATCH_BYTES,
  MAX_BATCH_EVENTS,
  MAX_BATCH_SPAN_MS,
  MAX_EVENT_AGE_MS,
  MAX_EVENT_BYTES,
  MAX_EVENT_FUTURE_MS,
  MAX_NAME_LENGTH,
} from './limits.js';
export type { BatchLimits } from './limits.js';
export { compileNameTemplate, DEFAULT_FIELD_VALUE, sanitizeNamePart } from './name-template.js';
export type { NameFunction, NameKind, NameSource, NameTemplate, NameTemplateSources } from './name-template.js';
export { planBatches, sortByTimestamp } from './planner.js';
export type { PlanLimits, PlannedBatch } from './planner.js';
export { backoffDelay, classifyError, isRetryable } from './retry.js';
export type { ErrorKind } from './retry.js';
export { findBatchViolation, logGroupNameProblem, logStreamNameProblem } from './rules.js';
export type { BatchViolation } from './rules.js';
export { SequenceTokenManager } from './sequencing.js';
export { serializeStructuredEvent } from './structured.js';
export { SpoolCorruptionError, SpoolLockedError } from './spool/index.js';
export { installShutdownHandlers, type ShutdownHandlerOptions, type ShutdownInfo, type ShutdownReason } from './shutdown.js';
export type {
  BatchBuffer,
  BatchBufferOptions,
  BatchConfig,
  BatchHooks,
  BatchMetrics,
  DropReason,
  FlushContext,
  FlushFunction,
  FlushResult,
  InputLogEvent,
  OverflowPolicy,
  OversizedEventInfo,
  OversizedEventPolicy,
  RejectedLogEventsInfo,
  RejectReason,
  RetryInfo,
  SpoolFsync,
  SpoolOptions,
  StopOptions,
  StructuredLogEvent,
} from './types.js';
