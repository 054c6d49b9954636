/**
 * Sends the batches of one flush run: in order, in lanes (up to `maxConcurrentFlushes` at once),
 * each batch until it is settled or cannot be. Before each call it asks the {@link Pacer} for
 * room (today: the concurrency slots shared by every stream); after each call it tells the pacer
 * how the call went, so a pacer that adapts the request rate (AIMD on throttles) fits here.
 * What to do after a failure is retry.ts's nextStep(); where the events end is settlement.ts's.
 */
import { DEFAULT_BATCH_CONFIG } from './config.js';
import { BufferStoppedError } from './errors.js';
import { totalEventSize } from './event-size.js';
import { callFlushFunction, type CallLifecycle } from './flush-call.js';
import type { Fairness } from './fairness.js';
import type { Ledger } from './ledger.js';
import type { Lifecycle } from './lifecycle.js';
import type { Notices } from './notices.js';
import type { PlannedBatch } from './planner.js';
import { bisectionCalls, classifyError, expectedSequenceToken, isRetryable, nextStep, type NextStep, type RetryPolicy } from './retry.js';
import type { SequenceTokenManager } from './sequencing.js';
import type { RequeuePiece, Settlement } from './settlement.js';
import { eventsOf, type BatchEvents, type StreamBuffer } from './stream-buffer.js';
import type { BatchHooks, FlushFunction, InputLogEvent } from './types.js';

/** How a call went, as the pacer hears it. */
export type CallOutcome = 'delivered' | 'throttled' | 'failed' | 'not-called';

/** Asked before each call of the flush function, told after it. */
export interface Pacer {
  /** Resolves when a call may start. */
  acquire(): Promise<void>;
  /** The call that {@link acquire} let through has ended (or was never made: `not-called`). */
  release(outcome: CallOutcome): void;
}

const RESOLVED: Promise<void> = Promise.resolve();
const GIVE_UP_RETRYABLE: NextStep = { kind: 'give-up', retryable: true };

/** The pacer of today: at most `limit` calls at once across every stream, first come first served. */
export class ConcurrencySlots implements Pacer {
  readonly #limit: number;
  #inUse = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(limit: number) {
    this.#limit = limit;
  }

  acquire(): Promise<void> {
    if (this.#inUse < this.#limit) {
      this.#inUse++;
      return RESOLVED;
    }
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  release(): void {
    const next = this.#waiters.shift();
    // Hand the slot straight to the next waiter, first come first served.
    if (next !== undefined) next();
    else this.#inUse--;
  }
}

/** A batch that could not be settled: its events go back to the buffer (or are dropped). */
export interface SendFailure {
  events: InputLogEvent[];
  error: unknown;
  retryable: boolean;
  /** Events after the failed ones that were never tried (the rest of a bisected batch): no blame. */
  untried?: InputLogEvent[] | undefined;
}

/** What the sender needs. */
export interface SenderDeps {
  readonly flushFunction: FlushFunction;
  readonly policy: RetryPolicy & { readonly flushTimeoutMs: number; readonly maxConcurrentFlushes: number; readonly bisectionBudget?: number };
  readonly tokens: SequenceTokenManager;
  readonly pacer: Pacer;
  readonly lifecycle: CallLifecycle & Pick<Lifecycle, 'deadline' | 'sleep'>;
  readonly ledger: Pick<Ledger, 'callStarted' | 'callEnded' | 'retried'>;
  readonly fairness: Pick<Fairness, 'callSettled'>;
  readonly settlement: Pick<Settlement, 'delivered' | 'invalid'>;
  readonly notices: Pick<Notices, 'call'>;
  /** The caller's options, read at each use. */
  readonly hooks: Pick<BatchHooks, 'onRetry'>;
  readonly now: () => number;
  readonly random: () => number;
}

/** Sends a run's batches. */
export class Sender {
  readonly #flushFunction: FlushFunction;
  readonly #policy: SenderDeps['policy'];
  readonly #tokens: SequenceTokenManager;
  readonly #pacer: Pacer;
  readonly #lifecycle: SenderDeps['lifecycle'];
  readonly #ledger: SenderDeps['ledger'];
  readonly #fairness: SenderDeps['fairness'];
  readonly #settlement: SenderDeps['settlement'];
  readonly #notices: SenderDeps['notices'];
  readonly #hooks: SenderDeps['hooks'];
  readonly #now: () => number;
  readonly #random: () => number;

