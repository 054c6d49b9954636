#!/usr/bin/env node
// Rotation soak (issue 17's acceptance run): a simulated 30-day run, on an injected clock, of a
// service writing 200 streams a day named by the template `app-{date}-{i}` (rotating daily) plus
// 10,000 one-off stream names (`job-{k}`), through BatchBufferImpl + createCloudWatchFlushFunction
// + the real AWS SDK v3 client, against the embedded endpoint on loopback.
//
// The endpoint runs in a child process (its store grows with every stream; the heap measured is
// this process's, the buffer's and the SDK's), on the same simulated clock, with keepEvents:
// false; its onStored hook checks that each event landed in the stream its template names and
// counts every id stored. The stream name is evaluated from the event's own timestamp (UTC date),
// as a `{date}` template does (src/batch/name-template.ts is not on this branch).
//
// Usage: npm run soak:rotation  (builds, then runs with --expose-gc)
//        node --expose-gc bench/rotation-soak.mjs [--days 30] [--streams 200] [--oneoff 10000] [--per-day 2]
// Prints per-day figures and a verdict: every event stored in its stream, lost 0, heap after the
// last day within 10% of heap after day 2 (measured after global.gc()). Exit code 0 PASS, 1 FAIL.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GROUP = '/cwbatch/rotation-soak';
const START = Date.UTC(2026, 0, 1);

if (process.argv[2] === '--endpoint') {
  await runEndpoint();
} else {
  await runService();
}

/** The child: the embedded endpoint on the simulated clock, checking and counting what it stores. */
async function runEndpoint() {
  const { startLocalEndpoint } = await import('../dist/local/index.js');
  let now = START;
  const seen = new Uint8Array(1 << 20);
  let stored = 0;
  let duplicated = 0;
  let misplaced = 0;
  let distinct = 0;
  const endpoint = await startLocalEndpoint({
    keepEvents: false,
    now: () => now,
    onStored(group, stream, events, start, end) {
      for (let i = start; i < end; i++) {
        // Message: "<id> <stream the template names> <payload>"
        const message = events[i].message;
        const space = message.indexOf(' ');
        const id = Number(message.slice(0, space));
        const named = message.slice(space + 1, message.indexOf(' ', space + 1));
        if (group !== GROUP || stream !== named) misplaced++;
        if (seen[id] > 0) duplicated++;
        else distinct++;
        if (seen[id] < 255) seen[id]++;
        stored++;
      }
    },
  });
  process.on('message', (msg) => {
    if (msg.now !== undefined) now = msg.now;
    if (msg.report) {
      const streams = endpoint.store.streamNames(GROUP).length;
      process.send({ reply: msg.seq, stored, distinct, duplicated, misplaced, streams });
      return;
    }
    if (msg.close) {
      void endpoint.close().then(() => process.disconnect());
      return;
    }
    process.send({ reply: msg.seq });
  });
  process.send({ url: endpoint.url });
}

