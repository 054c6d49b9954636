/**
 * bench:core's round, shared by compare-core.mjs (timed, alternated) and instructions.mjs
 * (counted under cachegrind): N awaited add() of 120-byte ASCII events (4,096 distinct messages,
 * rising timestamps) spread round-robin over `streamCount` streams of one group, into a buffer with
 * a no-op flush function and the default configuration.
 */
import { Buffer } from 'node:buffer';

const template = Buffer.from(`bench event ${'x'.repeat(120)}`.slice(0, 120), 'latin1');
export const MESSAGES = Array.from({ length: 4096 }, (_, i) => {
  template.write(String(i).padStart(12, '0'), 108, 'latin1');
  return template.toString('latin1');
});
const T0 = 1_764_000_000_000;

/**
 * A round for `Impl` (a build's BatchBufferImpl) over `streamCount` streams, the buffer built with
 * `options` (default: none, the defaults). The returned function
 * runs `n` adds; `measure` (optional) is called right after the last add, before `stop()`, with
 * nothing else; the round resolves to how many events the flush function received.
 */
export function coreRound(Impl, streamCount, options = {}) {
  const streams = Array.from({ length: streamCount }, (_, i) => `stream-${i}`);
  return async (n, { measure, stop = true } = {}) => {
    let delivered = 0;
    const buffer = new Impl(async (_g, _s, events) => {
      delivered += events.length;
    }, options);
    for (let i = 0; i < n; i++) await buffer.add('/bench/core', streams[i % streamCount], { timestamp: T0 + i, message: MESSAGES[i & 4095] });
    measure?.();
    if (!stop) return { delivered, buffer };
    await buffer.stop();
    if (delivered !== n || buffer.getMetrics().eventsDelivered !== n) throw new Error(`delivered ${delivered} of ${n}`);
    return { delivered, buffer };
  };
}

/**
 * Runs `round` (a {@link coreRound}) for `n` events after two full collections (run with
 * `--expose-gc`), and returns its events per second of wall time and of this process's CPU time,
 * both measured from the first add() to the last (stop() not counted).
 */
export async function timedRound(round, n) {
  for (let i = 0; i < 2; i++) globalThis.gc();
  const start = process.hrtime.bigint();
  const cpuStart = process.cpuUsage();
  let seconds = 0;
  let cpu;
  await round(n, {
    measure: () => {
      seconds = Number(process.hrtime.bigint() - start) / 1e9;
      cpu = process.cpuUsage(cpuStart);
    },
  });
  return { wall: n / seconds, cpu: n / ((cpu.user + cpu.system) / 1e6) };
}
