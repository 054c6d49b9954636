/**
 * Case "cwbatch/emf": one EMF line per event through `EmfSink` with its defaults (64 MiB bound,
 * 'block'): a logger with one dimension set, two metrics and `seq` as a property, flushed at once
 * (a request's worth of metrics), the loopback endpoint and fake credentials through
 * `clientConfig`. The loop waits (`sink.room()`) while lines wait for room in the buffer, as a
 * producer that can wait should. Finished with `sink.close()`.
 */
import { CREDENTIALS, REGION } from '../lib/aws-env.mjs';

export async function setup({ url, group, stream }) {
  const { EmfSink } = await import('cwbatch/emf');
  const sink = new EmfSink({
    logGroupName: group,
    logStreamName: stream,
    namespace: 'Bench',
    dimensions: { Service: 'bench' },
    clientConfig: { endpoint: url, region: REGION, credentials: { ...CREDENTIALS } },
    shutdownTimeoutMs: 600_000,
  });
  const m = sink.logger();
  return {
    config: { maxBufferedBytes: 64 * 1024 * 1024, metricsPerLine: 2 },
    log: (i) => {
      m.putMetric('Latency', i % 50, 'Milliseconds').putMetric('Requests', 1, 'Count').setProperty('seq', i).flush();
      return sink.waiting > 0 ? sink.room() : undefined;
    },
    async finish() {
      await sink.close();
      return sink.getMetrics();
    },
  };
}
