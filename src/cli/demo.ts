/**
 * `cwbatch demo` (issue 4): the whole stack on the embedded endpoint, no AWS account. Ships a
 * generated workload (structured events, multibyte text, oversized events, late events, events
 * outside the time window, a burst, a stretch of throttling) through BatchBufferImpl, the AWS
 * adapter and the real SDK client, reads everything back with GetLogEvents, and checks event by
 * event that each one was stored, or rejected by the service with a reason, or dropped with a
 * reason. Exits 1 if anything was lost.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { BatchBufferImpl } from '../batch/buffer.js';
import { DEFAULT_BATCH_CONFIG } from '../batch/config.js';
import { splitMessage, utf8ByteLength } from '../batch/event-size.js';
import { serializeStructuredEvent } from '../batch/structured.js';
import { EVENT_OVERHEAD_BYTES } from '../batch/limits.js';
import type { InputLogEvent } from '../batch/types.js';
import { startLocalEndpoint } from '../local/server.js';
import { EmfSink } from '../emf/index.js';
import { buildClient, buildFlushFunction, LOCAL_CREDENTIALS, readStream } from './cloudwatch.js';
import { byReason, int, progressText, seconds, StatusLine } from './format.js';
import { sleep } from './lines.js';
import { EXIT_FAILED, EXIT_OK, UsageError, parseNumber } from './usage.js';

export const DEMO_USAGE = `Usage: cwbatch demo [--events N]

Starts the embedded CloudWatch Logs endpoint on a free loopback port, ships a generated workload
through the full stack (BatchBufferImpl → AWS SDK v3 → endpoint), reads everything back and
prints a verification table. Exit code 1 if any event was lost.

Options:
      --events N   size of the workload (default 200000, at least 1000)
  -h, --help       show this help`;

const GROUP = '/cwbatch/demo';
const STREAMS = ['api-gateway', 'checkout-worker', 'payments', 'search-indexer', 'audit'] as const;
type StreamName = (typeof STREAMS)[number];
const DAY_MS = 24 * 60 * 60 * 1000;

/** What the demo sent, per stream, as a multiset of "timestamp\0message" (split events as their parts). */
class Ledger {
  readonly expected = new Map<string, Map<string, number>>();
  readonly sent = new Map<string, number>();

  constructor(private readonly maxMessageBytes: number) {
    for (const s of STREAMS) {
      this.expected.set(s, new Map());
      this.sent.set(s, 0);
    }
  }

  add(stream: string, event: InputLogEvent): void {
    // The buffer splits an oversized event into parts with the same timestamp; expect the parts.
    const parts =
      utf8ByteLength(event.message) > this.maxMessageBytes
        ? splitMessage(event.message, this.maxMessageBytes)
        : [event.message];
    const bag = this.expected.get(stream) as Map<string, number>;
    this.sent.set(stream, (this.sent.get(stream) ?? 0) + parts.length);
    for (const part of parts) {
      const key = `${event.timestamp}\0${part}`;
      bag.set(key, (bag.get(key) ?? 0) + 1);
    }
  }

  /** Takes one occurrence off; false when it was not expected (a duplicate or a stranger). */
  take(stream: string, event: InputLogEvent): boolean {
    const bag = this.expected.get(stream);
    const key = `${event.timestamp}\0${event.message}`;
    const n = bag?.get(key) ?? 0;
    if (n === 0) return false;
    if (n === 1) bag?.delete(key);
    else bag?.set(key, n - 1);
    return true;
  }

  left(stream: string): number {
    let n = 0;
    for (const count of this.expected.get(stream)?.values() ?? []) n += count;
    return n;
  }
}

