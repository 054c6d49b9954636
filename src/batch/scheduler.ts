/**
 * When each stream is flushed. A stream has at most one flush run at a time; a run is a loop of
 * passes, each taking everything buffered at its start (sorted, cut by the planner, handed to the
 * sender). flush() waits for the pass that takes the events buffered at its call. Background
 * flushes come from a full batch, a full buffer (the idle list), and the one flush timer, armed
 * only while something is buffered.
 */
import { FlushFailedError } from './errors.js';
import type { Fairness } from './fairness.js';
import type { Ledger } from './ledger.js';
import type { Lifecycle } from './lifecycle.js';
import type { Notices } from './notices.js';
import { planBatches, sortByTimestamp, type PlanLimits } from './planner.js';
import { backoffDelay } from './retry.js';
import type { Sender } from './sender.js';
import type { Settlement, RequeuePiece } from './settlement.js';
import { eventsOf, type BatchEvents, type StreamBuffer, type StreamRun, type TakenEvents } from './stream-buffer.js';
import type { StreamRegistry } from './stream-registry.js';
import type { BatchConfig } from './types.js';

const RESOLVED: Promise<void> = Promise.resolve();

/** What the scheduler needs. */
export interface SchedulerDeps {
  readonly config: Pick<
    BatchConfig,
    'maxEvents' | 'maxBytes' | 'maxConcurrentFlushes' | 'flushIntervalMs' | 'retryBaseDelayMs' | 'retryMaxDelayMs'
  >;
  readonly streams: Pick<StreamRegistry, 'all' | 'sweep'>;
  readonly ledger: Pick<Ledger, 'taken' | 'flushFailed' | 'eventsBuffered'>;
  readonly sender: Pick<Sender, 'sendRun' | 'sequential'>;
  readonly settlement: Pick<Settlement, 'requeue'>;
  readonly lifecycle: Pick<Lifecycle, 'abandoned' | 'closed' | 'started' | 'timer' | 'clearTimer'>;
  readonly fairness: Pick<Fairness, 'runStarted' | 'runEnded'>;
  readonly notices: Pick<Notices, 'report' | 'hold' | 'release'>;
  /** Whether add() calls wait for room (admission.ts): the timer runs for them even before start(). */
  readonly addsWaiting: () => boolean;
  readonly now: () => number;
  readonly random: () => number;
}

/** Runs and passes per stream, the idle list, and the flush timer. */
export class Scheduler {
  readonly #config: SchedulerDeps['config'];
  readonly #streams: SchedulerDeps['streams'];
  readonly #ledger: SchedulerDeps['ledger'];
  readonly #sender: SchedulerDeps['sender'];
  readonly #settlement: SchedulerDeps['settlement'];
  readonly #lifecycle: SchedulerDeps['lifecycle'];
  readonly #fairness: SchedulerDeps['fairness'];
  readonly #notices: SchedulerDeps['notices'];
  readonly #addsWaiting: () => boolean;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #plan: PlanLimits;
  /** #plan, cutting between timestamps: for streams whose batches go out several at a time. */
  readonly #planParallel: PlanLimits;
  /**
   * Every stream that has events and no run is listed here (and maybe some that no longer
   * qualify), so that a full buffer starts them without scanning every stream: with 1,000 streams
   * a scan per blocked add() cost a third of add()'s throughput (bench:core).
   */
  #idle: StreamBuffer[] = [];
  /** Length of #idle at which its stale entries are dropped (#listIdle). */
  #pruneAt = 1_024;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** start() was called and stop() not yet: the timer comes back for buffered events (lifecycle's `started`, kept here for add()'s path). */
  #timed = false;

  constructor(deps: SchedulerDeps) {
    this.#config = deps.config;
    this.#streams = deps.streams;
    this.#ledger = deps.ledger;
    this.#sender = deps.sender;
    this.#settlement = deps.settlement;
    this.#lifecycle = deps.lifecycle;
    this.#fairness = deps.fairness;
    this.#notices = deps.notices;
    this.#addsWaiting = deps.addsWaiting;
    this.#now = deps.now;
    this.#random = deps.random;
    this.#plan = { maxEvents: deps.config.maxEvents, maxBytes: deps.config.maxBytes };
    this.#planParallel = { ...this.#plan, cutBetweenTimestamps: true };
  }

