/**
 * The benchmark's event: about 120 bytes of JSON, the shape a pino/winston request log has, with
 * a `"seq":N` the endpoint process uses to count lost and duplicated events.
 */
import { hostname } from 'node:os';

const host = hostname();
const pid = process.pid;

/** The fields a logger case logs for event `i` (the logger adds level, time and message). */
export function fields(i) {
  return { seq: i, path: `/api/v1/orders/${i % 100000}`, status: 200, ms: i % 50 };
}

/** The message text of a logger case. */
export const TEXT = 'request handled';

/** A ready-made message for the core and baseline cases, shaped like pino's line for `fields(i)`. */
export function rawMessage(i, time) {
  return `{"level":30,"time":${time},"pid":${pid},"hostname":"${host}","seq":${i},"path":"/api/v1/orders/${i % 100000}","status":200,"ms":${i % 50},"msg":"request handled"}`;
}
