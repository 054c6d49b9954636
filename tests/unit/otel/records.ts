import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';

/** A ReadableLogRecord as the SDK hands it to an exporter (only the fields the exporter reads). */
export function record(fields: Partial<Record<keyof ReadableLogRecord, unknown>> = {}): ReadableLogRecord {
  return {
    hrTime: [1_764_000_000, 123_999_999],
    hrTimeObserved: [1_764_000_000, 200_000_000],
    resource: { attributes: { 'service.name': 'shop' } },
    instrumentationScope: { name: 'checkout', version: '1.2.0' },
    attributes: {},
    droppedAttributesCount: 0,
    ...fields,
  } as unknown as ReadableLogRecord;
}
