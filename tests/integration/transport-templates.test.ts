/**
 * Names evaluated per record in the real loggers (issue 17), against the embedded endpoint:
 * `{date}` of each record's own time, `{field:...}` of the record, and the function form. pino
 * runs in this thread here (the factory called directly, as `pino(await transport(options))`
 * does); through `pino.transport()` the same string options are cloned into the worker.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import winston from 'winston';
import { startLocalEndpoint, type LocalEndpoint } from '../../src/local/index.js';
import cwbatchPinoTransport from '../../src/pino/index.js';
import { CloudWatchTransport } from '../../src/winston/index.js';
import { clientConfig } from '../helpers/client.js';

const DAY = 86_400_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

let endpoint: LocalEndpoint;
beforeAll(async () => {
  endpoint = await startLocalEndpoint({ port: 0 });
});
afterAll(async () => {
  await endpoint.close();
});

/** Three times on three UTC days, the oldest within AWS's 14-day window, none in the future. */
function threeDays(): number[] {
  const today = Math.floor(Date.now() / DAY) * DAY;
  return [today - 2 * DAY + 1, today - DAY + DAY / 2, Math.min(today + 5, Date.now() - 1)];
}

const messagesOf = (group: string, stream: string) => endpoint.store.events(group, stream).map((e) => e.message);

describe('cwbatch/pino: names per record', () => {
  it("'{date}' of each record's time and '{field:...}' of its JSON pick the stream; every line stored exactly once there", async () => {
    const group = '/cwbatch/tpl/pino/{field:service|none}';
    const stream = await cwbatchPinoTransport({
      logGroupName: group,
      logStreamName: 'p-{date}-{field:level}',
      clientConfig: clientConfig(endpoint.url),
    });
    let time = 0;
    const logger = pino({ timestamp: () => `,"time":${time}` }, stream);
    const days = threeDays();
    const expected = new Map<string, string[]>();
    for (let i = 0; i < 300; i++) {
      time = days[i % 3]!;
      const service = i % 5 === 0 ? undefined : 'api:v2';
      const child = service === undefined ? logger : logger.child({ service });
      if (i % 2 === 0) child.info(`line ${i}`);
      else child.warn(`line ${i}`);
      const key = `/cwbatch/tpl/pino/${service === undefined ? 'none' : 'api_v2'} p-${utcDay(time)}-${i % 2 === 0 ? 30 : 40}`;
      expected.set(key, [...(expected.get(key) ?? []), `line ${i}`]);
    }
    await stream.flush();
    expect(stream.sink.getMetrics()).toMatchObject({ eventsDelivered: 300, eventsDropped: 0, eventsRejected: 0 });
    for (const [key, lines] of expected) {
      const [g, s] = key.split(' ') as [string, string];
      const stored = messagesOf(g, s).map((m) => (JSON.parse(m) as { msg: string }).msg);
      expect(stored.sort(), key).toEqual([...lines].sort());
    }
    const streams = ['/cwbatch/tpl/pino/none', '/cwbatch/tpl/pino/api_v2'].flatMap((g) => endpoint.store.streamNames(g));
    expect(streams).toHaveLength(expected.size); // 2 groups x 3 days x 2 levels, nothing else
    await new Promise<void>((resolve) => {
      stream.once('close', () => resolve());
      stream.end();
    });
  });

  it('a name function works when the factory runs in the logger’s thread', async () => {
    const stream = await cwbatchPinoTransport({
      logGroupName: '/cwbatch/tpl/pino-fn',
      logStreamName: (event, record) => `fn-${(record as { tenant?: string }).tenant ?? 'x'}-${event.timestamp % 2}`,
      clientConfig: clientConfig(endpoint.url),
    });
    const logger = pino({ timestamp: () => `,"time":${Date.now() - (Date.now() % 2)}` }, stream);
    logger.info({ tenant: 'acme' }, 'a');
    logger.info('b');
    await stream.flush();
    expect(endpoint.store.streamNames('/cwbatch/tpl/pino-fn')).toEqual(['fn-acme-0', 'fn-x-0']);
    await new Promise<void>((resolve) => {
      stream.once('close', () => resolve());
      stream.end();
    });
  });
});

describe('cwbatch/winston: names per record', () => {
  it("'{date}' of info.timestamp, '{field:level}' of info, and a function for the group", async () => {
    const transport = new CloudWatchTransport({
      logGroupName: (_event, info) => `/cwbatch/tpl/winston/${(info as { team?: string }).team ?? 'all'}`,
      logStreamName: 'w-{date}-{field:level}',
      clientConfig: clientConfig(endpoint.url),
      flushOnExit: false,
    });
    const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] });
    const days = threeDays();
    const expected = new Map<string, string[]>();
    for (let i = 0; i < 120; i++) {
      const timestamp = days[i % 3]!;
      const team = i % 4 === 0 ? 'core' : undefined;
      const level = i % 2 === 0 ? 'info' : 'error';
      logger.log({ level, message: `rec ${i}`, timestamp: i % 3 === 0 ? new Date(timestamp).toISOString() : timestamp, ...(team ? { team } : {}) });
      const key = `/cwbatch/tpl/winston/${team ?? 'all'} w-${utcDay(timestamp)}-${level}`;
      expected.set(key, [...(expected.get(key) ?? []), `rec ${i}`]);
    }
    expect(await transport.flush()).toBe(0);
    for (const [key, lines] of expected) {
      const [g, s] = key.split(' ') as [string, string];
      const stored = messagesOf(g, s).map((m) => (JSON.parse(m) as { message: string }).message);
      expect(stored.sort(), key).toEqual([...lines].sort());
    }
    const finished = new Promise<void>((resolve) => logger.once('finish', () => resolve()));
    logger.end();
    await finished;
  });

  it('a record whose name is invalid is reported (warn, dropped: invalid) and the others delivered', async () => {
    const transport = new CloudWatchTransport({
      logGroupName: '/cwbatch/tpl/winston-bad',
      logStreamName: '{field:id}',
      clientConfig: clientConfig(endpoint.url),
      flushOnExit: false,
    });
    const warnings: Array<{ reason?: string; kind?: string }> = [];
    const logger = winston.createLogger({ format: winston.format.json(), transports: [transport] });
    logger.on('warn', (w: { reason?: string; kind?: string }) => warnings.push(w));
    logger.info('ok', { id: 'fine' });
    logger.info('too long', { id: 'x'.repeat(600) });
    expect(await transport.flush()).toBe(0);
    expect(messagesOf('/cwbatch/tpl/winston-bad', 'fine')).toHaveLength(1);
    expect(warnings).toEqual([expect.objectContaining({ kind: 'dropped', reason: 'invalid' })]);
    logger.end();
  });
});
