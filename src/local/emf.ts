/**
 * The embedded endpoint's Embedded Metric Format (EMF) extraction: what CloudWatch Logs does with
 * an event whose message is an EMF document, applied to every event PutLogEvents stores.
 *
 * An event is an EMF document when its message is a JSON object with an `_aws` member
 * (specification, "Root node"). A document that breaks a rule of the specification gives no
 * metric at all (CloudWatch counts it in `AWS/Logs` `EMFValidationErrors`; here: `invalid`):
 * `_aws.Timestamp` a number, `CloudWatchMetrics` an array of directives, each with a `Namespace`
 * (1-255 characters), `Dimensions` (an array of DimensionSets of at most 30 keys, each a string
 * member of the root) and `Metrics` (at most 100 definitions, each `Name` a member of the root
 * holding a number or an array of at most 100 numbers; `Unit` a CloudWatch unit; `StorageResolution` 1 or 60).
 * Every DimensionSet of a directive gives each of its metrics one metric identity (namespace,
 * name, dimensions), and each value one datapoint at `_aws.Timestamp`.
 *
 * No dependency on `src/emf`: the endpoint reads lines as CloudWatch would, whoever wrote them.
 */
import type { InputLogEvent } from '../batch/types.js';

/** One metric identity and the datapoints extracted for it, in the order they were stored. */
export interface ExtractedMetric {
  /** The CloudWatch namespace. */
  Namespace: string;
  /** The metric name. */
  MetricName: string;
  /** The dimensions, in the order of the DimensionSet. */
  Dimensions: Array<{ Name: string; Value: string }>;
  /** The unit of the first datapoint (`None` when the definition gave none). */
  Unit: string;
  /** 1 (high resolution) or 60. */
  StorageResolution: 1 | 60;
  /** The values, in the order stored. */
  Values: number[];
  /** The timestamp of each value (ms since the epoch), index for index. */
  Timestamps: number[];
}

/** What `GET /metrics` answers. */
export interface ExtractedMetrics {
  /** Every metric identity seen, in the order first seen. */
  metrics: ExtractedMetric[];
  /** Stored events that were EMF documents and gave metrics. */
  documents: number;
  /** Stored events that had an `_aws` member but broke a rule of the specification (no metric extracted). */
  invalid: number;
}

const UNITS = new Set([
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits',
  'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second',
  'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second',
  'Terabits/Second', 'Count/Second', 'None',
]);

interface Datapoints {
  metric: ExtractedMetric;
}

/** Extracts and keeps EMF metrics (see the module comment). */
export class EmfExtractor {
  #byIdentity = new Map<string, Datapoints>();
  #documents = 0;
  #invalid = 0;

  /** Reads `events[start, end)` (what one PutLogEvents stored). */
  extract(events: readonly InputLogEvent[], start: number, end: number): void {
    for (let i = start; i < end; i++) {
      const points = emfDatapoints((events[i] as InputLogEvent).message);
      if (points === null) continue;
      if (points === undefined) {
        this.#invalid++;
        continue;
      }
      this.#documents++;
      for (const p of points) this.#add(p);
    }
  }

  /** A snapshot (copies). */
  snapshot(): ExtractedMetrics {
    return {
      metrics: [...this.#byIdentity.values()].map(({ metric: m }) => ({
        ...m,
        Dimensions: m.Dimensions.map((d) => ({ ...d })),
        Values: [...m.Values],
        Timestamps: [...m.Timestamps],
      })),
      documents: this.#documents,
      invalid: this.#invalid,
    };
  }

  /** Forgets everything. */
  clear(): void {
    this.#byIdentity.clear();
    this.#documents = 0;
    this.#invalid = 0;
  }

  #add(p: EmfDatapoint): void {
    const key = JSON.stringify([p.namespace, p.name, p.dimensions]);
    let entry = this.#byIdentity.get(key);
    if (entry === undefined) {
      entry = {
        metric: {
          Namespace: p.namespace,
          MetricName: p.name,
          Dimensions: p.dimensions.map(([Name, Value]) => ({ Name, Value })),
          Unit: p.unit,
          StorageResolution: p.resolution,
          Values: [],
          Timestamps: [],
        },
      };
      this.#byIdentity.set(key, entry);
    }
    for (const v of p.values) {
      entry.metric.Values.push(v);
      entry.metric.Timestamps.push(p.timestamp);
    }
  }
}

