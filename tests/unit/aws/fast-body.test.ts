import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CloudWatchLogsClient, CreateLogGroupCommand, PutLogEventsCommand, type PutLogEventsCommandInput } from '@aws-sdk/client-cloudwatch-logs';
import fc from 'fast-check';
import { FAST_BODY_MIDDLEWARE_NAMES, fastPutLogEventsBody, writePutLogEventsBody, writePutLogEventsBodyBytes } from '../../../src/aws/fast-body.js';
import { createCloudWatchFlushFunction } from '../../../src/aws/flush-function.js';
import { LogEventsService } from '../../../src/aws/service.js';
import { TransportSink } from '../../../src/aws/transport.js';

interface Captured {
  body: Buffer;
  headers: IncomingHttpHeaders;
}

let url: string;
let captured: Captured[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    captured.push({ body: Buffer.concat(chunks), headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'r' });
    res.end('{"nextSequenceToken":"2"}');
  });
});

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client(fast: boolean): CloudWatchLogsClient {
  const c = new CloudWatchLogsClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  if (fast) c.middlewareStack.use(fastPutLogEventsBody());
  return c;
}

/** Sends `command()` through the SDK's serializer and through the fast body; returns both requests. */
async function both(command: () => PutLogEventsCommand | CreateLogGroupCommand): Promise<[Captured, Captured]> {
  const out: Captured[] = [];
  for (const fast of [false, true]) {
    captured = [];
    const c = client(fast);
    await c.send(command() as PutLogEventsCommand);
    c.destroy();
    expect(captured).toHaveLength(1);
    out.push(captured[0] as Captured);
  }
  return out as [Captured, Captured];
}

const awkward = [
  'plain ascii',
  'quote " backslash \\ slash / tab \t newline \n return \r',
  'controls \u0000 \u0001 \u0008 \u000b \u000c \u001f \u007f',
  'unicode é ß 日本 \u2028 \u2029',
  'emoji 🚀👍🏽',
  'lone high \ud800 x',
  'lone low \udc00 x',
  'ends with a lone high \ud83d',
  '{"level":30,"msg":"json in json","n":1}',
];