  /** An event was pushed onto `target`: list it as idle if it has no run, and arm the timer. */
  buffered(target: StreamBuffer): void {
    const run: StreamRun = target;
    if (!run.listed && run.running === undefined) this.#listIdle(target);
    if (this.#timer === undefined && this.#timed) this.armTimer();
  }

  /** The next event would break a batch limit: send what `target` holds, unless it backs off after a failure. */
  batchFull(target: StreamBuffer): void {
    const retryAt = target.retryAt;
    // A stream that just failed waits for its back-off (the timer comes back for it).
    if (retryAt === 0 || retryAt <= this.#now()) this.trigger(target);
  }

  /** A background flush of one stream; failures go to onError. */
  trigger(target: StreamBuffer): void {
    if (this.#lifecycle.abandoned) return;
    if (target.running !== undefined) {
      // A run is going: ask it for one more pass. A pass that fails with nobody waiting for it
      // is reported once (#endPass); attaching a handler per add() would report it thousands of times.
      target.requested = true;
      return;
    }
    if (target.count > 0) this.#startRun(target);
  }

  /**
   * Delivers what the stream holds now. Waits for the pass that takes the events buffered now
   * (the one going, or the next), never for passes a steady producer keeps asking for. If that
   * pass fails, it rejects; if the run ends without making it, this makes its own attempt.
   */
  flush(target: StreamBuffer): Promise<void> {
    // Past stop()'s deadline nothing more is sent: stop() drops what is left as `shutdown`, reported.
    if (this.#lifecycle.abandoned) return RESOLVED;
    const run: StreamRun = target;
    if (run.running === undefined) {
      if (target.count === 0) return RESOLVED;
      this.#startRun(target); // takes the events now: its first pass is run.passes
      return this.#untilPass(target, run.passes);
    }
    if (target.count === 0) return this.#untilPass(target, run.passes);
    run.requested = true;
    return this.#untilPass(target, run.passes + 1);
  }

  /** {@link flush} for each stream, in parallel; one failure is rethrown, several are aggregated. */
  async flushMany(targets: StreamBuffer[]): Promise<void> {
    const results = await Promise.allSettled(targets.map((target) => this.flush(target)));
    const errors = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) {
      const count = errors.reduce<number>((n, e) => n + (e instanceof FlushFailedError ? e.eventCount : 0), 0);
      throw new FlushFailedError('(several groups)', '(several streams)', count, new AggregateError(errors, `${errors.length} streams failed`));
    }
  }

  /**
   * The buffer is full: start a flush of every stream that has events and is neither flushing nor
   * backing off, whatever the policy. (Under the drop policies it used to wait for the timer,
   * dropping events meanwhile, whenever no single stream held a full batch: issue 7's overload
   * test delivered nothing for a whole flushIntervalMs.) Called after the policy has chosen its
   * victims, so 'drop-oldest' still drops buffered events rather than the new one.
   */
  sendIdle(): void {
    const now = this.#now();
    const listed = this.#idle;
    this.#idle = [];
    for (const target of listed) {
      const run: StreamRun = target;
      run.listed = false;
      // A stream with a run is listed again when the run ends with events left.
      if (target.count === 0 || run.running !== undefined) continue;
      if (run.retryAt <= now) this.trigger(target);
      else this.#listIdle(target); // backing off: the timer or a later call sends it
    }
  }

  /** Arms the flush timer if something is buffered (or add()s wait) and it is not armed. */
  armTimer(): void {
    const lifecycle = this.#lifecycle;
    if (this.#timer !== undefined || lifecycle.closed) return;
    const waiting = this.#addsWaiting();
    if (!lifecycle.started && !waiting) return;
    if (this.#ledger.eventsBuffered === 0 && !waiting) return;
    // One timer, armed only while something is buffered; it keeps the process alive only while someone waits (lifecycle.ts).
    this.#timer = lifecycle.timer(() => this.#onTimer(), this.#config.flushIntervalMs);
  }

  /** start(): the timer runs from now on, whenever something is buffered. */
  startTimer(): void {
    this.#timed = true;
    this.armTimer();
  }

  stopTimer(): void {
    this.#timed = false;
    if (this.#timer !== undefined) this.#lifecycle.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  #onTimer(): void {
    this.#timer = undefined;
    const now = this.#now();
    for (const target of this.#streams.all()) {
      if (target.count > 0 && target.running === undefined && target.retryAt <= now) this.trigger(target);
    }
    this.#streams.sweep(); // release streams idle for streamIdleTimeoutMs (stream-registry.ts)
    this.armTimer();
  }

  #listIdle(target: StreamBuffer): void {
    target.listed = true;
    this.#idle.push(target);
    // Streams flushed by other means stay listed until sendIdle(): with churning stream names the
    // list would only grow (and hold released streams). Drop those entries when it doubles.
    if (this.#idle.length >= this.#pruneAt) this.#pruneIdle();
  }

  /** Drops the entries of streams no longer idle from the idle list (see {@link #listIdle}). */
  #pruneIdle(): void {
    this.#idle = this.#idle.filter((listed) => {
      if (listed.count > 0 && listed.running === undefined) return true;
      listed.listed = false;
      return false;
    });
    this.#pruneAt = Math.max(1_024, 2 * this.#idle.length);
  }

  #untilPass(target: StreamBuffer, pass: number): Promise<void> {
    const run: StreamRun = target;
    if (pass <= run.passesDone) return RESOLVED;
    return new Promise<void>((resolve, reject) => run.passWaiters.push({ pass, resolve, reject }));
  }

  /** A pass ended: flush() calls waiting for it (or an earlier one) settle; a failure nobody waits for is reported. */
  #endPass(target: StreamBuffer, pass: number, error: FlushFailedError | undefined): void {
    const run: StreamRun = target;
    if (error === undefined) run.passesDone = pass;
    let told = false;
    // Usually nobody waits (a background flush): then there is no list to rebuild.
    if (run.passWaiters.length > 0) {
      run.passWaiters = run.passWaiters.filter((waiter) => {
        if (waiter.pass > pass) return true;
        if (error === undefined) waiter.resolve();
        else {
          waiter.reject(error);
          told = true;
        }
        return false;
      });
    }
    if (error !== undefined && !told) this.#notices.report(error);
  }

  #startRun(target: StreamBuffer): void {
    const run: StreamRun = target;
    this.#fairness.runStarted();
    const running: Promise<void> = this.#drain(target).finally(() => {
      this.#fairness.runEnded();
      if (run.running !== running) return;
      run.running = undefined;
      if (target.count > 0 && !run.listed) this.#listIdle(target);
      // add() calls waiting for room while this run was ending found it running and started
      // nothing (a synchronous burst refills the buffer before the run's last microtask): start
      // the idle streams now, or they waited for the timer (flushIntervalMs) with a full buffer.
      if (this.#addsWaiting()) this.sendIdle();
      // flush() calls waiting for a pass this run did not make (it failed first, or found
      // nothing more to take) make their own attempt.
      for (const waiter of run.passWaiters.splice(0)) waiter.resolve(this.flush(target));
    });
    // Its failure reaches flush() callers through their passes, or onError (#endPass).
    running.catch(() => undefined);
    run.running = running;
  }

  /**
   * One flush run of a stream: passes while more was requested or a full batch built up
   * meanwhile. On a failure the unsent events go back to the front of the buffer in their
   * order, and the run rejects.
   */
  async #drain(target: StreamBuffer): Promise<void> {
    const run: StreamRun = target;
    const { maxEvents, maxBytes } = this.#config;
    do {
      run.requested = false;
      if (target.count === 0) return;
      const taken = target.takeRun();
      this.#ledger.taken(taken.events.length, taken.bytes);
      const pass = ++run.passes;
      const left = await this.#send(target, taken);
      if (left !== undefined) throw this.#failPass(target, pass, left);
      run.failureStreak = 0;
      run.retryAt = 0;
      this.#endPass(target, pass, undefined);
    } while (target.requested || target.holdsBatch(maxEvents, maxBytes));
  }

  /** Plans a pass's events into batches and sends them; what the sender could not settle. */
  #send(target: StreamBuffer, { events, bytes, unordered }: TakenEvents<BatchEvents>): Promise<RequeuePiece[] | undefined> {
    // Batches sent at the same time must not share a timestamp (sender.ts): cut between
    // timestamps, or a fast producer (hundreds of events per millisecond) would tie nearly
    // every pair of batches and send them one at a time.
    const parallel = this.#config.maxConcurrentFlushes > 1 && !this.#sender.sequential(target);
    const limits = parallel ? this.#planParallel : this.#plan;
    // Still by value, in order (the common case): planned by value, each batch's objects are
    // made when its call may start.
    if (!Array.isArray(events) && !unordered) return this.#sender.sendRun(target, events.plan(limits, bytes));
    const all = eventsOf(events);
    const sorted = unordered ? sortByTimestamp(all) : all;
    return this.#sender.sendRun(target, planBatches(sorted, limits, bytes));
  }

  /** A pass could not deliver everything: requeue, back off, tell its waiters; returns the error the run rejects with. */
  #failPass(target: StreamBuffer, pass: number, left: RequeuePiece[]): FlushFailedError {
    this.#notices.hold();
    const run: StreamRun = target;
    const kept = this.#settlement.requeue(target, left);
    this.#ledger.flushFailed();
    run.failureStreak++;
    run.retryAt = this.#now() + backoffDelay(run.failureStreak, this.#config.retryBaseDelayMs, this.#config.retryMaxDelayMs, this.#random);
    const error = new FlushFailedError(target.group, target.stream, kept, left.find((piece) => piece.failure)?.failure?.error);
    this.#endPass(target, pass, error);
    this.#notices.release();
    return error;
  }
}
