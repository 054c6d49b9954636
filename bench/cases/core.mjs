/**
 * Case "core": BatchBufferImpl + createCloudWatchFlushFunction with the real SDK client (default
 * configuration: 64 MiB bound with the 'block' policy, 4 flushes in flight across streams). The
 * producer awaits every add(), which is how a caller gets back-pressure.
 */
import { BatchBufferImpl } from 'cwbatch';
import { createCloudWatchFlushFunction } from 'cwbatch/aws';
import { CREDENTIALS, REGION } from '../lib/aws-env.mjs';
import { rawMessage } from '../lib/message.mjs';

export async function setup({ url, group, stream, options = {} }) {
  const flush = createCloudWatchFlushFunction({
    clientConfig: { endpoint: url, region: REGION, credentials: { ...CREDENTIALS }, ...(options.clientConfig ?? {}) },
    ...(options.flush ?? {}),
  });
  const buffer = new BatchBufferImpl(flush, {
    onError: (error) => console.error('core: background error', error),
    ...(options.buffer ?? {}),
  });
  buffer.start();
  return {
    config: { maxBufferedBytes: buffer.config.maxBufferedBytes, maxConcurrentFlushes: buffer.config.maxConcurrentFlushes },
    log: (i) => buffer.add(group, stream, { timestamp: Date.now(), message: rawMessage(i, Date.now()) }),
    async finish() {
      await buffer.stop();
      flush.service.destroy();
      return { metrics: buffer.getMetrics() };
    },
  };
}
