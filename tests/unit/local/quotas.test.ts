/**
 * Account quotas of the embedded endpoint (issue 18): the token buckets with an injected clock,
 * the parsing of `--quota OP=N`, and the answer through the real AWS SDK client on loopback.
 */
import { request } from 'node:http';
import { CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { classifyError } from '../../../src/batch/retry.js';
import { startLocalEndpoint } from '../../../src/local/index.js';
import type { LocalEndpoint } from '../../../src/local/index.js';
import { AWS_DEFAULT_QUOTAS, AccountQuotas, parseQuota, validateQuotas } from '../../../src/local/quotas.js';
import { OPERATIONS } from '../../../src/local/operations.js';
import { makeClient } from '../../helpers/client.js';

const PUT = { logGroupName: 'g', logStreamName: 's' };

describe('AccountQuotas (token bucket per operation, injected clock)', () => {
  it('lets one second of quota through at once, then refills at the quota', () => {
    let t = 0;
    const q = new AccountQuotas({ PutLogEvents: 10 }, () => t);
    let ok = 0;
    for (let i = 0; i < 25; i++) if (q.admit('PutLogEvents', PUT)) ok++;
    expect(ok).toBe(10);
    t += 500; // 5 tokens
    ok = 0;
    for (let i = 0; i < 25; i++) if (q.admit('PutLogEvents', PUT)) ok++;
    expect(ok).toBe(5);
    expect(q.stats().byOperation.PutLogEvents).toEqual({ accepted: 15, throttled: 35 });
  });

  it('never lets more than rate x seconds + burst through, whatever the arrival times (property)', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0.05, max: 500, noNaN: true }),
        fc.array(fc.integer({ min: 0, max: 2_000 }), { minLength: 1, maxLength: 400 }),
        (rate, gaps) => {
          let t = 0;
          const q = new AccountQuotas({ CreateLogStream: rate }, () => t);
          let ok = 0;
          for (const gap of gaps) {
            t += gap;
            if (q.admit('CreateLogStream', {})) ok++;
          }
          return ok <= Math.max(1, rate) + (t * rate) / 1000 + 1e-9;
        },
      ),
    );
  });

  it('works below one call per second: one call, then one per 1/rate seconds', () => {
    let t = 0;
    const q = new AccountQuotas({ CreateLogGroup: 0.25 }, () => t);
    expect(q.admit('CreateLogGroup', {})).toBe(true);
    expect(q.admit('CreateLogGroup', {})).toBe(false);
    t += 3_999;
    expect(q.admit('CreateLogGroup', {})).toBe(false);
    t += 1;
    expect(q.admit('CreateLogGroup', {})).toBe(true);
    expect(q.admit('CreateLogGroup', {})).toBe(false);
  });

  it('leaves operations without a quota alone, uncounted', () => {
    const q = new AccountQuotas({ PutLogEvents: 1 }, () => 0);
    for (let i = 0; i < 100; i++) expect(q.admit('DescribeLogStreams', {})).toBe(true);
    expect(Object.keys(q.stats().byOperation)).toEqual(['PutLogEvents']);
  });

  it('counts PutLogEvents per stream, sorted, and reset() refills and clears', () => {
    let t = 0;
    const q = new AccountQuotas({ PutLogEvents: 2 }, () => t);
    q.admit('PutLogEvents', { logGroupName: 'g', logStreamName: 'b' });
    q.admit('PutLogEvents', { logGroupName: 'g', logStreamName: 'a' });
    q.admit('PutLogEvents', { logGroupName: 'g', logStreamName: 'a' });
    expect(q.stats().putLogEventsByStream).toEqual([
      { logGroupName: 'g', logStreamName: 'a', accepted: 1, throttled: 1 },
      { logGroupName: 'g', logStreamName: 'b', accepted: 1, throttled: 0 },
    ]);
    q.reset();
    expect(q.stats().putLogEventsByStream).toEqual([]);
    expect(q.admit('PutLogEvents', PUT)).toBe(true);
    expect(q.admit('PutLogEvents', PUT)).toBe(true);
    expect(q.admit('PutLogEvents', PUT)).toBe(false);
    t += 500;
    expect(q.admit('PutLogEvents', PUT)).toBe(true);
  });

  it('validates quotas, naming the bad entry', () => {
    expect(validateQuotas({ PutLogEvents: 400 }, OPERATIONS)).toEqual({ PutLogEvents: 400 });
    expect(() => validateQuotas({ PutLogEvents: 0 })).toThrow(/quotas.PutLogEvents.*got 0/);
    expect(() => validateQuotas({ PutLogEvents: Infinity })).toThrow(RangeError);
    expect(() => validateQuotas({ PutLogEvents: '4' })).toThrow(TypeError);
    expect(() => validateQuotas({ PutLogEvent: 4 }, OPERATIONS)).toThrow(/unknown operation 'PutLogEvent'/);
    expect(() => validateQuotas([1])).toThrow(TypeError);
    expect(() => validateQuotas(AWS_DEFAULT_QUOTAS, OPERATIONS)).not.toThrow();
  });

  it('parses OP=N, and refuses anything else (property: round trip of any name and positive rate)', () => {
    expect(parseQuota('PutLogEvents=400')).toEqual(['PutLogEvents', 400]);
    expect(parseQuota('CreateLogGroup=0.5')).toEqual(['CreateLogGroup', 0.5]);
    for (const bad of ['PutLogEvents', 'PutLogEvents=', '=4', 'PutLogEvents=0', 'PutLogEvents=-1', 'PutLogEvents=abc', 'PutLogEvents=Infinity']) {
      expect(() => parseQuota(bad)).toThrow(RangeError);
    }
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z]{1,30}$/), fc.double({ min: 1e-3, max: 1e9, noNaN: true }), (name, rate) => {
        const [n, r] = parseQuota(`${name}=${String(rate)}`);
        return n === name && r === rate;
      }),
    );
  });
});