  constructor(deps: SenderDeps) {
    this.#flushFunction = deps.flushFunction;
    this.#policy = deps.policy;
    this.#tokens = deps.tokens;
    this.#pacer = deps.pacer;
    this.#lifecycle = deps.lifecycle;
    this.#ledger = deps.ledger;
    this.#fairness = deps.fairness;
    this.#settlement = deps.settlement;
    this.#notices = deps.notices;
    this.#hooks = deps.hooks;
    this.#now = deps.now;
    this.#random = deps.random;
  }

  /** Whether this stream's batches go out one at a time: it holds a legacy sequence token. */
  sequential(target: StreamBuffer): boolean {
    return this.#tokens.getToken(target.group, target.stream) !== undefined;
  }

  /**
   * Sends the batches of one run, in order, up to `maxConcurrentFlushes` at a time: AWS has
   * allowed concurrent PutLogEvents on one stream since January 2023 (rules document), and one
   * request at a time would leave a busy stream far behind a plain SDK loop. Two rules keep the
   * stored order right: a batch that starts at the very timestamp the previous one ends at waits
   * for it (ties, such as the parts of a split event, are stored in the order they were added),
   * and a stream that holds a legacy sequence token sends one batch at a time. The planner cuts
   * between timestamps where it can (scheduler.ts), so the first rule only holds back runs of
   * equal timestamps longer than half a batch. Returns undefined when every batch is settled;
   * else, in order, the failed batches and those never sent.
   */
  async sendRun(target: StreamBuffer, batches: ReadonlyArray<PlannedBatch<BatchEvents>>): Promise<RequeuePiece[] | undefined> {
    // Most runs are one batch: send it without the lanes' bookkeeping (a stream that fills no
    // batch, as when a full buffer sends 1,000 streams, paid for it in every flush call).
    if (batches.length === 1) {
      const batch = batches[0] as PlannedBatch<BatchEvents>;
      const failure = await this.#sendBatch(target, batch.events, batch.bytes);
      return failure === undefined ? undefined : piecesOf(failure);
    }
    const lanes = this.sequential(target) ? 1 : Math.min(batches.length, this.#policy.maxConcurrentFlushes);
    return new Lanes(batches, (batch) => this.#sendBatch(target, batch.events, batch.bytes)).run(lanes);
  }

  /**
   * Sends one batch until it is settled (delivered, rejected or dropped: returns undefined) or
   * cannot be (returns the failure). Retries retryable errors with back-off; searches a batch the
   * service calls invalid for the events it refuses, within the bisection budget (#isolate).
   */
  async #sendBatch(target: StreamBuffer, events: BatchEvents, bytes: number): Promise<SendFailure | undefined> {
    const calls = bisectionCalls(events.length, this.#policy.bisectionBudget ?? DEFAULT_BATCH_CONFIG.bisectionBudget);
    const outcome = await this.#attempt(target, events, bytes, calls - 1);
    if (outcome === undefined || !('invalid' in outcome)) return outcome;
    return outcome.dropped ? undefined : this.#isolate(target, outcome.events, outcome.invalid, calls - 1);
  }

  /**
   * Sends one batch, retrying retryable errors, until it is settled (undefined), cannot be (the
   * failure), or the service calls it invalid (`invalid`, the error, with the batch's events;
   * `dropped` when it was dropped as such: one event, or no bisection budget left; else nothing
   * is settled and the caller searches it).
   */
  async #attempt(
    target: StreamBuffer,
    batch: BatchEvents,
    bytes: number,
    bisectCallsLeft: number,
  ): Promise<SendFailure | { invalid: unknown; dropped: boolean; events: InputLogEvent[] } | undefined> {
    const lifecycle = this.#lifecycle;
    // The batch's objects, once made: every attempt hands the flush function the same ones.
    let made: InputLogEvent[] | undefined;
    for (let attempt = 1; ; attempt++) {
      if (lifecycle.abandoned) return { events: made ?? eventsOf(batch), error: new BufferStoppedError(), retryable: true };
      await this.#pacer.acquire();
      if (lifecycle.abandoned) {
        // stop()'s deadline passed while this batch waited for a slot: never call after it.
        this.#pacer.release('not-called');
        return { events: made ?? eventsOf(batch), error: new BufferStoppedError(), retryable: true };
      }
      // Made now, if still by value: they live for the call, not while it waited for a slot.
      const events = (made ??= eventsOf(batch));
      const outcome = await this.#call(target, events);
      if (outcome.ok) {
        this.#pacer.release('delivered');
        this.#settlement.delivered(target, events, bytes, outcome.result);
        return undefined;
      }
      const error = outcome.error;
      const step = this.#afterFailure(target, events.length, attempt, error, bisectCallsLeft);
      switch (step.kind) {
        case 'settle':
          if (step.as === 'delivered') {
            this.#settlement.delivered(target, events, bytes, undefined);
            return undefined;
          }
          this.#settlement.invalid(target, events, bytes, error);
          return { invalid: error, dropped: true, events };
        case 'bisect':
          return { invalid: error, dropped: false, events };
        case 'give-up':
          return { events, error, retryable: step.retryable };
        case 'retry':
          this.#ledger.retried();
          this.#notices.call(this.#hooks.onRetry, { logGroup: target.group, logStream: target.stream, attempt, delayMs: step.delayMs, error });
          await lifecycle.sleep(step.delayMs);
      }
    }
  }

  /** One call of the flush function, counted while it runs. */
  async #call(target: StreamBuffer, events: InputLogEvent[]): Promise<{ ok: true; result: unknown } | { ok: false; error: unknown }> {
    this.#ledger.callStarted();
    try {
      const token = this.#tokens.getToken(target.group, target.stream);
      const result = await callFlushFunction(this.#flushFunction, target.group, target.stream, events, token, this.#policy.flushTimeoutMs, this.#lifecycle);
      return { ok: true, result };
    } catch (error) {
      return { ok: false, error };
    } finally {
      this.#ledger.callEnded();
      this.#fairness.callSettled();
    }
  }

  /** A call failed: tells the pacer, repairs a legacy token, and asks retry.ts what next. */
  #afterFailure(target: StreamBuffer, count: number, attempt: number, error: unknown, bisectCallsLeft: number): NextStep {
    const kind = classifyError(error);
    this.#pacer.release(kind === 'throttling' ? 'throttled' : 'failed');
    if (this.#lifecycle.abandoned) return GIVE_UP_RETRYABLE;
    if (kind === 'sequence-token') this.#repairToken(target, error);
    // The clock is read only for errors that may be retried (as it always was: an injected
    // clock sees the same calls).
    const now = isRetryable(kind) ? this.#now() : 0;
    const state = { events: count, attempt, failureStreak: target.failureStreak, now, deadline: this.#lifecycle.deadline, random: this.#random, bisectCallsLeft };
    return nextStep(kind, state, this.#policy);
  }

  /**
   * Finds the events of a batch the service refused as a whole (`error`), in order, at most
   * `callsLeft` more calls (the bisection budget, retry.ts `bisectionCalls`). A binary search
   * finds the first invalid event: it sends the first half of the part known to fail; if that is
   * delivered, the invalid event is in the second half (which is then searched without a call of
   * its own); if it fails, in the first. An event found by elimination is sent alone to confirm
   * it (a batch-wide refusal must not cost a valid event). The rest of the batch after it is then
   * sent whole, and searched again if it fails. Each invalid event costs at most ⌈log2 n⌉ + 2
   * calls, where plain bisection paid up to 2n - 1 calls for a batch of n invalid events. Past the
   * budget the events not yet settled are dropped as `invalid` with the service's last error.
   * Events go out in order, one call at a time; a failure of another kind returns the part that
   * was tried, and the rest as untried.
   */
  async #isolate(target: StreamBuffer, events: InputLogEvent[], error: unknown, callsLeft: number): Promise<SendFailure | undefined> {
    let budget = callsLeft;
    let lastError = error;
    /** Events before `start` are settled. */
    let start = 0;
    /** [start, end) is known to fail as a whole; end === start when nothing is known. */
    let end = events.length;
    /** Sends events [from, to): delivered, dropped `invalid` (one event), invalid (several: nothing settled), or failed. */
    const send = async (from: number, to: number): Promise<'delivered' | 'dropped' | 'invalid' | SendFailure> => {
      budget--;
      const part = events.slice(from, to);
      const outcome = await this.#attempt(target, part, totalEventSize(part), Number.POSITIVE_INFINITY);
      if (outcome === undefined) return 'delivered';
      if ('invalid' in outcome) {
        lastError = outcome.invalid;
        return outcome.dropped ? 'dropped' : 'invalid';
      }
      return to < events.length ? { ...outcome, untried: events.slice(to) } : outcome;
    };
    while (start < events.length && budget > 0) {
      if (end === start) {
        // The rest after an invalid event: sent whole, as usually nothing else is wrong with it.
        const outcome = await send(start, events.length);
        if (outcome === 'delivered' || outcome === 'dropped') return undefined;
        if (outcome !== 'invalid') return outcome;
        end = events.length;
        continue;
      }
      if (end - start === 1) {
        // Found by elimination: confirm it alone (it is dropped `invalid`, or delivered).
        const outcome = await send(start, end);
        if (typeof outcome === 'object') return outcome;
        start = end; // nothing is known of what follows
        continue;
      }
      const middle = start + ((end - start) >>> 1);
      const outcome = await send(start, middle);
      if (typeof outcome === 'object') return outcome;
      if (outcome === 'invalid') end = middle;
      else if (outcome === 'delivered') start = middle; // the invalid event is in [middle, end)
      else start = end = middle; // one invalid event dropped: nothing is known of what follows
    }
    if (start >= events.length) return undefined;
    // Past the budget: the rest is dropped with the service's message, never retried.
    const rest = events.slice(start);
    this.#settlement.invalid(target, rest, totalEventSize(rest), lastError);
    return undefined;
  }

  /** Legacy `InvalidSequenceTokenException`: forget the token, or take the one the service expected. */
  #repairToken(target: StreamBuffer, error: unknown): void {
    this.#tokens.invalidateToken(target.group, target.stream);
    const expected = expectedSequenceToken(error);
    if (expected !== undefined) this.#tokens.setToken(target.group, target.stream, expected);
  }
}

/**
 * The lanes of one run: each lane takes the next batch in order; a batch that starts at the
 * timestamp the previous one ends at waits for that one; after a failure no batch starts.
 */
class Lanes {
  readonly #batches: ReadonlyArray<PlannedBatch<BatchEvents>>;
  readonly #send: (batch: PlannedBatch<BatchEvents>) => Promise<SendFailure | undefined>;
  readonly #outcome: Array<SendFailure | undefined>;
  readonly #started: boolean[];
  readonly #finished: Array<Promise<void>> = [];
  readonly #markFinished: Array<() => void> = [];
  #next = 0;
  #failed = false;

