/** Formatting shared by the commands: numbers, durations, rates, and a redrawn status line. */
import type { BatchMetrics } from '../batch/types.js';

const INTEGER = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 1234567 → "1,234,567". */
export function int(n: number): string {
  return INTEGER.format(n);
}

/** 1234 → "1.2 s"; 61000 → "1 m 1 s". */
export function seconds(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} m ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Events per second over `ms`. */
export function rate(events: number, ms: number): string {
  return `${int(ms > 0 ? (events * 1000) / ms : 0)} events/s`;
}

/** "too-old 2, too-new 1" for the non-zero entries of a by-reason record, or "" when all are 0. */
export function byReason(counts: Record<string, number>): string {
  return Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([reason, n]) => `${reason} ${int(n)}`)
    .join(', ');
}

/** "rejected 3 (too-old 2, too-new 1)" or "rejected 0". */
export function countWithReasons(label: string, total: number, reasons: Record<string, number>): string {
  const detail = byReason(reasons);
  return detail === '' ? `${label} ${int(total)}` : `${label} ${int(total)} (${detail})`;
}

/** The live progress text shared by `ship` and `demo`. */
export function progressText(m: BatchMetrics, read: number, elapsedMs: number, readLabel = 'read'): string {
  return [
    `${readLabel} ${int(read)}`,
    `delivered ${int(m.eventsDelivered)}`,
    `pending ${int(m.eventsBuffered + m.eventsInFlight)}`,
    `rejected ${int(m.eventsRejected)}`,
    `dropped ${int(m.eventsDropped)}`,
    `retries ${int(m.retries)}`,
    `${int(elapsedMs > 0 ? (m.eventsDelivered * 1000) / elapsedMs : 0)}/s`,
  ].join(' · ');
}

/**
 * A status line redrawn in place on a terminal (and nothing at all elsewhere: progress must
 * never end up in a log file or a pipe).
 */
export class StatusLine {
  readonly #out: NodeJS.WriteStream;
  readonly #enabled: boolean;
  #timer: ReturnType<typeof setInterval> | undefined;
  #shown = false;

  constructor(out: NodeJS.WriteStream, enabled = out.isTTY === true) {
    this.#out = out;
    this.#enabled = enabled;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /** Redraws `render()` every `intervalMs` until {@link stop}. */
  start(render: () => string, intervalMs = 200): void {
    if (!this.#enabled || this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.draw(render()), intervalMs);
    this.#timer.unref();
    this.draw(render());
  }

  draw(text: string): void {
    if (!this.#enabled) return;
    const columns = this.#out.columns;
    const width = Math.max(40, (columns !== undefined && columns > 0 ? columns : 120) - 1);
    this.#out.write(`\r${text.length > width ? text.slice(0, width - 1) + '…' : text}\x1b[K`);
    this.#shown = true;
  }

  /** Clears the line so that ordinary output can follow. */
  clear(): void {
    if (this.#enabled && this.#shown) this.#out.write('\r\x1b[K');
    this.#shown = false;
  }

  /** Prints a line above the status line. */
  log(text: string): void {
    this.clear();
    this.#out.write(`${text}\n`);
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.clear();
  }
}
