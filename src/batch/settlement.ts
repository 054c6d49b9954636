/**
 * Where a batch's events end: delivered, rejected by the service (rejectedLogEventsInfo), put
 * back in the buffer after a failed run (or dropped after maxRequeues), or dropped by policy.
 * Each outcome moves the events in the ledger first, then queues the user callbacks (notices.ts),
 * then signals "room freed"; admission.ts decides what that wakes. The callbacks run once all of
 * that is done.
 */
import { InvalidFlushResultError } from './errors.js';
import { totalEventSize } from './event-size.js';
import type { Ledger } from './ledger.js';
import type { Notices } from './notices.js';
import { rejectedRanges } from './rules.js';
import type { SequenceTokenManager } from './sequencing.js';
import type { StreamBuffer } from './stream-buffer.js';
import type { BatchHooks, DropReason, FlushResult, InputLogEvent, RejectedLogEventsInfo } from './types.js';

/** Events that go back to the buffer after a failed run: a failed batch (with its failure), or one never sent. */
export interface RequeuePiece {
  events: InputLogEvent[];
  failure?: { error: unknown; retryable: boolean } | undefined;
}

/** What settlement needs, and whom it tells. */
export interface SettlementDeps {
  readonly ledger: Ledger;
  readonly tokens: Pick<SequenceTokenManager, 'setToken'>;
  readonly notices: Pick<Notices, 'hold' | 'release' | 'call' | 'report'>;
  /** The caller's options, read at each use. */
  readonly hooks: Pick<BatchHooks, 'onRejected' | 'onDrop'>;
  /** How often events that failed with a non-retryable error go back before they are dropped. */
  readonly maxRequeues: number;
  /** Settled events leave the spool (durable.ts); undefined without one. */
  readonly unspool: ((events: readonly InputLogEvent[]) => void) | undefined;
  /** Whether a flush call carrying the event ended without an answer (lifecycle.ts): it may be stored. */
  readonly unanswered: (event: InputLogEvent) => boolean;
  /** Memory was freed: admission.ts decides what that wakes. */
  readonly roomFreed: () => void;
  /** Events went back to the buffer: the flush timer must come back for them. */
  readonly requeued: () => void;
}

/** Applies the outcome of each batch. */
export class Settlement {
  readonly #ledger: Ledger;
  readonly #tokens: Pick<SequenceTokenManager, 'setToken'>;
  readonly #notices: SettlementDeps['notices'];
  readonly #hooks: SettlementDeps['hooks'];
  readonly #maxRequeues: number;
  readonly #unspool: SettlementDeps['unspool'];
  readonly #unanswered: (event: InputLogEvent) => boolean;
  readonly #roomFreed: () => void;
  readonly #requeued: () => void;
  /** Non-retryable failures per event, for maxRequeues. Only failed events are ever in it. */
  readonly #requeues = new WeakMap<InputLogEvent, number>();

  constructor(deps: SettlementDeps) {
    this.#ledger = deps.ledger;
    this.#tokens = deps.tokens;
    this.#notices = deps.notices;
    this.#hooks = deps.hooks;
    this.#maxRequeues = deps.maxRequeues;
    this.#unspool = deps.unspool;
    this.#unanswered = deps.unanswered;
    this.#roomFreed = deps.roomFreed;
    this.#requeued = deps.requeued;
  }

