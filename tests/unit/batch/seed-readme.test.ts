/**
 * The seed README's usage example, pasted with only the import path changed (to the BUILT package,
 * via the package's self-reference `cwbatch`; run `npm run build` first) and a stand-in for
 * `logEventsService`.
 */
import { expect, it, vi } from 'vitest';
import { BatchBufferImpl } from 'cwbatch';
import type { FlushFunction } from 'cwbatch';

interface PutRequest {
  logGroupName: string;
  logStreamName: string;
  logEvents: Array<{ timestamp: number; message: string }>;
  sequenceToken?: string | undefined;
}
const stored: PutRequest[] = [];
const logEventsService = {
  async put(request: PutRequest): Promise<{ nextSequenceToken: string | undefined }> {
    stored.push({ ...request, logEvents: request.logEvents.map((e) => ({ ...e })) });
    return { nextSequenceToken: undefined };
  },
};

it('runs the seed usage example against the built package', async () => {
  const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
  const before = Date.now();

  // ---- pasted from the seed README (import path changed above) ----
  // Define your flush function (calls LogEventsService.put())
  const flushFunction: FlushFunction = async (logGroup, logStream, events, sequenceToken) => {
    // Call CloudWatch Logs PutLogEvents API
    const response = await logEventsService.put({
      logGroupName: logGroup,
      logStreamName: logStream,
      logEvents: events,
      sequenceToken,
    });

    return { nextSequenceToken: response.nextSequenceToken };
  };

  // Create buffer with default configuration
  const buffer = new BatchBufferImpl(flushFunction);

  // Start background flush timer
  buffer.start();

  // Add events
  await buffer.add('/app/logs', 'stream-1', {
    timestamp: Date.now(),
    message: 'Log message',
  });

  // Add structured events
  await buffer.addStructured('/app/logs', 'stream-1', {
    level: 'info',
    message: 'User login',
    traceId: 'abc-123',
    requestId: 'req-456',
    fields: { userId: 'user-789' },
  });

  // Manual flush (optional)
  await buffer.flush('/app/logs', 'stream-1');

  // Get metrics
  const metrics = buffer.getMetrics();
  console.log(`Buffered: ${metrics.eventsBuffered} events, ${metrics.bytesBuffered} bytes`);

  // Graceful shutdown
  await buffer.stop();
  // ---- end of the pasted example ----

  expect(log).toHaveBeenCalledWith('Buffered: 0 events, 0 bytes');
  expect(stored).toHaveLength(1);
  const [request] = stored;
  expect(request!.logGroupName).toBe('/app/logs');
  expect(request!.logStreamName).toBe('stream-1');
  expect(request!.sequenceToken).toBeUndefined();
  expect(request!.logEvents).toHaveLength(2);
  expect(request!.logEvents[0]!.message).toBe('Log message');
  expect(JSON.parse(request!.logEvents[1]!.message)).toEqual({
    level: 'info',
    message: 'User login',
    traceId: 'abc-123',
    requestId: 'req-456',
    userId: 'user-789',
  });
  for (const e of request!.logEvents) {
    expect(e.timestamp).toBeGreaterThanOrEqual(before);
    expect(e.timestamp).toBeLessThanOrEqual(Date.now());
  }
  expect(buffer.getMetrics().eventsDelivered).toBe(2);
});

it('the seed custom configuration constructs as written', async () => {
  const { DEFAULT_BATCH_CONFIG } = await import('cwbatch');
  const buffer = new BatchBufferImpl(async () => undefined, {
    maxEvents: 5000, // Flush after 5000 events (instead of 10000)
    maxBytes: 524288, // Flush after 512KB (instead of 1MB)
    flushIntervalMs: 2000, // Flush every 2s (instead of 5s)
    maxRetries: 5, // Retry up to 5 times (instead of 3)
  });
  expect(buffer.config.maxBytes).toBe(524288);
  expect(DEFAULT_BATCH_CONFIG.maxEvents).toBe(10000);
  await buffer.stop();
});
