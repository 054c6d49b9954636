/**
 * Case "core": BatchBufferImpl + createCloudWatchFlushFunction with the real SDK client (default
 * configuration: 64 MiB bound with the 'block' policy, 4 flushes in flight across streams). The
 * producer awaits every add(), which is how a caller gets back-pressure. With `options.tryAdd`
 * (case `core-try`) it calls tryAdd() and awaits add() only when that returns false, as the
 * winston and pino transports do.
 */
import { BatchBufferImpl } from 'cwbatch';
import { createCloudWatchFlushFunction, createCloudWatchLogsClient, fastPutLogEventsBody } from 'cwbatch/aws';
import { CREDENTIALS, REGION } from '../lib/aws-env.mjs';
import { rawMessage } from '../lib/message.mjs';

export async function setup({ url, group, stream, options = {} }) {
  const clientConfig = { endpoint: url, region: REGION, credentials: { ...CREDENTIALS }, ...(options.clientConfig ?? {}) };
  // fastBody: the same client (createCloudWatchLogsClient, maxAttempts 1) with the opt-in
  // fastPutLogEventsBody() plugin from src/aws/fast-body.ts.
  let client;
  if (options.fastBody) {
    client = createCloudWatchLogsClient(clientConfig);
    client.middlewareStack.use(fastPutLogEventsBody());
  }
  const flush = createCloudWatchFlushFunction({
    ...(client ? { client } : { clientConfig }),
    ...(options.flush ?? {}),
  });
  const buffer = new BatchBufferImpl(flush, {
    onError: (error) => console.error('core: background error', error),
    ...(options.buffer ?? {}),
  });
  buffer.start();
  return {
    config: {
      maxBufferedBytes: buffer.config.maxBufferedBytes,
      maxConcurrentFlushes: buffer.config.maxConcurrentFlushes,
      fastBody: Boolean(options.fastBody),
    },
    log: options.tryAdd
      ? (i) => {
          const now = Date.now();
          const event = { timestamp: now, message: rawMessage(i, now) };
          return buffer.tryAdd(group, stream, event) ? undefined : buffer.add(group, stream, event);
        }
      : (i) => buffer.add(group, stream, { timestamp: Date.now(), message: rawMessage(i, Date.now()) }),
    /** Bytes the buffer counts (UTF-8 + 26 per event), buffered and in flight: for the heap probe. */
    counted() {
      const m = buffer.getMetrics();
      return m.bytesBuffered + m.bytesInFlight;
    },
    async finish() {
      await buffer.stop();
      flush.service.destroy();
      client?.destroy();
      return { metrics: buffer.getMetrics() };
    },
  };
}
