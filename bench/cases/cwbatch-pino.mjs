/**
 * Case "cwbatch/pino": the `cwbatch/pino` transport target with its defaults (4 MiB bound,
 * 'block') and `pino.transport({ sync: true })`, as cwbatch's README recommends (pino's thread
 * waits for the worker instead of queueing the burst in memory); the loopback endpoint and fake
 * credentials through `clientConfig`, the same pino logger settings as the other pino cases. `shutdownTimeoutMs` raised from 8 s so that closing after a
 * 1,000,000-event burst waits for delivery instead of dropping (the peers' deadlines are raised
 * the same way). Timed from the transport's 'ready' (worker started).
 */
import { once } from 'node:events';
import pino from 'pino';
import { CREDENTIALS, REGION } from '../lib/aws-env.mjs';
import { TEXT, fields } from '../lib/message.mjs';
import { profiled } from '../lib/profile.mjs';

export async function setup({ url, group, stream, workerProfile, options = {} }) {
  const transport = pino.transport({
    ...profiled('cwbatch/pino', workerProfile),
    sync: true,
    // Case `cwbatch-pino-young48`: pino's `worker` option (Worker options: resourceLimits).
    ...(options.worker === undefined ? {} : { worker: options.worker }),
    options: {
      ...profiled('cwbatch/pino', workerProfile).options,
      logGroupName: group,
      logStreamName: stream,
      clientConfig: { endpoint: url, region: REGION, credentials: { ...CREDENTIALS } },
      shutdownTimeoutMs: 600_000,
    },
  });
  await once(transport, 'ready');
  const logger = pino({}, transport);
  return {
    config: { maxBufferedBytes: 4 * 1024 * 1024, sync: true, worker: options.worker },
    log: (i) => {
      logger.info(fields(i), TEXT);
    },
    async finish() {
      const closed = once(transport, 'close');
      transport.end();
      await closed;
    },
  };
}
