/** `cwbatch ship`'s command line: its usage text and the parsing of its flags (each checked, exit 2 when invalid). */
import { parseArgs } from 'node:util';
import { DEFAULT_BATCH_CONFIG } from '../batch/config.js';
import type { OversizedEventPolicy } from '../batch/types.js';
import type { LogGroupCreateOptions } from '../aws/group-options.js';
import { CREATE_FLAGS, CREATE_USAGE, LineNames, NAME_USAGE, parseCreateFlags } from './create-options.js';
import { ENDPOINT_OPTIONS, ENDPOINT_USAGE, type EndpointFlags } from './endpoint.js';
import type { MultilineRule } from './multiline.js';
import { UsageError, parseChoice, parseDuration, parseSize, required } from './usage.js';

export const SHIP_USAGE = `Usage: cwbatch ship --group GROUP --stream STREAM [options]

Reads lines from --file (or stdin) and ships each line as one CloudWatch Logs event.
JSON lines keep their text; their timestamp comes from "time", "timestamp" or "@timestamp"
(epoch ms, epoch s or ISO 8601) when present, else from the time the line was read.

Options:
  -g, --group GROUP            log group (created unless --no-create)
  -s, --stream STREAM          log stream; a template such as 'app-{date}' (see Names below)
  -f, --file PATH              read this file instead of stdin
  -F, --follow                 keep reading the file as it grows and across rotation (tail -F)
${ENDPOINT_USAGE}
      --no-create              fail instead of creating a missing group or stream
${CREATE_USAGE}
      --flush-interval TIME    send what is buffered at least this often (default 1s; 1ms to 24h)
      --max-buffer SIZE        bound on buffered bytes; reading waits when full (default 64M; 1M to 64G)
      --shutdown-timeout TIME  how long to keep delivering after end of input or a signal
                               (default 30s; 0 to 24h)
      --oversized POLICY       a line over 1 MiB (the largest event): split (default) into events of
                               at most 1 MiB, truncate to its first 1 MiB, or drop it
      --invalid-utf8 MODE      bytes that are not UTF-8: replace (default) each run with U+FFFD,
                               or drop the line; either way counted in the summary
      --multiline-start REGEX  a line matching REGEX starts an event; other lines are appended to
                               the event before them with "\\n" (stack traces)
      --multiline auto         the same with a preset for Java, Node.js and Python stack traces:
                               lines starting with a space or tab, "Caused by:", "Traceback ..."
      --multiline-timeout TIME send an incomplete multi-line event after this long without a new
                               line (default 1s; 1ms to 1h)
      --spool DIR              durable mode: keep accepted lines in DIR until delivered; a later
                               run with the same DIR delivers what a killed run left (one run per DIR)
      --dry-run                print the PutLogEvents requests it would make, as JSON lines; send nothing
  -h, --help                   show this help

${NAME_USAGE}

Exit codes: 0 everything delivered (with --spool: or kept in DIR for the next run);
1 something rejected, dropped or not delivered; 2 usage error.`;

/** Everything `ship` was asked to do, checked. */
export interface ShipOptions {
  /** The --group and --stream templates, compiled. */
  names: LineNames;
  /** Settings of groups it creates (--retention-days, --log-group-class, --kms-key-id, --tag). */
  groupSettings: LogGroupCreateOptions;
  file: string | undefined;
  follow: boolean;
  /** The raw endpoint flags, resolved by `resolveDestination` (which checks them). */
  endpointFlags: EndpointFlags;
  create: boolean;
  flushIntervalMs: number;
  maxBufferedBytes: number;
  shutdownTimeoutMs: number;
  oversized: OversizedEventPolicy;
  invalidUtf8: 'replace' | 'drop';
  multiline: MultilineRule | undefined;
  multilineTimeoutMs: number;
  dryRun: boolean;
  spool: string | undefined;
}

const DAY_MS = 86_400_000;

const OPTIONS = {
  group: { type: 'string', short: 'g' },
  stream: { type: 'string', short: 's' },
  file: { type: 'string', short: 'f' },
  follow: { type: 'boolean', short: 'F' },
  ...ENDPOINT_OPTIONS,
  'no-create': { type: 'boolean' },
  'flush-interval': { type: 'string' },
  'max-buffer': { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  oversized: { type: 'string' },
  'invalid-utf8': { type: 'string' },
  'multiline-start': { type: 'string' },
  multiline: { type: 'string' },
  'multiline-timeout': { type: 'string' },
  spool: { type: 'string' },
  'dry-run': { type: 'boolean' },
  ...CREATE_FLAGS,
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parses `ship`'s arguments; `'help'` for --help. Throws {@link UsageError} naming the flag and its accepted range. */
export function parseShipArgs(argv: string[]): ShipOptions | 'help' {
  const { values, positionals } = parseArgs({ args: argv, strict: true, allowPositionals: true, options: OPTIONS });
  if (values.help === true) return 'help';
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])} (use --file PATH to read a file)`);
  const names = new LineNames(required('group', values.group), required('stream', values.stream));
  const groupSettings = parseCreateFlags(values, values['no-create'] !== true);
  if (values.follow === true && values.file === undefined) throw new UsageError('--follow needs --file (stdin is followed anyway until it ends)');
  return {
    names,
    groupSettings,
    file: values.file === undefined ? undefined : required('file', values.file),
    follow: values.follow === true,
    endpointFlags: {
      endpoint: values.endpoint,
      region: values.region,
      'connect-timeout': values['connect-timeout'],
      'request-timeout': values['request-timeout'],
    },
    create: values['no-create'] !== true,
    flushIntervalMs: parseDuration('flush-interval', values['flush-interval'], 1_000, 1, DAY_MS),
    maxBufferedBytes: parseSize('max-buffer', values['max-buffer'], DEFAULT_BATCH_CONFIG.maxBufferedBytes, 1024 ** 2, 64 * 1024 ** 3),
    shutdownTimeoutMs: parseDuration('shutdown-timeout', values['shutdown-timeout'], 30_000, 0, DAY_MS),
    oversized: parseChoice('oversized', values.oversized, 'split', ['split', 'truncate', 'drop'] as const),
    invalidUtf8: parseChoice('invalid-utf8', values['invalid-utf8'], 'replace', ['replace', 'drop'] as const),
    multiline: multilineRule(values['multiline-start'], values.multiline),
    multilineTimeoutMs: parseDuration('multiline-timeout', values['multiline-timeout'], 1_000, 1, 3_600_000),
    dryRun: values['dry-run'] === true,
    spool: values.spool === undefined ? undefined : required('spool', values.spool),
  };
}

function multilineRule(start: string | undefined, preset: string | undefined): MultilineRule | undefined {
  if (start !== undefined && preset !== undefined) throw new UsageError('--multiline-start and --multiline exclude each other: give one');
  if (preset !== undefined) return parseChoice('multiline', preset, 'auto', ['auto'] as const);
  if (start === undefined) return undefined;
  if (start === '') throw new UsageError('--multiline-start expects a regular expression, got ""');
  try {
    return { start: new RegExp(start) };
  } catch (error) {
    throw new UsageError(`--multiline-start expects a JavaScript regular expression, got ${JSON.stringify(start)}: ${(error as Error).message}`);
  }
}
