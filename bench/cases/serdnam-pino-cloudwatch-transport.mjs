/**
 * Case "@serdnam/pino-cloudwatch-transport" (AWS SDK v3, a pino transport in a worker thread):
 * defaults (interval 1 s), fake credentials through its options; it has no endpoint option, so
 * the SDK v3 reads the loopback endpoint from `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS`, set by the
 * driver for every child. Timed from the transport's 'ready' (worker started).
 */
import { once } from 'node:events';
import pino from 'pino';
import { CREDENTIALS, REGION } from '../lib/aws-env.mjs';
import { TEXT, fields } from '../lib/message.mjs';

export async function setup({ group, stream }) {
  const transport = pino.transport({
    target: '@serdnam/pino-cloudwatch-transport',
    options: {
      logGroupName: group,
      logStreamName: stream,
      awsRegion: REGION,
      awsAccessKeyId: CREDENTIALS.accessKeyId,
      awsSecretAccessKey: CREDENTIALS.secretAccessKey,
    },
  });
  await once(transport, 'ready');
  const logger = pino({}, transport);
  return {
    config: { interval: 1000 },
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
