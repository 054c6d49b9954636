/** `cwbatch ship`'s closing line and exit code: what was read, where it went, what was refused, kept or lost, and why. */
import type { BatchMetrics, DropReason } from '../batch/types.js';
import { countWithReasons, int, rate, seconds } from './format.js';
import type { InputCounts } from './ship-input.js';
import type { ShipOptions } from './ship-options.js';
import { EXIT_FAILED, EXIT_OK } from './usage.js';

/** What one run did, besides the buffer's metrics. */
export interface RunFacts {
  input: InputCounts;
  /** Lines read but refused by the buffer after the shutdown deadline (never accepted). */
  notAccepted: number;
  elapsed: number;
  signalName: string | undefined;
  /** The first error behind each drop reason. */
  dropErrors: Map<DropReason, string>;
  readError: unknown;
}

/** Events dropped at the shutdown deadline that stay in the spool for the next run (0 without --spool). */
export function keptInSpool(_opts: ShipOptions, m: BatchMetrics): number {
  return m.droppedByReason.kept;
}

/**
 * The exit code: 0 when every event was delivered, or kept in the spool for the next run (with
 * --spool), or dropped by a policy the user chose (--oversized drop; --invalid-utf8 drop); 1 when
 * the service rejected any, any was dropped otherwise or not accepted, or reading failed.
 */
export function exitCode(opts: ShipOptions, m: BatchMetrics, f: RunFacts): number {
  const chosen = opts.oversized === 'drop' ? m.droppedByReason.oversized : 0;
  const lost = m.eventsDropped - keptInSpool(opts, m) - chosen;
  const named = opts.names.skipped === 0; // a line whose template gave no valid name was not shipped
  return m.eventsRejected === 0 && lost === 0 && f.notAccepted === 0 && f.readError === undefined && named ? EXIT_OK : EXIT_FAILED;
}

/** The one-line summary. */
export function summary(opts: ShipOptions, destination: string, m: BatchMetrics, f: RunFacts): string {
  const c = f.input;
  const parts = [`${int(c.linesRead)} lines read${c.emptyLines > 0 ? ` (${int(c.emptyLines)} empty, skipped)` : ''}`];
  parts.push(
    opts.dryRun
      ? `${int(m.eventsDelivered)} events in ${int(m.flushesCompleted)} batches printed, nothing sent`
      : `${int(m.eventsDelivered)} events delivered to ${destination} in ${int(m.flushesCompleted)} batches`,
  );
  parts.push(...inputNotes(opts, m, c));
  parts.push(countWithReasons('rejected', m.eventsRejected, m.rejectedByReason), dropped(opts, m, f));
  const kept = keptInSpool(opts, m);
  if (kept > 0) parts.push(`kept ${int(kept)} in ${opts.spool ?? ''} for the next run (not delivered within --shutdown-timeout ${seconds(opts.shutdownTimeoutMs)})`);
  parts.push(`retries ${int(m.retries)}`, `${seconds(f.elapsed)} (${rate(m.eventsDelivered, f.elapsed)})`);
  const head = f.signalName === undefined ? 'cwbatch ship' : `cwbatch ship (stopped by ${f.signalName})`;
  return `${head}: ${parts.join(' · ')}`;
}

/** Long lines, invalid UTF-8 and multi-line events, when there were any. */
function inputNotes(opts: ShipOptions, m: BatchMetrics, c: InputCounts): string[] {
  const notes: string[] = [];
  if (c.longLines > 0) {
    const what = opts.oversized === 'split' ? `split into ${int(c.longEvents)} events` : opts.oversized === 'truncate' ? 'truncated' : 'dropped';
    notes.push(`${int(c.longLines)} lines over the largest event ${what}`);
  }
  if (m.eventsSplit + m.eventsTruncated > 0) notes.push(`${int(m.eventsSplit + m.eventsTruncated)} oversized events ${m.eventsSplit > 0 ? 'split' : 'truncated'}`);
  if (c.invalidBytes > 0) {
    const fate = opts.invalidUtf8 === 'drop' ? `${int(c.invalidDropped)} dropped` : 'replaced by U+FFFD';
    notes.push(`invalid UTF-8: ${int(c.invalidBytes)} bytes in ${int(c.invalidLines)} lines, ${fate}`);
  }
  if (c.joinedEvents > 0) notes.push(`${int(c.joinedEvents)} multi-line events from ${int(c.joinedLines)} lines`);
  return notes;
}

/** "dropped N (reasons): why", without the events kept in the spool. */
function dropped(opts: ShipOptions, m: BatchMetrics, f: RunFacts): string {
  const kept = keptInSpool(opts, m);
  const shutdown = m.droppedByReason.shutdown + f.notAccepted;
  let text = countWithReasons('dropped', m.eventsDropped - kept + f.notAccepted, { ...m.droppedByReason, shutdown, kept: 0 });
  const why = [...f.dropErrors.entries()].filter(([reason]) => reason !== 'shutdown').map(([, text]) => text);
  if (shutdown > 0) why.push(`not delivered within --shutdown-timeout ${seconds(opts.shutdownTimeoutMs)}`);
  if (m.droppedByReason.unknown > 0) why.push(`no answer within --shutdown-timeout ${seconds(opts.shutdownTimeoutMs)}: may have been stored`);
  if (why.length > 0) text += `: ${why.join('; ')}`;
  return text;
}
