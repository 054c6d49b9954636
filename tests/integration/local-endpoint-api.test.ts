/**
 * The embedded endpoint over HTTP on loopback (issue 16): the README's list of supported
 * operations is what the endpoint answers, anything else is UnknownOperationException listing
 * them; errors carry `x-amzn-ErrorType`; the bound on bytes in flight answers 503; metric
 * filter values and tags through the real SDK fixture.client.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  CreateLogGroupCommand,
  CreateLogStreamCommand,
  DescribeLogGroupsCommand,
  PutLogEventsCommand,
  PutMetricFilterCommand,
} from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { OPERATIONS } from '../../src/local/operations.js';
import { ROOT } from '../helpers/build.js';
import { startLocalEndpoint } from '../../src/local/index.js';
import { useLocalEndpoint } from '../helpers/endpoint.js';

const SIGNED = {
  'content-type': 'application/x-amz-json-1.1',
  authorization: 'AWS4-HMAC-SHA256 Credential=test/20261205/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=00',
};

const fixture = useLocalEndpoint();

async function raw(url: string, operation: string, body: string) {
  const response = await fetch(url, { method: 'POST', headers: { ...SIGNED, 'x-amz-target': `Logs_20140328.${operation}` }, body });
  return { status: response.status, headers: response.headers, json: (await response.json()) as Record<string, unknown> };
}

/** The operation names the README lists under "### Supported operations" (bullets, up to ':' or '('). */
function readmeOperations(): string[] {
  const text = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = text.indexOf('### Supported operations');
  expect(start).toBeGreaterThan(0);
  const section = text.slice(start, text.indexOf('\nWhat real clients rely on', start));
  const names: string[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('- ')) continue;
    const head = line.slice(2).split(/[:(]/)[0] as string;
    for (const m of head.matchAll(/`([A-Z][A-Za-z]+)`/g)) names.push(m[1] as string);
  }
  return names;
}

describe('supported operations', () => {
  it('the README lists exactly the operations the endpoint answers', async () => {
    const listed = readmeOperations();
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual([...OPERATIONS.keys()].sort());
    for (const op of listed) {
      const r = await raw(fixture.endpoint.url, op, '{}');
      expect(r.json.__type, op).not.toBe('UnknownOperationException');
      expect(r.status, op).toBeLessThan(500);
    }
  });

  it('anything else is UnknownOperationException naming what is supported, with x-amzn-ErrorType', async () => {
    for (const op of ['StartQuery', 'PutSubscriptionFilter', 'Nope']) {
      const r = await raw(fixture.endpoint.url, op, '{}');
      expect(r.status).toBe(400);
      expect(r.json.__type).toBe('UnknownOperationException');
      expect(r.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
      for (const name of OPERATIONS.keys()) expect(r.json.message).toContain(name);
    }
  });
});

describe('errors', () => {
  it('every error carries x-amzn-ErrorType equal to __type; success responses do not', async () => {
    const cases: Array<[string, string]> = [
      ['DescribeLogStreams', '{"logGroupName":"/none"}'],
      ['DescribeLogGroups', '{"logGroupNamePrefix":"/a","logGroupNamePattern":"a"}'],
      ['CreateLogGroup', '{"logGroupName":{"x":1}}'],
      ['CreateLogGroup', '{"logGroupName":'],
    ];
    for (const [op, body] of cases) {
      const r = await raw(fixture.endpoint.url, op, body);
      expect(r.status).toBe(400);
      expect(typeof r.json.__type).toBe('string');
      expect(r.headers.get('x-amzn-errortype')).toBe(r.json.__type);
    }
    const ok = await raw(fixture.endpoint.url, 'DescribeLogGroups', '{}');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-amzn-errortype')).toBeNull();
  });

  it('names of the wrong JSON type are 400s, never 500', async () => {
    for (const value of ['{}', '5', '[1]', 'true']) {
      for (const op of ['CreateLogGroup', 'PutLogEvents', 'FilterLogEvents', 'DescribeLogStreams', 'TagLogGroup', 'GetLogEvents']) {
        const r = await raw(fixture.endpoint.url, op, `{"logGroupName":${value},"logStreamName":${value},"logGroupNamePrefix":${value}}`);
        expect(r.status, `${op} ${value}`).toBe(400);
      }
    }
  });
});

describe('bytes in flight', () => {
  it('beyond maxInFlightBytes a request is answered 503 ServiceUnavailableException at once; the bound is then free again', async () => {
    // Latency holds each admitted body for a while, so that the concurrent requests overlap.
    const small = await startLocalEndpoint({ maxInFlightBytes: 1024 * 1024, faults: { latencyMs: 300 } });
    try {
      const body = `{"logGroupName":"/x","pad":"${'p'.repeat(700 * 1024)}"}`;
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => raw(small.url, 'DescribeLogStreams', body).catch(() => undefined)));
      const refused = outcomes.filter((o) => o?.status === 503);
      expect(refused.length).toBeGreaterThan(0);
      for (const o of refused) {
        expect(o?.json.__type).toBe('ServiceUnavailableException');
        expect(o?.headers.get('x-amzn-errortype')).toBe('ServiceUnavailableException');
      }
      expect(small.stats().inFlight.refused).toBe(refused.length);
      expect(small.stats().inFlight.peakBytes).toBeLessThanOrEqual(1024 * 1024);
      expect(outcomes.filter((o) => o?.status === 400)).toHaveLength(6 - refused.length);
      const after = await raw(small.url, 'DescribeLogGroups', '{}');
      expect(after.status).toBe(200);
      expect(small.stats().inFlight.bytes).toBe(0);
    } finally {
      await small.close();
    }
  });

  it('a body declared over 64 MiB is answered 413 before a byte of it is read', async () => {
    const { port } = new URL(fixture.endpoint.url);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n' +
            `X-Amz-Target: Logs_20140328.PutLogEvents\r\nAuthorization: ${SIGNED.authorization}\r\nContent-Length: ${65 * 1024 * 1024}\r\n\r\n{`,
        );
      });
      let text = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => {
        text += d;
        if (text.includes('}')) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer.toLowerCase()).toContain('x-amzn-errortype: requestentitytoolargeexception');
    expect(fixture.endpoint.stats().inFlight.tooLarge).toBeGreaterThan(0);
  });

  it('a refused body is not drained: the connection is closed once the 413 is written', async () => {
    const { port } = new URL(fixture.endpoint.url);
    const declared = 65 * 1024 * 1024;
    const outcome = await new Promise<{ answer: string; sent: number }>((resolve) => {
      let answer = '';
      let sent = 0;
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.1\r\n' +
            `X-Amz-Target: Logs_20140328.PutLogEvents\r\nAuthorization: ${SIGNED.authorization}\r\nContent-Length: ${declared}\r\n\r\n`,
        );
        const chunk = Buffer.alloc(64 * 1024, 'x');
        // Keep sending the body until the server closes the connection (or all of it is sent).
        const pump = (): void => {
          while (!socket.destroyed && sent < declared) {
            sent += chunk.length;
            if (!socket.write(chunk)) return void socket.once('drain', pump);
          }
        };
        pump();
      });
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (answer += d));
      socket.on('error', () => {}); // the reset is the point
      socket.on('close', () => resolve({ answer, sent }));
    });
    expect(outcome.answer).toMatch(/^HTTP\/1\.1 413 /);
    // Closed long before the 65 MiB were sent (socket buffers hold a few MiB at most).
    expect(outcome.sent).toBeLessThan(declared / 2);
  });

  it('refuses a bad bound', async () => {
    await expect(startLocalEndpoint({ maxInFlightBytes: 10 })).rejects.toThrow(/maxInFlightBytes/);
  });
});

