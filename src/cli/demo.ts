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
import type { FlushFunction, InputLogEvent } from '../batch/types.js';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { startLocalEndpoint, type LocalEndpoint } from '../local/server.js';
import type { ExtractedMetric } from '../local/index.js';
import { PhaseMetrics, phaseRows } from './demo-metrics.js';
import { buildClient, buildFlushFunction, LOCAL_CREDENTIALS, readStream } from './cloudwatch.js';
import { byReason, int, progressText, seconds, StatusLine } from './format.js';
import { sleep } from '../batch/sleep.js';
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

/** Runs `cwbatch demo`; resolves to the exit code. One step per function (issue 14). */
export async function runDemo(argv: string[]): Promise<number> {
  const total = parseDemoArgs(argv);
  if (total === 'help') {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return EXIT_OK;
  }
  // Against the embedded endpoint the SDK's advice to upgrade Node is noise in the demo's output.
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] ??= 'true';
  const out = new DemoOutput();
  const endpoint = await startLocalEndpoint({ port: 0, host: '127.0.0.1', seed: 7 });
  const client = buildClient({ endpoint: endpoint.url, region: 'us-east-1', credentials: LOCAL_CREDENTIALS });
  const workload = new Workload(buildFlushFunction(client, true));
  const metrics = new PhaseMetrics(endpoint.url, GROUP, () => ({ added: workload.added, retries: workload.buffer.getMetrics().retries }));
  out.onPhaseEnd = (phase) => metrics.phaseEnded(phase);
  out.intro(total, endpoint.url);
  const shipMs = await shipWorkload(workload, endpoint, total, out);
  out.step('reading back every stream with GetLogEvents (real SDK, paged)');
  const back = await readBack(client, workload);
  out.step(`done: read back ${int(back.storedTotal)} events`);
  const stats = endpoint.stats();
  const extracted = await metrics.close(endpoint);
  client.destroy();
  await endpoint.close();
  const run = { shipMs, putLogEventsRequests: stats.putLogEventsRequests, throttled: stats.faults.throttledByRate + stats.faults.throttledByRequestsPerSecond };
  return verify(out, workload, back, run, extracted);
}

function parseDemoArgs(argv: string[]): number | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: { events: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help === true) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  return Math.round(parseNumber('events', values.events, 200_000, 1_000, 10_000_000));
}

/** The demo's output: lines on stdout, a status line on a terminal's stderr, timed steps. */
class DemoOutput {
  readonly status = new StatusLine(process.stderr);
  #started = Date.now();
  #phase = 'starting';
  /** Called with the phase that ends when a step begins (the demo's EMF metrics). */
  onPhaseEnd: ((phase: string) => void) | undefined;

  say(text = ''): void {
    this.status.clear();
    process.stdout.write(`${text}\n`);
  }

