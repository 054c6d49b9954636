/**
 * Tags on log groups: TagResource, UntagResource and ListTagsForResource (by ARN), and the
 * legacy TagLogGroup, UntagLogGroup and ListTagsLogGroup (by name). Constraints from the service
 * model: 1 to 50 tags per request, keys 1 to 128 characters, values up to 256, both of
 * `[\p{L}\p{Z}\p{N}_.:/=+\-@]`; at most 50 tags on a resource (TooManyTagsException); keys
 * starting with `aws:` are reserved.
 */
import { checkName, GROUP_MISSING, groupFromRequest, groupNameOfIdentifier } from './lookup.js';
import type { OperationContext } from './lookup.js';
import type { LocalLogGroup } from './store.js';
import { checkString, invalidParameter, notFound, readString, readStringList, readStringMap, ServiceError } from './validate.js';
import type { Body, StringRule } from './validate.js';

/** Most tags on one resource (TagResource reference). */
export const MAX_TAGS = 50;

/** A tag key: 1 to 128 letters, separators, digits or `_.:/=+-@` (service model). */
export const TAG_KEY_RULE: StringRule = { min: 1, max: 128, pattern: [/^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u, '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$'] };
/** A tag value: up to 256 of the same characters (service model). */
export const TAG_VALUE_RULE: StringRule = { max: 256, pattern: [/^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u, '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$'] };
const ARN_RULE: StringRule = { min: 1, max: 1011, pattern: [/^[\w+=/:,.@-]*$/, '[\\w+=/:,.@-]*'] };

/** The `tags` member of a request (TagResource, TagLogGroup, CreateLogGroup), checked. */
export function readTags(body: Body, required: boolean): Map<string, string> | undefined {
  const tags = readStringMap(body, 'tags', { min: 1, max: MAX_TAGS, required }, TAG_KEY_RULE, TAG_VALUE_RULE);
  if (tags !== undefined) {
    for (const key of tags.keys()) {
      if (key.toLowerCase().startsWith('aws:')) throw invalidParameter(`Tag keys starting with "aws:" are reserved: ${key}`);
    }
  }
  return tags;
}

function addTags(group: LocalLogGroup, tags: ReadonlyMap<string, string>): void {
  let count = group.tags.size;
  for (const key of tags.keys()) if (!group.tags.has(key)) count++;
  if (count > MAX_TAGS) {
    throw new ServiceError(400, 'TooManyTagsException', `A resource can have no more than ${MAX_TAGS} tags.`);
  }
  for (const [k, v] of tags) group.tags.set(k, v);
}

function tagObject(group: LocalLogGroup): Record<string, string> {
  return Object.fromEntries([...group.tags].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The log group a `resourceArn` names: `arn:aws:logs:REGION:ACCOUNT:log-group:NAME` (a trailing `:*` is accepted). */
function groupOfArn(ctx: OperationContext, body: Body): LocalLogGroup {
  const arn = readString(body, 'resourceArn', { ...ARN_RULE, required: true }) as string;
  const parts = arn.split(':');
  if (parts.length < 6 || parts[0] !== 'arn') throw invalidParameter(`Invalid ARN: ${arn}`);
  if (parts[2] !== 'logs' || parts[5] !== 'log-group') {
    throw notFound(`The specified resource does not exist: ${arn}`);
  }
  if (parts[3] !== ctx.region || parts[4] !== ctx.accountId) throw notFound(GROUP_MISSING);
  const name = groupNameOfIdentifier(arn);
  checkName('group', name, 'resourceArn');
  const group = ctx.store.groups.get(name);
  if (group === undefined) throw notFound(GROUP_MISSING);
  return group;
}

/** TagResource: adds or replaces tags on a log group named by ARN. */
export function tagResource(ctx: OperationContext, body: Body): unknown {
  const group = groupOfArn(ctx, body);
  addTags(group, readTags(body, true) as Map<string, string>);
  return {};
}

/** UntagResource: removes tag keys (absent keys are ignored) from a log group named by ARN. */
export function untagResource(ctx: OperationContext, body: Body): unknown {
  const group = groupOfArn(ctx, body);
  const keys = readStringList(body, 'tagKeys', { min: 0, max: MAX_TAGS, required: true }, TAG_KEY_RULE) as string[];
  for (const k of keys) group.tags.delete(k);
  return {};
}

/** ListTagsForResource: `{ tags }` of a log group named by ARN. */
export function listTagsForResource(ctx: OperationContext, body: Body): unknown {
  return { tags: tagObject(groupOfArn(ctx, body)) };
}

/** TagLogGroup (legacy): adds or replaces tags on a log group named by name. */
export function tagLogGroup(ctx: OperationContext, body: Body): unknown {
  const tags = readTags(body, true) as Map<string, string>;
  const group = groupFromRequest(ctx, body, false);
  addTags(group, tags);
  return {};
}

/** UntagLogGroup (legacy): `tags` is the list of keys to remove (at least one). */
export function untagLogGroup(ctx: OperationContext, body: Body): unknown {
  const keys = readStringList(body, 'tags', { min: 1, required: true }, TAG_KEY_RULE) as string[];
  const group = groupFromRequest(ctx, body, false);
  for (const k of keys) {
    checkString(k, 'tags', TAG_KEY_RULE);
    group.tags.delete(k);
  }
  return {};
}

/** ListTagsLogGroup (legacy): `{ tags }` of a log group named by name. */
export function listTagsLogGroup(ctx: OperationContext, body: Body): unknown {
  return { tags: tagObject(groupFromRequest(ctx, body, false)) };
}
