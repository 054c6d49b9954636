/** `cwbatch tail`: reads events back (GetLogEvents / FilterLogEvents) so a user can see what arrived (issue 4). */
import { parseArgs } from 'node:util';
import { buildClient, readGroup, readStream, type ReadEvent } from './cloudwatch.js';
import { describeError, endpointLabel } from './describe-error.js';
import { sleep } from './lines.js';
import { emfDatapoints } from '../local/emf.js';
import { EXIT_FAILED, EXIT_OK, UsageError, parseDuration, required } from './usage.js';

export const TAIL_USAGE = `Usage: cwbatch tail --group GROUP [--stream STREAM] [options]

Prints the events of a log stream (GetLogEvents) or of a whole log group, interleaved by time
(FilterLogEvents), oldest first.

Options:
  -g, --group GROUP     log group
  -s, --stream STREAM   only this log stream
  -F, --follow          keep printing new events (polls every second) until Ctrl-C
      --since TIME      only events newer than this (e.g. 10m, 2h)
      --json            one JSON object per event: {"logStreamName","timestamp","message"}
      --metrics         print the metrics of Embedded Metric Format events (one line per metric and
                        dimension set: namespace, name, dimensions, values, unit), skip other events
      --endpoint URL    read from this endpoint (default: AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, else AWS)
      --region REGION   AWS Region (default: AWS_REGION / profile; us-east-1 with a custom endpoint)
  -h, --help            show this help`;

const POLL_MS = 1_000;

/** Runs `cwbatch tail`; resolves to the exit code. */
export async function runTail(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      group: { type: 'string', short: 'g' },
      stream: { type: 'string', short: 's' },
      follow: { type: 'boolean', short: 'F' },
      since: { type: 'string' },
      json: { type: 'boolean' },
      metrics: { type: 'boolean' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) {
    process.stdout.write(`${TAIL_USAGE}\n`);
    return EXIT_OK;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const group = required('group', values.group);
  const stream = values.stream;
  const env = process.env;
  const customEndpoint = values.endpoint ?? env['AWS_ENDPOINT_URL_CLOUDWATCH_LOGS'] ?? env['AWS_ENDPOINT_URL'];
  const region = values.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? (customEndpoint ? 'us-east-1' : undefined);
  const since = values.since === undefined ? undefined : Date.now() - parseDuration('since', values.since, 0);
  const json = values.json === true;
  const client = buildClient({ endpoint: values.endpoint, region });

  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const out = process.stdout;
  const print = async (events: ReadEvent[]): Promise<void> => {
    let text = '';
    for (const e of events) {
      if (values.metrics === true) {
        for (const p of emfDatapoints(e.message) ?? []) {
          const dims = p.dimensions.map(([k, v]) => `${k}=${v}`).join(',');
          text += `${new Date(p.timestamp).toISOString()}  ${p.namespace}  ${p.name}{${dims}}  ${p.values.join(' ')} ${p.unit}\n`;
        }
        continue;
      }
      text += json
        ? `${JSON.stringify({ logStreamName: e.logStreamName, timestamp: e.timestamp, message: e.message })}\n`
        : stream === undefined
          ? `${new Date(e.timestamp).toISOString()}  ${e.logStreamName}  ${e.message}\n`
          : `${new Date(e.timestamp).toISOString()}  ${e.message}\n`;
    }
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', resolve));
  };

  try {
    if (stream !== undefined) {
      const token: { value?: string | undefined } = {};
      do {
        for await (const page of readStream(client, group, stream, { startTime: since, token })) await print(page);
        if (values.follow === true) await sleep(POLL_MS, controller.signal);
      } while (values.follow === true && !controller.signal.aborted);
    } else {
      // Following a group: ask again from the newest timestamp seen, skipping events already printed there.
      let startTime = since;
      let seenAtNewest = new Set<string>();
      do {
        for await (const page of readGroup(client, group, { startTime })) {
          const fresh = page.filter((e) => !seenAtNewest.has(e.eventId ?? `${e.logStreamName}\0${e.timestamp}\0${e.message}`));
          for (const e of fresh) {
            const key = e.eventId ?? `${e.logStreamName}\0${e.timestamp}\0${e.message}`;
            if (startTime === undefined || e.timestamp > startTime) {
              startTime = e.timestamp;
              seenAtNewest = new Set();
            }
            if (e.timestamp === startTime) seenAtNewest.add(key);
          }
          if (fresh.length > 0) await print(fresh);
        }
        if (values.follow === true) await sleep(POLL_MS, controller.signal);
      } while (values.follow === true && !controller.signal.aborted);
    }
  } catch (error) {
    process.stderr.write(`cwbatch tail: ${describeError(error, endpointLabel(values.endpoint, region, env))}\n`);
    return EXIT_FAILED;
  } finally {
    client.destroy();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return EXIT_OK;
}
