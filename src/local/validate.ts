/**
 * Reading request members the way AWS's JSON 1.1 front end does: a member of the wrong JSON
 * type (an object or a number where a string is expected) is a 400 `SerializationException`,
 * as the deserializer fails before any rule is checked; a member that breaks a constraint of the
 * service model (required, length, range, pattern, enum) is a 400 `InvalidParameterException`
 * with AWS's "1 validation error detected" wording. Never a 500.
 */
import { nullMessage, validationMessage } from '../batch/rules.js';

/** A parsed JSON request body. */
export type Body = Record<string, unknown>;

/** An error answered the AWS JSON 1.1 way: HTTP status plus `{"__type", "message"}`. */
export class ServiceError extends Error {
  /** HTTP status, e.g. 400. */
  readonly status: number;
  /** The `__type` (and `x-amzn-ErrorType`), e.g. `InvalidParameterException`. */
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

/** 400 InvalidParameterException with `message`. */
export function invalidParameter(message: string): ServiceError {
  return new ServiceError(400, 'InvalidParameterException', message);
}

/** 400 SerializationException: `key` is not of the JSON type the model says. */
export function wrongType(key: string, expected: string): ServiceError {
  return new ServiceError(400, 'SerializationException', `Expected ${expected} for '${key}'`);
}

/** 400 ResourceNotFoundException with `message`. */
export function notFound(message: string): ServiceError {
  return new ServiceError(400, 'ResourceNotFoundException', message);
}

/** Constraints of a string member (service model). */
export interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  /** Whole-value pattern, and its text as AWS prints it. */
  pattern?: readonly [RegExp, string];
  enum?: readonly string[];
}

/** A string member, checked against `rule`; `undefined` when absent (null counts as absent). */
export function readString(body: Body, key: string, rule: StringRule = {}): string | undefined {
  const v = body[key];
  if (v == null) {
    if (rule.required === true) throw invalidParameter(nullMessage(key));
    return undefined;
  }
  if (typeof v !== 'string') throw wrongType(key, 'a string');
  checkString(v, key, rule);
  return v;
}

/** Checks a string value (a member or a list item) against `rule`. */
export function checkString(v: string, path: string, rule: StringRule): void {
  if (rule.min !== undefined && v.length < rule.min) {
    throw invalidParameter(validationMessage(v, path, `Member must have length greater than or equal to ${rule.min}`));
  }
  if (rule.max !== undefined && v.length > rule.max) {
    throw invalidParameter(validationMessage(v, path, `Member must have length less than or equal to ${rule.max}`));
  }
  if (rule.pattern !== undefined && !rule.pattern[0].test(v)) {
    throw invalidParameter(validationMessage(v, path, `Member must satisfy regular expression pattern: ${rule.pattern[1]}`));
  }
  if (rule.enum !== undefined && !rule.enum.includes(v)) {
    throw invalidParameter(validationMessage(v, path, `Member must satisfy enum value set: [${rule.enum.join(', ')}]`));
  }
}

/** An integer member within [min, max]; `undefined` when absent. */
export function readInteger(body: Body, key: string, min: number, max: number, required = false): number | undefined {
  const v = body[key];
  if (v == null) {
    if (required) throw invalidParameter(nullMessage(key));
    return undefined;
  }
  if (typeof v !== 'number' || !Number.isInteger(v)) throw wrongType(key, 'an integer');
  if (v < min) throw invalidParameter(validationMessage(String(v), key, `Member must have value greater than or equal to ${min}`));
  if (v > max) throw invalidParameter(validationMessage(String(v), key, `Member must have value less than or equal to ${max}`));
  return v;
}

