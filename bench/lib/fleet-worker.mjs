/**
 * One process of bench:fleet: one or more buffers (BatchBufferImpl), each with its own AWS SDK
 * client (@aws-sdk/client-cloudwatch-logs, through cwbatch's flush function) and its own stream,
 * producing events at a fixed rate, against the driver's embedded endpoint on loopback.
 *
 * argv[2]: JSON {root, url, group, proc, mode, buffers: [{stream, eventsPerSecond, events?}],
 *   durationMs, maxEvents, flushIntervalMs, stopTimeoutMs, startSpreadMs, seed}
 *   mode: 'adaptive' (adaptiveRate true, 1 SDK attempt), 'fixed' (adaptiveRate false, 1 SDK
 *   attempt), 'sdk' (adaptiveRate false, SDK retryMode 'adaptive' with the SDK's 3 attempts).
 *   A buffer with `events` adds that many events at once (start storm) instead of a rate.
 * IPC: sends {type:'ready'}; waits for {type:'go', at} (wall-clock ms); sends {type:'done', ...}.
 *
 * Every loop is bounded: production ends at durationMs, stop() at stopTimeoutMs, and a watchdog
 * exits the process at durationMs + stopTimeoutMs + 30 s whatever happens.
 */
import { pathToFileURL } from 'node:url';

const args = JSON.parse(process.argv[2]);
const { root, url, group, proc, mode, buffers, durationMs, maxEvents, flushIntervalMs, stopTimeoutMs, startSpreadMs = 0, seed = 1 } = args;
const { BatchBufferImpl } = await import(pathToFileURL(`${root}/dist/batch/index.js`).href);
const { createCloudWatchFlushFunction } = await import(pathToFileURL(`${root}/dist/aws/index.js`).href);
const { DescribeLogGroupsCommand } = await import('@aws-sdk/client-cloudwatch-logs');

const TICK_MS = 50;
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

function mulberry32(a) {
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(seed);

const watchdog = setTimeout(() => {
  process.send?.({ type: 'done', proc, watchdog: true, buffers: [] });
  process.exit(3);
}, durationMs + stopTimeoutMs + 30_000 + startSpreadMs);
watchdog.unref();

const units = buffers.map((spec, b) => {
  const clientConfig = {
    endpoint: url,
    region: 'us-east-1',
    credentials: { ...CREDENTIALS },
    ...(mode === 'sdk' ? { retryMode: 'adaptive', maxAttempts: 3 } : { maxAttempts: 1 }),
  };
  const flush = createCloudWatchFlushFunction({ clientConfig });
  const counts = { added: 0, droppedByReason: {}, errors: 0, lastError: undefined };
  const buffer = new BatchBufferImpl(flush, {
    maxEvents,
    flushIntervalMs,
    adaptiveRate: mode === 'adaptive',
    onDrop: (events, reason) => {
      counts.droppedByReason[reason] = (counts.droppedByReason[reason] ?? 0) + events.length;
    },
    onError: (error) => {
      counts.errors++;
      counts.lastError = String(error?.name ?? error);
    },
  });
  return { spec, b, flush, buffer, counts };
});

function message(unit, seq) {
  // p: process, b: buffer, seq: number within the buffer, t: wall-clock ms at add().
  return `{"p":${proc},"b":${unit.b},"seq":${seq},"t":${Date.now()},"pad":"${'x'.repeat(40)}"}`;
}

/** Adds the next event; `timestamp`: when it happened (default now). */
async function addOne(unit, timestamp = Date.now()) {
  const seq = unit.counts.added++;
  await unit.buffer.add(group, unit.spec.stream, { timestamp, message: message(unit, seq) });
}

async function run(goAt) {
  const wait = Math.max(0, goAt - Date.now());
  await new Promise((resolve) => setTimeout(resolve, wait));
  const t0 = Date.now();
  await Promise.all(
    units.map(async (unit) => {
      // Start storm: each buffer starts at its own moment within startSpreadMs.
      const offset = startSpreadMs > 0 ? Math.floor(random() * startSpreadMs) : 0;
      if (offset > 0) await new Promise((resolve) => setTimeout(resolve, offset));
      if (unit.spec.events !== undefined) {
        unit.buffer.start();
        for (let i = 0; i < unit.spec.events; i++) await addOne(unit);
        return;
      }
      // Steady producer: at every tick, add the events due by now (rate x elapsed), so a slow
      // tick does not lower the offered load. Bounded by durationMs.
      // Each buffer's flush timer at its own phase: processes of a fleet do not start in the same millisecond.
      await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * flushIntervalMs)));
      unit.buffer.start();
      const rate = unit.spec.eventsPerSecond;
      const phase = random() * TICK_MS;
      const started = Date.now();
      for (;;) {
        const elapsed = Date.now() - started;
        if (elapsed >= durationMs) break;
        const due = Math.floor(((elapsed + phase) * rate) / 1000);
        // Each event carries the moment it was due (spread over the tick, as real events are),
        // not the tick's: a run of equal timestamps makes the buffer send those batches one at a time.
        while (unit.counts.added < due) await addOne(unit, started + Math.floor((unit.counts.added * 1000) / rate));
        await new Promise((resolve) => setTimeout(resolve, TICK_MS));
      }
    }),
  );
  const producedAt = Date.now();
  await Promise.all(units.map((unit) => unit.buffer.stop({ timeoutMs: stopTimeoutMs })));
  const stoppedAt = Date.now();
  for (const unit of units) unit.flush.service.destroy?.();
  return { t0, producedAt, stoppedAt };
}

process.on('message', (msg) => {
  if (msg.type !== 'go') return;
  run(msg.at).then(
    (times) => {
      process.send({
        type: 'done',
        proc,
        ...times,
        cpuMs: (process.cpuUsage().user + process.cpuUsage().system) / 1000,
        buffers: units.map((unit) => {
          const m = unit.buffer.getMetrics();
          return {
            stream: unit.spec.stream,
            added: unit.counts.added,
            delivered: m.eventsDelivered,
            dropped: m.eventsDropped,
            droppedByReason: unit.counts.droppedByReason,
            retries: m.retries,
            flushesFailed: m.flushesFailed,
            errors: unit.counts.errors,
            lastError: unit.counts.lastError,
          };
        }),
      });
      clearTimeout(watchdog);
      setTimeout(() => process.exit(0), 50).unref();
    },
    (error) => {
      process.send({ type: 'done', proc, crashed: String(error?.stack ?? error), buffers: [] });
      process.exit(2);
    },
  );
});
// Warm every client up before the start (its first request loads and initialises much of the SDK,
// a few hundred ms of CPU): DescribeLogGroups, which no quota of the benchmark limits.
await Promise.all(units.map((unit) => unit.flush.service.client.send(new DescribeLogGroupsCommand({ limit: 1 })).catch(() => undefined)));
process.send({ type: 'ready', proc });