describe('quotas in the embedded endpoint, through the real SDK client', () => {
  let endpoint: LocalEndpoint | undefined;
  afterEach(async () => {
    await endpoint?.close();
    endpoint = undefined;
  });

  it('answers calls over the quota 400 ThrottlingException "Rate exceeded", shared by every client, and counts them', async () => {
    let t = Date.UTC(2026, 11, 5, 12);
    endpoint = await startLocalEndpoint({ now: () => t, quotas: { PutLogEvents: 3, CreateLogStream: 2 } });
    const a = makeClient(endpoint.url);
    const b = makeClient(endpoint.url);
    await a.send(new CreateLogGroupCommand({ logGroupName: 'g' })); // no quota: never throttled
    await a.send(new CreateLogStreamCommand({ logGroupName: 'g', logStreamName: 'a' }));
    await b.send(new CreateLogStreamCommand({ logGroupName: 'g', logStreamName: 'b' }));
    const third = await b.send(new CreateLogStreamCommand({ logGroupName: 'g', logStreamName: 'c' })).then(
      () => undefined,
      (e: unknown) => e as Record<string, any>,
    );
    expect(third?.name).toBe('ThrottlingException');
    expect(third?.message).toBe('Rate exceeded');
    expect(third?.$metadata?.httpStatusCode).toBe(400);
    expect(classifyError(third)).toBe('throttling');
    const events = [{ timestamp: t, message: 'x' }];
    const outcomes: string[] = [];
    for (const c of [a, b, a, b]) {
      outcomes.push(
        await c.send(new PutLogEventsCommand({ logGroupName: 'g', logStreamName: c === a ? 'a' : 'b', logEvents: events })).then(
          () => 'ok',
          (e: unknown) => (e as Error).name,
        ),
      );
    }
    expect(outcomes).toEqual(['ok', 'ok', 'ok', 'ThrottlingException']);
    t += 1_000;
    await b.send(new PutLogEventsCommand({ logGroupName: 'g', logStreamName: 'b', logEvents: events }));
    const stats = endpoint.stats();
    expect(stats.quotas.byOperation).toEqual({ PutLogEvents: { accepted: 4, throttled: 1 }, CreateLogStream: { accepted: 2, throttled: 1 } });
    expect(stats.quotas.putLogEventsByStream).toEqual([
      { logGroupName: 'g', logStreamName: 'a', accepted: 2, throttled: 0 },
      { logGroupName: 'g', logStreamName: 'b', accepted: 2, throttled: 1 },
    ]);
    expect(stats.putLogEventsRequests).toBe(5);
    expect(endpoint.store.eventCount('g', 'b')).toBe(2);
    expect(endpoint.store.streamNames('g')).toEqual(['a', 'b']);
    a.destroy();
    b.destroy();
  });

  it('sends the error type in x-amzn-ErrorType and __type, as AWS does', async () => {
    endpoint = await startLocalEndpoint({ now: () => 0, quotas: { DescribeLogGroups: 0.1 }, requireAuth: false });
    const url = new URL(endpoint.url);
    const call = (): Promise<{ status: number; type: string | undefined; body: string }> =>
      new Promise((resolve, reject) => {
        const req = request(
          { host: url.hostname, port: url.port, method: 'POST', path: '/', headers: { 'x-amz-target': 'Logs_20140328.DescribeLogGroups', 'content-type': 'application/x-amz-json-1.1' } },
          (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c: string) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['x-amzn-errortype'] as string | undefined, body }));
          },
        );
        req.on('error', reject);
        req.end('{}');
      });
    expect((await call()).status).toBe(200);
    const throttled = await call();
    expect(throttled.status).toBe(400);
    expect(throttled.type).toBe('ThrottlingException');
    expect(JSON.parse(throttled.body)).toEqual({ __type: 'ThrottlingException', message: 'Rate exceeded' });
  });

  it('refuses a bad quota at start, naming it', async () => {
    await expect(startLocalEndpoint({ quotas: { PutLogEvents: -1 } })).rejects.toThrow(/quotas.PutLogEvents/);
    await expect(startLocalEndpoint({ quotas: { NoSuchCall: 1 } })).rejects.toThrow(/NoSuchCall/);
  });
});
