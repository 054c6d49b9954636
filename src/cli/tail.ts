/**
 * `cwbatch tail`: reads events back (GetLogEvents / FilterLogEvents) so a user can see what
 * arrived (issues 4 and 16): one or several log groups, a server-side filter pattern, a time
 * range, colour on a terminal, and `--follow` that never prints an event twice.
 */
import { parseArgs } from 'node:util';
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { compileFilterPattern, FilterPatternError } from '../local/filter.js';
import { clientFor, readGroup, readStream, type ReadEvent } from './cloudwatch.js';
import { ENDPOINT_OPTIONS, resolveDestination, type Destination } from './endpoint.js';
import { describeError } from './describe-error.js';
import { sleep } from '../batch/sleep.js';
import { emfDatapoints } from '../local/emf.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from './usage.js';

export const TAIL_USAGE = `Usage: cwbatch tail --group GROUP [--group GROUP2 ...] [--stream STREAM] [options]

Prints the events of a log stream (GetLogEvents) or of whole log groups, interleaved by time
(FilterLogEvents), oldest first.

Options:
  -g, --group GROUP     log group (repeat for several; events are interleaved by time)
  -s, --stream STREAM   only this log stream
      --filter PATTERN  only events matching this CloudWatch Logs filter pattern (applied by
                        the service; e.g. ERROR, "disk full", { $.level = "error" })
  -F, --follow          keep printing new events (polls every second) until Ctrl-C; each event
                        is printed once, late ones too if at most 2 minutes older than the
                        newest seen
      --since TIME      only events at or after TIME: relative (30s, 10m, 2h, 1d ago) or
                        absolute ISO 8601 (2026-12-05T14:00:00Z)
      --until TIME      only events at or before TIME (same forms)
      --json            one JSON object per event: {"logStreamName","timestamp","message"}
                        (plus "logGroupName" with several groups)
      --metrics         print the metrics of Embedded Metric Format events (one line per metric and
                        dimension set: namespace, name, dimensions, values, unit), skip other events
      --endpoint URL    read from this endpoint (default: AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, else AWS)
      --region REGION   AWS Region (default: AWS_REGION / profile; us-east-1 with a custom endpoint)
      --connect-timeout TIME   give up connecting after TIME (default 5s; 1ms to 10m)
      --request-timeout TIME   give up on a request not answered within TIME (default 30s; 1ms to 10m)
  -h, --help            show this help

Colour is used on a terminal, never when the output is piped or NO_COLOR is set (FORCE_COLOR=1
forces it).`;

const POLL_MS = 1_000;
/** Under --follow, how much older than the newest event seen a late event may be and still be printed, ms. */
export const LATE_WINDOW_MS = 120_000;

const RELATIVE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** ISO 8601 as Date.parse reads it: a date, optionally a time and a zone. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A `--since`/`--until` value as ms since the epoch: relative (`30s`, `10m`, `2h`, `1d`, `1w`
 * before `now`) or absolute ISO 8601. Throws a {@link UsageError} naming the flag otherwise.
 */
export function parseTailTime(flag: string, value: string, now: number): number {
  const v = value.trim();
  const rel = RELATIVE.exec(v);
  if (rel !== null) return now - Math.round(Number(rel[1]) * (UNIT_MS[rel[2] as string] as number));
  if (ISO_DATE.test(v)) {
    const ms = Date.parse(v);
    if (Number.isFinite(ms)) return ms;
  }
  throw new UsageError(
    `--${flag} expects a relative time (30s, 10m, 2h, 1d) or an ISO 8601 date/time (2026-12-05T14:00:00Z), got ${JSON.stringify(value)}`,
  );
}

/** Whether to colour output: a terminal, no `NO_COLOR`; `FORCE_COLOR` (not `0`) forces it. */
export function useColour(isTTY: boolean | undefined, env: NodeJS.ProcessEnv): boolean {
  if (env['NO_COLOR'] !== undefined && env['NO_COLOR'] !== '') return false;
  const force = env['FORCE_COLOR'];
  if (force !== undefined && force !== '' && force !== '0') return true;
  return isTTY === true;
}