describe('fastPutLogEventsBody: the body means what the SDK would have sent', () => {
  it('awkward messages, timestamps and a sequence token', async () => {
    const input: PutLogEventsCommandInput = {
      logGroupName: '/app/api',
      logStreamName: 'host/1',
      logEvents: awkward.map((message, i) => ({ timestamp: 1_700_000_000_000 + i, message })),
      sequenceToken: '49590338271490256608559692538361571095921575989136588898',
    };
    const [sdk, fast] = await both(() => new PutLogEventsCommand(input));
    expect(JSON.parse(fast.body.toString('utf8'))).toEqual(JSON.parse(sdk.body.toString('utf8')));
    // What the receiver decodes is what was given, character for character (lone surrogates as \uXXXX escapes, as the SDK writes them).
    const events = (JSON.parse(fast.body.toString('utf8')) as { logEvents: { message: string }[] }).logEvents;
    expect(events.map((e) => e.message)).toEqual(awkward);
  });

  it('a full batch: 10,000 events, about 1 MB', async () => {
    const input = {
      logGroupName: 'g',
      logStreamName: 's',
      logEvents: Array.from({ length: 10_000 }, (_, i) => ({ timestamp: 1_700_000_000_000 + i, message: `event ${i} ${'x'.repeat(70)} é🚀` })),
    };
    const [sdk, fast] = await both(() => new PutLogEventsCommand(input));
    expect(JSON.parse(fast.body.toString('utf8'))).toEqual(JSON.parse(sdk.body.toString('utf8')));
    expect(fast.body.length).toBeGreaterThan(900_000);
  });

  it('the same headers: operation, content type, a SigV4 signature, and a Content-Length that matches the body', async () => {
    const input = { logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: 1, message: 'é🚀' }] };
    const [sdk, fast] = await both(() => new PutLogEventsCommand(input));
    for (const name of ['x-amz-target', 'content-type', 'host']) expect(fast.headers[name]).toBe(sdk.headers[name]);
    expect(fast.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=test\/\d{8}\/us-east-1\/logs\/aws4_request, SignedHeaders=.*, Signature=[0-9a-f]{64}$/);
    expect(Number(fast.headers['content-length'])).toBe(fast.body.length);
    expect(Number(sdk.headers['content-length'])).toBe(sdk.body.length);
  });

  it('runs before Content-Length and signing: the signer hashes the fast body', () => {
    const c = client(true);
    const order = c.middlewareStack.identify();
    c.destroy();
    const at = (name: string) => order.findIndex((entry) => entry.startsWith(`${name} `));
    const apply = at(FAST_BODY_MIDDLEWARE_NAMES.apply);
    expect(at(FAST_BODY_MIDDLEWARE_NAMES.prepare)).toBeGreaterThanOrEqual(0);
    expect(at(FAST_BODY_MIDDLEWARE_NAMES.prepare)).toBeLessThan(at('serializerMiddleware'));
    expect(apply).toBeGreaterThan(at('serializerMiddleware'));
    expect(apply).toBeLessThan(at('contentLengthMiddleware'));
    expect(apply).toBeLessThan(at('httpSigningMiddleware'));
  });

  it("is placed by step, not by the serializer's name: a stack without serializerMiddleware still resolves", () => {
    const c = client(true);
    const stack = c.middlewareStack.clone();
    c.destroy();
    stack.remove('serializerMiddleware');
    // A middleware placed relative to a missing one is left out here, and makes every send throw.
    expect(() => stack.identify()).not.toThrow();
    expect(stack.identify().filter((entry) => entry.startsWith('cwbatchFastBody'))).toEqual([
      `${FAST_BODY_MIDDLEWARE_NAMES.prepare} - serialize`,
      `${FAST_BODY_MIDDLEWARE_NAMES.apply} - build`,
    ]);
  });

  it('leaves other commands to the SDK, byte for byte', async () => {
    const [sdk, fast] = await both(() => new CreateLogGroupCommand({ logGroupName: 'g' }));
    expect(fast.body.equals(sdk.body)).toBe(true);
  });

  it('leaves inputs it cannot vouch for to the SDK, byte for byte', async () => {
    const odd: Record<string, unknown>[] = [
      { logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: 1, message: 'm' }], entity: { keyAttributes: { Type: 'Service' } } },
      { logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: 1, message: 'm', extra: 'x' }] },
      { logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: '1', message: 'm' }] },
      // A prototype with toJSON: JSON.stringify would call it, the SDK does not.
      {
        logGroupName: 'g',
        logStreamName: 's',
        logEvents: [Object.assign(Object.create({ toJSON: () => 'x' }) as object, { timestamp: 1, message: 'm' })],
      },
    ];
    for (const input of odd) {
      expect(writePutLogEventsBody(input)).toBeUndefined();
      const [sdk, fast] = await both(() => new PutLogEventsCommand(input as unknown as PutLogEventsCommandInput));
      expect(fast.body.equals(sdk.body)).toBe(true);
    }
  });

  it('passes the service response through', async () => {
    const c = client(true);
    const out = await c.send(new PutLogEventsCommand({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: 1, message: 'm' }] }));
    c.destroy();
    expect(out.nextSequenceToken).toBe('2');
  });
});

