/** The winston setup every winston case shares: same winston, same format (timestamp + JSON). */
import { once } from 'node:events';
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
    /** Ends the logger and resolves once the transport has taken every record ('finish'). */
    async end() {
      const finished = once(transport, 'finish');
      logger.end();
      await finished;
    },
  };
}
