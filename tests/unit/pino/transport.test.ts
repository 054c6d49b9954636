/**
 * The `cwbatch/pino` factory's defaults, called directly (outside pino's worker). Nothing is
 * logged: the client is built but never sends.
 */
import { once } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { fastPutLogEventsBody } from '../../../src/aws/fast-body.js';
import cwbatchPinoTransport, { PINO_MAX_BUFFERED_BYTES, PINO_SHUTDOWN_TIMEOUT_MS } from '../../../src/pino/index.js';
import { clientConfig } from '../../helpers/client.js';

// The real plugin, counted.
vi.mock('../../../src/aws/fast-body.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../../src/aws/fast-body.js')>();
  return { ...actual, fastPutLogEventsBody: vi.fn(actual.fastPutLogEventsBody) };
});

const options = {
  logGroupName: '/cwbatch/unit',
  logStreamName: 'defaults',
  clientConfig: clientConfig('http://127.0.0.1:9'),
};

async function resolvedConfig(extra: Record<string, unknown> = {}) {
  const stream = await cwbatchPinoTransport({ ...options, ...extra });
  const closed = once(stream, 'close');
  stream.end(); // as thread-stream ends it
  await closed;
  return stream.sink.buffer.config;
}

describe('cwbatch/pino defaults', () => {
  it('bounds the worker buffer at 4 MiB and closes within 8 s unless told otherwise', async () => {
    expect(PINO_MAX_BUFFERED_BYTES).toBe(4 * 1024 * 1024);
    const config = await resolvedConfig();
    expect(config.maxBufferedBytes).toBe(PINO_MAX_BUFFERED_BYTES);
    expect(config.shutdownTimeoutMs).toBe(PINO_SHUTDOWN_TIMEOUT_MS);
    expect(config.overflowPolicy).toBe('block');
  });

  it('an explicit maxBufferedBytes wins', async () => {
    const config = await resolvedConfig({ maxBufferedBytes: 64 * 1024 * 1024 });
    expect(config.maxBufferedBytes).toBe(64 * 1024 * 1024);
  });

  it("sends through a client with the fastPutLogEventsBody plugin (the SDK serializer was the worker's largest CPU item)", async () => {
    vi.mocked(fastPutLogEventsBody).mockClear();
    await resolvedConfig();
    expect(fastPutLogEventsBody).toHaveBeenCalledTimes(1);
  });
});
