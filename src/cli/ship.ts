/**
 * `cwbatch ship`: lines from stdin or a file → BatchBufferImpl → PutLogEvents (issue 4).
 * The CLI only parses arguments, reads lines, shows progress and picks the exit code; batching,
 * retries and accounting are the core's, delivery is `src/aws`'s. One step per function
 * (issue 14): plan the run, open the destination, create the buffer, pump the input, stop, report.
 */
import { BatchBufferImpl } from '../batch/buffer.js';
import { BufferStoppedError } from '../batch/errors.js';
import { EVENT_OVERHEAD_BYTES } from '../batch/limits.js';
import { classifyError, isRetryable } from '../batch/retry.js';
import type { DropReason, FlushFunction, InputLogEvent } from '../batch/types.js';
import { DEFAULT_BATCH_CONFIG } from '../batch/config.js';
import { describeError } from './describe-error.js';
import { resolveDestination, type Destination } from './endpoint.js';
import { int, progressText, seconds, StatusLine } from './format.js';
import { readFileLines } from './follow.js';
import { readStreamLines, type LineSink } from './lines.js';
import { ShipInput } from './ship-input.js';
import type { LineNames } from './create-options.js';
import { parseShipArgs, SHIP_USAGE, type ShipOptions } from './ship-options.js';
import { exitCode, summary, type RunFacts } from './ship-summary.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage.js';

export { SHIP_USAGE } from './ship-options.js';

const FOLLOW_POLL_MS = 200;
/** After this long without an answer at start, say that `ship` is waiting, ms. */
const SLOW_NOTICE_MS = 3_000;
/** Most UTF-8 bytes of one message: the largest event minus its overhead. Also the longest line held in memory. */
const MAX_MESSAGE_BYTES = DEFAULT_BATCH_CONFIG.maxEventBytes - EVENT_OVERHEAD_BYTES;

/** What a run needs to know before it starts. */
interface Plan {
  opts: ShipOptions;
  destination: Destination;
  status: StatusLine;
  /** One line above the status line, prefixed "cwbatch: ". */
  warn: (text: string) => void;
}

/** Where batches go: PutLogEvents, or stdout under --dry-run. */
interface Sender {
  flush: FlushFunction;
  close: () => void;
}

/** Runs `cwbatch ship`; resolves to the exit code. */
export async function runShip(argv: string[]): Promise<number> {
  const opts = parseShipArgs(argv);
  if (opts === 'help') {
    process.stdout.write(`${SHIP_USAGE}\n`);
    return EXIT_OK;
  }
  const plan = await planRun(opts);
  const sender = opts.dryRun ? printingSender(process.stdout) : await openDestination(plan);
  if (sender === undefined) return EXIT_FAILED;
  const dropErrors = new Map<DropReason, string>();
  const buffer = createBuffer(plan, sender, dropErrors);
  if (buffer === undefined) {
    sender.close();
    return EXIT_FAILED;
  }
  const started = Date.now();
  const run = await pump(plan, buffer, started);
  sender.close();
  const m = buffer.getMetrics();
  const facts: RunFacts = { ...run, elapsed: Date.now() - started, dropErrors };
  if (run.readError !== undefined) process.stderr.write(`cwbatch: reading ${opts.file ?? 'stdin'} failed: ${(run.readError as Error).message}\n`);
  process.stderr.write(`${summary(opts, opts.names.describe(), m, facts)}\n`);
  const { skipped, firstError } = opts.names;
  if (skipped > 0) process.stderr.write(`cwbatch: ${int(skipped)} lines skipped: no valid name for them (first: ${firstError ?? ''})\n`);
  return exitCode(opts, m, facts);
}

/** Checks what can be checked before anything is read: the destination flags, the file (the names were checked with the flags). */
async function planRun(opts: ShipOptions): Promise<Plan> {
  const destination = resolveDestination(opts.endpointFlags);
  if (opts.file !== undefined && !opts.follow) {
    const { access } = await import('node:fs/promises');
    await access(opts.file).catch((error: unknown) => {
      throw new UsageError(`cannot read --file ${JSON.stringify(opts.file)}: ${(error as Error).message}`);
    });
  }
  const status = new StatusLine(process.stderr);
  return { opts, destination, status, warn: (text) => status.log(`cwbatch: ${text}`) };
}

/** A sender that prints each batch as the PutLogEvents request it would be. */
function printingSender(out: NodeJS.WriteStream): Sender {
  const flush: FlushFunction = async (logGroupName, logStreamName, logEvents) => {
    const line = `${JSON.stringify({ logGroupName, logStreamName, logEvents })}\n`;
    if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', resolve));
    return {};
  };
  return { flush, close: () => undefined };
}