describe('metric filters and tags through the SDK', () => {
  it('counts what a metric filter emits on ingestion, and describes tags, class and key', async () => {
    const kmsKeyId = 'arn:aws:kms:us-east-1:000000000000:key/0000aaaa-11bb-22cc-33dd-444444eeeeee';
    await fixture.client.send(new CreateLogGroupCommand({ logGroupName: '/api/m', tags: { team: 'x' }, logGroupClass: 'INFREQUENT_ACCESS', kmsKeyId }));
    await fixture.client.send(new CreateLogStreamCommand({ logGroupName: '/api/m', logStreamName: 's' }));
    await fixture.client.send(
      new PutMetricFilterCommand({
        logGroupName: '/api/m',
        filterName: 'errors',
        filterPattern: 'ERROR',
        metricTransformations: [{ metricName: 'Errors', metricNamespace: 'App', metricValue: '1' }],
      }),
    );
    const now = Date.now();
    await fixture.client.send(
      new PutLogEventsCommand({
        logGroupName: '/api/m',
        logStreamName: 's',
        logEvents: ['ERROR a', 'fine', 'ERROR b', 'ERROR c'].map((message, i) => ({ timestamp: now + i, message })),
      }),
    );
    expect(fixture.endpoint.store.metricFilterValues('/api/m')).toEqual([
      { logGroupName: '/api/m', filterName: 'errors', metricNamespace: 'App', metricName: 'Errors', matched: 3, samples: 3, sum: 3 },
    ]);
    expect(fixture.endpoint.store.tags('/api/m')).toEqual({ team: 'x' });
    const [group] = (await fixture.client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: '/api/m' }))).logGroups ?? [];
    expect(group).toMatchObject({ logGroupClass: 'INFREQUENT_ACCESS', kmsKeyId, metricFilterCount: 1 });
    // The JS SDK reads x-amzn-ErrorType: a refused class arrives as its own error name.
    await expect(fixture.client.send(new CreateLogGroupCommand({ logGroupName: '/api/bad', kmsKeyId: 'alias/mine' }))).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
  });
});
