/**
 * The benchmark's endpoint process: cwbatch's embedded CloudWatch Logs endpoint (faults off,
 * `keepEvents: false`) in a process of its own, so that its CPU is never counted against the
 * client under test. Driven by the parent over IPC.
 *
 * Lost and duplicated events: with `keepEvents: false` the endpoint keeps only counts, so this
 * process wraps its PutLogEvents operation (without changing it) and, for every event the
 * operation stored, reads the `"seq":N` number the benchmark writes into each message and counts
 * it in a typed array: unique, duplicated, and the wall-clock time at which the last new event
 * arrived (the end of "events/s delivered").
 *
 * Messages: {type:'reset', n, group, stream} -> {type:'reset-done'}; {type:'stats'} -> {type:'stats', ...}.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

const root = process.argv[2];
if (root === undefined) throw new Error('usage: endpoint.mjs <cwbatch root>');
const { startLocalEndpoint } = await import(pathToFileURL(`${root}/dist/local/index.js`).href);
const { OPERATIONS } = await import(pathToFileURL(`${root}/dist/local/operations.js`).href);

const wallNow = () => performance.timeOrigin + performance.now();

let counts = new Uint8Array(0);
let expected = 0;
let unique = 0;
let duplicates = 0;
let unparsable = 0;
let outOfRange = 0;
let eventsInPuts = 0;
let bytesInPuts = 0;
let storedPuts = 0;
let firstEventAt = 0;
let lastNewEventAt = 0;
let baseRequests = 0;
/** This process's CPU (user + system, µs) at the last reset: the endpoint's CPU per case run. */
let cpuAtReset = 0;
const cpuNow = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

const SEQ = '"seq":';
function seqOf(message) {
  const at = message.indexOf(SEQ);
  if (at === -1) return -1;
  let i = at + SEQ.length;
  let n = 0;
  let digits = 0;
  for (;;) {
    const c = message.charCodeAt(i++);
    if (c < 48 || c > 57) break;
    n = n * 10 + (c - 48);
    digits++;
  }
  return digits === 0 ? -1 : n;
}

const put = OPERATIONS.get('PutLogEvents');
if (typeof put !== 'function') throw new Error('the endpoint has no PutLogEvents operation to wrap');
OPERATIONS.set('PutLogEvents', function countingPutLogEvents(ctx, body) {
  const output = put(ctx, body); // throws for a refused batch: nothing stored, nothing counted
  const events = body.logEvents;
  const info = output?.rejectedLogEventsInfo ?? {};
  const start = Math.max(info.tooOldLogEventEndIndex ?? 0, info.expiredLogEventEndIndex ?? 0);
  const end = info.tooNewLogEventStartIndex ?? events.length;
  const before = unique;
  storedPuts++;
  eventsInPuts += events.length;
  for (let i = start; i < end; i++) {
    const message = events[i].message;
    bytesInPuts += message.length; // ASCII messages: length = UTF-8 bytes
    const seq = seqOf(message);
    if (seq < 0) {
      unparsable++;
      continue;
    }
    if (seq >= expected) {
      outOfRange++;
      continue;
    }
    const c = counts[seq];
    if (c === 0) unique++;
    else duplicates++;
    if (c < 255) counts[seq] = c + 1;
  }
  if (unique !== before) {
    const t = wallNow();
    if (firstEventAt === 0) firstEventAt = t;
    lastNewEventAt = t;
  }
  return output;
});

const endpoint = await startLocalEndpoint({ port: 0, keepEvents: false });

async function call(target, payload) {
  const response = await fetch(endpoint.url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': `Logs_20140328.${target}`,
      // The endpoint requires a SigV4-shaped header and never verifies it.
      authorization: 'AWS4-HMAC-SHA256 Credential=test/20261126/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=0',
    },
    body: JSON.stringify(payload),
  });
  const text = await response.text();
  if (!response.ok && !text.includes('ResourceAlreadyExists')) throw new Error(`${target}: ${response.status} ${text}`);
}

process.on('message', (message) => {
  void (async () => {
    if (message.type === 'reset') {
      endpoint.reset();
      expected = message.n;
      counts = new Uint8Array(expected);
      unique = duplicates = unparsable = outOfRange = eventsInPuts = bytesInPuts = storedPuts = 0;
      firstEventAt = lastNewEventAt = 0;
      // The benchmark's group and stream exist before the client starts (some packages never create them);
      // the requests that create them are not counted as the client's.
      if (message.group !== undefined) {
        await call('CreateLogGroup', { logGroupName: message.group });
        if (message.stream !== undefined) await call('CreateLogStream', { logGroupName: message.group, logStreamName: message.stream });
      }
      baseRequests = endpoint.stats().requests;
      cpuAtReset = cpuNow();
      process.send({ type: 'reset-done' });
    } else if (message.type === 'stats') {
      const s = endpoint.stats();
      process.send({
        type: 'stats',
        expected,
        unique,
        duplicates,
        lost: expected - unique,
        unparsable,
        outOfRange,
        requests: s.requests - baseRequests,
        putLogEventsRequests: s.putLogEventsRequests,
        storedPuts,
        eventsInPuts,
        meanMessageBytes: eventsInPuts > 0 ? bytesInPuts / eventsInPuts : 0,
        eventsStored: s.eventsStored,
        rejected: s.rejected,
        firstEventAt,
        lastNewEventAt,
        cpuUs: cpuNow() - cpuAtReset,
      });
    } else if (message.type === 'close') {
      await endpoint.close();
      process.exit(0);
    }
  })().catch((error) => {
    process.send({ type: 'error', message: String(error?.stack ?? error) });
  });
});
process.send({ type: 'listening', url: endpoint.url });