  /** The flush function resolved with `result`: the batch is stored, but for the events it names as rejected. */
  delivered(target: StreamBuffer, events: InputLogEvent[], bytes: number, result: unknown): void {
    const notices = this.#notices;
    notices.hold();
    this.#ledger.landed(events.length, bytes);
    this.#ledger.flushCompleted();
    let info: RejectedLogEventsInfo | undefined;
    if (result !== undefined && result !== null) {
      if (typeof result !== 'object') {
        // The function resolved, so it claims delivery; say (after counting) that its answer made no sense.
        notices.report(new InvalidFlushResultError(result));
      } else {
        const { nextSequenceToken, rejectedLogEventsInfo } = result as FlushResult;
        if (typeof nextSequenceToken === 'string') this.#tokens.setToken(target.group, target.stream, nextSequenceToken);
        if (rejectedLogEventsInfo !== null && typeof rejectedLogEventsInfo === 'object') info = rejectedLogEventsInfo;
      }
    }
    let delivered = events.length;
    let deliveredBytes = bytes;
    if (info !== undefined) {
      for (const { reason, start, end } of rejectedRanges(info, events.length)) {
        const rejected = events.slice(start, end);
        delivered -= rejected.length;
        deliveredBytes -= totalEventSize(rejected);
        this.#ledger.rejected(reason, rejected.length);
        notices.call(this.#hooks.onRejected, rejected, reason, target.group, target.stream);
      }
    }
    this.#unspool?.(events);
    this.#ledger.delivered(delivered, deliveredBytes);
    this.#roomFreed();
    notices.release();
  }

  /** One event the service refuses on its own (found by bisection): dropped as `invalid`. */
  invalid(target: StreamBuffer, events: InputLogEvent[], bytes: number, error: unknown): void {
    this.#ledger.landed(events.length, bytes);
    this.drop(target, events, 'invalid', error);
  }

  /**
   * Puts failed batches and the unsent rest back at the front of the stream's buffer, in their
   * order. Events that failed with a non-retryable error are put back at most maxRequeues times,
   * then dropped with reason `failed`. Returns how many events went back.
   */
  requeue(target: StreamBuffer, pieces: readonly RequeuePiece[]): number {
    this.#notices.hold();
    const back: InputLogEvent[] = [];
    for (const { events, failure } of pieces) {
      if (failure === undefined || failure.retryable) {
        for (const event of events) back.push(event);
        continue;
      }
      const dropped: InputLogEvent[] = [];
      for (const event of events) {
        const count = (this.#requeues.get(event) ?? 0) + 1;
        if (count > this.#maxRequeues) {
          dropped.push(event);
        } else {
          this.#requeues.set(event, count);
          back.push(event);
        }
      }
      if (dropped.length > 0) {
        this.#ledger.landed(dropped.length, totalEventSize(dropped));
        this.drop(target, dropped, 'failed', failure.error);
      }
    }
    const backBytes = totalEventSize(back);
    this.#ledger.requeued(back.length, backBytes);
    target.putBack(back, backBytes);
    this.#requeued();
    this.#notices.release();
    return back.length;
  }

  /**
   * Counts a drop (the caller has already taken the events out of buffered/in-flight) and reports
   * it. A `shutdown` drop (what is left at stop()'s deadline) is told truthfully: in durable mode
   * the events stay in the spool for the next process (`kept`); otherwise those a request carried
   * that got no answer may have been stored (`unknown`), and the rest are lost (`shutdown`). Each
   * is counted in eventsDropped under its own reason, before its onDrop runs.
   */
  drop(target: StreamBuffer, events: InputLogEvent[], reason: DropReason, error: unknown): void {
    this.#notices.hold();
    if (reason !== 'shutdown') {
      this.#unspool?.(events);
      this.#dropAs(target, events, reason, error);
    } else if (this.#unspool !== undefined) {
      // Events left at shutdown stay in the spool: the next process delivers them.
      this.#dropAs(target, events, 'kept', error);
    } else {
      const unknown: InputLogEvent[] = [];
      const lost: InputLogEvent[] = [];
      for (const event of events) (this.#unanswered(event) ? unknown : lost).push(event);
      if (unknown.length > 0) this.#dropAs(target, unknown, 'unknown', error);
      if (lost.length > 0) this.#dropAs(target, lost, 'shutdown', error);
    }
    this.#roomFreed();
    this.#notices.release();
  }

  #dropAs(target: StreamBuffer, events: InputLogEvent[], reason: DropReason, error: unknown): void {
    this.#ledger.dropped(reason, events.length);
    this.#notices.call(this.#hooks.onDrop, events, reason, error, target.group, target.stream);
  }
}
