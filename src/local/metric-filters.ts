/**
 * Metric filters (PutMetricFilter, DescribeMetricFilters, DeleteMetricFilter) and
 * DescribeSubscriptionFilters (always an empty list: the endpoint delivers nowhere). A metric
 * filter's values are counted as events are stored (see {@link countMetricFilters}), with the
 * filter-pattern engine of `./filter.js`, so tests can read what CloudWatch would have emitted.
 */
import type { InputLogEvent } from '../batch/types.js';
import { compileFilterPattern, FilterPatternError } from './filter.js';
import type { CompiledFilterPattern } from './filter.js';
import { checkName, groupFromRequest } from './lookup.js';
import { patternMessage } from './read.js';
import type { OperationContext } from './lookup.js';
import type { LocalLogGroup, LocalMetricFilter, LocalMetricTransformation } from './store.js';
import {
  invalidParameter,
  notFound,
  pageByName,
  readInteger,
  readNumber,
  readString,
  readStringMap,
  ServiceError,
  wrongType,
} from './validate.js';
import type { Body, StringRule } from './validate.js';

/** Most metric filters per log group (CloudWatch Logs quotas). */
export const MAX_METRIC_FILTERS = 100;

const FILTER_NAME_RULE: StringRule = { min: 1, max: 512, pattern: [/^[^:*]*$/, '[^:*]*'] };
const METRIC_NAME_RULE: StringRule = { max: 255, pattern: [/^[^:*$]*$/, '[^:*$]*'] };
const UNITS = [
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits',
  'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second',
  'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second',
  'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
] as const;
/** A metric value: a number, or a field of the event (`$.path` in JSON patterns, `$name` in space-delimited ones). */
const METRIC_VALUE = /^(?:-?\d+(?:\.\d+)?|\$[\w.[\]-]+)$/;

function compile(source: string): CompiledFilterPattern {
  try {
    return compileFilterPattern(source);
  } catch (error) {
    if (error instanceof FilterPatternError) throw invalidParameter(patternMessage(error));
    throw error;
  }
}

function readTransformation(body: Body): LocalMetricTransformation {
  const list = body.metricTransformations;
  if (list == null) throw invalidParameter("1 validation error detected: Value null at 'metricTransformations' failed to satisfy constraint: Member must not be null");
  if (!Array.isArray(list)) throw wrongType('metricTransformations', 'a list');
  if (list.length !== 1) {
    throw invalidParameter(
      `1 validation error detected: Value at 'metricTransformations' failed to satisfy constraint: Member must have length ${list.length < 1 ? 'greater than or equal to 1' : 'less than or equal to 1'}`,
    );
  }
  const t: unknown = list[0];
  if (typeof t !== 'object' || t === null || Array.isArray(t)) throw wrongType('metricTransformations.1.member', 'a structure');
  const m = t as Body;
  const metricName = readString(m, 'metricName', { ...METRIC_NAME_RULE, required: true }) as string;
  const metricNamespace = readString(m, 'metricNamespace', { ...METRIC_NAME_RULE, required: true }) as string;
  const metricValue = readString(m, 'metricValue', { max: 100, required: true }) as string;
  if (!METRIC_VALUE.test(metricValue.trim())) {
    throw invalidParameter(`Invalid metric value: ${metricValue} (a number, or a field such as $.latency or $size).`);
  }
  const defaultValue = readNumber(m, 'defaultValue');
  const dimensions = readStringMap(m, 'dimensions', { max: 3 }, { min: 1, max: 255 }, { min: 1, max: 255 });
  if (dimensions !== undefined && defaultValue !== undefined) {
    throw invalidParameter('A metric filter cannot have both dimensions and a defaultValue.');
  }
  const unit = readString(m, 'unit', { enum: UNITS });
  return {
    metricName,
    metricNamespace,
    metricValue,
    ...(defaultValue === undefined ? {} : { defaultValue }),
    ...(dimensions === undefined ? {} : { dimensions: Object.fromEntries(dimensions) }),
    ...(unit === undefined ? {} : { unit }),
  };
}

/** PutMetricFilter: creates or replaces a filter (at most {@link MAX_METRIC_FILTERS} per group). */
export function putMetricFilter(ctx: OperationContext, body: Body): unknown {
  checkName('group', body.logGroupName, 'logGroupName');
  const filterName = readString(body, 'filterName', { ...FILTER_NAME_RULE, required: true }) as string;
  const filterPattern = readString(body, 'filterPattern', { min: 0, max: 1024, required: true }) as string;
  const transformation = readTransformation(body);
  const compiled = compile(filterPattern);
  const group = groupFromRequest(ctx, body, false);
  if (!group.metricFilters.has(filterName) && group.metricFilters.size >= MAX_METRIC_FILTERS) {
    throw new ServiceError(400, 'LimitExceededException', `Resource limit exceeded: at most ${MAX_METRIC_FILTERS} metric filters per log group.`);
  }
  group.metricFilters.set(filterName, {
    filterName,
    filterPattern,
    creationTime: ctx.now(),
    metricTransformations: [transformation],
    compiled,
    matched: 0,
    sum: 0,
    samples: 0,
  });
  return {};
}

