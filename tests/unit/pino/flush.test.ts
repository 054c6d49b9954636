/**
 * cwbatch/pino's flush(), its factory called directly (outside pino's worker), against the
 * embedded endpoint on loopback: it waits for every line written before it, including lines the
 * stream still holds (not yet handed to the buffer), then delivers them.
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEndpoint, type LocalEndpoint } from '../../../src/local/index.js';
import cwbatchPinoTransport from '../../../src/pino/index.js';
import { clientConfig } from '../../helpers/client.js';
import { tempDir } from '../../helpers/temp-dir.js';

let endpoint: LocalEndpoint;
beforeAll(async () => {
  endpoint = await startLocalEndpoint({ port: 0 });
});
afterAll(async () => {
  await endpoint.close();
});

const time = Date.now();
const N = 4_000;
const line = (i: number): string => `{"level":30,"time":${time + i},"msg":"line ${i} ${'x'.repeat(200)}"}\n`;

describe('cwbatch/pino flush()', () => {
  for (const mode of ['full buffer', 'durable'] as const) {
    it(`${mode}: delivers every line written before it, though most were not in the buffer when it was called`, async () => {
      const dir = tempDir('cwbatch-pino-flush-');
      const stream = await cwbatchPinoTransport({
        logGroupName: '/cwbatch/unit',
        logStreamName: `flush-${mode}`,
        clientConfig: clientConfig(endpoint.url),
        flushIntervalMs: 3_600_000,
        // 'full buffer': ~16 lines' worth, the rest waits for room in the stream. 'durable': every
        // line goes to add() (and the spool), 1,024 at a time: the rest waits in the stream.
        ...(mode === 'durable' ? { spool: { dir } } : { maxBufferedBytes: 4_096 }),
      });
      let lines = '';
      for (let i = 0; i < N; i++) lines += line(i);
      stream.write(lines);
      expect(stream.sink.getMetrics().eventsAccepted).toBeLessThan(N / 2);
      await stream.flush();
      // Nothing written before flush() is left behind, and it all reached the endpoint.
      expect(endpoint.store.eventCount('/cwbatch/unit', `flush-${mode}`)).toBe(N);
      expect(stream.sink.getMetrics().eventsDelivered).toBe(N);
      const closed = once(stream, 'close');
      stream.end();
      await closed;
    }, 30_000);
  }
});
