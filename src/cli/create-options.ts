/**
 * `cwbatch ship`'s flags for names and for creating groups (issue 17), kept out of ship.ts:
 * `--group` / `--stream` templates evaluated per line, and `--retention-days`,
 * `--log-group-class`, `--kms-key-id`, `--tag KEY=VALUE` (repeatable) for groups it creates.
 * No SDK here (`--help` and `--dry-run` work without it).
 */
import { compileNameTemplate, type NameKind, type NameTemplate } from '../batch/name-template.js';
import { describe } from '../batch/errors.js';
import { validateLogGroupCreateOptions, type LogGroupClass, type LogGroupCreateOptions } from '../aws/group-options.js';
import { jsonObjectOf, lineTimestamp, recordTimestamp } from './timestamp.js';
import { UsageError } from './usage.js';

/** The flags, for `parseArgs`'s `options`. */
export const CREATE_FLAGS = {
  'retention-days': { type: 'string' },
  'log-group-class': { type: 'string' },
  'kms-key-id': { type: 'string' },
  tag: { type: 'string', multiple: true },
} as const;

/** Their lines in `cwbatch ship --help`. */
export const CREATE_USAGE = `      --retention-days N       retention of a group it creates (1, 3, 5, 7, 14, 30, 60, 90, ... 3653)
      --log-group-class CLASS  STANDARD (default) or INFREQUENT_ACCESS, for a group it creates
      --kms-key-id ARN         KMS key (arn:aws:kms:REGION:ACCOUNT:key/ID) of a group it creates
      --tag KEY=VALUE          tag of a group it creates (repeat the flag for more tags)`;

/** Their help for names, in `cwbatch ship --help`. */
export const NAME_USAGE = `Names: --group and --stream are templates evaluated for each line: {date} (YYYY-MM-DD) and
{hour} (HH) of the line's timestamp in UTC, {hostname}, {pid}, and {field:KEY|DEFAULT} for a
field of a JSON line (KEY.KEY for nested ones; DEFAULT, "unknown" when not given, when absent).
Characters a name may not contain are replaced by "_" in field values.`;

/** What {@link parseCreateFlags} reads. */
export interface CreateFlagValues {
  'retention-days'?: string | undefined;
  'log-group-class'?: string | undefined;
  'kms-key-id'?: string | undefined;
  tag?: string[] | undefined;
}

/**
 * The group settings of the flags, checked as the library checks them.
 * @throws UsageError naming the flag.
 */
export function parseCreateFlags(values: CreateFlagValues, create: boolean): LogGroupCreateOptions {
  const settings: LogGroupCreateOptions = {};
  const days = values['retention-days'];
  if (days !== undefined) settings.retentionInDays = /^\d+$/.test(days.trim()) ? Number(days) : Number.NaN;
  if (values['log-group-class'] !== undefined) settings.logGroupClass = values['log-group-class'].toUpperCase() as LogGroupClass;
  if (values['kms-key-id'] !== undefined) settings.kmsKeyId = values['kms-key-id'];
  if (values.tag !== undefined) {
    const tags: Record<string, string> = {};
    for (const pair of values.tag) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new UsageError(`--tag expects KEY=VALUE, got ${JSON.stringify(pair)}`);
      const key = pair.slice(0, eq);
      if (Object.prototype.hasOwnProperty.call(tags, key)) throw new UsageError(`--tag ${JSON.stringify(key)} is given twice`);
      tags[key] = pair.slice(eq + 1);
    }
    settings.tags = tags;
  }
  const flags: Array<[keyof LogGroupCreateOptions, string]> = [
    ['retentionInDays', 'retention-days'],
    ['logGroupClass', 'log-group-class'],
    ['kmsKeyId', 'kms-key-id'],
    ['tags', 'tag'],
  ];
  for (const [option, flag] of flags) {
    if (settings[option] === undefined) continue;
    if (!create) throw new UsageError(`--${flag} applies to groups cwbatch creates: it cannot be combined with --no-create`);
    try {
      validateLogGroupCreateOptions({ [option]: settings[option] });
    } catch (error) {
      throw new UsageError(`--${flag}: ${(error as Error).message}`);
    }
  }
  return validateLogGroupCreateOptions(settings);
}

/** Where one line goes. */
export interface LinePlace {
  group: string;
  stream: string;
  timestamp: number;
}

/**
 * The `--group` and `--stream` templates, compiled once and evaluated for each line: its
 * timestamp (from its JSON fields, else the time it was read) feeds `{date}` and `{hour}`, its
 * JSON object `{field:...}` (parsed only when a template reads fields).
 */
export class LineNames {
  /** The compiled `--group`. */
  readonly group: NameTemplate;
  /** The compiled `--stream`. */
  readonly stream: NameTemplate;
  readonly #usesRecord: boolean;
  /** Lines skipped because a name evaluated to an invalid one. */
  skipped = 0;
  /** The first such error, for the summary. */
  firstError: string | undefined;

  /** @throws UsageError naming the flag for a template that can never make a valid name. */
  constructor(group: string, stream: string) {
    this.group = compileFlag(group, 'logGroupName', 'group');
    this.stream = compileFlag(stream, 'logStreamName', 'stream');
    this.#usesRecord = this.group.usesRecord || this.stream.usesRecord;
  }

  /** The group and stream for lines, or what the templates read: e.g. `app-{date}`. */
  describe(): string {
    return `${this.group.constant ?? this.group.source} / ${this.stream.constant ?? this.stream.source}`;
  }

  /**
   * Where an event already timed (by the line reader) goes, or `undefined` (counted in
   * {@link skipped}) when a name is invalid for it. Constant names cost nothing per event.
   */
  placeEvent(event: { timestamp: number; message: string }): { group: string; stream: string } | undefined {
    const group = this.group.constant;
    const stream = this.stream.constant;
    if (group !== undefined && stream !== undefined) return { group, stream };
    const record = this.#usesRecord ? jsonObjectOf(event.message) : undefined;
    try {
      return { group: group ?? this.group.evaluate(event, record), stream: stream ?? this.stream.evaluate(event, record) };
    } catch (error) {
      this.skipped++;
      this.firstError ??= describe(error);
      return undefined;
    }
  }

  /** Where `line` goes, or `undefined` (counted in {@link skipped}) when a name is invalid for it. */
  place(line: string, readAt: number): LinePlace | undefined {
    const record = this.#usesRecord ? jsonObjectOf(line) : undefined;
    const timestamp = this.#usesRecord ? recordTimestamp(record, readAt) : lineTimestamp(line, readAt);
    const event = { timestamp, message: line };
    try {
      return { group: this.group.evaluate(event, record), stream: this.stream.evaluate(event, record), timestamp };
    } catch (error) {
      this.skipped++;
      this.firstError ??= describe(error);
      return undefined;
    }
  }
}

function compileFlag(template: string, kind: NameKind, flag: string): NameTemplate {
  try {
    return compileNameTemplate(template, kind);
  } catch (error) {
    throw new UsageError(`--${flag} ${JSON.stringify(template)}: ${(error as Error).message}`);
  }
}
