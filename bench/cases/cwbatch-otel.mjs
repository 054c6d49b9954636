/**
 * Case "cwbatch/otel": `@opentelemetry/sdk-logs` 3.x (LoggerProvider + BatchLogRecordProcessor)
 * exporting through `CloudWatchLogRecordExporter` with its defaults (64 MiB bound, 'block'), the
 * loopback endpoint and fake credentials through `clientConfig`. Each record carries a span
 * context (trace and span ids in the line) and `seq` as an attribute. The SDK never blocks its
 * emitters (its processor drops beyond `maxQueueSize`), so the loop yields to the event loop once
 * per export batch (512 records) for the processor to export, and the queue is sized for 128 Ki
 * records: any record it dropped shows as lost. Finished with `provider.shutdown()`.
 * The SDK is loaded from cwbatch's own location (its devDependencies), as `baseline` does for the AWS SDK.
 */
import { createRequire } from 'node:module';
import { CREDENTIALS, REGION } from '../lib/aws-env.mjs';
import { TEXT } from '../lib/message.mjs';

const BATCH = 512;

export async function setup({ url, group, stream }) {
  const fromCwbatch = createRequire(createRequire(import.meta.url).resolve('cwbatch/otel'));
  const sdk = await import(fromCwbatch.resolve('@opentelemetry/sdk-logs'));
  const api = await import(fromCwbatch.resolve('@opentelemetry/api'));
  const { resourceFromAttributes } = await import(fromCwbatch.resolve('@opentelemetry/resources'));
  const { CloudWatchLogRecordExporter } = await import('cwbatch/otel');
  const exporter = new CloudWatchLogRecordExporter({
    logGroupName: group,
    logStreamName: stream,
    clientConfig: { endpoint: url, region: REGION, credentials: { ...CREDENTIALS } },
    shutdownTimeoutMs: 600_000,
  });
  const provider = new sdk.LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench' }),
    processors: [new sdk.BatchLogRecordProcessor({ exporter, maxQueueSize: 128 * 1024, maxExportBatchSize: BATCH })],
  });
  const logger = provider.getLogger('bench', '1.0.0');
  const ctx = api.trace.setSpanContext(api.context.active(), { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174', traceFlags: 1 });
  const yieldNow = () => new Promise((resolve) => setImmediate(resolve));
  return {
    config: { processor: 'BatchLogRecordProcessor', maxQueueSize: 128 * 1024, maxExportBatchSize: BATCH, maxBufferedBytes: 64 * 1024 * 1024 },
    log: (i) => {
      logger.emit({ severityNumber: 9, severityText: 'INFO', body: TEXT, attributes: { seq: i, path: `/api/v1/orders/${i % 100000}`, status: 200, ms: i % 50 }, context: ctx });
      if (i % BATCH === BATCH - 1) return yieldNow();
      return undefined;
    },
    async finish() {
      await provider.shutdown();
      return exporter.getMetrics();
    },
  };
}