/**
 * The datapoints of one message: `null` when it is not an EMF document (not a JSON object with an
 * `_aws` member), `undefined` when it is one that breaks a rule (CloudWatch extracts nothing).
 */
export function emfDatapoints(message: string): EmfDatapoint[] | null | undefined {
  // Cheap test first: most events of most streams are not EMF, and parsing each would cost.
  if (!message.includes('"_aws"')) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(message);
  } catch {
    return null;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc) || !Object.hasOwn(doc, '_aws')) return null;
  return readDocument(doc as Record<string, unknown>);
}

/** One metric of one EMF document under one dimension set, with its values. */
export interface EmfDatapoint {
  /** The CloudWatch namespace. */
  namespace: string;
  /** The metric name. */
  name: string;
  /** `[name, value]` pairs of the DimensionSet, in its order. */
  dimensions: Array<[string, string]>;
  /** The unit (`None` when the definition gave none). */
  unit: string;
  /** 1 or 60. */
  resolution: 1 | 60;
  /** The values (one, or up to 100). */
  values: number[];
  /** `_aws.Timestamp`, ms since the epoch. */
  timestamp: number;
}

/** The datapoints of a document, or `undefined` when it breaks a rule (then nothing is extracted). */
function readDocument(doc: Record<string, unknown>): EmfDatapoint[] | undefined {
  const aws = doc['_aws'];
  if (typeof aws !== 'object' || aws === null || Array.isArray(aws)) return undefined;
  const { Timestamp: timestamp, CloudWatchMetrics: directives } = aws as Record<string, unknown>;
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || !Array.isArray(directives)) return undefined;
  const points: EmfDatapoint[] = [];
  for (const directive of directives as unknown[]) {
    if (typeof directive !== 'object' || directive === null) return undefined;
    const { Namespace: namespace, Dimensions: sets, Metrics: definitions } = directive as Record<string, unknown>;
    if (!isName(namespace) || !Array.isArray(sets) || sets.length === 0 || !Array.isArray(definitions) || definitions.length > 100) return undefined;
    const dimensionSets: Array<Array<[string, string]>> = [];
    for (const set of sets as unknown[]) {
      if (!Array.isArray(set) || set.length > 30) return undefined;
      const dims: Array<[string, string]> = [];
      for (const key of set as unknown[]) {
        if (!isName(key) || !Object.hasOwn(doc, key) || typeof doc[key] !== 'string') return undefined;
        dims.push([key, doc[key]]);
      }
      dimensionSets.push(dims);
    }
    for (const definition of definitions as unknown[]) {
      if (typeof definition !== 'object' || definition === null) return undefined;
      const { Name: name, Unit: unit, StorageResolution: resolution } = definition as Record<string, unknown>;
      if (!isName(name) || !Object.hasOwn(doc, name)) return undefined;
      if (unit !== undefined && (typeof unit !== 'string' || !UNITS.has(unit))) return undefined;
      if (resolution !== undefined && resolution !== 1 && resolution !== 60) return undefined;
      const target = doc[name];
      const values = typeof target === 'number' ? [target] : target;
      if (!Array.isArray(values) || values.length > 100 || !values.every((v) => typeof v === 'number' && Number.isFinite(v))) return undefined;
      for (const dimensions of dimensionSets) {
        points.push({ namespace, name, dimensions, unit: (unit as string | undefined) ?? 'None', resolution: resolution ?? 60, values: values as number[], timestamp });
      }
    }
  }
  return points;
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= 255;
}