/**
 * Builds the client and makes sure the destination exists before reading anything, so that a
 * missing group, bad credentials or a dead endpoint fail at once with one line (exit 1). With
 * --spool an endpoint that cannot be reached or does not answer does not stop the run: lines are
 * kept in the spool and the buffer keeps trying; said once. `undefined` when the run cannot go on.
 */
async function openDestination(plan: Plan): Promise<Sender | undefined> {
  const { opts, destination } = plan;
  const aws = await import('./cloudwatch.js');
  const client = aws.clientFor(destination);
  const flush = aws.buildFlushFunction(client, opts.create, opts.groupSettings);
  const sender: Sender = { flush, close: () => client.destroy() };
  const slow = setTimeout(() => {
    plan.warn(`waiting for CloudWatch Logs at ${destination.label} to answer (up to ${seconds(destination.requestTimeoutMs)}, --request-timeout)`);
  }, SLOW_NOTICE_MS).unref();
  try {
    await aws.checkDestination(flush, opts.names.group.constant, opts.names.stream.constant, opts.create, opts.groupSettings);
    return sender;
  } catch (error) {
    const text = error instanceof aws.MissingDestinationError ? error.message : describeError(error, destination.label);
    if (opts.spool !== undefined && isRetryable(classifyError(error))) {
      plan.warn(`${text}; --spool: keeping lines in ${opts.spool} and retrying until it answers`);
      return sender;
    }
    sender.close();
    plan.status.stop();
    process.stderr.write(`cwbatch: ${text}\n`);
    return undefined;
  } finally {
    clearTimeout(slow);
  }
}

/** The buffer, with failures reported once per kind (the buffer retries, so most of them heal); `undefined` when --spool cannot be opened. */
function createBuffer(plan: Plan, sender: Sender, dropErrors: Map<DropReason, string>): BatchBufferImpl | undefined {
  const { opts, destination } = plan;
  const seenErrors = new Set<string>();
  try {
    const buffer = new BatchBufferImpl(sender.flush, {
      ...(opts.spool === undefined ? {} : { spool: { dir: opts.spool } }),
      flushIntervalMs: opts.flushIntervalMs,
      maxBufferedBytes: opts.maxBufferedBytes,
      shutdownTimeoutMs: opts.shutdownTimeoutMs,
      oversizedEventPolicy: opts.oversized,
      onError: (error) => {
        if (error instanceof BufferStoppedError) return;
        const code = (error as { code?: unknown }).code;
        const text = code === 'SPOOL_CORRUPT' || code === 'SPOOL_WRITE' ? `--spool: ${(error as Error).message}` : describeError(error, destination.label);
        if (seenErrors.has(text)) return;
        seenErrors.add(text);
        plan.warn(code === 'SPOOL_CORRUPT' || code === 'SPOOL_WRITE' ? text : `delivery failed, retrying: ${text}`);
      },
      onDrop: (_events, reason, error) => {
        if (error !== undefined && !dropErrors.has(reason)) dropErrors.set(reason, describeError(error, destination.label));
      },
    });
    buffer.start();
    return buffer;
  } catch (error) {
    // --spool: the directory is locked by another run, or cannot be created.
    plan.status.stop();
    process.stderr.write(`cwbatch: --spool ${JSON.stringify(opts.spool)}: ${(error as Error).message}\n`);
    return undefined;
  }
}

/** What {@link pump} learnt. */
type PumpResult = Pick<RunFacts, 'input' | 'notAccepted' | 'signalName' | 'readError'>;

/** Reads the input into the buffer until it ends or a signal comes, then stops the buffer within the shutdown deadline. */
async function pump(plan: Plan, buffer: BatchBufferImpl, started: number): Promise<PumpResult> {
  const { opts } = plan;
  const input = new ShipInput({ ...opts, maxMessageBytes: MAX_MESSAGE_BYTES });
  const adder = new Adder(buffer, opts.names);
  const timer = new MultilineTimer(input, adder);
  const controller = new AbortController();
  const signals = new Signals(plan, controller);
  plan.status.start(() => progressText(buffer.getMetrics(), input.counts.linesRead, Date.now() - started));

  const sink: LineSink = async (lines) => {
    const events = input.take(lines, Date.now());
    timer.arm();
    await adder.addAll(events);
  };
  let readError: unknown;
  const reading = readInput(plan, sink, controller.signal)
    .then(() => adder.addAll(input.end()))
    .catch((error: unknown) => {
      if (!(error instanceof BufferStoppedError)) readError = error;
    })
    .finally(() => timer.cancel());
  const remaining = await untilReadOrDeadline(reading, controller.signal, opts.shutdownTimeoutMs);
  await buffer.stop({ timeoutMs: remaining });
  await reading;
  if (opts.file === undefined) process.stdin.destroy();
  signals.dispose();
  plan.status.stop();
  readError ??= adder.failure;
  return { input: input.counts, notAccepted: adder.notAccepted, signalName: signals.name, readError };
}