describe('fastBody: on by default for the clients cwbatch builds', () => {
  const names = (c: CloudWatchLogsClient): string[] =>
    (c.middlewareStack as unknown as { identify(): string[] }).identify().map((entry) => entry.split(' ')[0] as string);
  const config = { region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

  it('LogEventsService and createCloudWatchFlushFunction add the plugin to a client built from clientConfig; fastBody: false does not', () => {
    const on = [new LogEventsService({ clientConfig: config }), createCloudWatchFlushFunction({ clientConfig: config }).service];
    const off = [new LogEventsService({ clientConfig: config, fastBody: false }), createCloudWatchFlushFunction({ clientConfig: config, fastBody: false }).service];
    for (const service of on) expect(names(service.client)).toContain(FAST_BODY_MIDDLEWARE_NAMES.prepare);
    for (const service of off) expect(names(service.client)).not.toContain(FAST_BODY_MIDDLEWARE_NAMES.prepare);
    for (const service of [...on, ...off]) service.destroy();
  });

  it("never touches a client of the caller's, and says so when asked to", () => {
    const own = new CloudWatchLogsClient(config);
    const before = names(own);
    createCloudWatchFlushFunction({ client: own });
    expect(names(own)).toEqual(before);
    expect(() => createCloudWatchFlushFunction({ client: own, fastBody: true })).toThrow(/fastBody.*clientConfig/);
    expect(() => new LogEventsService({ client: own, fastBody: false } as never)).toThrow(/fastBody.*clientConfig/);
    expect(() => createCloudWatchFlushFunction({ clientConfig: config, fastBody: 'yes' as never })).toThrow(TypeError);
    own.destroy();
  });

  it('the transports take `fastBody` as an option, checked like the others', async () => {
    const sink = (extra: Record<string, unknown>) =>
      new TransportSink({ name: 'test', options: { logGroupName: 'g', logStreamName: 's', clientConfig: config, ...extra }, report: () => undefined });
    for (const fastBody of [true, false, undefined]) await sink({ fastBody }).stop();
    expect(() => sink({ fastBody: 'no' })).toThrow(/`fastBody`.*boolean/);
  });
});

describe('writePutLogEventsBodyBytes', () => {
  const text = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)), maxLength: 200 }),
    fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 50 }),
    fc.constantFrom(...awkward),
  );
  const timestamp = fc.oneof(fc.integer({ min: 0, max: 4_102_444_800_000 }), fc.double({ noNaN: true, noDefaultInfinity: true }));
  const input = fc.record(
    {
      logGroupName: text,
      logStreamName: text,
      logEvents: fc.array(fc.record({ timestamp, message: text }), { maxLength: 30 }),
      sequenceToken: text,
    },
    { requiredKeys: ['logGroupName', 'logStreamName', 'logEvents'] },
  );

  it('property: the UTF-8 bytes of writePutLogEventsBody, into a new buffer or one handed in (large enough or not)', () => {
    fc.assert(
      fc.property(input, fc.integer({ min: 0, max: 4096 }), (value, size) => {
        const expected = Buffer.from(writePutLogEventsBody(value) as string, 'utf8');
        for (const into of [undefined, Buffer.alloc(size, 0xff)]) {
          const written = writePutLogEventsBodyBytes(value, into);
          expect(written).toBeDefined();
          expect(written?.body.equals(expected)).toBe(true);
          expect(written?.body.buffer).toBe(written?.backing.buffer);
          // A buffer handed in is used when it is large enough, never written past its end.
          if (into !== undefined && written?.backing === into) expect(into.length).toBeGreaterThanOrEqual(expected.length);
        }
      }),
      { numRuns: 1_000 },
    );
  });

  it('uses a buffer handed in when the body fits, and grows past a wrong guess (escapes, non-ASCII)', () => {
    const plain = { logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: 1, message: 'plain' }] };
    const into = Buffer.alloc(1024);
    expect(writePutLogEventsBodyBytes(plain, into)?.backing).toBe(into);
    const wide = { logGroupName: 'g', logStreamName: 's', logEvents: Array.from({ length: 50 }, () => ({ timestamp: 1, message: '\u0001🚀'.repeat(40) })) };
    const written = writePutLogEventsBodyBytes(wide, into);
    expect(written?.backing).not.toBe(into);
    expect(written?.body.equals(Buffer.from(writePutLogEventsBody(wide) as string, 'utf8'))).toBe(true);
  });

  it('property: bodies of many chunks (about 16 KB each), plain and escaped messages mixed', () => {
    const message = fc.oneof(fc.constantFrom('x'.repeat(900), 'q"uote\\'.repeat(100), 'é🚀\u0001'.repeat(150)), fc.string({ maxLength: 3000 }));
    fc.assert(
      fc.property(fc.array(message, { minLength: 1, maxLength: 120 }), (messages) => {
        const value = { logGroupName: 'g', logStreamName: 's', logEvents: messages.map((m, i) => ({ timestamp: i, message: m })) };
        expect(writePutLogEventsBodyBytes(value)?.body.equals(Buffer.from(writePutLogEventsBody(value) as string, 'utf8'))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('property: bodies of pino lines (JSON objects: every quote escaped), in runs of any length', () => {
    const pinoLine = fc
      .record({ seq: fc.nat(), msg: fc.string({ maxLength: 400, size: 'medium' }), extra: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 60 }), fc.integer())) })
      .map(({ seq, msg, extra }) => JSON.stringify({ level: 30, time: 1_764_950_000_000 + seq, ...extra, seq, msg }));
    fc.assert(
      fc.property(fc.array(pinoLine, { maxLength: 300, size: 'max' }), fc.integer({ min: 0, max: 200_000 }), (lines, size) => {
        const value = { logGroupName: 'g', logStreamName: 's', logEvents: lines.map((m, i) => ({ timestamp: 1_764_950_000_000 + i, message: m })) };
        const expected = Buffer.from(writePutLogEventsBody(value) as string, 'utf8');
        expect(writePutLogEventsBodyBytes(value, Buffer.alloc(size, 0xff))?.body.equals(expected)).toBe(true);
      }),
      // No shrinking: a failure among 300 long lines would take minutes to shrink.
      { numRuns: 200, endOnFailure: true },
    );
  });

  it('is undefined where writePutLogEventsBody is', () => {
    expect(writePutLogEventsBodyBytes({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: '1', message: 'm' }] })).toBeUndefined();
    expect(writePutLogEventsBodyBytes({ logGroupName: 'g', logStreamName: 's', logEvents: [], entity: {} })).toBeUndefined();
  });

  it('leaves to the SDK an events array JSON.stringify would treat differently (a subclass, a toJSON)', () => {
    class Events extends Array<{ timestamp: number; message: string }> {}
    const subclass = Events.from([{ timestamp: 1, message: 'm' }]);
    expect(writePutLogEventsBodyBytes({ logGroupName: 'g', logStreamName: 's', logEvents: subclass })).toBeUndefined();
    const withToJson = Object.assign([{ timestamp: 1, message: 'm' }], { toJSON: () => [] });
    expect(writePutLogEventsBodyBytes({ logGroupName: 'g', logStreamName: 's', logEvents: withToJson })).toBeUndefined();
    expect(writePutLogEventsBodyBytes({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: 1, message: 'm' }] })).toBeDefined();
  });
});

