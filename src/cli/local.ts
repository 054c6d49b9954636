/** `cwbatch local`: the embedded CloudWatch Logs endpoint in the foreground (issue 4). */
import { parseArgs } from 'node:util';
import { startLocalEndpoint, type LocalEndpoint } from '../local/server.js';
import type { LocalFaults } from '../local/faults.js';
import { AWS_DEFAULT_QUOTAS, parseQuota } from '../local/quotas.js';
import { int } from './format.js';
import { EXIT_FAILED, EXIT_OK, UsageError, parseDuration, parseNumber } from './usage.js';

export const LOCAL_USAGE = `Usage: cwbatch local [options]

Runs the embedded CloudWatch Logs endpoint (in memory, AWS's PutLogEvents rules enforced) until
Ctrl-C, and prints the environment to point the AWS SDK, the AWS CLI or "cwbatch ship" at it.

Options:
  -p, --port N          TCP port (default 4588; 0 picks a free one)
      --host HOST       interface to listen on (default 127.0.0.1; anything else is
                        reachable from the network and accepts any credentials)
      --throttle RPS    answer PutLogEvents beyond RPS requests/s with ThrottlingException
                        (below 1, e.g. 0.5: one request every 1/RPS seconds)
      --fault-rate X    exactly a fraction X (0-1) of PutLogEvents answered with a retryable
                        fault: one draw per request, then the kind in equal thirds
                        (throttling, 503, 500); --fault-rate 1 faults every request
      --latency TIME    delay every answer (e.g. 50ms)
      --seed N          seed of the fault sequence (default 1)
      --quota OP=N      account quota: OP (e.g. PutLogEvents) allowed N requests/s, shared
                        by every client, beyond it ThrottlingException (repeatable)
      --aws-quotas      AWS's default quotas (PutLogEvents 5000/s, CreateLogStream 50/s,
                        CreateLogGroup 10/s, DescribeLogStreams 25/s); --quota overrides
  -h, --help            show this help`;

export const DEFAULT_LOCAL_PORT = 4588;

/** Whether `host` only listens on this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** What `cwbatch local` was asked for, its arguments checked. */
interface LocalArgs {
  port: number;
  host: string;
  faults: LocalFaults;
  seed: number;
  quotas: Record<string, number>;
}

/** Runs `cwbatch local`; resolves to the exit code once stopped by SIGINT/SIGTERM. */
export async function runLocal(argv: string[]): Promise<number> {
  const args = parseLocalArgs(argv);
  if (args === 'help') {
    process.stdout.write(`${LOCAL_USAGE}\n`);
    return EXIT_OK;
  }
  const { port, host, faults, seed, quotas } = args;
  if (!isLoopback(host)) {
    process.stderr.write(
      `cwbatch local: warning: listening on ${host}, beyond loopback: anyone who can reach this port can read and write ` +
        'its log groups (the endpoint accepts any credentials). Use --host 127.0.0.1 unless you mean it.\n',
    );
  }
  let endpoint: LocalEndpoint;
  try {
    endpoint = await startLocalEndpoint({ port, host, faults, seed, quotas });
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) throw new UsageError(error.message);
    const code = (error as { code?: unknown }).code;
    const why = code === 'EADDRINUSE' ? `port ${port} is in use; pick another with --port (0 for any free port)` : (error as Error).message;
    process.stderr.write(`cwbatch local: cannot listen on ${host}:${port}: ${why}\n`);
    return EXIT_FAILED;
  }
  // Listen for Ctrl-C before saying where the endpoint is: whoever reads that line may signal at once.
  const stopped = new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  const out = process.stdout;
  out.write(banner(endpoint.url, faults, quotas));
  const ticker = startTicker(endpoint, out);
  await stopped;
  clearInterval(ticker);
  await endpoint.close();
  out.write(`\ncwbatch local: stopped (${int(endpoint.stats().eventsStored)} events had been stored; nothing is kept)\n`);
  return EXIT_OK;
}

