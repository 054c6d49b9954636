/**
 * cwbatch/otel with the real `@opentelemetry/sdk-logs` 3.x and `@opentelemetry/api` against the
 * embedded endpoint. sdk-logs 3.x needs Node >= 22.15: on an older Node these tests are skipped
 * (with a message); the SDK is imported only inside them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEndpoint, type LocalEndpoint } from '../../src/local/index.js';
import { CloudWatchLogRecordExporter, type TransportFailure } from '../../src/otel/index.js';
import { clientConfig } from '../helpers/client.js';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const supported = major > 22 || (major === 22 && minor >= 15);
if (!supported) {
  console.warn(`otel-exporter.test.ts: skipped: @opentelemetry/sdk-logs 3.x needs Node >= 22.15, this is ${process.version}`);
}

type SdkLogs = typeof import('@opentelemetry/sdk-logs');
type Api = typeof import('@opentelemetry/api');
type Resources = typeof import('@opentelemetry/resources');

describe.skipIf(!supported)('cwbatch/otel with @opentelemetry/sdk-logs', () => {
  let endpoint: LocalEndpoint;
  let sdk: SdkLogs;
  let api: Api;
  let resources: Resources;

  beforeAll(async () => {
    endpoint = await startLocalEndpoint({ port: 0 });
    sdk = await import('@opentelemetry/sdk-logs');
    api = await import('@opentelemetry/api');
    resources = await import('@opentelemetry/resources');
  });
  afterAll(async () => {
    await endpoint?.close();
  });

  function exporterFor(group: string, failures: TransportFailure[], extra: Record<string, unknown> = {}): CloudWatchLogRecordExporter {
    return new CloudWatchLogRecordExporter({
      logGroupName: group,
      logStreamName: '{service.name}/{host.name|nohost}',
      clientConfig: clientConfig(endpoint.url),
      onFailure: (f) => failures.push(f),
      ...extra,
    });
  }

  /** A span context as the API would carry it (a sampled trace), for record i. */
  function spanContextOf(i: number): { traceId: string; spanId: string; traceFlags: number } {
    const hex = i.toString(16).padStart(8, '0');
    return { traceId: `${hex}aaaabbbbccccdddd${hex}`, spanId: `${hex}eeeeffff`, traceFlags: 1 };
  }

  it('100,000 records through a BatchLogRecordProcessor arrive exactly once after provider.shutdown(), trace ids intact', async () => {
    const N = 100_000;
    const failures: TransportFailure[] = [];
    const exporter = exporterFor('/otel/acceptance', failures);
    const provider = new sdk.LoggerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': 'checkout' }),
      // The processor's own queue (default 2,048) drops what a synchronous burst puts beyond it:
      // sized for the burst, so that every loss counted here would be the exporter's.
      processors: [new sdk.BatchLogRecordProcessor({ exporter, maxQueueSize: N })],
    });
    const logger = provider.getLogger('acceptance', '1.0.0');
    const t0 = Date.now();
    for (let i = 0; i < N; i++) {
      const ctx = api.trace.setSpanContext(api.context.active(), spanContextOf(i));
      logger.emit({
        timestamp: t0 + (i % 1000),
        severityNumber: api.SeverityNumber?.INFO ?? 9,
        severityText: 'INFO',
        body: `order ${i}`,
        attributes: { seq: i },
        context: ctx,
      } as Parameters<typeof logger.emit>[0]);
    }
    await provider.shutdown();

    expect(failures).toEqual([]);
    const stream = `checkout/nohost`;
    expect(endpoint.store.streamNames('/otel/acceptance')).toEqual([stream]);
    const events = endpoint.store.events('/otel/acceptance', stream);
    expect(events.length).toBe(N);
    const seen = new Uint8Array(N);
    for (const event of events) {
      const line = JSON.parse(event.message) as Record<string, any>;
      const i = line['attributes'].seq as number;
      seen[i]!++;
      const expected = spanContextOf(i);
      expect(line['trace_id']).toBe(expected.traceId);
      expect(line['span_id']).toBe(expected.spanId);
      expect(line['flags']).toBe(1);
      expect(line['body']).toBe(`order ${i}`);
      expect(event.timestamp).toBe(t0 + (i % 1000));
    }
    expect(seen.every((c) => c === 1)).toBe(true);
    const metrics = exporter.getMetrics()!;
    expect(metrics.eventsDelivered).toBe(N);
  });

  it('writes the Collector shape: severity, body, attributes, scope, resource; under a SimpleLogRecordProcessor', async () => {
    const failures: TransportFailure[] = [];
    const exporter = exporterFor('/otel/shape', failures);
    const provider = new sdk.LoggerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': 'shop', 'host.name': 'web-1' }),
      processors: [new sdk.SimpleLogRecordProcessor({ exporter })],
    });
    const logger = provider.getLogger('checkout', '1.2.0');
    const ctx = api.trace.setSpanContext(api.context.active(), {
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      traceFlags: 1,
    });
    const t = Date.now() - 60_000;
    logger.emit({ timestamp: t, severityNumber: 17, severityText: 'ERROR', body: { msg: 'failed', code: 7 }, attributes: { 'order.id': 42 }, context: ctx });
    logger.emit({ timestamp: t + 1, body: 'no trace' });
    await provider.forceFlush();
    await provider.shutdown();
    expect(failures).toEqual([]);
    const events = endpoint.store.events('/otel/shape', 'shop/web-1');
    expect(events.map((e) => e.message)).toEqual([
      '{"body":{"msg":"failed","code":7},"severity_number":17,"severity_text":"ERROR","flags":1,"trace_id":"5b8efff798038103d269b633813fc60c","span_id":"eee19b7ec3c1b174","attributes":{"order.id":42},"scope":{"name":"checkout","version":"1.2.0"},"resource":{"service.name":"shop","host.name":"web-1"}}',
      '{"body":"no trace","scope":{"name":"checkout","version":"1.2.0"},"resource":{"service.name":"shop","host.name":"web-1"}}',
    ]);
    expect(events.map((e) => e.timestamp)).toEqual([t, t + 1]);
  });

  it('forceFlush() waits for delivery; records exported after shutdown are reported as lost', async () => {
    const failures: TransportFailure[] = [];
    const exporter = exporterFor('/otel/flush', failures, { flushIntervalMs: 600_000 });
    const provider = new sdk.LoggerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': 'svc' }),
      processors: [new sdk.BatchLogRecordProcessor({ exporter, scheduledDelayMillis: 600_000 })],
    });
    const logger = provider.getLogger('x');
    for (let i = 0; i < 10; i++) logger.emit({ body: `r${i}` });
    await provider.forceFlush();
    expect(endpoint.store.eventCount('/otel/flush', 'svc/nohost')).toBe(10);
    await provider.shutdown();
    const results: number[] = [];
    const late = { hrTime: [1, 0], resource: { attributes: {} }, attributes: {}, instrumentationScope: { name: '' }, droppedAttributesCount: 0 };
    exporter.export([late as never], (r) => results.push(r.code));
    expect(results).toEqual([1]);
    expect(failures.map((f) => f.reason)).toEqual(['shutdown']);
  });
});
