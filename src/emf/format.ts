/**
 * CloudWatch Embedded Metric Format (EMF) lines: the rules of the specification as plain data,
 * and a pure serializer that splits what one logger holds into lines that obey them.
 *
 * Specification: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 * - a MetricDirective holds at most 100 MetricDefinitions ({@link MAX_METRICS_PER_LINE});
 * - a DimensionSet holds at most 30 dimension keys ({@link MAX_DIMENSIONS_PER_SET});
 * - a metric target holds a number or an array of at most 100 numbers ({@link MAX_VALUES_PER_METRIC});
 * - namespace, metric names and dimension keys are 1-255 characters (the specification's JSON schema);
 * - a dimension target is a string; `Unit` one of CloudWatch's units; `StorageResolution` 1 or 60.
 */

/** Most MetricDefinitions in one line's directive. */
export const MAX_METRICS_PER_LINE = 100;
/** Most dimension keys in one DimensionSet. */
export const MAX_DIMENSIONS_PER_SET = 30;
/** Most values of one metric in one line. */
export const MAX_VALUES_PER_METRIC = 100;
/** Longest namespace, metric name or dimension key, characters (the schema's `maxLength`). */
export const MAX_NAME_LENGTH = 255;
/** Longest dimension value, characters (CloudWatch's `Dimension.Value`). */
export const MAX_DIMENSION_VALUE_LENGTH = 1024;

/** The units CloudWatch accepts (`MetricDatum.Unit`; the schema's `Unit` pattern). */
export const UNITS = [
  'Seconds',
  'Microseconds',
  'Milliseconds',
  'Bytes',
  'Kilobytes',
  'Megabytes',
  'Gigabytes',
  'Terabytes',
  'Bits',
  'Kilobits',
  'Megabits',
  'Gigabits',
  'Terabits',
  'Percent',
  'Count',
  'Bytes/Second',
  'Kilobytes/Second',
  'Megabytes/Second',
  'Gigabytes/Second',
  'Terabytes/Second',
  'Bits/Second',
  'Kilobits/Second',
  'Megabits/Second',
  'Gigabits/Second',
  'Terabits/Second',
  'Count/Second',
  'None',
] as const;

/** A CloudWatch metric unit. */
export type Unit = (typeof UNITS)[number];

/** `StorageResolution`: 1 (high resolution, per second) or 60 (standard, per minute; the default). */
export type StorageResolution = 1 | 60;

const UNIT_SET: ReadonlySet<string> = new Set(UNITS);

/** One metric's values as a logger holds them (in the order put). */
export interface MetricEntry {
  values: number[];
  unit: Unit | undefined;
  resolution: StorageResolution;
}

/** Everything one logger holds at `flush()`. */
export interface EmfDocument {
  namespace: string;
  /** Dimension sets: each an ordered list of keys whose values are in `dimensionValues`. */
  dimensionSets: ReadonlyArray<readonly string[]>;
  dimensionValues: Readonly<Record<string, string>>;
  metrics: ReadonlyMap<string, MetricEntry>;
  properties: Readonly<Record<string, unknown>>;
  /** Ms since the epoch: `_aws.Timestamp` and the event timestamp. */
  timestamp: number;
}

/** Why a name, value or unit is not valid EMF, or `undefined` when it is. */
export function nameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return `expected a string, got ${name === null ? 'null' : typeof name}`;
  if (name.length < 1 || name.length > MAX_NAME_LENGTH) return `expected 1 to ${MAX_NAME_LENGTH} characters, got ${name.length}`;
  // The schema's pattern `^(.*)$`: `.` matches no line terminator.
  if (/[\n\r\u2028\u2029]/.test(name)) return 'expected no line break';
  if (name.trim() === '') return 'expected something other than white space';
  return undefined;
}

/** See {@link nameProblem}. */
export function dimensionValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `expected a string, got ${value === null ? 'null' : typeof value}`;
  if (value.length < 1 || value.length > MAX_DIMENSION_VALUE_LENGTH) return `expected 1 to ${MAX_DIMENSION_VALUE_LENGTH} characters, got ${value.length}`;
  return undefined;
}

/** True for a CloudWatch unit. */
export function isUnit(unit: unknown): unit is Unit {
  return typeof unit === 'string' && UNIT_SET.has(unit);
}

/**
 * Serializes a document into as few lines as the limits allow: line `k` carries the `k`-th run of
 * 100 values of every metric that has one, at most 100 metrics a line. Every line repeats the
 * namespace, the dimension sets and their values, and the properties (so each line stands alone,
 * as CloudWatch reads it). Metric values win over a property or dimension of the same key.
 * Returns no line when there is no metric.
 */
export function serializeEmf(doc: EmfDocument): string[] {
  const entries = [...doc.metrics].filter(([, entry]) => entry.values.length > 0);
  if (entries.length === 0) return [];
  const dimensions = doc.dimensionSets.length === 0 ? [[]] : doc.dimensionSets.map((set) => [...set]);
  const lines: string[] = [];
  const rounds = Math.max(...entries.map(([, e]) => Math.ceil(e.values.length / MAX_VALUES_PER_METRIC)));
  for (let round = 0; round < rounds; round++) {
    const from = round * MAX_VALUES_PER_METRIC;
    const present = entries.filter(([, e]) => e.values.length > from);
    for (let i = 0; i < present.length; i += MAX_METRICS_PER_LINE) {
      const slice = present.slice(i, i + MAX_METRICS_PER_LINE);
      const definitions = slice.map(([name, e]) => {
        const definition: Record<string, unknown> = { Name: name };
        if (e.unit !== undefined) definition['Unit'] = e.unit;
        if (e.resolution === 1) definition['StorageResolution'] = 1;
        return definition;
      });
      // No prototype: a property named `__proto__` is written as a member, never as the prototype.
      const root = Object.create(null) as Record<string, unknown>;
      root['_aws'] = { Timestamp: doc.timestamp, CloudWatchMetrics: [{ Namespace: doc.namespace, Dimensions: dimensions, Metrics: definitions }] };
      for (const [key, value] of Object.entries(doc.properties)) if (key !== '_aws') root[key] = value;
      for (const [key, value] of Object.entries(doc.dimensionValues)) root[key] = value;
      for (const [name, e] of slice) {
        const values = e.values.slice(from, from + MAX_VALUES_PER_METRIC);
        root[name] = values.length === 1 ? values[0] : values;
      }
      lines.push(JSON.stringify(root));
    }
  }
  return lines;
}
