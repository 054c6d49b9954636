/**
 * Issue 21: 24 concurrent 60 MiB requests keep the embedded endpoint under about 300 MB of
 * RSS (they took it to 1.2 GB before). The endpoint (the BUILT dist/local) runs in a child
 * process of its own, which samples its RSS every 10 ms; this process sends the requests over
 * loopback, all from one shared buffer, and checks what each got: a 400 for the few the
 * in-flight bound admitted (a 60 MiB event is too large), an immediate 503 (or a reset
 * connection) for the rest.
 *
 * The bound is on the growth over the idle endpoint's own RSS (about 63 MiB, and not the same
 * on every Node line): an admitted body is held about four times at its peak, the bytes, their
 * decoded text, the parsed message (JSON.parse copies it) and the socket's chunks awaiting
 * collection, so the growth must stay under 4 x the bytes in flight plus 32 MiB of slack.
 * Unbounded, it was 1.2 GB. The whole RSS lands at 250-300 MiB on Node 22 to 26.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../helpers/build.js';

const CHILD = `
import { pathToFileURL } from 'node:url';
const { startLocalEndpoint } = await import(pathToFileURL(process.argv[1] + '/dist/local/index.js').href);
const endpoint = await startLocalEndpoint();
let peakRss = process.memoryUsage.rss();
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage.rss()); }, 10);
process.stdout.write(JSON.stringify({ url: endpoint.url, rss: peakRss }) + '\\n');
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text) => {
  if (!text.includes('rss')) return;
  clearInterval(sampler);
  const rss = process.memoryUsage.rss();
  process.stdout.write(JSON.stringify({ peakRss: Math.max(peakRss, rss), rss, stats: endpoint.stats() }) + '\\n');
  void endpoint.close().then(() => process.exit(0));
});
`;

const MIB = 1024 * 1024;
const REQUESTS = 24;

/** One POST of `body`; resolves to the status, the error type header, or 'reset' when the connection was closed while sending. */
function post(url: string, body: Buffer): Promise<{ status: number | 'reset'; type?: string | undefined }> {
  return new Promise((resolve) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          'content-length': body.length,
          'x-amz-target': 'Logs_20140328.PutLogEvents',
          authorization: 'AWS4-HMAC-SHA256 Credential=test/20261205/us-east-1/logs/aws4_request, SignedHeaders=host, Signature=00',
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['x-amzn-errortype'] as string | undefined }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0 }));
      },
    );
    req.on('error', () => resolve({ status: 'reset' }));
    req.end(body);
  });
}

describe('the endpoint under 24 concurrent 60 MiB requests', () => {
  let child: ReturnType<typeof spawn>;
  let lines: string[] = [];
  let waiters: Array<() => void> = [];

  function nextLine(): Promise<string> {
    return new Promise((resolve) => {
      const take = (): void => resolve(lines.shift() as string);
      if (lines.length > 0) take();
      else waiters.push(take);
    });
  }

  beforeAll(() => {
    ensureBuilt();
    child = spawn(process.execPath, ['--input-type=module', '-e', CHILD, ROOT], { stdio: ['pipe', 'pipe', 'inherit'] });
    let buffered = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      let at: number;
      while ((at = buffered.indexOf('\n')) >= 0) {
        lines.push(buffered.slice(0, at));
        buffered = buffered.slice(at + 1);
        const w = waiters;
        waiters = [];
        for (const f of w) f();
      }
    });
  });

  afterAll(() => {
    child.kill();
    lines = [];
  });

  it('grows by at most 4x the bytes in flight (about 300 MB of RSS in all): the bytes in flight are bounded, the rest answered 503 at once', async () => {
    const { url, rss: idleRss } = JSON.parse(await nextLine()) as { url: string; rss: number };
    const head = Buffer.from(`{"logGroupName":"g","logStreamName":"s","logEvents":[{"timestamp":${Date.now()},"message":"`);
    const tail = Buffer.from('"}]}');
    const body = Buffer.alloc(60 * MIB, 'x');
    head.copy(body, 0);
    tail.copy(body, body.length - tail.length);
    const outcomes = await Promise.all(Array.from({ length: REQUESTS }, () => post(url, body)));
    child.stdin?.write('rss\n');
    const report = JSON.parse(await nextLine()) as { peakRss: number; stats: { inFlight: { refused: number; peakBytes: number; bytes: number } } };
    const refused = outcomes.filter((o) => o.status === 503 || o.status === 'reset').length;
    const admitted = outcomes.filter((o) => o.status === 400).length;
    const growth = report.peakRss - idleRss;
    console.log(`24 x 60 MiB: idle RSS ${(idleRss / MIB).toFixed(0)} MiB, peak ${(report.peakRss / MIB).toFixed(0)} MiB, admitted ${admitted}, refused ${refused}, peak in flight ${(report.stats.inFlight.peakBytes / MIB).toFixed(0)} MiB`);
    expect(admitted + refused).toBe(REQUESTS);
    expect(admitted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
    for (const o of outcomes) if (o.status === 503) expect(o.type).toBe('ServiceUnavailableException');
    expect(report.stats.inFlight.peakBytes).toBeLessThanOrEqual(64 * MIB);
    expect(report.stats.inFlight.bytes).toBe(0);
    expect(growth).toBeLessThan(4 * report.stats.inFlight.peakBytes + 32 * MIB);
  }, 120_000);
});