/** DeleteMetricFilter. */
export function deleteMetricFilter(ctx: OperationContext, body: Body): unknown {
  checkName('group', body.logGroupName, 'logGroupName');
  const filterName = readString(body, 'filterName', { ...FILTER_NAME_RULE, required: true }) as string;
  const group = groupFromRequest(ctx, body, false);
  if (!group.metricFilters.delete(filterName)) throw notFound('The specified metric filter does not exist.');
  return {};
}

function describeFilter(group: LocalLogGroup, f: LocalMetricFilter): Record<string, unknown> {
  return {
    filterName: f.filterName,
    filterPattern: f.filterPattern,
    metricTransformations: f.metricTransformations.map((t) => ({ ...t })),
    creationTime: f.creationTime,
    logGroupName: group.name,
  };
}

/**
 * DescribeMetricFilters: of one group (`logGroupName`, optionally `filterNamePrefix`) or of all,
 * optionally those emitting `metricName` in `metricNamespace` (which go together). Ordered by
 * group then filter name; the token is the last (group, filter) listed.
 */
export function describeMetricFilters(ctx: OperationContext, body: Body): unknown {
  const limit = readInteger(body, 'limit', 1, 50) ?? 50;
  const prefix = readString(body, 'filterNamePrefix', FILTER_NAME_RULE);
  const metricName = readString(body, 'metricName', METRIC_NAME_RULE);
  const metricNamespace = readString(body, 'metricNamespace', METRIC_NAME_RULE);
  if ((metricName === undefined) !== (metricNamespace === undefined)) {
    throw invalidParameter('metricName and metricNamespace must be specified together.');
  }
  let groups: LocalLogGroup[];
  if (body.logGroupName != null) groups = [groupFromRequest(ctx, body, false)];
  else groups = [...ctx.store.groups.values()];
  const all: Array<{ key: string; group: LocalLogGroup; filter: LocalMetricFilter }> = [];
  for (const group of groups) {
    for (const filter of group.metricFilters.values()) {
      // The prefix applies only with logGroupName (API reference).
      if (prefix !== undefined && body.logGroupName != null && !filter.filterName.startsWith(prefix)) continue;
      if (metricName !== undefined) {
        const t = filter.metricTransformations[0] as LocalMetricTransformation;
        if (t.metricName !== metricName || t.metricNamespace !== metricNamespace) continue;
      }
      all.push({ key: `${group.name}\u0000${filter.filterName}`, group, filter });
    }
  }
  all.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const { items, nextToken } = pageByName(all, (x) => x.key, body, limit);
  const metricFilters = items.map((x) => describeFilter(x.group, x.filter));
  return nextToken === undefined ? { metricFilters } : { metricFilters, nextToken };
}

/** DescribeSubscriptionFilters: validated like AWS; the endpoint has no subscription filters. */
export function describeSubscriptionFilters(ctx: OperationContext, body: Body): unknown {
  checkName('group', body.logGroupName, 'logGroupName');
  readString(body, 'filterNamePrefix', FILTER_NAME_RULE);
  readInteger(body, 'limit', 1, 50);
  readString(body, 'nextToken', { min: 1 });
  groupFromRequest(ctx, body, false);
  return { subscriptionFilters: [] };
}

/** The value a transformation emits for a matching event, or `undefined` when the field is absent or not a number. */
function matchValue(t: LocalMetricTransformation, compiled: CompiledFilterPattern, message: string): number | undefined {
  const spec = t.metricValue.trim();
  if (!spec.startsWith('$')) return Number(spec);
  const v = compiled.extract(message, spec);
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Counts what the group's metric filters emit for `events[start, end)`, just stored: a match
 * adds its metric value, a miss adds the `defaultValue` when one is set.
 */
export function countMetricFilters(group: LocalLogGroup, events: readonly InputLogEvent[], start: number, end: number): void {
  for (const filter of group.metricFilters.values()) {
    const t = filter.metricTransformations[0] as LocalMetricTransformation;
    for (let i = start; i < end; i++) {
      const message = (events[i] as InputLogEvent).message;
      if (filter.compiled.matches(message)) {
        filter.matched++;
        const value = matchValue(t, filter.compiled, message);
        if (value !== undefined) {
          filter.sum += value;
          filter.samples++;
        }
      } else if (t.defaultValue !== undefined) {
        filter.sum += t.defaultValue;
        filter.samples++;
      }
    }
  }
}

/** What a metric filter has counted, for tests (`LocalEndpoint.store.metricFilterValues`). */
export interface MetricFilterValues {
  logGroupName: string;
  filterName: string;
  metricNamespace: string;
  metricName: string;
  /** Events that matched the pattern. */
  matched: number;
  /** Values emitted (matches with a value, plus misses when a defaultValue is set). */
  samples: number;
  /** Sum of the values emitted. */
  sum: number;
}

/** The counted values of every metric filter of `group`, by filter name. */
export function metricFilterValues(group: LocalLogGroup): MetricFilterValues[] {
  return [...group.metricFilters.values()]
    .sort((a, b) => (a.filterName < b.filterName ? -1 : 1))
    .map((f) => {
      const t = f.metricTransformations[0] as LocalMetricTransformation;
      return {
        logGroupName: group.name,
        filterName: f.filterName,
        metricNamespace: t.metricNamespace,
        metricName: t.metricName,
        matched: f.matched,
        samples: f.samples,
        sum: f.sum,
      };
    });
}
