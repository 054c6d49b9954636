/**
 * A tiny CloudWatch Logs stand-in for the adapter's unit tests: node:http on 127.0.0.1, AWS
 * JSON 1.1, an in-memory model of groups/streams/events, and a per-test override hook. Not the
 * embedded endpoint (src/local): just enough for the real SDK client to talk to.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { clientConfig } from '../../helpers/client.js';

export interface StubRequest {
  /** Operation, from `X-Amz-Target: Logs_20140328.<Operation>`. */
  op: string;
  body: Record<string, any>;
  headers: IncomingMessage['headers'];
}

/** What an override answers: a reply, `'hang'` (never answer), or `undefined` (use the model). */
export type StubReply = { status?: number; body?: unknown; error?: string; message?: string } | 'hang' | undefined;

export interface Stub {
  url: string;
  requests: StubRequest[];
  /** Operations received, in order. */
  ops(): string[];
  groups: Map<string, { streams: Map<string, { timestamp: number; message: string }[]>; retentionInDays?: number }>;
  /** Answer requests before the model does; return `undefined` to let the model answer. */
  override: ((request: StubRequest) => StubReply) | undefined;
  /** Resolves once `count` requests have arrived. */
  waitForRequests(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function startStub(): Promise<Stub> {
  const requests: StubRequest[] = [];
  const groups: Stub['groups'] = new Map();
  const waiters: { count: number; resolve: () => void }[] = [];
  let token = 0;

  const model = (op: string, body: Record<string, any>): StubReply => {
    const group = groups.get(body['logGroupName']);
    switch (op) {
      case 'CreateLogGroup':
        if (group) return { error: 'ResourceAlreadyExistsException', message: 'The specified log group already exists' };
        groups.set(body['logGroupName'], { streams: new Map() });
        return { body: {} };
      case 'PutRetentionPolicy':
        if (!group) return { error: 'ResourceNotFoundException', message: 'The specified log group does not exist.' };
        group.retentionInDays = body['retentionInDays'];
        return { body: {} };
      case 'CreateLogStream':
        if (!group) return { error: 'ResourceNotFoundException', message: 'The specified log group does not exist.' };
        if (group.streams.has(body['logStreamName'])) {
          return { error: 'ResourceAlreadyExistsException', message: 'The specified log stream already exists' };
        }
        group.streams.set(body['logStreamName'], []);
        return { body: {} };
      case 'PutLogEvents': {
        if (!group) return { error: 'ResourceNotFoundException', message: 'The specified log group does not exist.' };
        const stream = group.streams.get(body['logStreamName']);
        if (!stream) return { error: 'ResourceNotFoundException', message: 'The specified log stream does not exist.' };
        stream.push(...body['logEvents']);
        token += 1;
        return { body: { nextSequenceToken: String(token).padStart(8, '0') } };
      }
      default:
        return { error: 'UnknownOperationException', message: op };
    }
  };

  const send = (res: ServerResponse, reply: Exclude<StubReply, 'hang' | undefined>): void => {
    const status = reply.status ?? (reply.error ? 400 : 200);
    const body = reply.error ? { __type: reply.error, message: reply.message ?? '' } : (reply.body ?? {});
    res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': `stub-${requests.length}` });
    res.end(JSON.stringify(body));
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const request: StubRequest = {
        op: target.slice(target.indexOf('.') + 1),
        body: JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, any>,
        headers: req.headers,
      };
      requests.push(request);
      for (const waiter of [...waiters]) {
        if (requests.length >= waiter.count) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
      const reply = stub.override?.(request) ?? model(request.op, request.body);
      if (reply === 'hang' || reply === undefined) return;
      send(res, reply);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const stub: Stub = {
    url: `http://127.0.0.1:${port}`,
    requests,
    ops: () => requests.map((r) => r.op),
    groups,
    override: undefined,
    waitForRequests: (count) =>
      requests.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push({ count, resolve })),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return stub;
}

/** Client settings that keep the SDK on loopback with fake credentials. */
export function stubClientConfig(url: string): ReturnType<typeof clientConfig> {
  return clientConfig(url);
}

/** A client of "the user's own", with the SDK's default retries. */
export function userClient(url: string, extra: Record<string, unknown> = {}): CloudWatchLogsClient {
  return new CloudWatchLogsClient({ ...stubClientConfig(url), ...extra });
}
