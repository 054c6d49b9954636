#!/usr/bin/env node
// Soak test: the fault mix at a steady rate for N minutes, through BatchBufferImpl +
// createCloudWatchFlushFunction + the real AWS SDK v3 client against the embedded endpoint on
// loopback. Every message carries a unique id; the endpoint counts how often it stored each id
// (onStored, keepEvents: false), so the run can tell lost from duplicated.
//
// Usage: npm run build && node bench/soak.mjs --minutes 10 [--rate 2000] [--streams 20] [--seed 1]
// Prints accepted / delivered / rejected / dropped / duplicated and RSS every 10 s, and a verdict.
// Exit code: 0 PASS, 1 FAIL.
import { parseArgs } from 'node:util';
import { BatchBufferImpl } from '../dist/batch/index.js';
import { createCloudWatchFlushFunction } from '../dist/aws/index.js';
import { startLocalEndpoint } from '../dist/local/index.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    rate: { type: 'string', default: '2000' },
    streams: { type: 'string', default: '20' },
    seed: { type: 'string', default: '1' },
    size: { type: 'string', default: '200' },
  },
});
const minutes = Number(values.minutes);
const rate = Number(values.rate);
const streams = Number(values.streams);
const size = Number(values.size);
if (!(minutes > 0) || !(rate > 0) || !(streams > 0)) {
  console.error('Expected --minutes, --rate and --streams to be positive numbers');
  process.exit(2);
}

const FAULTS = {
  throttleRate: 0.3,
  unavailableRate: 0.05,
  dropConnectionRate: 0.02,
  latencyMs: [0, 500],
  storeThenFailRate: 0.05,
};
const GROUP = '/cwbatch/soak';

// How often each id was stored, by global sequence number (grown on demand).
let stored = new Uint8Array(1 << 20);
let storedTotal = 0;
let duplicated = 0;
function countStored(_group, _stream, events, start, end) {
  for (let i = start; i < end; i++) {
    const m = events[i].message;
    const id = Number(m.slice(3, m.indexOf(' ')));
    while (id >= stored.length) {
      const bigger = new Uint8Array(stored.length * 2);
      bigger.set(stored);
      stored = bigger;
    }
    if (stored[id] > 0) duplicated++;
    if (stored[id] < 255) stored[id]++;
    storedTotal++;
  }
}

const endpoint = await startLocalEndpoint({ faults: FAULTS, keepEvents: false, onStored: countStored, seed: Number(values.seed) });
const cloudwatch = createCloudWatchFlushFunction({
  clientConfig: {
    endpoint: endpoint.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  },
});
// Events in calls answered 503: store-then-fail duplicates can only come from these.
let eventsIn503 = 0;
const flush = async (group, stream, events, token, context) => {
  try {
    return await cloudwatch(group, stream, events, token, context);
  } catch (error) {
    if (error?.name === 'ServiceUnavailableException') eventsIn503 += events.length;
    throw error;
  }
};
const droppedIds = [];
const rejectedIds = [];
const droppedByReason = {};
let backgroundErrors = 0;
const idOf = (m) => Number(m.slice(3, m.indexOf(' ')));
const buffer = new BatchBufferImpl(flush, {
  onDrop: (events, reason) => {
    droppedByReason[reason] = (droppedByReason[reason] ?? 0) + events.length;
    for (const e of events) droppedIds.push(idOf(e.message));
  },
  onRejected: (events) => {
    for (const e of events) rejectedIds.push(idOf(e.message));
  },
  onError: () => {
    backgroundErrors++;
  },
});
buffer.start();

const pad = 'x'.repeat(Math.max(0, size - 20));
let seq = 0;
let peakRss = 0;
let peakBuffered = 0;
const started = Date.now();
const endAt = started + minutes * 60_000;
const mb = (n) => (n / 1024 / 1024).toFixed(1);

