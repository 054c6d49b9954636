/**
 * Multi-line events for `cwbatch ship` (issue 21): lines that continue an event (a stack trace's
 * frames) are joined to it with "\n" instead of becoming events of their own, like the CloudWatch
 * agent's `multi_line_start_pattern`. Pure: the caller brings the clock and the timer.
 */

/** A line as the joiner sees it: its text and when it was read (ms). */
export interface JoinLine {
  text: string;
  readAt: number;
}

/** An event made of one or more lines: their text joined with "\n", and the first line's. */
export interface JoinedEvent {
  /** The lines joined with "\n". */
  text: string;
  /** The first line (its timestamp is the event's). */
  first: string;
  /** When the first line was read, ms. */
  readAt: number;
  /** How many lines it holds. */
  lines: number;
}

/**
 * `--multiline auto`: a line continues the event before it when it
 * - starts with a space or a tab (Java, Node.js and Python stack frames, Python's source lines), or
 * - starts with `Caused by:` or `Suppressed:` (Java), or `Traceback (most recent call last):`,
 *   `During handling of the above exception` or `The above exception was the direct cause`
 *   (Python), or
 * - is a Python exception line (`ValueError: bad value`, `KeyError`: a dotted name ending in
 *   `Error`, `Exception`, `Exit` or `Interrupt`, alone or followed by ":") right after a line that
 *   started with a space or a tab.
 * Every other line starts a new event.
 */
export function autoContinues(line: string, previous: string | undefined): boolean {
  if (/^[ \t]/.test(line)) return true;
  if (/^(Caused by:|Suppressed:|Traceback \(most recent call last\):|During handling of the above exception|The above exception was the direct cause)/.test(line)) {
    return true;
  }
  return previous !== undefined && /^[ \t]/.test(previous) && /^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)(:|$)/.test(line);
}

/** How lines are grouped: by a start pattern, or by the {@link autoContinues} preset. */
export type MultilineRule = { start: RegExp } | 'auto';

/** The event being joined. */
interface PendingEvent {
  parts: string[];
  bytes: number;
  first: string;
  readAt: number;
  /** When its last line came, ms. */
  lastAt: number;
}

/** Options of {@link MultilineJoiner}. */
export interface MultilineOptions {
  rule: MultilineRule;
  /** An incomplete event is sent this long after its last line came, ms. */
  timeoutMs: number;
  /** Most UTF-8 bytes of one joined event; a line that would take it beyond starts a new event. */
  maxBytes: number;
}

/**
 * Joins lines into events. `push()` returns the events a line completed (the one before a new
 * start); `due(now)` the pending event once `timeoutMs` passed since its last line; `end()` what
 * is left. Events come out in the order of their first lines.
 */
export class MultilineJoiner {
  readonly #options: MultilineOptions;
  #pending: PendingEvent | undefined;
  #previous: string | undefined;

  constructor(options: MultilineOptions) {
    if (!(options.timeoutMs >= 0)) throw new RangeError(`Expected \`timeoutMs\` to be at least 0, got ${options.timeoutMs}`);
    this.#options = options;
  }

  /** When the pending event is due (ms), or `undefined` when nothing is pending. */
  get deadline(): number | undefined {
    return this.#pending === undefined ? undefined : this.#pending.lastAt + this.#options.timeoutMs;
  }

  /** Takes one line read at `line.readAt`; returns the events it completed. */
  push(line: JoinLine): JoinedEvent[] {
    const out: JoinedEvent[] = [];
    const bytes = Buffer.byteLength(line.text);
    const pending = this.#pending;
    if (pending !== undefined && this.#continues(line.text) && pending.bytes + 1 + bytes <= this.#options.maxBytes) {
      pending.parts.push(line.text);
      pending.bytes += 1 + bytes;
      pending.lastAt = line.readAt;
    } else {
      if (pending !== undefined) out.push(this.#take());
      this.#pending = { parts: [line.text], bytes, first: line.text, readAt: line.readAt, lastAt: line.readAt };
    }
    this.#previous = line.text;
    return out;
  }

  /** The pending event if its last line came `timeoutMs` or more before `now`. */
  due(now: number): JoinedEvent[] {
    const deadline = this.deadline;
    return deadline !== undefined && now >= deadline ? [this.#take()] : [];
  }

  /** The pending event, if any (end of input, or something that must not be joined comes next). */
  end(): JoinedEvent[] {
    return this.#pending === undefined ? [] : [this.#take()];
  }

  #continues(text: string): boolean {
    const rule = this.#options.rule;
    return rule === 'auto' ? autoContinues(text, this.#previous) : !rule.start.test(text);
  }

  #take(): JoinedEvent {
    const p = this.#pending as PendingEvent;
    this.#pending = undefined;
    this.#previous = undefined;
    return { text: p.parts.join('\n'), first: p.first, readAt: p.readAt, lines: p.parts.length };
  }
}
