/**
 * One OpenTelemetry log record as one CloudWatch Logs event, in the shape of the OpenTelemetry
 * Collector contrib `awscloudwatchlogsexporter` (its `cwLogBody`, exporter.go): the same keys, in
 * the same order, each left out when empty, so that Logs Insights queries written for the
 * Collector's output work on ours.
 *
 * ```json
 * {"body":"order placed","severity_number":9,"severity_text":"INFO","flags":1,
 *  "trace_id":"5b8efff798038103d269b633813fc60c","span_id":"eee19b7ec3c1b174",
 *  "attributes":{"order.id":42},"scope":{"name":"checkout","version":"1.2.0"},
 *  "resource":{"service.name":"shop"}}
 * ```
 *
 * One addition: `event_name` (after `severity_text`), for records emitted with an `eventName`
 * (the Collector's struct predates it; nothing of the record is dropped).
 * Byte arrays (`Uint8Array` values) are written in base64, as Go's `encoding/json` writes `[]byte`.
 */
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';

/** An all-zero trace or span id means "none" (W3C Trace Context); the Collector leaves it out. */
const INVALID_ID = /^0*$/;

/** The event timestamp: the record's `hrTime` in whole ms since the epoch. */
export function recordTimestamp(record: Pick<ReadableLogRecord, 'hrTime'>): number {
  const [seconds, nanos] = record.hrTime;
  return seconds * 1000 + Math.floor(nanos / 1_000_000);
}

/**
 * The record as the Collector's JSON line (see the module comment for the shape).
 *
 * @param resourceJson the resource's attributes already serialized (`null`: none), to serialize
 *   them once per resource; default: serialized from `record.resource`.
 */
export function formatLogRecord(record: ReadableLogRecord, resourceJson?: string | null): string {
  const out: Record<string, unknown> = {};
  const body = plain(record.body);
  if (body !== undefined && body !== null) out['body'] = body;
  if (record.severityNumber !== undefined && record.severityNumber !== 0) out['severity_number'] = record.severityNumber;
  if (record.severityText !== undefined && record.severityText !== '') out['severity_text'] = record.severityText;
  if (record.eventName !== undefined && record.eventName !== '') out['event_name'] = record.eventName;
  if (record.droppedAttributesCount > 0) out['dropped_attributes_count'] = record.droppedAttributesCount;
  const span = record.spanContext;
  if (span !== undefined) {
    if (span.traceFlags !== 0) out['flags'] = span.traceFlags;
    if (!INVALID_ID.test(span.traceId)) out['trace_id'] = span.traceId;
    if (!INVALID_ID.test(span.spanId)) out['span_id'] = span.spanId;
  }
  const attributes = attributesOf(record.attributes);
  if (attributes !== undefined) out['attributes'] = attributes;
  const scope = record.instrumentationScope;
  if (scope.name !== '') {
    const scopeOut: Record<string, unknown> = { name: scope.name };
    if (scope.version !== undefined && scope.version !== '') scopeOut['version'] = scope.version;
    const scopeAttributes = attributesOf(scope.attributes);
    if (scopeAttributes !== undefined) scopeOut['attributes'] = scopeAttributes;
    out['scope'] = scopeOut;
  }
  const head = JSON.stringify(out);
  const resource = resourceJson === undefined ? resourceAttributesJson(record.resource.attributes) : resourceJson;
  if (resource === undefined || resource === null) return head;
  // The resource is the same for every record of a provider: serialized once, spliced in.
  return head === '{}' ? `{"resource":${resource}}` : `${head.slice(0, -1)},"resource":${resource}}`;
}

/** A resource's attributes as JSON, or `undefined` when there are none (left out, as by the Collector). */
export function resourceAttributesJson(attributes: Readonly<Record<string, unknown>>): string | undefined {
  const value = attributesOf(attributes);
  return value === undefined ? undefined : JSON.stringify(value);
}

function attributesOf(attributes: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> | undefined {
  if (attributes === undefined) return undefined;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(attributes)) {
    const value = plain(attributes[key]);
    if (value === undefined) continue;
    setOwn((out ??= {}), key, value);
  }
  return out;
}

/**
 * An OpenTelemetry `AnyValue` as plain JSON data: byte arrays in base64, maps and arrays walked,
 * `undefined` left out. Primitives are returned as they are (the common case costs nothing).
 */
function plain(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return typeof value === 'bigint' ? value.toString() : value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (Array.isArray(value)) return value.map((item) => plain(item) ?? null);
  if (value instanceof Date) return value.toISOString();
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const item = plain((value as Record<string, unknown>)[key]);
    if (item !== undefined) setOwn(out, key, item);
  }
  return out;
}

/**
 * `target[key] = value` as an own property, whatever the key: assigning to `__proto__` would set
 * the object's prototype instead and the key would vanish from the line (a property test found a
 * body `{"__proto__": null}` written as `{}`).
 */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
