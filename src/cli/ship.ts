/**
 * `cwbatch ship`: lines from stdin or a file → BatchBufferImpl → PutLogEvents (issue 4).
 * The CLI only parses arguments, reads lines, shows progress and picks the exit code; batching,
 * retries, splitting and accounting are the core's, delivery is `src/aws`'s.
 */
import { parseArgs } from 'node:util';
import { BatchBufferImpl } from '../batch/buffer.js';
import { DEFAULT_BATCH_CONFIG } from '../batch/config.js';
import { BufferStoppedError } from '../batch/errors.js';
import type { BatchMetrics, DropReason, FlushFunction } from '../batch/types.js';
import type { LogGroupCreateOptions } from '../aws/group-options.js';
import { CREATE_FLAGS, CREATE_USAGE, LineNames, NAME_USAGE, parseCreateFlags } from './create-options.js';
import { describeError, endpointLabel } from './describe-error.js';
import { countWithReasons, int, progressText, rate, seconds, StatusLine } from './format.js';
import { readFileLines, readStreamLines, type LineSink } from './lines.js';
import { EXIT_FAILED, EXIT_OK, UsageError, parseDuration, parseSize, required } from './usage.js';

export const SHIP_USAGE = `Usage: cwbatch ship --group GROUP --stream STREAM [options]

Reads lines from --file (or stdin) and ships each line as one CloudWatch Logs event.
JSON lines keep their text; their timestamp comes from "time", "timestamp" or "@timestamp"
(epoch ms, epoch s or ISO 8601) when present, else from the time the line was read.

Options:
  -g, --group GROUP            log group (created unless --no-create)
  -s, --stream STREAM          log stream; a template such as 'app-{date}' (see Names below)
  -f, --file PATH              read this file instead of stdin
  -F, --follow                 keep reading the file as it grows and across rotation (tail -F)
      --endpoint URL           send to this endpoint (default: AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, else AWS)
      --region REGION          AWS Region (default: AWS_REGION / profile; us-east-1 with a custom endpoint)
      --no-create              fail instead of creating a missing group or stream
${CREATE_USAGE}
      --flush-interval TIME    send what is buffered at least this often (default 1s)
      --max-buffer SIZE        bound on buffered bytes; reading waits when full (default 64M)
      --shutdown-timeout TIME  how long to keep delivering after end of input or a signal (default 30s)
      --spool DIR              durable mode: keep accepted lines in DIR until delivered; a later
                               run with the same DIR delivers what a killed run left (one run per DIR)
      --dry-run                print the PutLogEvents requests it would make, as JSON lines; send nothing
  -h, --help                   show this help

${NAME_USAGE}

Exit codes: 0 everything delivered; 1 something rejected, dropped or not delivered; 2 usage error.`;

const FOLLOW_POLL_MS = 200;

interface ShipOptions {
  names: LineNames;
  groupSettings: LogGroupCreateOptions;
  file: string | undefined;
  follow: boolean;
  endpoint: string | undefined;
  region: string | undefined;
  create: boolean;
  flushIntervalMs: number;
  maxBufferedBytes: number;
  shutdownTimeoutMs: number;
  dryRun: boolean;
  spool: string | undefined;
}

