/**
 * Case "winston-aws-cloudwatch" (timdp/winston-aws-cloudwatch, AWS SDK v2). Its defaults (20
 * events per request, one request per 2 s: 10 events/s) cannot drain a burst at all, so it is
 * tuned as far as the service allows: `batchSize` 7,000 (the largest count of ~146-byte events
 * under PutLogEvents' 1 MB; it does not check bytes itself) and `submissionInterval` 0. Endpoint
 * and fake credentials through its documented `awsConfig`; same message as the other winston
 * cases (`formatLog` returning winston's formatted line). Its log callback fires on delivery, so
 * the logger's 'finish' means delivered.
 */
import CloudWatchTransport from 'winston-aws-cloudwatch';
import { CREDENTIALS, REGION } from '../lib/aws-env.mjs';
import { MESSAGE, makeLogger } from './winston-common.mjs';

export const TUNING = { batchSize: 7000, submissionInterval: 0 };

export async function setup({ url, group, stream }) {
  const transport = new CloudWatchTransport({
    logGroupName: group,
    logStreamName: stream,
    createLogGroup: false,
    createLogStream: false,
    ...TUNING,
    awsConfig: { endpoint: url, region: REGION, ...CREDENTIALS, sslEnabled: false },
    formatLog: (item) => item.meta[MESSAGE],
  });
  transport.on('error', (error) => console.error('winston-aws-cloudwatch: error', error?.code, error?.message));
  const { log, end } = makeLogger(transport);
  return { config: TUNING, log, finish: end };
}