/** The arguments of `cwbatch local`, checked (UsageError naming the flag), or `'help'`. */
function parseLocalArgs(argv: string[]): LocalArgs | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      throttle: { type: 'string' },
      'fault-rate': { type: 'string' },
      latency: { type: 'string' },
      seed: { type: 'string' },
      quota: { type: 'string', multiple: true },
      'aws-quotas': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const port = parseNumber('port', values.port, DEFAULT_LOCAL_PORT, 0, 65535);
  if (!Number.isInteger(port)) throw new UsageError(`--port expects an integer, got ${JSON.stringify(values.port)}`);
  const faults: LocalFaults = {};
  if (values.throttle !== undefined) faults.requestsPerSecond = parseNumber('throttle', values.throttle, 0, 0.001, 1e9);
  if (values['fault-rate'] !== undefined) {
    const x = parseNumber('fault-rate', values['fault-rate'], 0, 0, 1);
    faults.throttleRate = x / 3;
    faults.unavailableRate = x / 3;
    faults.internalErrorRate = x / 3;
  }
  if (values.latency !== undefined) faults.latencyMs = parseDuration('latency', values.latency, 0);
  const seed = parseNumber('seed', values.seed, 1, 0, 2 ** 32 - 1);
  const host = values.host ?? '127.0.0.1';
  return { port, host, faults, seed, quotas: parseQuotas(values.quota ?? [], values['aws-quotas'] === true) };
}

/** `--quota OP=N` (repeatable) over AWS's defaults with `--aws-quotas`, else over none. */
function parseQuotas(texts: readonly string[], awsDefaults: boolean): Record<string, number> {
  const quotas: Record<string, number> = awsDefaults ? { ...AWS_DEFAULT_QUOTAS } : {};
  for (const text of texts) {
    try {
      const [name, value] = parseQuota(text);
      quotas[name] = value;
    } catch (error) {
      throw new UsageError(`--quota: ${(error as Error).message}`);
    }
  }
  return quotas;
}

/** What `cwbatch local` prints once it listens: where, with which faults, and how to point a client at it. */
function banner(url: string, faults: LocalFaults, quotas: Record<string, number>): string {
  const faultText =
    (Object.keys(faults).length === 0 ? 'none' : JSON.stringify(faults)) +
    (Object.keys(quotas).length === 0 ? '' : `; quotas/s: ${JSON.stringify(quotas)}`);
  return [
    `cwbatch local: embedded CloudWatch Logs endpoint listening on ${url} (in memory; faults: ${faultText})`,
    '',
    'Point the AWS SDK, the AWS CLI or "cwbatch ship" at it (any credentials work, the Region is free):',
    '',
    `  export AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=${url}`,
    '  export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test',
    '',
    'Then, e.g.:  echo hello | cwbatch ship --group demo --stream {hostname}   and   cwbatch tail --group demo',
    'Press Ctrl-C to stop.',
    '',
  ].join('\n');
}

/**
 * A line when something was stored, at most every 5 s: enough to see it working. unref()'d:
 * the listening server is what keeps the command running.
 */
function startTicker(endpoint: LocalEndpoint, out: NodeJS.WritableStream): NodeJS.Timeout {
  let lastStored = 0;
  const ticker = setInterval(() => {
    const stats = endpoint.stats();
    if (stats.eventsStored === lastStored) return;
    lastStored = stats.eventsStored;
    const f = stats.faults;
    const faulted = f.throttledByRate + f.throttledByRequestsPerSecond + f.unavailable + f.internalError + f.droppedConnections + f.storeThenFail;
    out.write(
      `${new Date().toISOString()}  ${int(stats.eventsStored)} events stored in ${int(endpoint.store.groupNames().length)} groups · ` +
        `${int(stats.putLogEventsRequests)} PutLogEvents (${int(faulted)} faulted) · rejected ${int(stats.rejected.tooOld + stats.rejected.tooNew + stats.rejected.expired)}\n`,
    );
  }, 5_000);
  ticker.unref();
  return ticker;
}