function parseShipArgs(argv: string[]): ShipOptions | 'help' {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      group: { type: 'string', short: 'g' },
      stream: { type: 'string', short: 's' },
      file: { type: 'string', short: 'f' },
      follow: { type: 'boolean', short: 'F' },
      endpoint: { type: 'string' },
      region: { type: 'string' },
      'no-create': { type: 'boolean' },
      'flush-interval': { type: 'string' },
      'max-buffer': { type: 'string' },
      'shutdown-timeout': { type: 'string' },
      spool: { type: 'string' },
      'dry-run': { type: 'boolean' },
      ...CREATE_FLAGS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help === true) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (use --file PATH to read a file)`);
  const names = new LineNames(required('group', values.group), required('stream', values.stream));
  const groupSettings = parseCreateFlags(values, values['no-create'] !== true);
  if (values.follow === true && values.file === undefined) throw new UsageError('--follow needs --file (stdin is followed anyway until it ends)');
  const flushIntervalMs = parseDuration('flush-interval', values['flush-interval'], 1_000);
  if (flushIntervalMs < 1) throw new UsageError('--flush-interval must be at least 1ms');
  const maxBufferedBytes = parseSize('max-buffer', values['max-buffer'], DEFAULT_BATCH_CONFIG.maxBufferedBytes);
  if (maxBufferedBytes < 1024 * 1024) throw new UsageError('--max-buffer must be at least 1M (one batch must fit)');
  return {
    names,
    groupSettings,
    file: values.file,
    follow: values.follow === true,
    endpoint: values.endpoint,
    region: values.region,
    create: values['no-create'] !== true,
    flushIntervalMs,
    maxBufferedBytes,
    shutdownTimeoutMs: parseDuration('shutdown-timeout', values['shutdown-timeout'], 30_000),
    dryRun: values['dry-run'] === true,
    spool: values.spool === undefined ? undefined : required('spool', values.spool),
  };
}

/** A flush function that prints each batch as the PutLogEvents request it would be. */
function printingFlushFunction(out: NodeJS.WriteStream): FlushFunction {
  return async (logGroupName, logStreamName, logEvents) => {
    const line = `${JSON.stringify({ logGroupName, logStreamName, logEvents })}\n`;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', resolve));
    return {};
  };
}

/** Runs `cwbatch ship`; resolves to the exit code. */
export async function runShip(argv: string[]): Promise<number> {
  const parsed = parseShipArgs(argv);
  if (parsed === 'help') {
    process.stdout.write(`${SHIP_USAGE}\n`);
    return EXIT_OK;
  }
  const opts = parsed;
  const env = process.env;
  const names = opts.names;
  const customEndpoint = opts.endpoint ?? env['AWS_ENDPOINT_URL_CLOUDWATCH_LOGS'] ?? env['AWS_ENDPOINT_URL'];
  // A Region is required by the SDK even for an emulator; any value works there.
  const region = opts.region ?? env['AWS_REGION'] ?? env['AWS_DEFAULT_REGION'] ?? (customEndpoint ? 'us-east-1' : undefined);
  const where = endpointLabel(opts.endpoint, region, env);
  const stderr = process.stderr;
  const status = new StatusLine(stderr);
  const warn = (text: string): void => status.log(`cwbatch: ${text}`);

  // Fail before reading anything when the file cannot be read (2) or the destination is unusable (1).
  if (opts.file !== undefined && !opts.follow) {
    const { access } = await import('node:fs/promises');
    await access(opts.file).catch((error: unknown) => {
      throw new UsageError(`cannot read --file ${JSON.stringify(opts.file)}: ${(error as Error).message}`);
    });
  }

  let flush: FlushFunction;
  let cleanup = (): void => undefined;
  if (opts.dryRun) {
    flush = printingFlushFunction(process.stdout);
  } else {
    const aws = await import('./cloudwatch.js');
    const client = aws.buildClient({ endpoint: opts.endpoint, region });
    const cw = aws.buildFlushFunction(client, opts.create, opts.groupSettings);
    cleanup = () => client.destroy();
    try {
      await aws.checkDestination(cw, names.group.constant, names.stream.constant, opts.create, opts.groupSettings);
    } catch (error) {
      cleanup();
      const text = error instanceof aws.MissingDestinationError ? error.message : describeError(error, where);
      stderr.write(`cwbatch: ${text}\n`);
      return EXIT_FAILED;
    }
    flush = cw;
  }

  // Failures are reported once per kind: the buffer retries, so most of them heal.
  const seenErrors = new Set<string>();
  const dropErrors = new Map<DropReason, string>();
  let buffer: BatchBufferImpl;
  try {
    buffer = new BatchBufferImpl(flush, {
      ...(opts.spool === undefined ? {} : { spool: { dir: opts.spool } }),
      flushIntervalMs: opts.flushIntervalMs,
      maxBufferedBytes: opts.maxBufferedBytes,
      shutdownTimeoutMs: opts.shutdownTimeoutMs,
      onError: (error) => {
        if (error instanceof BufferStoppedError) return;
        const code = (error as { code?: unknown }).code;
        if (code === 'SPOOL_CORRUPT' || code === 'SPOOL_WRITE') {
          warn(`--spool: ${(error as Error).message}`);
          return;
        }
        const text = describeError(error, where);
        if (seenErrors.has(text)) return;
        seenErrors.add(text);
        warn(`delivery failed, retrying: ${text}`);
      },
      onDrop: (_events, reason, error) => {
        if (error !== undefined && !dropErrors.has(reason)) dropErrors.set(reason, describeError(error, where));
      },
    });
  } catch (error) {
    // --spool: the directory is locked by another run, or cannot be created.
    cleanup();
    stderr.write(`cwbatch: --spool ${JSON.stringify(opts.spool)}: ${(error as Error).message}\n`);
    return EXIT_FAILED;
  }
  buffer.start();

  const controller = new AbortController();
  let signalName: string | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (signalName !== undefined) {
      status.stop();
      stderr.write(`cwbatch: second ${signal}: exiting now without waiting for delivery\n`);
      process.exit(EXIT_FAILED);
    }
    signalName = signal;
    if (status.enabled) status.log(`cwbatch: ${signal}: delivering what was read (up to ${seconds(opts.shutdownTimeoutMs)}); ${signal} again to quit at once`);
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = Date.now();
  let linesRead = 0;
  let emptyLines = 0;
  let notAccepted = 0;
  let stoppedEarly = false;
  const sink: LineSink = async (lines) => {
    const readAt = Date.now();
    linesRead += lines.length;
    // Every line of the chunk is handed to the buffer before any add() is awaited: they are still
    // taken in order (add()s that wait for room queue first in, first out), and with --spool the
    // whole chunk is written with one write instead of one per line.
    const adds: Array<Promise<void>> = [];
    for (const message of lines) {
      if (message.length === 0) {
        emptyLines++; // CloudWatch Logs refuses empty messages; an empty line carries nothing.
        continue;
      }
      const place = names.place(message, readAt); // per line: 'app-{date}' follows each line's own day
      if (place === undefined) continue; // counted, reported in the summary
      adds.push(buffer.add(place.group, place.stream, { timestamp: place.timestamp, message }));
    }
    let refused = 0;
    let failure: unknown;
    for (const outcome of await Promise.allSettled(adds)) {
      if (outcome.status === 'fulfilled') continue;
      if (outcome.reason instanceof BufferStoppedError) refused++;
      else failure ??= outcome.reason;
    }
    if (failure !== undefined) throw failure;
    if (refused > 0) {
      // The shutdown deadline passed while these lines waited for room: they count as read, not accepted.
      notAccepted += refused;
      stoppedEarly = true;
      throw new BufferStoppedError();
    }
  };

  status.start(() => progressText(buffer.getMetrics(), linesRead, Date.now() - started));
  let readError: unknown;
  const reading = (
    opts.file === undefined
      ? readStreamLines(process.stdin, sink, controller.signal)
      : readFileLines(opts.file, sink, {
          follow: opts.follow,
          pollMs: FOLLOW_POLL_MS,
          signal: controller.signal,
          onNotice: (text) => warn(text),
        })
  ).catch((error: unknown) => {
    if (!(error instanceof BufferStoppedError)) readError = error;
  });

  // After a signal, reading gets until the shutdown deadline to hand over what it already has.
  const aborted = new Promise<void>((resolve) => controller.signal.addEventListener('abort', () => resolve(), { once: true }));
  let stopFrom = 0;
  await Promise.race([
    reading.then(() => {
      stopFrom = Date.now();
    }),
    aborted.then(async () => {
      stopFrom = Date.now();
      await Promise.race([reading, new Promise((r) => setTimeout(r, opts.shutdownTimeoutMs).unref())]);
    }),
  ]);
  const remaining = Math.max(0, opts.shutdownTimeoutMs - (Date.now() - stopFrom));
  await buffer.stop({ timeoutMs: remaining });
  await reading;
  if (opts.file === undefined) process.stdin.destroy();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  status.stop();
  cleanup();

  const m = buffer.getMetrics();
  const elapsed = Date.now() - started;
  if (readError !== undefined) stderr.write(`cwbatch: reading ${opts.file ?? 'stdin'} failed: ${(readError as Error).message}\n`);
  stderr.write(`${summary(opts, names.describe(), m, { linesRead, emptyLines, notAccepted, elapsed, signalName, dropErrors, stoppedEarly })}\n`);
  if (names.skipped > 0) stderr.write(`cwbatch: ${int(names.skipped)} lines skipped: no valid name for them (first: ${names.firstError ?? ''})\n`);
  const ok = m.eventsRejected === 0 && m.eventsDropped === 0 && notAccepted === 0 && readError === undefined && names.skipped === 0;
  return ok ? EXIT_OK : EXIT_FAILED;
}

interface RunFacts {
  linesRead: number;
  emptyLines: number;
  notAccepted: number;
  elapsed: number;
  signalName: string | undefined;
  dropErrors: Map<DropReason, string>;
  stoppedEarly: boolean;
}

/** The one-line summary: what was read, where it went, what was refused and why. */
function summary(opts: ShipOptions, destination: string, m: BatchMetrics, f: RunFacts): string {
  const parts: string[] = [];
  const lines = `${int(f.linesRead)} lines read${f.emptyLines > 0 ? ` (${int(f.emptyLines)} empty, skipped)` : ''}`;
  if (opts.dryRun) {
    parts.push(lines, `${int(m.eventsDelivered)} events in ${int(m.flushesCompleted)} batches printed, nothing sent`);
  } else {
    parts.push(
      lines,
      `${int(m.eventsDelivered)} events delivered to ${destination} in ${int(m.flushesCompleted)} batches`,
    );
  }
  if (m.eventsSplit > 0) parts.push(`${int(m.eventsSplit)} oversized lines split`);
  parts.push(countWithReasons('rejected', m.eventsRejected, m.rejectedByReason));
  let dropped = countWithReasons('dropped', m.eventsDropped + f.notAccepted, {
    ...m.droppedByReason,
    shutdown: m.droppedByReason.shutdown + f.notAccepted,
  });
  const why = [...f.dropErrors.values()];
  if (m.droppedByReason.shutdown + f.notAccepted > 0) why.push(`not delivered within --shutdown-timeout ${seconds(opts.shutdownTimeoutMs)}`);
  if (why.length > 0) dropped += `: ${why.join('; ')}`;
  parts.push(dropped, `retries ${int(m.retries)}`, `${seconds(f.elapsed)} (${rate(m.eventsDelivered, f.elapsed)})`);
  const head = f.signalName === undefined ? 'cwbatch ship' : `cwbatch ship (stopped by ${f.signalName})`;
  return `${head}: ${parts.join(' · ')}`;
}
