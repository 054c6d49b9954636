/**
 * The AWS adapter against `moto_server` (Python moto 5.x), an independent implementation of the
 * CloudWatch Logs protocol: create-if-missing, ResourceAlreadyExists / ResourceNotFound,
 * retention, delivery and read-back, legacy tokens. Skipped with a warning where moto is absent.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  GetLogEventsCommand,
  type OutputLogEvent,
} from '@aws-sdk/client-cloudwatch-logs';
import { LogEventsService, createCloudWatchFlushFunction } from '../../src/aws/index.js';
import { classifyError } from '../../src/batch/retry.js';
import { motoAvailable, startMoto, type MotoServer } from '../helpers/moto.js';
import { clientConfig, makeClient } from '../helpers/client.js';

// ---- tests ----

const hasMoto = motoAvailable();
if (!hasMoto) console.warn('aws-moto.test.ts: `moto_server` is not on PATH; skipping (pip install "moto[server]>=5" to run it)');


describe.skipIf(!hasMoto)('cwbatch/aws against moto_server', () => {
  let moto: MotoServer | undefined;
  let config: ReturnType<typeof clientConfig>;
  let reader: CloudWatchLogsClient;
  let run = 0;
  /** A fresh group name per test: moto keeps state for its whole life. */
  const group = () => `/cwbatch/moto/${process.pid}/${++run}`;

  beforeAll(async () => {
    moto = await startMoto();
    if (!moto) return; // startMoto warned why
    config = clientConfig(moto.url);
    reader = makeClient(moto.url);
  });

  beforeEach((context) => {
    if (!moto) context.skip();
  });

  afterAll(async () => {
    reader?.destroy();
    await moto?.stop();
  });

  async function readAll(logGroupName: string, logStreamName: string): Promise<OutputLogEvent[]> {
    const events: OutputLogEvent[] = [];
    let nextToken: string | undefined;
    for (;;) {
      const page = await reader.send(
        new GetLogEventsCommand({ logGroupName, logStreamName, startFromHead: true, ...(nextToken ? { nextToken } : {}) }),
      );
      events.push(...(page.events ?? []));
      if (!page.nextForwardToken || page.nextForwardToken === nextToken || (page.events ?? []).length === 0) return events;
      nextToken = page.nextForwardToken;
    }
  }

  const now = Date.now();
  const batch = [
    { timestamp: now - 2000, message: 'first' },
    { timestamp: now - 1000, message: 'zweite Zeile: äöü ✓' },
    { timestamp: now, message: '第三 🚀' },
  ];

  it('creates a missing group and stream, then delivers (read back with GetLogEvents)', async () => {
    const g = group();
    const flush = createCloudWatchFlushFunction({ clientConfig: config });
    await flush(g, 'app', batch);
    expect((await readAll(g, 'app')).map(({ timestamp, message }) => ({ timestamp, message }))).toEqual(batch);
    // A second stream of the now existing group: only the stream is created.
    await flush(g, 'other', batch);
    expect(await readAll(g, 'other')).toHaveLength(3);
    flush.service.destroy();
  });

  it('treats ResourceAlreadyExistsException as success (a second service, empty cache)', async () => {
    const g = group();
    const first = new LogEventsService({ clientConfig: config });
    await first.ensureLogGroup(g);
    await first.ensureLogStream(g, 's');
    const second = new LogEventsService({ clientConfig: config });
    await expect(second.ensureLogGroup(g)).resolves.toBeUndefined();
    await expect(second.ensureLogStream(g, 's')).resolves.toBeUndefined();
    first.destroy();
    second.destroy();
  });

  it('with createMissing false, throws moto\'s ResourceNotFoundException unwrapped', async () => {
    const flush = createCloudWatchFlushFunction({ clientConfig: config, createMissing: false });
    const error = (await flush(group(), 's', batch).catch((e: unknown) => e)) as any;
    expect(error.name).toBe('ResourceNotFoundException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(classifyError(error)).toBe('fatal');
    flush.service.destroy();
  });

  it('sets the retention of a group it creates', async () => {
    const g = group();
    const flush = createCloudWatchFlushFunction({ clientConfig: config, retentionInDays: 7 });
    await flush(g, 's', batch);
    const described = await reader.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: g }));
    expect(described.logGroups?.find((lg) => lg.logGroupName === g)?.retentionInDays).toBe(7);
    flush.service.destroy();
  });

  it('legacy sequence tokens: none sent by default; with useSequenceTokens, the returned token is accepted', async () => {
    const g = group();
    const plain = createCloudWatchFlushFunction({ clientConfig: config });
    expect(await plain(g, 's', batch, 'whatever')).toEqual({ rejectedLogEventsInfo: undefined });
    const legacy = createCloudWatchFlushFunction({ clientConfig: config, useSequenceTokens: true });
    const result = await legacy(g, 's', batch);
    expect(typeof result?.nextSequenceToken).toBe('string');
    await legacy(g, 's', batch, result!.nextSequenceToken);
    expect(await readAll(g, 's')).toHaveLength(9);
    plain.service.destroy();
    legacy.service.destroy();
  });

  it('an out-of-order batch fails as InvalidParameterException, classified "invalid"', async () => {
    const flush = createCloudWatchFlushFunction({ clientConfig: config });
    const error = await flush(group(), 's', [...batch].reverse()).catch((e: unknown) => e);
    expect((error as Error).name).toBe('InvalidParameterException');
    expect(classifyError(error)).toBe('invalid');
    flush.service.destroy();
  });
});
