/**
 * Case "winston-file", the local-file baseline of the winston cases: `winston.transports.File`
 * (defaults) writing to a fresh temporary file, with the same winston, format and records as the
 * other winston cases. Delivered means written to the file: the driver counts its lines after
 * the logger and transport have finished (and until the file stops growing).
 */
import winston from 'winston';
import { lineCounter, tempLogFile } from '../lib/local-file.mjs';
import { makeLogger } from './winston-common.mjs';

export async function setup() {
  const file = tempLogFile('winston.log');
  const transport = new winston.transports.File({ filename: file.path });
  const { log, end } = makeLogger(transport);
  const counter = lineCounter(file.path);
  return {
    config: { destination: 'temporary file' },
    log,
    finish: end,
    local: { count: () => counter.count(), remove: file.remove },
  };
}