describe('fastPutLogEventsBody: body memory', () => {
  /** The ArrayBuffer under each PutLogEvents request body the client sends, in order. */
  function recording(c: CloudWatchLogsClient): ArrayBufferLike[] {
    const seen: ArrayBufferLike[] = [];
    const add = c.middlewareStack.add.bind(c.middlewareStack) as (middleware: unknown, options: unknown) => void;
    add(
      (next: (args: { request?: unknown }) => Promise<unknown>) => (args: { request?: unknown }) => {
        const body = (args.request as { body?: unknown }).body;
        if (Buffer.isBuffer(body)) seen.push(body.buffer);
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'testRecordBody' },
    );
    return seen;
  }
  const put = (message: string) => new PutLogEventsCommand({ logGroupName: 'g', logStreamName: 's', logEvents: [{ timestamp: 1, message }] });

  it('writes the next body into the memory of one that was delivered, never into one still in flight', async () => {
    const c = client(true);
    const seen = recording(c);
    captured = [];
    await c.send(put('first'));
    await c.send(put('second'));
    expect(seen[1]).toBe(seen[0]);
    // Two at once: two buffers.
    await Promise.all([c.send(put('third')), c.send(put('fourth'))]);
    expect(seen[2]).not.toBe(seen[3]);
    c.destroy();
    expect(captured.map((r) => (JSON.parse(r.body.toString('utf8')) as { logEvents: { message: string }[] }).logEvents[0]?.message)).toEqual([
      'first',
      'second',
      'third',
      'fourth',
    ]);
  });

  it('lets the buffers go once 5 s pass without a body written (unref\'d timer)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const c = client(true);
      const seen = recording(c);
      await c.send(put('a'));
      vi.advanceTimersByTime(4_000);
      await c.send(put('b')); // written within 5 s: kept, and the idle period starts again
      vi.advanceTimersByTime(4_000);
      await c.send(put('c'));
      vi.advanceTimersByTime(10_001); // a whole idle period: let go
      await c.send(put('d'));
      c.destroy();
      expect(seen[1]).toBe(seen[0]);
      expect(seen[2]).toBe(seen[0]);
      expect(seen[3]).not.toBe(seen[0]);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not reuse the memory of a body whose request failed', async () => {
    const failing = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1', 'x-amzn-requestid': 'r' });
        res.end('{"__type":"InvalidParameterException","message":"no"}');
      });
    });
    await new Promise<void>((resolve) => failing.listen(0, '127.0.0.1', resolve));
    const c = new CloudWatchLogsClient({
      endpoint: `http://127.0.0.1:${(failing.address() as AddressInfo).port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
    });
    c.middlewareStack.use(fastPutLogEventsBody());
    const seen = recording(c);
    await expect(c.send(put('a'))).rejects.toThrow();
    await expect(c.send(put('b'))).rejects.toThrow();
    c.destroy();
    await new Promise<void>((resolve) => failing.close(() => resolve()));
    expect(seen).toHaveLength(2);
    expect(seen[1]).not.toBe(seen[0]);
  });
});