  constructor(batches: ReadonlyArray<PlannedBatch<BatchEvents>>, send: (batch: PlannedBatch<BatchEvents>) => Promise<SendFailure | undefined>) {
    this.#batches = batches;
    this.#send = send;
    const n = batches.length;
    this.#outcome = new Array<SendFailure | undefined>(n);
    this.#started = new Array<boolean>(n).fill(false);
    for (let i = 0; i < n; i++) this.#finished.push(new Promise<void>((resolve) => this.#markFinished.push(resolve)));
  }

  /** Runs `lanes` lanes to the end; returns what goes back to the buffer, or undefined. */
  async run(lanes: number): Promise<RequeuePiece[] | undefined> {
    const running: Array<Promise<void>> = [];
    for (let l = 0; l < lanes; l++) running.push(this.#lane());
    await Promise.all(running);
    if (!this.#failed) return undefined;
    const pieces: RequeuePiece[] = [];
    for (let i = 0; i < this.#batches.length; i++) {
      const failure = this.#outcome[i];
      if (failure !== undefined) pieces.push(...piecesOf(failure));
      else if (!this.#started[i]) pieces.push({ events: eventsOf((this.#batches[i] as PlannedBatch<BatchEvents>).events) });
    }
    return pieces;
  }

  async #lane(): Promise<void> {
    const batches = this.#batches;
    while (!this.#failed && this.#next < batches.length) {
      const i = this.#next++;
      const batch = batches[i] as PlannedBatch<BatchEvents>;
      const previous = batches[i - 1];
      if (previous !== undefined && lastTimestamp(previous.events) === firstTimestamp(batch.events)) {
        await this.#finished[i - 1];
      }
      if (this.#failed) {
        (this.#markFinished[i] as () => void)();
        continue;
      }
      this.#started[i] = true;
      try {
        this.#outcome[i] = await this.#send(batch);
      } finally {
        (this.#markFinished[i] as () => void)();
      }
      if (this.#outcome[i] !== undefined) this.#failed = true;
    }
  }
}

/** What goes back to the buffer for a failed batch: its events (blamed), then the untried rest of it (not blamed). */
function piecesOf(failure: SendFailure): RequeuePiece[] {
  const pieces: RequeuePiece[] = [{ events: failure.events, failure }];
  if (failure.untried !== undefined) pieces.push({ events: failure.untried });
  return pieces;
}

function firstTimestamp(events: BatchEvents): number {
  return Array.isArray(events) ? (events[0] as InputLogEvent).timestamp : events.first;
}

function lastTimestamp(events: BatchEvents): number {
  return Array.isArray(events) ? (events[events.length - 1] as InputLogEvent).timestamp : events.last;
}
