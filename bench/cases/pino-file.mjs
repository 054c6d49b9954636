/**
 * Case "pino-file", the local-file baseline of the pino cases: pino's own `pino/file` target
 * (SonicBoom in pino's worker thread) writing to a fresh temporary file, with the same logger,
 * records and `pino.transport({ sync: true })` as `cwbatch-pino` (so the application's thread
 * pays the same way: it waits for the worker when thread-stream's buffer is full). Delivered
 * means written to the file: the driver counts its lines once the transport has closed.
 * Timed from the transport's 'ready' (worker started).
 */
import { once } from 'node:events';
import pino from 'pino';
import { TEXT, fields } from '../lib/message.mjs';
import { profiled } from '../lib/profile.mjs';
import { lineCounter, tempLogFile } from '../lib/local-file.mjs';

export async function setup({ workerProfile }) {
  const file = tempLogFile('pino.log');
  const transport = pino.transport({
    ...profiled('pino/file', workerProfile),
    sync: true,
    options: { ...profiled('pino/file', workerProfile).options, destination: file.path },
  });
  await once(transport, 'ready');
  const logger = pino({}, transport);
  const counter = lineCounter(file.path);
  return {
    config: { sync: true, destination: 'temporary file' },
    log: (i) => {
      logger.info(fields(i), TEXT);
    },
    async finish() {
      const closed = once(transport, 'close');
      transport.end();
      await closed;
    },
    local: { count: () => counter.count(), remove: file.remove },
  };
}