  /** Seconds since {@link start}, right-aligned. */
  at(): string {
    return seconds(Date.now() - this.#started).padStart(7);
  }

  start(progress: () => string): void {
    this.#started = Date.now();
    this.status.start(() => `${this.at()}  ${this.#phase.padEnd(12)} ${progress()}`);
  }

  step(text: string): void {
    this.onPhaseEnd?.(this.#phase);
    this.#phase = text.split(':')[0] ?? text;
    this.say(`${this.at()}  ${text}`);
  }

  intro(total: number, url: string): void {
    this.say(`cwbatch demo: ${int(total)}+ log events through BatchBufferImpl → AWS SDK v3 → embedded CloudWatch Logs`);
    this.say();
    this.say(`  endpoint  ${url}  (embedded, in memory, enforces AWS's PutLogEvents rules)`);
    this.say('  client    @aws-sdk/client-cloudwatch-logs, fake credentials test/test, 1 HTTP attempt per call');
    this.say('  buffer    flush every 500 ms or at 10,000 events / 1 MiB, up to 4 requests in flight, retries with back-off');
    this.say(`  group     ${GROUP}: ${STREAMS.join(', ')}`);
    this.say();
  }

  row(label: string, value: string, note = ''): void {
    this.say(`  ${label.padEnd(14)}${value.padStart(10)}   ${note}`.trimEnd());
  }
}

/** The generated workload: the buffer it goes through, what was sent, and what came back as rejected or dropped. */
class Workload {
  readonly buffer: BatchBufferImpl;
  readonly ledger = new Ledger(DEFAULT_BATCH_CONFIG.maxEventBytes - EVENT_OVERHEAD_BYTES);
  readonly rejectedByStream = new Map<string, number>();
  readonly rejectedEvents: Array<[string, InputLogEvent]> = [];
  readonly droppedEvents: Array<[string, InputLogEvent]> = [];
  /** The core reports one failed flush run to onError once per add() that was waiting on it: count runs, not reports. */
  readonly backgroundErrors = new Set<unknown>();
  readonly #random = prng(2026);
  readonly #host = hostname();
  #seq = 0;
  added = 0;
  late = 0;
  outsideWindow = 0;

  constructor(flush: FlushFunction) {
    this.buffer = new BatchBufferImpl(flush, {
      flushIntervalMs: 500,
      onRejected: (events, _reason, _group, stream) => {
        this.rejectedByStream.set(stream, (this.rejectedByStream.get(stream) ?? 0) + events.length);
        for (const e of events) this.rejectedEvents.push([stream, e]);
      },
      // The ledger is checked per stream; dropped events are looked up in every stream.
      onDrop: (events) => {
        for (const e of events) this.droppedEvents.push(['', e]);
      },
      // Flushes that ran out of retries during the throttling stretch are requeued, not lost: count them.
      onError: (error) => {
        this.backgroundErrors.add(error);
      },
    });
    this.buffer.start();
  }

  #pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.#random() * items.length)] as T;
  }

  async add(stream: StreamName, event: InputLogEvent): Promise<void> {
    this.ledger.add(stream, event);
    this.added++;
    await this.buffer.add(GROUP, stream, event);
  }

  /** Adds `count` events spread over the streams at about `perSecond`, or as fast as possible. */
  async traffic(count: number, perSecond: number | undefined): Promise<void> {
    const start = Date.now();
    for (let i = 0; i < count; i++) {
      await this.#next(STREAMS[i % STREAMS.length] as StreamName, Date.now());
      if (perSecond !== undefined && i % 500 === 499) {
        const wait = start + ((i + 1) * 1000) / perSecond - Date.now();
        if (wait > 0) await sleep(wait);
      }
    }
  }

  /** One realistic event for `stream` at time `now`. */
  async #next(stream: StreamName, now: number): Promise<void> {
    const seq = ++this.#seq;
    const random = this.#random;
    switch (stream) {
      case 'api-gateway':
        return this.#apiEvent(now, seq);
      case 'checkout-worker':
        return this.add(stream, {
          timestamp: now,
          message: `order #${seq} paid: 2 × ${this.#pick(ITEMS)} for ${this.#pick(CITIES)}, total €${(random() * 120).toFixed(2)} ✅`,
        });
      case 'payments': {
        // A few late events: a client retried, its timestamps are seconds to minutes old.
        const isLate = random() < 0.0005;
        if (isLate) this.late++;
        const ts = isLate ? now - Math.round(5_000 + random() * 85_000) : now;
        const message = JSON.stringify({ time: ts, level: 'info', msg: 'charge captured', amount: Math.round(random() * 1e4), currency: 'EUR', seq, late: isLate });
        return this.add(stream, { timestamp: ts, message });
      }
      case 'search-indexer':
        return this.add(stream, { timestamp: now, message: `indexed doc ${seq} in ${Math.round(random() * 40)} ms (shard ${seq % 16}, ${this.#pick(CITIES)})` });
      case 'audit':
        return this.add(stream, { timestamp: now, message: `user u${seq % 977} ${this.#pick(['login', 'logout', 'export', 'password change'])} from 10.0.${seq % 256}.${seq % 199}` });
    }
  }

