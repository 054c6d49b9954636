/**
 * Case "cwbatch/winston": CloudWatchTransport with its defaults (64 MiB bound, 'block'), the
 * loopback endpoint and fake credentials through `clientConfig`, the same winston and format as
 * the other winston cases. Its `_final` waits for delivery, so the transport's 'finish' means
 * delivered. `flushOnExit: false`: the child exits on its own schedule after measuring.
 */
import { CloudWatchTransport } from 'cwbatch/winston';
import { CREDENTIALS, REGION } from '../lib/aws-env.mjs';
import { makeLogger } from './winston-common.mjs';

export async function setup({ url, group, stream, options = {} }) {
  const transport = new CloudWatchTransport({
    logGroupName: group,
    logStreamName: stream,
    clientConfig: { endpoint: url, region: REGION, credentials: { ...CREDENTIALS } },
    flushOnExit: false,
    // Long enough for the largest burst: the deadline of the final delivery (default 30 s).
    shutdownTimeoutMs: 600_000,
    ...options,
  });
  transport.on('warn', (warning) => console.error('cwbatch/winston: warn', warning?.message));
  const { log, end } = makeLogger(transport);
  return {
    config: { maxBufferedBytes: transport.sink.buffer?.config?.maxBufferedBytes },
    log,
    async finish() {
      await end();
      return { metrics: transport.getMetrics() };
    },
  };
}
