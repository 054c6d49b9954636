/**
 * Case "winston-cloudwatch" (lazywithclass/winston-cloudwatch, AWS SDK v3): defaults, except
 * the loopback endpoint and fake credentials through its documented `awsOptions`, and the same
 * message as the other winston cases (`messageFormatter` returning winston's formatted line).
 * Finishing: end the logger, then `kthxbye()` (its documented flush) with a deadline long enough
 * for the whole burst (its default of 10 s would give up on large bursts).
 */
import WinstonCloudWatch from 'winston-cloudwatch';
import { CREDENTIALS, REGION } from '../lib/aws-env.mjs';
import { MESSAGE, makeLogger } from './winston-common.mjs';

export async function setup({ url, group, stream, deadlineMs }) {
  const transport = new WinstonCloudWatch({
    logGroupName: group,
    logStreamName: stream,
    awsOptions: { endpoint: url, region: REGION, credentials: { ...CREDENTIALS } },
    messageFormatter: (info) => info[MESSAGE],
    errorHandler: (error) => console.error('winston-cloudwatch: error', error?.name, error?.message),
  });
  const { log, end } = makeLogger(transport);
  return {
    config: { uploadRate: transport.uploadRate },
    log,
    async finish() {
      await end();
      transport.flushTimeout = Date.now() + deadlineMs;
      await new Promise((resolve, reject) => transport.kthxbye((error) => (error ? reject(error) : resolve())));
      transport.cloudwatchlogs.destroy?.();
    },
  };
}
