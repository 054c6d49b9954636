/**
 * How cwbatch creates a missing log group (issue 17): retention, log class, KMS key and tags,
 * checked once, at construction, against the CloudWatch Logs API reference (CreateLogGroup,
 * PutRetentionPolicy; the tag rules of the `Tags` shape), so that a typo fails at start rather
 * than on the first missing group, hours later.
 */
import { RETENTION_DAYS } from '../batch/rules.js';

/**
 * Log classes cwbatch creates groups in. `INFREQUENT_ACCESS` costs about half the ingestion
 * price, with fewer features (no metric filters, subscriptions, Live Tail, ...). The class cannot
 * be changed after creation. (`DELIVERY` is for AWS-vended logs only, not for PutLogEvents.)
 */
export type LogGroupClass = 'STANDARD' | 'INFREQUENT_ACCESS';

/** The log classes {@link LogGroupClass} allows. */
export const LOG_GROUP_CLASSES: readonly LogGroupClass[] = Object.freeze(['STANDARD', 'INFREQUENT_ACCESS'] as const);

/** Options for creating a missing log group. Each applies only to a group cwbatch creates, never to one that exists. */
export interface LogGroupCreateOptions {
  /**
   * Retention in days, set with PutRetentionPolicy after creating the group: one of 1, 3, 5, 7,
   * 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653.
   * Default: none (events never expire). IAM: `logs:PutRetentionPolicy`.
   */
  retentionInDays?: number | undefined;
  /** Log class of the group (see {@link LogGroupClass}). Default: AWS's, `STANDARD`. */
  logGroupClass?: LogGroupClass | undefined;
  /**
   * ARN of a symmetric KMS key to encrypt the group's data with
   * (`arn:aws:kms:REGION:ACCOUNT:key/KEY-ID`, at most 256 characters). The key policy must let
   * CloudWatch Logs use it, or CreateLogGroup fails. Default: none (AWS-owned encryption).
   */
  kmsKeyId?: string | undefined;
  /**
   * Tags of the group: 1 to 50, keys of 1 to 128 and values of 0 to 256 Unicode letters, digits,
   * spaces and `_ . : / = + - @`; keys must not start with `aws:`. An empty object means none.
   * IAM: `logs:TagResource` (or the legacy `logs:TagLogGroup`) besides `logs:CreateLogGroup`.
   */
  tags?: Readonly<Record<string, string>> | undefined;
}

/** The Tags shape of the API reference: at most 50 entries. */
export const MAX_TAGS = 50;
const MAX_TAG_KEY = 128;
const MAX_TAG_VALUE = 256;
const MAX_KMS_KEY_ID = 256;
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** A KMS key ARN in the documented format (any partition, Region, 12-digit account). */
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[^\s/]+$/;

/**
 * Checks the options and returns a frozen copy with only the fields that are set (`tags: {}`
 * dropped), or throws naming the option and the value.
 *
 * @param options The caller's options; other fields are ignored.
 * @param where Prefix of option names in messages, e.g. `--` for the CLI's flags. Default none.
 * @throws TypeError for a value of the wrong type; RangeError for one out of AWS's bounds.
 */
export function validateLogGroupCreateOptions(options: LogGroupCreateOptions, where = ''): Readonly<LogGroupCreateOptions> {
  const out: LogGroupCreateOptions = {};
  const { retentionInDays, logGroupClass, kmsKeyId, tags } = options;
  if (retentionInDays !== undefined) {
    if (typeof retentionInDays !== 'number' || !RETENTION_DAYS.includes(retentionInDays)) {
      throw new RangeError(`Expected \`${where}retentionInDays\` to be one of ${RETENTION_DAYS.join(', ')} (days), got ${String(retentionInDays)}`);
    }
    out.retentionInDays = retentionInDays;
  }
  if (logGroupClass !== undefined) {
    if (!(LOG_GROUP_CLASSES as readonly unknown[]).includes(logGroupClass)) {
      throw new RangeError(`Expected \`${where}logGroupClass\` to be 'STANDARD' or 'INFREQUENT_ACCESS', got ${JSON.stringify(logGroupClass) ?? String(logGroupClass)}`);
    }
    out.logGroupClass = logGroupClass;
  }
  if (kmsKeyId !== undefined) {
    if (typeof kmsKeyId !== 'string') throw new TypeError(`Expected \`${where}kmsKeyId\` to be a string (a KMS key ARN), got ${typeof kmsKeyId}`);
    if (kmsKeyId.length > MAX_KMS_KEY_ID || !KMS_KEY_ARN.test(kmsKeyId)) {
      throw new RangeError(
        `Expected \`${where}kmsKeyId\` to be the ARN of a KMS key (arn:aws:kms:REGION:ACCOUNT-ID:key/KEY-ID, at most ${MAX_KMS_KEY_ID} characters), got ${JSON.stringify(kmsKeyId)}`,
      );
    }
    out.kmsKeyId = kmsKeyId;
  }
  if (tags !== undefined) {
    const checked = validateTags(tags, `${where}tags`);
    if (checked !== undefined) out.tags = checked;
  }
  return Object.freeze(out);
}

function validateTags(tags: unknown, name: string): Readonly<Record<string, string>> | undefined {
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) {
    throw new TypeError(`Expected \`${name}\` to be an object of string keys and values, got ${tags === null ? 'null' : Array.isArray(tags) ? 'an array' : typeof tags}`);
  }
  const entries = Object.entries(tags as Record<string, unknown>);
  if (entries.length === 0) return undefined;
  if (entries.length > MAX_TAGS) throw new RangeError(`Expected \`${name}\` to have at most ${MAX_TAGS} tags, got ${entries.length}`);
  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    const keyLength = codePoints(key);
    if (keyLength < 1 || keyLength > MAX_TAG_KEY || !TAG_TEXT.test(key)) {
      throw new RangeError(
        `Expected each key of \`${name}\` to be 1 to ${MAX_TAG_KEY} letters, digits, spaces or _ . : / = + - @, got ${JSON.stringify(key)}`,
      );
    }
    if (key.toLowerCase().startsWith('aws:')) throw new RangeError(`Tag keys starting with "aws:" are reserved by AWS: \`${name}\` has ${JSON.stringify(key)}`);
    if (typeof value !== 'string') throw new TypeError(`Expected \`${name}.${key}\` to be a string, got ${typeof value}`);
    if (codePoints(value) > MAX_TAG_VALUE || !TAG_TEXT.test(value)) {
      throw new RangeError(
        `Expected \`${name}.${key}\` to be 0 to ${MAX_TAG_VALUE} letters, digits, spaces or _ . : / = + - @, got ${JSON.stringify(value)}`,
      );
    }
    out[key] = value;
  }
  return Object.freeze(out);
}

/** Length in Unicode code points, as the API's length constraints count. */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}