function line(label) {
  const m = buffer.getMetrics();
  const rss = process.memoryUsage().rss;
  peakRss = Math.max(peakRss, rss);
  const f = endpoint.stats().faults;
  console.log(
    `${label} t=${((Date.now() - started) / 1000).toFixed(0)}s accepted=${m.eventsAccepted} delivered=${m.eventsDelivered} ` +
      `rejected=${m.eventsRejected} dropped=${m.eventsDropped} duplicated=${duplicated} buffered=${m.eventsBuffered} ` +
      `inFlight=${m.eventsInFlight} bufferedMB=${mb(m.bytesBuffered + m.bytesInFlight)} stored=${storedTotal} retries=${m.retries} ` +
      `rssMB=${mb(rss)} faults[thr=${f.throttledByRate} 503=${f.unavailable} drop=${f.droppedConnections} stf=${f.storeThenFail}]`,
  );
}

const ticker = setInterval(() => line('[soak]'), 10_000);
const sampler = setInterval(() => {
  const m = buffer.getMetrics();
  peakBuffered = Math.max(peakBuffered, m.bytesBuffered + m.bytesInFlight);
}, 100);

// Steady producer: every 100 ms, the events due so far (rate per second), round robin over streams.
let nextAt = Date.now();
while (Date.now() < endAt) {
  const due = Math.floor(((Date.now() - started) / 1000) * rate);
  while (seq < due) {
    const s = seq % streams;
    await buffer.add(GROUP, `stream-${s}`, { timestamp: Date.now(), message: `id=${seq} s=${s} ${pad}` });
    seq++;
  }
  nextAt += 100;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, nextAt - Date.now())));
}

console.log(`[soak] producer done after ${seq} events; stopping (timeout 120 s)`);
await buffer.stop({ timeoutMs: 120_000 });
clearInterval(ticker);
clearInterval(sampler);
line('[soak] final');

// Verdict: every id is stored, rejected or dropped (reported); duplicates only from store-then-fail.
const m = buffer.getMetrics();
const accounted = new Uint8Array(seq);
for (const id of droppedIds) accounted[id] = 1;
for (const id of rejectedIds) accounted[id] = 1;
let lost = 0;
for (let id = 0; id < seq; id++) if (stored[id] === 0 && accounted[id] === 0) lost++;
const f = endpoint.stats().faults;
const identity = m.eventsAccepted === m.eventsDelivered + m.eventsRejected + m.eventsDropped + m.eventsBuffered + m.eventsInFlight;
const problems = [];
if (m.eventsAccepted !== seq) problems.push(`accepted ${m.eventsAccepted} != produced ${seq}`);
if (!identity) problems.push('accounting identity broken');
if (lost > 0) problems.push(`${lost} events lost (neither stored nor reported)`);
if (duplicated > 0 && f.storeThenFail === 0) problems.push(`${duplicated} duplicates without any store-then-fail`);
if (duplicated > eventsIn503) problems.push(`${duplicated} duplicates exceed the ${eventsIn503} events answered 503`);
if (m.eventsDelivered + m.eventsRejected + m.eventsDropped !== seq) problems.push('some events still buffered after stop');
console.log(
  `[soak] summary minutes=${minutes} rate=${rate}/s streams=${streams} produced=${seq} delivered=${m.eventsDelivered} ` +
    `rejected=${m.eventsRejected} dropped=${m.eventsDropped} ${JSON.stringify(droppedByReason)} duplicated=${duplicated} ` +
    `(store-then-fail answers: ${f.storeThenFail}; events in all 503 answers: ${eventsIn503}) lost=${lost} retries=${m.retries} flushesFailed=${m.flushesFailed} ` +
    `backgroundErrors=${backgroundErrors} requests=${endpoint.stats().putLogEventsRequests} peakBufferedMB=${mb(peakBuffered)} peakRssMB=${mb(peakRss)}`,
);
console.log(problems.length === 0 ? '[soak] VERDICT: PASS' : `[soak] VERDICT: FAIL: ${problems.join('; ')}`);
cloudwatch.service.destroy();
await endpoint.close();
process.exit(problems.length === 0 ? 0 : 1);
