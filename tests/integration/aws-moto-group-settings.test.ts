/**
 * Issue 17, Acceptance: a group created by cwbatch with class, KMS key, tags and retention is
 * described with them, against moto_server (an independent implementation; skipped with a
 * warning where absent) and against the embedded endpoint.
 *
 * moto 5.2.1 stores and describes `kmsKeyId` (DescribeLogGroups), `retentionInDays`, and the tags
 * (ListTagsForResource, ListTagsLogGroup); it ignores `logGroupClass` (DescribeLogGroups has no
 * such field there), so for the class the test checks the CreateLogGroup request cwbatch sent,
 * and the described value only if moto reports one.
 *
 * The KMS key is a made-up ARN in the documented format (no such key exists; moto does not check).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CloudWatchLogsClient,
  DescribeLogGroupsCommand,
  ListTagsForResourceCommand,
  ListTagsLogGroupCommand,
  type LogGroup,
} from '@aws-sdk/client-cloudwatch-logs';
import { createCloudWatchFlushFunction, type LogGroupCreateOptions } from '../../src/aws/index.js';
import { startLocalEndpoint, type LocalEndpoint } from '../../src/local/index.js';
import { motoAvailable, startMoto, type MotoServer } from '../helpers/moto.js';
import { makeClient } from '../helpers/client.js';

const SETTINGS = {
  logGroupClass: 'INFREQUENT_ACCESS',
  kmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab',
  tags: { team: 'core', 'cost-center': '4242', env: 'test' },
  retentionInDays: 30,
} as const satisfies LogGroupCreateOptions;

/** A client with one attempt that records the input of every CreateLogGroup it sends. */
function recordingClient(endpoint: string): { client: CloudWatchLogsClient; created: Array<Record<string, unknown>> } {
  const created: Array<Record<string, unknown>> = [];
  const client = makeClient(endpoint);
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'CreateLogGroupCommand') created.push({ ...(args.input as Record<string, unknown>) });
      return next(args);
    },
    { step: 'initialize', name: 'recordCreateLogGroup' },
  );
  return { client, created };
}

/** Creates `group` through cwbatch's flush function (a missing group and stream), then describes it and its tags. */
async function createAndDescribe(endpoint: string, group: string) {
  const { client, created } = recordingClient(endpoint);
  try {
    const flush = createCloudWatchFlushFunction({ client, ...SETTINGS });
    await flush(group, 'first', [{ timestamp: Date.now(), message: 'hello' }]);
    const described = await client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: group }));
    const logGroup = described.logGroups?.find((g) => g.logGroupName === group) as LogGroup;
    const arn = logGroup.logGroupArn ?? (logGroup.arn ?? '').replace(/:\*$/, '');
    const tagsByArn = (await client.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags;
    const tagsByName = (await client.send(new ListTagsLogGroupCommand({ logGroupName: group }))).tags;
    return { created, logGroup, tagsByArn, tagsByName };
  } finally {
    client.destroy();
  }
}

const hasMoto = motoAvailable();
if (!hasMoto) console.warn('aws-moto-group-settings.test.ts: `moto_server` is not on PATH; skipping the moto half (pip install "moto[server]>=5")');

describe.skipIf(!hasMoto)('group settings against moto_server', () => {
  let moto: MotoServer | undefined;
  beforeAll(async () => {
    moto = await startMoto();
  });
  beforeEach((context) => {
    if (!moto) context.skip();
  });
  afterAll(async () => {
    await moto?.stop();
  });

  it('a group created with class, KMS key, tags and retention is described with them (class: where moto reports it)', async () => {
    const group = `/cwbatch/moto-settings/${process.pid}`;
    const { created, logGroup, tagsByArn, tagsByName } = await createAndDescribe(moto!.url, group);
    // What cwbatch asked for: all three in CreateLogGroup (retention follows with PutRetentionPolicy).
    expect(created).toEqual([{ logGroupName: group, logGroupClass: SETTINGS.logGroupClass, kmsKeyId: SETTINGS.kmsKeyId, tags: SETTINGS.tags }]);
    expect(logGroup).toMatchObject({ logGroupName: group, kmsKeyId: SETTINGS.kmsKeyId, retentionInDays: SETTINGS.retentionInDays });
    expect(tagsByArn).toEqual(SETTINGS.tags);
    expect(tagsByName).toEqual(SETTINGS.tags);
    // moto 5.2.1 does not describe the class; should a later moto do so, it must be ours.
    if (logGroup.logGroupClass !== undefined) expect(logGroup.logGroupClass).toBe(SETTINGS.logGroupClass);
  });
});

/**
 * EMBEDDED-ENDPOINT VARIANT (issue 17): storing and describing class, KMS key and tags is being
 * built in src/local by another change. Until it lands the endpoint answers ListTagsForResource
 * with UnknownOperationException, and this test skips itself with a warning; once it lands, the
 * test runs and must pass as it stands (no edit needed).
 */
describe('group settings against the embedded endpoint', () => {
  let endpoint: LocalEndpoint;
  beforeAll(async () => {
    endpoint = await startLocalEndpoint({ port: 0 });
  });
  afterAll(async () => {
    await endpoint.close();
  });

  it('a group created with class, KMS key, tags and retention is described with them', async (context) => {
    const client = makeClient(endpoint.url);
    const supported = await client
      .send(new ListTagsLogGroupCommand({ logGroupName: '/probe' }))
      .then(
        () => true,
        (error: { name?: string }) => error.name !== 'UnknownOperationException' && error.name !== 'UnknownOperation',
      )
      .finally(() => client.destroy());
    if (!supported) {
      console.warn('aws-moto-group-settings.test.ts: the embedded endpoint does not store group tags/class/KMS yet (issue 17, src/local): skipping its variant');
      context.skip();
    }
    const group = '/cwbatch/local-settings';
    const { logGroup, tagsByArn, tagsByName } = await createAndDescribe(endpoint.url, group);
    expect(logGroup).toMatchObject({
      logGroupName: group,
      logGroupClass: SETTINGS.logGroupClass,
      kmsKeyId: SETTINGS.kmsKeyId,
      retentionInDays: SETTINGS.retentionInDays,
    });
    expect(tagsByArn).toEqual(SETTINGS.tags);
    expect(tagsByName).toEqual(SETTINGS.tags);
  });
});
