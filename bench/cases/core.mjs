/**
 * Case "core": BatchBufferImpl + createCloudWatchFlushFunction with the real SDK client (default
 * configuration: 64 MiB bound with the 'block' policy, 4 flushes in flight across streams). The
 * producer awaits every add(), which is how a caller gets back-pressure. With `options.tryAdd`
 * (case `core-try`) it calls tryAdd() and awaits add() only when that returns false, as the
 * winston and pino transports do.
 */
import { BatchBufferImpl } from 'cwbatch';
import { createCloudWatchFlushFunction } from 'cwbatch/aws';
import { CREDENTIALS, REGION } from '../lib/aws-env.mjs';
import { rawMessage } from '../lib/message.mjs';

export async function setup({ url, group, stream, options = {} }) {
  const clientConfig = { endpoint: url, region: REGION, credentials: { ...CREDENTIALS }, ...(options.clientConfig ?? {}) };
  // The client cwbatch builds from clientConfig (maxAttempts 1, fastBody unless `flush.fastBody` is false).
  const flush = createCloudWatchFlushFunction({ clientConfig, ...(options.flush ?? {}) });
  const buffer = new BatchBufferImpl(flush, {
    onError: (error) => console.error('core: background error', error),
    ...(options.buffer ?? {}),
  });
  buffer.start();
  return {
    config: {
      maxBufferedBytes: buffer.config.maxBufferedBytes,
      maxConcurrentFlushes: buffer.config.maxConcurrentFlushes,
      fastBody: options.flush?.fastBody !== false,
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
      return { metrics: buffer.getMetrics() };
    },
  };
}