function readInput(plan: Plan, sink: LineSink, signal: AbortSignal): Promise<void> {
  const { file, follow } = plan.opts;
  if (file === undefined) return readStreamLines(process.stdin, sink, signal, MAX_MESSAGE_BYTES);
  return readFileLines(file, sink, { follow, signal, maxLineBytes: MAX_MESSAGE_BYTES, pollMs: FOLLOW_POLL_MS, onNotice: plan.warn });
}

/**
 * Waits for the input to end; after a signal, gives reading until the shutdown deadline to hand
 * over what it already has. Returns what is left of the deadline for delivery, ms.
 */
async function untilReadOrDeadline(reading: Promise<void>, signal: AbortSignal, shutdownTimeoutMs: number): Promise<number> {
  let stopFrom = 0;
  const aborted = new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    reading.then(() => {
      stopFrom = Date.now();
    }),
    aborted.then(async () => {
      stopFrom = Date.now();
      await Promise.race([reading, new Promise((resolve) => (timer = setTimeout(resolve, shutdownTimeoutMs).unref()))]);
    }),
  ]);
  clearTimeout(timer);
  return Math.max(0, shutdownTimeoutMs - (Date.now() - stopFrom));
}

/** Hands events to the buffer in order, counting those refused after the shutdown deadline. */
class Adder {
  readonly #buffer: BatchBufferImpl;
  readonly #names: LineNames;
  notAccepted = 0;
  /** The first error other than a refusal at the deadline. */
  failure: unknown;

  constructor(buffer: BatchBufferImpl, names: LineNames) {
    this.#buffer = buffer;
    this.#names = names;
  }

  /**
   * Every event is handed to the buffer before any add() is awaited: they are still taken in
   * order (add()s that wait for room queue first in, first out), and with --spool the whole chunk
   * is written with one write. Throws BufferStoppedError when the deadline passed meanwhile.
   */
  async addAll(events: readonly InputLogEvent[]): Promise<void> {
    if (events.length === 0) return;
    // Names per event: 'app-{date}' follows each line's own day. A line with no valid name is skipped (counted).
    const adds: Promise<void>[] = [];
    for (const event of events) {
      const place = this.#names.placeEvent(event);
      if (place !== undefined) adds.push(this.#buffer.add(place.group, place.stream, event));
    }
    let refused = 0;
    for (const outcome of await Promise.allSettled(adds)) {
      if (outcome.status === 'fulfilled') continue;
      if (outcome.reason instanceof BufferStoppedError) refused++;
      else this.failure ??= outcome.reason;
    }
    if (this.failure !== undefined) throw this.failure;
    if (refused > 0) {
      this.notAccepted += refused;
      throw new BufferStoppedError();
    }
  }
}

/** Sends a pending multi-line event once `--multiline-timeout` passed without a new line. */
class MultilineTimer {
  readonly #input: ShipInput;
  readonly #adder: Adder;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(input: ShipInput, adder: Adder) {
    this.#input = input;
    this.#adder = adder;
  }

  /** (Re)arms the timer for the pending event's deadline, if one is pending. */
  arm(): void {
    this.cancel();
    const deadline = this.#input.deadline;
    if (deadline === undefined) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // A refusal at the deadline is counted by the adder; nothing else to do with it here.
      this.#adder.addAll(this.#input.due(Date.now())).catch(() => undefined);
      this.arm();
    }, Math.max(0, deadline - Date.now()));
    this.#timer.unref();
  }

  cancel(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/** SIGINT/SIGTERM: the first stops reading and delivers what was read; the second exits at once. */
class Signals {
  name: string | undefined;
  readonly #handler: (signal: NodeJS.Signals) => void;

  constructor(plan: Plan, controller: AbortController) {
    this.#handler = (signal) => {
      if (this.name !== undefined) {
        plan.status.stop();
        process.stderr.write(`cwbatch: second ${signal}: exiting now without waiting for delivery\n`);
        process.exit(EXIT_FAILED);
      }
      this.name = signal;
      if (plan.status.enabled) {
        plan.status.log(`cwbatch: ${signal}: delivering what was read (up to ${seconds(plan.opts.shutdownTimeoutMs)}); ${signal} again to quit at once`);
      }
      controller.abort();
    };
    process.on('SIGINT', this.#handler);
    process.on('SIGTERM', this.#handler);
  }

  dispose(): void {
    process.off('SIGINT', this.#handler);
    process.off('SIGTERM', this.#handler);
  }
}