/** One event read back, with its group. */
export interface TailEvent extends ReadEvent {
  logGroupName: string;
}

/**
 * What `--follow` has printed: each poll asks again from {@link nextStartTime} (the newest
 * timestamp seen, less the late window) and {@link fresh} keeps only events not printed before,
 * by event id, so no event is printed twice and late ones within the window are printed once.
 */
export class FollowWindow {
  readonly #seen = new Map<string, number>();
  readonly #lateWindowMs: number;
  readonly #since: number | undefined;
  #newest: number | undefined;

  /** @param since - the user's `--since` (never asked before it); @param lateWindowMs - how far back each poll looks. */
  constructor(since: number | undefined, lateWindowMs: number = LATE_WINDOW_MS) {
    this.#since = since;
    this.#lateWindowMs = lateWindowMs;
  }

  /** The `startTime` of the next poll. */
  nextStartTime(): number | undefined {
    if (this.#newest === undefined) return this.#since;
    const from = this.#newest - this.#lateWindowMs;
    return this.#since === undefined ? from : Math.max(this.#since, from);
  }

  /** The events of `page` not seen before (in page order), now remembered; forgets ids older than the window. */
  fresh(page: readonly TailEvent[]): TailEvent[] {
    const out: TailEvent[] = [];
    for (const e of page) {
      const key = `${e.logGroupName}\u0000${e.eventId ?? `${e.logStreamName}\u0000${e.timestamp}\u0000${e.message}`}`;
      if (this.#seen.has(key)) continue;
      this.#seen.set(key, e.timestamp);
      out.push(e);
      if (this.#newest === undefined || e.timestamp > this.#newest) this.#newest = e.timestamp;
    }
    const from = this.nextStartTime();
    if (from !== undefined && this.#seen.size > 1024) {
      for (const [key, ts] of this.#seen) if (ts < from) this.#seen.delete(key);
    }
    return out;
  }
}

const COLOURS = [36, 33, 32, 35, 34, 31] as const;

function colourOf(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  return COLOURS[h % COLOURS.length] as number;
}

/** The text of events, one per line. */
export function formatEvents(
  events: readonly TailEvent[],
  how: { json: boolean; colour: boolean; showGroup: boolean; showStream: boolean; metrics?: boolean },
): string {
  const paint = (code: number, text: string): string => (how.colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  let text = '';
  for (const e of events) {
    if (how.metrics === true) {
      for (const p of emfDatapoints(e.message) ?? []) {
        const dims = p.dimensions.map(([k, v]) => `${k}=${v}`).join(',');
        text += `${new Date(p.timestamp).toISOString()}  ${p.namespace}  ${p.name}{${dims}}  ${p.values.join(' ')} ${p.unit}\n`;
      }
      continue;
    }
    if (how.json) {
      const record = how.showGroup
        ? { logGroupName: e.logGroupName, logStreamName: e.logStreamName, timestamp: e.timestamp, message: e.message }
        : { logStreamName: e.logStreamName, timestamp: e.timestamp, message: e.message };
      text += `${JSON.stringify(record)}\n`;
      continue;
    }
    let line = paint(2, new Date(e.timestamp).toISOString());
    if (how.showGroup) line += `  ${paint(1, e.logGroupName)}`;
    if (how.showStream) line += `  ${paint(colourOf(e.logStreamName), e.logStreamName)}`;
    text += `${line}  ${e.message}\n`;
  }
  return text;
}

interface TailOptions {
  groups: string[];
  stream: string | undefined;
  filterPattern: string | undefined;
  since: number | undefined;
  until: number | undefined;
  follow: boolean;
}

/** Every page of one poll over all groups, merged by timestamp when there are several groups. */
async function pollGroups(client: CloudWatchLogsClient, o: TailOptions, startTime: number | undefined, onPage: (page: TailEvent[]) => Promise<void>): Promise<void> {
  const all: TailEvent[] = [];
  for (const group of o.groups) {
    const pages = readGroup(client, group, {
      startTime,
      endTime: o.until,
      filterPattern: o.filterPattern,
      streams: o.stream === undefined ? undefined : [o.stream],
    });
    for await (const page of pages) {
      const tagged = page.map((e) => ({ ...e, logGroupName: group }));
      if (o.groups.length === 1) await onPage(tagged);
      else all.push(...tagged);
    }
  }
  if (all.length > 0) await onPage(all.sort((a, b) => a.timestamp - b.timestamp));
}

function parseTailArgs(argv: string[]): { o: TailOptions; json: boolean; metrics: boolean; destination: Destination; help: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: true,
    options: {
      group: { type: 'string', short: 'g', multiple: true },
      stream: { type: 'string', short: 's' },
      filter: { type: 'string' },
      follow: { type: 'boolean', short: 'F' },
      since: { type: 'string' },
      until: { type: 'string' },
      json: { type: 'boolean' },
      metrics: { type: 'boolean' },
      ...ENDPOINT_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  const groups = [...new Set(values.group ?? [])];
  const help = values.help === true;
  if (!help && (groups.length === 0 || groups.includes(''))) throw new UsageError('--group is required');
  const now = Date.now();
  const since = values.since === undefined ? undefined : parseTailTime('since', values.since, now);
  const until = values.until === undefined ? undefined : parseTailTime('until', values.until, now);
  if (since !== undefined && until !== undefined && until < since) {
    throw new UsageError(`--until (${new Date(until).toISOString()}) is before --since (${new Date(since).toISOString()})`);
  }
  if (values.filter !== undefined) {
    try {
      compileFilterPattern(values.filter);
    } catch (error) {
      if (error instanceof FilterPatternError) throw new UsageError(`--filter: invalid filter pattern: ${error.message}`);
      throw error;
    }
  }
  return {
    o: { groups, stream: values.stream, filterPattern: values.filter, since, until, follow: values.follow === true },
    json: values.json === true,
    metrics: values.metrics === true,
    destination: resolveDestination(values),
    help,
  };
}

/** Runs `cwbatch tail`; resolves to the exit code. */
export async function runTail(argv: string[]): Promise<number> {
  const parsed = parseTailArgs(argv);
  if (parsed.help) {
    process.stdout.write(`${TAIL_USAGE}\n`);
    return EXIT_OK;
  }
  const { o } = parsed;
  const out = process.stdout;
  const how = {
    json: parsed.json,
    colour: !parsed.json && useColour(out.isTTY, process.env),
    showGroup: o.groups.length > 1,
    showStream: o.stream === undefined,
    metrics: parsed.metrics,
  };
  const client = clientFor(parsed.destination);
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const print = async (events: readonly TailEvent[]): Promise<void> => {
    if (events.length === 0) return;
    if (!out.write(formatEvents(events, how))) await new Promise<void>((resolve) => out.once('drain', resolve));
  };

  try {
    const group = o.groups[0] as string;
    if (o.stream !== undefined && !o.follow && o.groups.length === 1 && o.filterPattern === undefined) {
      // One stream, read once: GetLogEvents from the head.
      for await (const page of readStream(client, group, o.stream, { startTime: o.since, endTime: o.until === undefined ? undefined : o.until + 1 })) {
        await print(page.map((e) => ({ ...e, logGroupName: group })));
      }
    } else {
      const window = new FollowWindow(o.since);
      do {
        try {
          await pollGroups(client, o, window.nextStartTime(), (page) => print(o.follow ? window.fresh(page) : page));
        } catch (error) {
          // Following, a throttled poll (FilterLogEvents has a small account quota) is simply
          // asked again at the next poll: the window prints what it missed, once.
          if (!o.follow || (error as { name?: unknown } | null)?.name !== 'ThrottlingException') throw error;
        }
        if (o.follow) await sleep(POLL_MS, controller.signal);
      } while (o.follow && !controller.signal.aborted);
    }
  } catch (error) {
    process.stderr.write(`cwbatch tail: ${describeError(error, parsed.destination.label)}\n`);
    return EXIT_FAILED;
  } finally {
    client.destroy();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return EXIT_OK;
}