/** A number member (a double in the model); `undefined` when absent. */
export function readNumber(body: Body, key: string): number | undefined {
  const v = body[key];
  if (v == null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw wrongType(key, 'a number');
  return v;
}

/** A boolean member; `undefined` when absent. */
export function readBoolean(body: Body, key: string): boolean | undefined {
  const v = body[key];
  if (v == null) return undefined;
  if (typeof v !== 'boolean') throw wrongType(key, 'a boolean');
  return v;
}

/** A list of strings with `min`..`max` items, each checked against `item`; `undefined` when absent. */
export function readStringList(
  body: Body,
  key: string,
  limits: { min?: number; max?: number; required?: boolean },
  item: StringRule,
): string[] | undefined {
  const v = body[key];
  if (v == null) {
    if (limits.required === true) throw invalidParameter(nullMessage(key));
    return undefined;
  }
  if (!Array.isArray(v)) throw wrongType(key, 'a list');
  if (limits.min !== undefined && v.length < limits.min) {
    throw invalidParameter(validationMessage(`[${v.join(', ')}]`, key, `Member must have length greater than or equal to ${limits.min}`));
  }
  if (limits.max !== undefined && v.length > limits.max) {
    throw invalidParameter(validationMessage(`[${v.length} items]`, key, `Member must have length less than or equal to ${limits.max}`));
  }
  return v.map((x: unknown, i) => {
    if (typeof x !== 'string') throw wrongType(`${key}.${i + 1}.member`, 'a string');
    checkString(x, `${key}.${i + 1}.member`, item);
    return x;
  });
}

/** A map of string to string with `min`..`max` entries, keys and values checked; `undefined` when absent. */
export function readStringMap(
  body: Body,
  key: string,
  limits: { min?: number; max?: number; required?: boolean },
  keyRule: StringRule,
  valueRule: StringRule,
): Map<string, string> | undefined {
  const v = body[key];
  if (v == null) {
    if (limits.required === true) throw invalidParameter(nullMessage(key));
    return undefined;
  }
  if (typeof v !== 'object' || Array.isArray(v)) throw wrongType(key, 'a map');
  const entries = Object.entries(v as Record<string, unknown>);
  if (limits.min !== undefined && entries.length < limits.min) {
    throw invalidParameter(validationMessage('{}', key, `Member must have length greater than or equal to ${limits.min}`));
  }
  if (limits.max !== undefined && entries.length > limits.max) {
    throw invalidParameter(validationMessage(`{${entries.length} entries}`, key, `Member must have length less than or equal to ${limits.max}`));
  }
  const out = new Map<string, string>();
  for (const [k, value] of entries) {
    if (typeof value !== 'string') throw wrongType(`${key}.${k}`, 'a string');
    checkString(k, `${key}.key`, keyRule);
    checkString(value, `${key}.${k}.member`, valueRule);
    out.set(k, value);
  }
  return out;
}

/** Throws InvalidParameterException when more than one of `keys` is present in `body`. */
export function mutuallyExclusive(body: Body, ...keys: string[]): void {
  const present = keys.filter((k) => body[k] != null);
  if (present.length > 1) {
    throw invalidParameter(`${present.join(' and ')} are mutually exclusive: give only one of them.`);
  }
}

/** Opaque paging token: base64url of a small JSON object. */
export function encodeToken(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Decodes a token of {@link encodeToken}; InvalidParameterException when it is not one `check` accepts. */
export function decodeToken<T>(token: unknown, check: (v: unknown) => v is T): T {
  if (typeof token !== 'string') throw wrongType('nextToken', 'a string');
  try {
    const v: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (check(v)) return v;
  } catch {
    // fall through: AWS answers an unknown token as an invalid parameter.
  }
  throw invalidParameter('The specified nextToken is invalid.');
}

/** A `{ n: string }` token (the last name a page listed). */
export function isNameToken(v: unknown): v is { n: string } {
  return typeof v === 'object' && v !== null && typeof (v as { n?: unknown }).n === 'string';
}

/**
 * One page of `sorted` (ascending by `nameOf`, or descending when `descending`), starting after
 * the name the token carries: a token is the last name listed, never an offset, so creating or
 * deleting items between pages neither repeats nor skips one that existed throughout.
 */
export function pageByName<T>(
  sorted: readonly T[],
  nameOf: (item: T) => string,
  body: Body,
  limit: number,
  descending = false,
): { items: T[]; nextToken?: string } {
  const after = body.nextToken == null ? undefined : decodeToken(body.nextToken, isNameToken).n;
  const items: T[] = [];
  let more = false;
  for (const item of sorted) {
    const name = nameOf(item);
    if (after !== undefined && (descending ? name >= after : name <= after)) continue;
    if (items.length === limit) {
      more = true;
      break;
    }
    items.push(item);
  }
  const last = items[items.length - 1];
  return more && last !== undefined ? { items, nextToken: encodeToken({ n: nameOf(last) }) } : { items };
}
