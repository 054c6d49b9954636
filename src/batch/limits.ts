/**
 * The numbers CloudWatch Logs enforces, as plain data. The buffer's planner and the embedded
 * endpoint (`src/local`) both read them from here, so the two can never disagree about what a
 * valid batch is. Source for each: the PutLogEvents API reference and the CloudWatch Logs quotas
 * page, condensed in `shared/spec/cloudwatch-logs-rules.md`.
 */

/** Fixed per-event overhead that AWS adds to the UTF-8 size of each message (PutLogEvents reference). */
export const EVENT_OVERHEAD_BYTES = 26;

/** Most events in one PutLogEvents request (PutLogEvents reference: "maximum of 10,000"). */
export const MAX_BATCH_EVENTS = 10_000;

/** Most bytes in one request: the sum over events of (UTF-8 bytes + 26) (PutLogEvents reference). */
export const MAX_BATCH_BYTES = 1_048_576;

/**
 * Largest single event, including the 26-byte overhead. 1 MB since April 2025 (quotas page);
 * the largest message is therefore taken to be 1,048,550 bytes (inferred, see the rules doc).
 */
export const MAX_EVENT_BYTES = 1_048_576;

/** The per-event limit before April 2025 (256 KB incl. overhead): the lowest `maxEventBytes` allowed. */
export const LEGACY_MAX_EVENT_BYTES = 262_144;

/** Newest minus oldest timestamp within one batch may not exceed 24 hours (PutLogEvents reference). */
export const MAX_BATCH_SPAN_MS = 24 * 60 * 60 * 1000;

/** Events older than this are rejected one by one as too old (PutLogEvents reference: 14 days). */
export const MAX_EVENT_AGE_MS = 14 * 24 * 60 * 60 * 1000;

/** Events further than this in the future are rejected one by one as too new (2 hours). */
export const MAX_EVENT_FUTURE_MS = 2 * 60 * 60 * 1000;

/** Log group and stream names: 1 to 512 characters (CreateLogGroup / CreateLogStream reference). */
export const MAX_NAME_LENGTH = 512;

/**
 * The one limits type: what a batch is checked against (rules.ts) and cut by (planner.ts, as
 * {@link PlanLimits}). Each field defaults to the AWS maximum above when absent.
 */
export interface BatchLimits {
  /** Most events per batch. Default {@link MAX_BATCH_EVENTS}. */
  maxEvents?: number;
  /** Most bytes per batch, counting UTF-8 bytes + 26 per event. Default {@link MAX_BATCH_BYTES}. */
  maxBytes?: number;
  /** Largest single event, bytes including the 26-byte overhead. Default {@link MAX_EVENT_BYTES}. */
  maxEventBytes?: number;
  /** Widest span of timestamps in one batch, ms. Default {@link MAX_BATCH_SPAN_MS} (24 h). */
  maxSpanMs?: number;
}
