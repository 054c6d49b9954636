/** The winston setup every winston case shares: same winston, same format (timestamp + JSON). */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import winston from 'winston';
import { TEXT, fields } from '../lib/message.mjs';

export const MESSAGE = Symbol.for('message');

export function makeLogger(transport) {
  const logger = winston.createLogger({
    level: 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [transport],
  });
  return {
    logger,
    log: (i) => {
      logger.info(TEXT, fields(i));
    },
    /**
     * Ends the logger and resolves once the transport has taken every record ('finish').
     * winston's Logger#_final ends its transports as soon as its own writable side is done, even
     * while records still wait in its readable queue for a transport that applies back-pressure
     * (one whose log callback waits for room or delivery): those records then fail with "write
     * after end". So wait for that queue and the transport's to be empty first.
     */
    async end() {
      while (logger.readableLength > 0 || transport.writableLength > 0) await sleep(5);
      const finished = once(transport, 'finish');
      logger.end();
      await finished;
    },
  };
}
