/**
 * cwbatch/pino in durable mode, its factory called directly (outside pino's worker): lines that
 * arrive together go to the spool together (one write), not one write per line. The endpoint is
 * unreachable, so nothing is delivered; the lines stay in the spool.
 */
import { describe, expect, it, vi } from 'vitest';
import cwbatchPinoTransport from '../../../src/pino/index.js';
import { clientConfig } from '../../helpers/client.js';
import { tempDir } from '../../helpers/temp-dir.js';

// writeSync, counted: the spool writes each commit with it.
const writes = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((...args: Parameters<typeof actual.writeSync>) => {
    writes.count++;
    return actual.writeSync(...args);
  }) as typeof actual.writeSync;
  return { ...actual, default: { ...actual, writeSync }, writeSync };
});

describe('cwbatch/pino with spool', () => {
  it('500 lines written at once reach the spool in a few writes, not one per line', async () => {
    const dir = tempDir('cwbatch-pino-spool-');
    const stream = await cwbatchPinoTransport({
      logGroupName: '/cwbatch/unit',
      logStreamName: 'spool',
      clientConfig: clientConfig('http://127.0.0.1:9'),
      spool: { dir },
      flushIntervalMs: 3_600_000,
      shutdownTimeoutMs: 100,
    });
    const time = Date.UTC(2026, 10, 26, 12);
    const lines = Array.from({ length: 500 }, (_, i) => `{"level":30,"time":${time + i},"msg":"line ${i}"}\n`).join('');
    writes.count = 0;
    stream.write(lines);
    // flush() waits until every line written before it is on disk (add() resolved), then tries
    // to deliver (the endpoint is unreachable: for shutdownTimeoutMs).
    await stream.flush();
    expect(stream.sink.buffer.getMetrics().eventsAccepted).toBe(500);
    expect(writes.count).toBeGreaterThan(0);
    expect(writes.count).toBeLessThan(10);
    stream.destroy();
  });
});