/** A small deterministic PRNG so that every run ships the same workload. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROUTES = ['GET /api/orders', 'POST /api/orders', 'GET /api/cart', 'PUT /api/cart/items', 'GET /api/search', 'POST /api/login'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64)', 'okhttp/4.12.0', 'curl/8.5.0', 'Go-http-client/2.0'];
const CITIES = ['Zürich', 'São Paulo', 'Kraków', '東京', 'Москва', 'Ελλάδα', 'القاهرة', 'München'];
const ITEMS = ['café ☕', 'crème brûlée 🍮', 'ramen 🍜', '寿司 🍣', 'smørrebrød', 'jalapeño 🌶️', 'piñata 🪅'];

/** Runs `cwbatch demo`; resolves to the exit code. */
export async function runDemo(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { events: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  // Against the embedded endpoint the SDK's advice to upgrade Node is noise in the demo's output.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const total = Math.round(parseNumber('events', values.events, 200_000, 1_000, 10_000_000));

  const out = process.stdout;
  const say = (text = ''): void => {
    status.clear();
    out.write(`${text}\n`);
  };
  const status = new StatusLine(process.stderr);
  const random = prng(2026);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;

  const endpoint = await startLocalEndpoint({ port: 0, host: '127.0.0.1', seed: 7 });
  const client = buildClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const flush = buildFlushFunction(client, true);
  const maxMessageBytes = DEFAULT_BATCH_CONFIG.maxEventBytes - EVENT_OVERHEAD_BYTES;
  const ledger = new Ledger(maxMessageBytes);
  const rejectedByStream = new Map<string, number>();
  const rejectedEvents: Array<[string, InputLogEvent]> = [];
  const droppedEvents: Array<[string, InputLogEvent]> = [];
  // The core reports one failed flush run to onError once per add() that was waiting on it: count runs, not reports.
  const backgroundErrors = new Set<unknown>();
  const buffer = new BatchBufferImpl(flush, {
    flushIntervalMs: 500,
    onRejected: (events, _reason, _group, stream) => {
      rejectedByStream.set(stream, (rejectedByStream.get(stream) ?? 0) + events.length);
      for (const e of events) rejectedEvents.push([stream, e]);
    },
    onDrop: (events) => {
      // onDrop carries no stream; the ledger is checked per stream, so look the events up everywhere.
      for (const e of events) droppedEvents.push(['', e]);
    },
    // Flushes that ran out of retries during the throttling stretch are requeued, not lost: count them.
    onError: (error) => {
      backgroundErrors.add(error);
    },
  });
  buffer.start();

  const host = hostname();
  let seq = 0;
  let added = 0;
  let late = 0;
  let outsideWindow = 0;
  const add = async (stream: StreamName, event: InputLogEvent): Promise<void> => {
    ledger.add(stream, event);
    added++;
    await buffer.add(GROUP, stream, event);
  };
  /** One realistic event for `stream` at time `now`. */
  const next = async (stream: StreamName, now: number): Promise<void> => {
    seq++;
    switch (stream) {
      case 'api-gateway': {
        const code = random() < 0.97 ? 200 : pick([404, 429, 500, 503]);
        const fields = { route: pick(ROUTES), status: code, durationMs: Math.round(random() * 250), userAgent: pick(AGENTS), seq, host };
        const event = {
          level: code >= 500 ? 'error' : code >= 400 ? 'warn' : 'info',
          message: `${fields.route} ${code}`,
          requestId: `req-${seq.toString(36)}`,
          traceId: `1-${now.toString(16)}-${seq.toString(16).padStart(12, '0')}`,
          fields,
          timestamp: now,
        };
        // addStructured serialises it; the ledger needs the same text to check the read-back.
        ledger.add(stream, { timestamp: now, message: serializeStructuredEvent(event) });
        added++;
        await buffer.addStructured(GROUP, stream, event);
        return;
      }
      case 'checkout-worker':
        await add(stream, {
          timestamp: now,
          message: `order #${seq} paid: 2 × ${pick(ITEMS)} for ${pick(CITIES)}, total €${(random() * 120).toFixed(2)} ✅`,
        });
        return;
      case 'payments': {
        // A few late events: a client retried, its timestamps are seconds to minutes old.
        const isLate = random() < 0.0005;
        if (isLate) late++;
        const ts = isLate ? now - Math.round(5_000 + random() * 85_000) : now;
        await add(stream, {
          timestamp: ts,
          message: JSON.stringify({ time: ts, level: 'info', msg: 'charge captured', amount: Math.round(random() * 1e4), currency: 'EUR', seq, late: isLate }),
        });
        return;
      }
      case 'search-indexer':
        await add(stream, { timestamp: now, message: `indexed doc ${seq} in ${Math.round(random() * 40)} ms (shard ${seq % 16}, ${pick(CITIES)})` });
        return;
      case 'audit':
        await add(stream, { timestamp: now, message: `user u${seq % 977} ${pick(['login', 'logout', 'export', 'password change'])} from 10.0.${seq % 256}.${seq % 199}` });
        return;
    }
  };
  /** Adds `count` events spread over the streams at about `perSecond`, or as fast as possible. */
  // (sent per stream counts an oversized event as its parts, as the buffer's `eventsAccepted` does)
  const traffic = async (count: number, perSecond: number | undefined): Promise<void> => {
    const start = Date.now();
    for (let i = 0; i < count; i++) {
      await next(STREAMS[i % STREAMS.length] as StreamName, Date.now());
      if (perSecond !== undefined && i % 500 === 499) {
        const due = start + ((i + 1) * 1000) / perSecond;
        const wait = due - Date.now();
        if (wait > 0) await sleep(wait);
      }
    }
  };

  say(`cwbatch demo: ${int(total)}+ log events through BatchBufferImpl → AWS SDK v3 → embedded CloudWatch Logs`);
  say();
  say(`  endpoint  ${endpoint.url}  (embedded, in memory, enforces AWS's PutLogEvents rules)`);
  say('  client    @aws-sdk/client-cloudwatch-logs, fake credentials test/test, 1 HTTP attempt per call');
  say('  buffer    flush every 500 ms or at 10,000 events / 1 MiB, up to 4 requests in flight, retries with back-off');
  say(`  group     ${GROUP}: ${STREAMS.join(', ')}`);
  say();

  const started = Date.now();
  let phase = 'starting';
  const at = (): string => seconds(Date.now() - started).padStart(7);
  // Each phase's figures as CloudWatch metrics (cwbatch/emf), read back from the endpoint's EMF extraction below.
  // Sent only at close (after the endpoint's counters are read), so the table above counts the log events' requests alone.
  const emf = new EmfSink({
    logGroupName: `${GROUP}-metrics`,
    logStreamName: 'demo',
    namespace: 'cwbatch/demo',
    flushIntervalMs: 3_600_000,
    clientConfig: { endpoint: endpoint.url, region: 'us-east-1', credentials: { ...LOCAL_CREDENTIALS } },
  });
  let mark = { at: Date.now(), added: 0, retries: 0 };
  const step = (text: string): void => {
    const r = buffer.getMetrics().retries;
    emf.logger().putDimensions({ Phase: phase }).putMetric('Added', added - mark.added, 'Count').putMetric('Retries', r - mark.retries, 'Count').putMetric('Duration', Date.now() - mark.at, 'Milliseconds').flush();
    mark = { at: Date.now(), added, retries: r };
    phase = text.split(':')[0] ?? text;
    say(`${at()}  ${text}`);
  };
  status.start(() => `${at()}  ${phase.padEnd(12)} ${progressText(buffer.getMetrics(), added, Date.now() - started, 'added')}`);

  const steady = Math.round(total * 0.3);
  const burst = Math.round(total * 0.25);
  const throttled = Math.round(total * 0.3);
  const rest = total - steady - burst - throttled;

  step(`steady: ${int(steady)} events at ~25,000/s (structured JSON, multibyte text, 3 oversized 1.5 MB documents)`);
  for (let i = 0; i < 3; i++) {
    const doc = `{"doc":${i},"body":"${'Größe 📦 '.repeat(140_000)}"}`; // ≈1.5 MB: more than one event may hold
    await add('search-indexer', { timestamp: Date.now(), message: doc });
  }
  await traffic(steady, 25_000);

  step(`burst: ${int(burst)} events at once`);
  await traffic(burst, undefined);

  const throttleRate = 0.7;
  endpoint.setFaults({ throttleRate });
  step(`throttling: the endpoint answers ${throttleRate * 100}% of PutLogEvents with ThrottlingException while ${int(throttled)} more arrive`);
  await traffic(throttled, 25_000);
  endpoint.setFaults({});

  step(`recovery: throttling over; ${int(rest)} more events, 3 from 15 days ago and 2 from 3 h ahead`);
  const now = Date.now();
  for (let i = 0; i < 3; i++) {
    outsideWindow++;
    await add('audit', { timestamp: now - 15 * DAY_MS + i, message: `replayed audit record ${i} from 15 days ago (older than 14 days: AWS refuses it)` });
  }
  for (let i = 0; i < 2; i++) {
    outsideWindow++;
    await add('audit', { timestamp: now + 3 * 60 * 60 * 1000 + i, message: `audit record ${i} with a clock 3 h fast (more than 2 h ahead: AWS refuses it)` });
  }
  await traffic(rest, 25_000);

  step('stopping: input done; the buffer flushes everything and waits for delivery');
  await buffer.stop({ timeoutMs: 30_000 });
  const shipMs = Date.now() - started;
  status.stop();
  const m = buffer.getMetrics();

  step('reading back every stream with GetLogEvents (real SDK, paged)');
  const stored = new Map<string, number>();
  let duplicates = 0;
  let misordered = 0;
  for (const stream of STREAMS) {
    let n = 0;
    let previous = -Infinity;
    for await (const page of readStream(client, GROUP, stream)) {
      for (const e of page) {
        n++;
        if (e.timestamp < previous) misordered++;
        previous = e.timestamp;
        if (!ledger.take(stream, e)) duplicates++;
      }
    }
    stored.set(stream, n);
  }
  for (const [stream, e] of rejectedEvents) if (!ledger.take(stream, e)) duplicates++;
  for (const [, e] of droppedEvents) if (!STREAMS.some((s) => ledger.take(s, e))) duplicates++;
  const lostByStream = new Map(STREAMS.map((s) => [s, ledger.left(s)]));
  const lost = [...lostByStream.values()].reduce((a, b) => a + b, 0);
  const storedTotal = [...stored.values()].reduce((a, b) => a + b, 0);
  const stats = endpoint.stats();
  const throttledRequests = stats.faults.throttledByRate + stats.faults.throttledByRequestsPerSecond;
  step(`done: read back ${int(storedTotal)} events`);
  await emf.close();
  const extracted = endpoint.metrics().metrics.filter((x) => x.Namespace === 'cwbatch/demo' && x.Dimensions[0]?.Value !== 'starting');
  client.destroy();
  await endpoint.close();

  const accounted = m.eventsDelivered + m.eventsRejected + m.eventsDropped;
  const row = (label: string, value: string, note = ''): void => say(`  ${label.padEnd(14)}${value.padStart(10)}   ${note}`.trimEnd());
  const ok = lost === 0 && duplicates === 0 && storedTotal === m.eventsDelivered && accounted === m.eventsAccepted;
  say();
  say('Verification');
  say(`  ${'─'.repeat(90)}`);
  row('accepted', int(m.eventsAccepted), `${int(added)} events added; ${m.eventsSplit} oversized ones went in as ${m.eventsAccepted - added + m.eventsSplit} parts`);
  row('delivered', int(m.eventsDelivered), "the buffer's count of events stored by the service");
  row('stored', int(storedTotal), storedTotal === m.eventsDelivered ? 'read back with GetLogEvents; equals delivered ✓' : 'read back with GetLogEvents; differs from delivered ✗');
  row('rejected', int(m.eventsRejected), `${byReason(m.rejectedByReason) || 'none'} (by the service; ${outsideWindow} were sent outside the time window)`);
  row('dropped', int(m.eventsDropped), byReason(m.droppedByReason) || 'none (default policies: block when full, split oversized)');
  row('lost', int(lost), lost === 0 ? '✓ each event stored, or rejected/dropped with a reason' : '✗ sent, but neither stored nor reported');
  row('duplicates', int(duplicates), duplicates === 0 ? '✓ nothing stored twice' : '✗ stored more than once');
  // The first write to each new stream is answered ResourceNotFound; the adapter creates the stream and resends.
  const otherRequests = stats.putLogEventsRequests - m.flushesCompleted - throttledRequests;
  const otherNote = otherRequests === STREAMS.length ? `${otherRequests} found a new stream missing: created, resent` : `${otherRequests} other errors`;
  row('batches', int(m.flushesCompleted), `PutLogEvents that succeeded, of ${int(stats.putLogEventsRequests)}: ${int(throttledRequests)} throttled, ${otherNote}`);
  row('retries', int(m.retries), `full-jitter back-off${backgroundErrors.size > 0 ? `; ${backgroundErrors.size} flushes out of retries were requeued` : ''}`);
  row('events/s', int((m.eventsDelivered * 1000) / shipMs), `delivered in ${seconds(shipMs)}, first event to last delivery`);
  row('out of order', int(late), `late events, sorted into place (stored out of order: ${misordered})`);
  say(`  ${'─'.repeat(90)}`);
  say(`  ${'stream'.padEnd(18)}${'accepted'.padStart(10)}${'stored'.padStart(10)}${'rejected'.padStart(10)}${'lost'.padStart(8)}`);
  for (const s of STREAMS) {
    say(
      `  ${s.padEnd(18)}${int(ledger.sent.get(s) ?? 0).padStart(10)}${int(stored.get(s) ?? 0).padStart(10)}` +
        `${int(rejectedByStream.get(s) ?? 0).padStart(10)}${int(lostByStream.get(s) ?? 0).padStart(8)}`,
    );
  }
  say(`  ${'─'.repeat(90)}`);
  say(`  metrics (cwbatch/emf, extracted by the endpoint)   ${['Added', 'Retries', 'Duration'].map((n) => n.padStart(10)).join('')}`);
  for (const p of new Set(extracted.map((x) => x.Dimensions[0]?.Value ?? ''))) {
    const sum = (name: string): number => extracted.find((x) => x.MetricName === name && x.Dimensions[0]?.Value === p)?.Values.reduce((a, b) => a + b, 0) ?? 0;
    say(`  Phase=${(p.split(' ')[0] ?? p).padEnd(45)}${int(sum('Added')).padStart(10)}${int(sum('Retries')).padStart(10)}${`${int(sum('Duration'))} ms`.padStart(10)}`);
  }
  say();
  say(
    ok
      ? `PASS: lost 0. All ${int(m.eventsAccepted)} events were delivered (${int(m.eventsDelivered)}) or rejected by the service with a reason (${int(m.eventsRejected)}).`
      : `FAIL: lost ${int(lost)}, duplicates ${int(duplicates)}; see the table above.`,
  );
  return ok ? EXIT_OK : EXIT_FAILED;
}
