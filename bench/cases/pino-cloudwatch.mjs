/**
 * Case "pino-cloudwatch" (dbhowell/pino-cloudwatch, AWS SDK v2), used in-process as the
 * writable stream its README documents (`split2` -> `pinoCloudWatch(options)`) behind pino. It
 * has no endpoint option: the loopback endpoint is set through the SDK v2 global configuration
 * (`AWS.config.update({ endpoint })`, on the same aws-sdk copy it loads). Defaults otherwise
 * (interval 1 s, 256 KB batches, at most 5 requests/s).
 */
import { createRequire } from 'node:module';
import pino from 'pino';
import { CREDENTIALS, REGION } from '../lib/aws-env.mjs';
import { TEXT, fields } from '../lib/message.mjs';

export async function setup({ url, group, stream }) {
  const require = createRequire(import.meta.url);
  const own = createRequire(require.resolve('pino-cloudwatch'));
  own('aws-sdk').config.update({ endpoint: url, sslEnabled: false });
  const pinoCloudWatch = own('pino-cloudwatch');
  const split = own('split2')();
  const cloudwatch = pinoCloudWatch(
    { group, stream, aws_region: REGION, aws_access_key_id: CREDENTIALS.accessKeyId, aws_secret_access_key: CREDENTIALS.secretAccessKey },
    (error) => console.error('pino-cloudwatch: error', error?.code, error?.message),
  );
  split.pipe(cloudwatch);
  const logger = pino({}, split);
  return {
    config: { interval: 1000 },
    log: (i) => {
      logger.info(fields(i), TEXT);
    },
    async finish() {
      split.end();
    },
  };
}