  async #apiEvent(now: number, seq: number): Promise<void> {
    const random = this.#random;
    const code = random() < 0.97 ? 200 : this.#pick([404, 429, 500, 503]);
    const fields = { route: this.#pick(ROUTES), status: code, durationMs: Math.round(random() * 250), userAgent: this.#pick(AGENTS), seq, host: this.#host };
    const event = {
      level: code >= 500 ? 'error' : code >= 400 ? 'warn' : 'info',
      message: `${fields.route} ${code}`,
      requestId: `req-${seq.toString(36)}`,
      traceId: `1-${now.toString(16)}-${seq.toString(16).padStart(12, '0')}`,
      fields,
      timestamp: now,
    };
    // addStructured serialises it; the ledger needs the same text to check the read-back.
    this.ledger.add('api-gateway', { timestamp: now, message: serializeStructuredEvent(event) });
    this.added++;
    await this.buffer.addStructured(GROUP, 'api-gateway', event);
  }
}

/** The four phases (steady, burst, throttling, recovery) and the stop; returns the time from the first event to the last delivery, ms. */
async function shipWorkload(w: Workload, endpoint: LocalEndpoint, total: number, out: DemoOutput): Promise<number> {
  const started = Date.now();
  out.start(() => progressText(w.buffer.getMetrics(), w.added, Date.now() - started, 'added'));
  const steady = Math.round(total * 0.3);
  const burst = Math.round(total * 0.25);
  const throttled = Math.round(total * 0.3);
  const rest = total - steady - burst - throttled;

  out.step(`steady: ${int(steady)} events at ~25,000/s (structured JSON, multibyte text, 3 oversized 1.5 MB documents)`);
  for (let i = 0; i < 3; i++) {
    const doc = `{"doc":${i},"body":"${'Größe 📦 '.repeat(140_000)}"}`; // ≈1.5 MB: more than one event may hold
    await w.add('search-indexer', { timestamp: Date.now(), message: doc });
  }
  await w.traffic(steady, 25_000);

  out.step(`burst: ${int(burst)} events at once`);
  await w.traffic(burst, undefined);

  const throttleRate = 0.7;
  endpoint.setFaults({ throttleRate });
  out.step(`throttling: the endpoint answers ${throttleRate * 100}% of PutLogEvents with ThrottlingException while ${int(throttled)} more arrive`);
  await w.traffic(throttled, 25_000);
  endpoint.setFaults({});

  out.step(`recovery: throttling over; ${int(rest)} more events, 3 from 15 days ago and 2 from 3 h ahead`);
  await outsideTheWindow(w);
  await w.traffic(rest, 25_000);

  out.step('stopping: input done; the buffer flushes everything and waits for delivery');
  await w.buffer.stop({ timeoutMs: 30_000 });
  out.status.stop();
  return Date.now() - started;
}

/** Five audit events AWS refuses: three older than 14 days, two more than 2 h ahead. */
async function outsideTheWindow(w: Workload): Promise<void> {
  const now = Date.now();
  for (let i = 0; i < 3; i++) {
    w.outsideWindow++;
    await w.add('audit', { timestamp: now - 15 * DAY_MS + i, message: `replayed audit record ${i} from 15 days ago (older than 14 days: AWS refuses it)` });
  }
  for (let i = 0; i < 2; i++) {
    w.outsideWindow++;
    await w.add('audit', { timestamp: now + 3 * 60 * 60 * 1000 + i, message: `audit record ${i} with a clock 3 h fast (more than 2 h ahead: AWS refuses it)` });
  }
}

/** What reading everything back found. */
interface ReadBack {
  stored: Map<string, number>;
  storedTotal: number;
  duplicates: number;
  misordered: number;
  lostByStream: Map<string, number>;
  lost: number;
}

/** Reads every stream back and takes each stored, rejected and dropped event off the ledger. */
async function readBack(client: CloudWatchLogsClient, w: Workload): Promise<ReadBack> {
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
        if (!w.ledger.take(stream, e)) duplicates++;
      }
    }
    stored.set(stream, n);
  }
  for (const [stream, e] of w.rejectedEvents) if (!w.ledger.take(stream, e)) duplicates++;
  for (const [, e] of w.droppedEvents) if (!STREAMS.some((s) => w.ledger.take(s, e))) duplicates++;
  const lostByStream = new Map(STREAMS.map((s) => [s, w.ledger.left(s)] as [string, number]));
  const sum = (values: Iterable<number>): number => [...values].reduce((a, b) => a + b, 0);
  return { stored, storedTotal: sum(stored.values()), duplicates, misordered, lostByStream, lost: sum(lostByStream.values()) };
}

