import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LogEventsService, createCloudWatchLogsClient, withSingleAttempt } from '../../../src/aws/index.js';
import { classifyError } from '../../../src/batch/retry.js';
import { startStub, stubClientConfig, userClient, type Stub } from './stub-server.js';

let stub: Stub;
let service: LogEventsService;

beforeEach(async () => {
  stub = await startStub();
  // One attempt per create call: these tests are about caching; retries have their own below.
  service = new LogEventsService({ clientConfig: stubClientConfig(stub.url), createRetry: { maxAttempts: 1 } });
});

afterEach(async () => {
  service.destroy();
  await stub.close();
});

const events = [
  { timestamp: 1_700_000_000_000, message: 'one' },
  { timestamp: 1_700_000_000_001, message: 'zwei ✓ 🚀' },
];

describe('LogEventsService.put', () => {
  beforeEach(() => {
    stub.groups.set('g', { streams: new Map([['s', []]]) });
  });

  it('sends group, stream and events, and no sequence token unless given', async () => {
    const result = await service.put({ logGroupName: 'g', logStreamName: 's', logEvents: events });
    expect(stub.requests).toHaveLength(1);
    const [request] = stub.requests;
    expect(request!.op).toBe('PutLogEvents');
    expect(request!.body).toEqual({ logGroupName: 'g', logStreamName: 's', logEvents: events });
    expect(request!.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(request!.headers['authorization']).toMatch(/^AWS4-HMAC-SHA256 /);
    expect(result).toEqual({ nextSequenceToken: '00000001', rejectedLogEventsInfo: undefined });
    expect(stub.groups.get('g')!.streams.get('s')).toEqual(events);
  });

  it('sends the sequence token when one is given', async () => {
    await service.put({ logGroupName: 'g', logStreamName: 's', logEvents: events, sequenceToken: 'abc' });
    expect(stub.requests[0]!.body['sequenceToken']).toBe('abc');
  });

  it('passes rejectedLogEventsInfo through', async () => {
    const info = { tooOldLogEventEndIndex: 1, tooNewLogEventStartIndex: 2, expiredLogEventEndIndex: 1 };
    stub.override = () => ({ body: { rejectedLogEventsInfo: info } });
    const result = await service.put({ logGroupName: 'g', logStreamName: 's', logEvents: events });
    expect(result.rejectedLogEventsInfo).toEqual(info);
  });

  it("re-throws the SDK's error unwrapped, so the core can classify it", async () => {
    stub.override = () => ({ error: 'ThrottlingException', message: 'Rate exceeded' });
    const error = (await service.put({ logGroupName: 'g', logStreamName: 's', logEvents: events }).catch((e: unknown) => e)) as any;
    expect(error.name).toBe('ThrottlingException');
    expect(error.$metadata.httpStatusCode).toBe(400);
    expect(classifyError(error)).toBe('throttling');

    stub.override = () => ({ status: 503, error: 'ServiceUnavailableException', message: 'down' });
    const unavailable = (await service.put({ logGroupName: 'g', logStreamName: 's', logEvents: events }).catch((e: unknown) => e)) as any;
    expect(unavailable.name).toBe('ServiceUnavailableException');
    expect(unavailable.$metadata.httpStatusCode).toBe(503);
    expect(classifyError(unavailable)).toBe('transient');
  });

  it('honours the abort signal: the request is cancelled and rejects with AbortError', async () => {
    stub.override = () => 'hang';
    const controller = new AbortController();
    const sent = service.put({ logGroupName: 'g', logStreamName: 's', logEvents: events }, { signal: controller.signal });
    await stub.waitForRequests(1);
    controller.abort();
    const error = (await sent.catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('AbortError');
    expect(classifyError(error)).toBe('transient');
  });

  it('a client it builds makes exactly one attempt (the buffer owns retries)', async () => {
    expect(await service.client.config.maxAttempts()).toBe(1);
    stub.override = () => ({ status: 503, error: 'ServiceUnavailableException', message: 'down' });
    await expect(service.put({ logGroupName: 'g', logStreamName: 's', logEvents: events })).rejects.toMatchObject({
      name: 'ServiceUnavailableException',
    });
    expect(stub.requests).toHaveLength(1);
  });

  it("a client of the user's own keeps its retries (SDK default: 3 attempts)", async () => {
    const own = new LogEventsService({ client: userClient(stub.url) });
    stub.override = () => ({ status: 500, error: 'InternalFailure', message: 'boom' });
    await expect(own.put({ logGroupName: 'g', logStreamName: 's', logEvents: events })).rejects.toMatchObject({
      name: 'InternalFailure',
      $metadata: { attempts: 3 },
    });
    expect(stub.requests).toHaveLength(3);
    own.client.destroy();
  });
});

describe('client configuration', () => {
  it('keeps maxAttempts or a retryStrategy the configuration sets', async () => {
    expect(withSingleAttempt({ maxAttempts: 5 })).toEqual({ maxAttempts: 5 });
    expect(withSingleAttempt({ region: 'us-east-1' })).toEqual({ region: 'us-east-1', maxAttempts: 1 });
    const client = createCloudWatchLogsClient({ ...stubClientConfig(stub.url), maxAttempts: 2 });
    expect(await client.config.maxAttempts()).toBe(2);
    client.destroy();
  });

  it('the SDK itself takes the endpoint from AWS_ENDPOINT_URL_CLOUDWATCH_LOGS', async () => {
    stub.groups.set('g', { streams: new Map([['s', []]]) });
    const saved = { ...process.env };
    delete process.env['AWS_ENDPOINT_URL'];
    delete process.env['AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'];
    process.env['AWS_ENDPOINT_URL_CLOUDWATCH_LOGS'] = stub.url;
    const fromEnv = new LogEventsService({
      clientConfig: { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
    });
    try {
      await fromEnv.put({ logGroupName: 'g', logStreamName: 's', logEvents: events });
      expect(stub.ops()).toEqual(['PutLogEvents']);
    } finally {
      fromEnv.destroy();
      process.env = saved;
    }
  });

  it('rejects both client and clientConfig, and a non-client', () => {
    const client = userClient(stub.url);
    expect(() => new LogEventsService({ client, clientConfig: {} } as never)).toThrow(/either `client` or `clientConfig`/);
    expect(() => new LogEventsService({ client: {} as never })).toThrow(TypeError);
    client.destroy();
  });

  it('destroy() destroys a client it built, never a client passed in', () => {
    const built = new LogEventsService({ clientConfig: stubClientConfig(stub.url) });
    const builtDestroy = vi.spyOn(built.client, 'destroy');
    built.destroy();
    built.destroy();
    expect(builtDestroy).toHaveBeenCalledTimes(1);

    const client = userClient(stub.url);
    const passedDestroy = vi.spyOn(client, 'destroy');
    new LogEventsService({ client }).destroy();
    expect(passedDestroy).not.toHaveBeenCalled();
    client.destroy();
  });
});

describe('ensureLogGroup / ensureLogStream', () => {
  it('creates a missing group and stream, once: the result is cached', async () => {
    await service.ensureLogGroup('g');
    await service.ensureLogStream('g', 's');
    await service.ensureLogGroup('g');
    await service.ensureLogStream('g', 's');
    expect(stub.ops()).toEqual(['CreateLogGroup', 'CreateLogStream']);
    expect(stub.groups.get('g')!.streams.has('s')).toBe(true);
  });

  it('concurrent callers share one in-flight request', async () => {
    await Promise.all([service.ensureLogGroup('g'), service.ensureLogGroup('g'), service.ensureLogGroup('g')]);
    await Promise.all([1, 2, 3, 4].map(() => service.ensureLogStream('g', 's')));
    expect(stub.ops()).toEqual(['CreateLogGroup', 'CreateLogStream']);
  });

  it('treats ResourceAlreadyExistsException as success', async () => {
    stub.groups.set('g', { streams: new Map([['s', []]]) });
    await expect(service.ensureLogGroup('g')).resolves.toBeUndefined();
    await expect(service.ensureLogStream('g', 's')).resolves.toBeUndefined();
    expect(stub.ops()).toEqual(['CreateLogGroup', 'CreateLogStream']);
  });

  it('does not cache a failure', async () => {
    stub.override = () => ({ status: 500, error: 'InternalFailure', message: 'boom' });
    await expect(service.ensureLogGroup('g')).rejects.toMatchObject({ name: 'InternalFailure' });
    stub.override = undefined;
    await service.ensureLogGroup('g');
    expect(stub.ops()).toEqual(['CreateLogGroup', 'CreateLogGroup']);
  });

  it('ensureLogStream rejects with ResourceNotFoundException when the group is missing', async () => {
    await expect(service.ensureLogStream('nope', 's')).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('forget() drops the cache for one stream or a whole group', async () => {
    await service.ensureLogGroup('g');
    await service.ensureLogStream('g', 'a');
    await service.ensureLogStream('g', 'b');
    service.forget('g', 'a');
    await service.ensureLogGroup('g');
    await service.ensureLogStream('g', 'a');
    await service.ensureLogStream('g', 'b');
    expect(stub.ops()).toEqual(['CreateLogGroup', 'CreateLogStream', 'CreateLogStream', 'CreateLogStream']);
    stub.requests.length = 0;
    service.forget('g');
    await service.ensureLogGroup('g');
    await service.ensureLogStream('g', 'a');
    await service.ensureLogStream('g', 'b');
    expect(stub.ops()).toEqual(['CreateLogGroup', 'CreateLogStream', 'CreateLogStream']);
  });

  it('sets retention on a group it creates, never on one that existed', async () => {
    await service.ensureLogGroup('new', { retentionInDays: 7 });
    expect(stub.ops()).toEqual(['CreateLogGroup', 'PutRetentionPolicy']);
    expect(stub.requests[1]!.body).toEqual({ logGroupName: 'new', retentionInDays: 7 });
    expect(stub.groups.get('new')!.retentionInDays).toBe(7);

    stub.requests.length = 0;
    stub.groups.set('old', { streams: new Map() });
    await service.ensureLogGroup('old', { retentionInDays: 7 });
    expect(stub.ops()).toEqual(['CreateLogGroup']);
    expect(stub.groups.get('old')!.retentionInDays).toBeUndefined();
  });

  it('sets the retention again on the next call when PutRetentionPolicy failed', async () => {
    stub.override = (r) => (r.op === 'PutRetentionPolicy' ? { status: 503, error: 'ServiceUnavailableException' } : undefined);
    await expect(service.ensureLogGroup('g', { retentionInDays: 30 })).rejects.toMatchObject({
      name: 'ServiceUnavailableException',
    });
    stub.override = undefined;
    await service.ensureLogGroup('g', { retentionInDays: 30 });
    expect(stub.ops()).toEqual(['CreateLogGroup', 'PutRetentionPolicy', 'CreateLogGroup', 'PutRetentionPolicy']);
    expect(stub.groups.get('g')!.retentionInDays).toBe(30);
  });
});