/** The parent: the service, its buffer and the SDK, on the simulated clock. */
async function runService() {
  const { values } = parseArgs({
    options: {
      days: { type: 'string', default: '30' },
      streams: { type: 'string', default: '200' },
      oneoff: { type: 'string', default: '10000' },
      'per-day': { type: 'string', default: '2' },
    },
  });
  const days = Number(values.days);
  const perDayStreams = Number(values.streams);
  const oneOff = Number(values.oneoff);
  const perDay = Number(values['per-day']);
  if (![days, perDayStreams, oneOff, perDay].every((n) => Number.isInteger(n) && n >= 0) || days < 3 || perDay < 1) {
    console.error('Expected --days >= 3 and --streams, --oneoff, --per-day integers (--per-day >= 1)');
    process.exit(2);
  }
  if (typeof global.gc !== 'function') {
    console.error('Run with node --expose-gc (npm run soak:rotation does)');
    process.exit(2);
  }
  const { BatchBufferImpl } = await import('../dist/batch/index.js');
  const { createCloudWatchFlushFunction } = await import('../dist/aws/index.js');

  const child = fork(fileURLToPath(import.meta.url), ['--endpoint'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const url = await new Promise((resolve, reject) => {
    child.once('message', (msg) => resolve(msg.url));
    child.once('error', reject);
  });
  let seq = 0;
  const waiting = new Map();
  child.on('message', (msg) => {
    if (msg.reply === undefined) return;
    waiting.get(msg.reply)?.(msg);
    waiting.delete(msg.reply);
  });
  const ask = (msg) =>
    new Promise((resolve) => {
      const id = ++seq;
      waiting.set(id, resolve);
      child.send({ ...msg, seq: id });
    });

  let now = START;
  const flush = createCloudWatchFlushFunction({
    clientConfig: { endpoint: url, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } },
  });
  const errors = [];
  const buffer = new BatchBufferImpl(flush, {
    now: () => now,
    // streamIdleTimeoutMs: the default, 300,000
    onError: (error) => errors.push(error),
  });
  buffer.start();

  const date = (t) => new Date(t).toISOString().slice(0, 10);
  /** The `app-{date}-{i}` template, evaluated on the event's own timestamp. */
  const rotating = (t, i) => `app-${date(t)}-${i}`;
  const oneOffPerDay = Math.ceil(oneOff / days);
  let sent = 0;
  let nextOneOff = 0;
  const heap = [];
  const started = performance.now();
  console.log(`rotation soak: ${days} days, ${perDayStreams} streams/day by {date} x ${perDay} events, ${oneOff} one-off streams`);
  for (let day = 0; day < days; day++) {
    for (let hour = 0; hour < 24; hour++) {
      const hourStart = START + day * DAY + hour * HOUR;
      now = hourStart + HOUR - 1;
      await ask({ now });
      const adds = [];
      for (let i = 0; i < perDayStreams; i++) {
        for (let k = 0; k < perDay; k++) {
          // Each stream's events are spread over the day: event k of stream i in hour (i + k*24/perDay) % 24.
          if ((i + Math.floor((k * 24) / perDay)) % 24 !== hour) continue;
          const t = hourStart + ((i * 7919 + k) % HOUR);
          const stream = rotating(t, i);
          adds.push(buffer.add(GROUP, stream, { timestamp: t, message: `${sent++} ${stream} day ${day} stream ${i} event ${k}` }));
        }
      }
      for (let j = 0; j < oneOffPerDay; j++) {
        if (j % 24 !== hour || nextOneOff >= oneOff) continue;
        const t = hourStart + ((j * 104_729) % HOUR);
        const stream = `job-${nextOneOff++}`;
        adds.push(buffer.add(GROUP, stream, { timestamp: t, message: `${sent++} ${stream} one-off` }));
      }
      await Promise.all(adds);
      await buffer.flushAll();
    }
    global.gc();
    global.gc();
    const m = buffer.getMetrics();
    const used = process.memoryUsage().heapUsed;
    heap.push(used);
    console.log(
      `day ${String(day + 1).padStart(2)}: sent ${sent}, delivered ${m.eventsDelivered}, streams held ${m.streams}, heap ${(used / 1048576).toFixed(2)} MiB, ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  await buffer.stop();
  flush.service.destroy();
  const report = await ask({ report: true });
  child.send({ close: true });
  const m = buffer.getMetrics();
  const lost = sent - report.distinct;
  const day2 = heap[1];
  const last = heap[heap.length - 1];
  const growth = (last - day2) / day2;
  console.log('');
  console.log(`events sent ${sent}; stored ${report.stored} (distinct ${report.distinct}), duplicated ${report.duplicated}, misplaced ${report.misplaced}, lost ${lost}`);
  console.log(`streams created at the endpoint ${report.streams} (expected ${days * perDayStreams + Math.min(oneOff, nextOneOff)}); streams held by the buffer at the end ${m.streams}`);
  console.log(`buffer: accepted ${m.eventsAccepted}, delivered ${m.eventsDelivered}, rejected ${m.eventsRejected}, dropped ${m.eventsDropped}; background errors ${errors.length}`);
  console.log(`heap after day 2 ${(day2 / 1048576).toFixed(2)} MiB, after day ${days} ${(last / 1048576).toFixed(2)} MiB: ${(growth * 100).toFixed(1)}% (limit +10%)`);
  console.log(`wall time ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const pass =
    lost === 0 &&
    report.misplaced === 0 &&
    report.duplicated === 0 &&
    m.eventsDelivered === sent &&
    m.eventsDropped === 0 &&
    m.eventsRejected === 0 &&
    report.streams === days * perDayStreams + Math.min(oneOff, nextOneOff) &&
    growth <= 0.1;
  console.log(pass ? 'PASS' : 'FAIL');
  process.exitCode = pass ? 0 : 1;
}