/** Prints the verification table and the verdict; returns the exit code. */
function verify(
  out: DemoOutput,
  w: Workload,
  back: ReadBack,
  run: { shipMs: number; putLogEventsRequests: number; throttled: number },
  metrics: readonly ExtractedMetric[],
): number {
  const m = w.buffer.getMetrics();
  const { storedTotal, lost, duplicates } = back;
  const accounted = m.eventsDelivered + m.eventsRejected + m.eventsDropped;
  const ok = lost === 0 && duplicates === 0 && storedTotal === m.eventsDelivered && accounted === m.eventsAccepted;
  out.say();
  out.say('Verification');
  out.say(`  ${'─'.repeat(90)}`);
  out.row('accepted', int(m.eventsAccepted), `${int(w.added)} events added; ${m.eventsSplit} oversized ones went in as ${m.eventsAccepted - w.added + m.eventsSplit} parts`);
  out.row('delivered', int(m.eventsDelivered), "the buffer's count of events stored by the service");
  out.row('stored', int(storedTotal), storedTotal === m.eventsDelivered ? 'read back with GetLogEvents; equals delivered ✓' : 'read back with GetLogEvents; differs from delivered ✗');
  out.row('rejected', int(m.eventsRejected), `${byReason(m.rejectedByReason) || 'none'} (by the service; ${w.outsideWindow} were sent outside the time window)`);
  out.row('dropped', int(m.eventsDropped), byReason(m.droppedByReason) || 'none (default policies: block when full, split oversized)');
  out.row('lost', int(lost), lost === 0 ? '✓ each event stored, or rejected/dropped with a reason' : '✗ sent, but neither stored nor reported');
  out.row('duplicates', int(duplicates), duplicates === 0 ? '✓ nothing stored twice' : '✗ stored more than once');
  // The first write to each new stream is answered ResourceNotFound; the adapter creates the stream and resends.
  const otherRequests = run.putLogEventsRequests - m.flushesCompleted - run.throttled;
  const otherNote = otherRequests === STREAMS.length ? `${otherRequests} found a new stream missing: created, resent` : `${otherRequests} other errors`;
  out.row('batches', int(m.flushesCompleted), `PutLogEvents that succeeded, of ${int(run.putLogEventsRequests)}: ${int(run.throttled)} throttled, ${otherNote}`);
  out.row('retries', int(m.retries), `full-jitter back-off${w.backgroundErrors.size > 0 ? `; ${w.backgroundErrors.size} flushes out of retries were requeued` : ''}`);
  out.row('events/s', int((m.eventsDelivered * 1000) / run.shipMs), `delivered in ${seconds(run.shipMs)}, first event to last delivery`);
  out.row('out of order', int(w.late), `late events, sorted into place (stored out of order: ${back.misordered})`);
  printStreams(out, w, back);
  out.say(`  ${'─'.repeat(90)}`);
  for (const row of phaseRows(metrics)) out.say(row);
  out.say();
  out.say(
    ok
      ? `PASS: lost 0. All ${int(m.eventsAccepted)} events were delivered (${int(m.eventsDelivered)}) or rejected by the service with a reason (${int(m.eventsRejected)}).`
      : `FAIL: lost ${int(lost)}, duplicates ${int(duplicates)}; see the table above.`,
  );
  return ok ? EXIT_OK : EXIT_FAILED;
}

/** The per-stream table. */
function printStreams(out: DemoOutput, w: Workload, back: ReadBack): void {
  out.say(`  ${'─'.repeat(90)}`);
  out.say(`  ${'stream'.padEnd(18)}${'accepted'.padStart(10)}${'stored'.padStart(10)}${'rejected'.padStart(10)}${'lost'.padStart(8)}`);
  for (const s of STREAMS) {
    out.say(
      `  ${s.padEnd(18)}${int(w.ledger.sent.get(s) ?? 0).padStart(10)}${int(back.stored.get(s) ?? 0).padStart(10)}` +
        `${int(w.rejectedByStream.get(s) ?? 0).padStart(10)}${int(back.lostByStream.get(s) ?? 0).padStart(8)}`,
    );
  }
}
