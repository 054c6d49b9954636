/**
 * The buffer's life: started, closed, stop()'s deadline, and the one abandonment signal that
 * every wait and flush call in progress listens to. It owns every timer the buffer makes, so it
 * can keep the process alive exactly while someone waits on the buffer, and never otherwise.
 */

type Timer = ReturnType<typeof setTimeout>;

const RESOLVED: Promise<void> = Promise.resolve();

/** Started/closed, the stop deadline, abandonment, and the keep-alive of every timer. */
export class Lifecycle {
  #started = false;
  #closed = false;
  /** Set while stop() runs: retryable failures are retried until this time instead of maxRetries. */
  #deadline: number | undefined;
  /** Set at stop()'s deadline: every wait and call in progress gives up at once. */
  #abandoned = false;
  /**
   * What each wait and flush call in progress does when abandoned; each removes its own when it
   * ends. A Set rather than the listeners of an AbortSignal: adding and removing an EventTarget
   * listener per flush call was most of the cost of a call (bench:core, 1,000 streams).
   */
  readonly #onAbandon = new Set<() => void>();
  /** Every live timer: ref()'d while someone waits on the buffer, unref()'d otherwise. */
  readonly #timers = new Set<Timer>();
  /** Callers of flush()/flushAll()/stop() in progress. */
  #holders = 0;
  /** Whether add() calls wait for room (admission.ts). */
  #addsWaiting = false;
  #keepAlive = false;
  /**
   * Events a flush call carried that ended without an answer (abandoned at stop()'s deadline, or
   * cut off after flushTimeoutMs): the service may have stored them. Sticky: a later call that
   * fails does not make an earlier unanswered one unstored.
   */
  readonly #unanswered = new WeakSet<object>();

  get started(): boolean {
    return this.#started;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** stop()'s deadline (ms since the epoch, the buffer's clock) while stop() runs. */
  get deadline(): number | undefined {
    return this.#deadline;
  }

  /** Whether stop()'s deadline has passed: nothing waits and nothing is sent any more. */
  get abandoned(): boolean {
    return this.#abandoned;
  }

  /** Marks the buffer started; false when it is closed already. */
  start(): boolean {
    if (this.#closed) return false;
    this.#started = true;
    return true;
  }

  /** stop() began: no new events, no timer flushes. */
  close(): void {
    this.#closed = true;
    this.#started = false;
  }

  /**
   * stop()'s deadline, `timeoutMs` from `now`: retryable failures are retried until then, and
   * then everything is abandoned. Returns the deadline's timer (clear it if stop() ends first).
   */
  startDeadline(now: number, timeoutMs: number): Timer {
    this.#deadline = now + timeoutMs;
    return this.timer(() => this.abandon(), timeoutMs);
  }

  /** A timer (unref()'d unless someone waits on the buffer) that forgets itself when it fires. */
  timer(callback: () => void, ms: number): Timer {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, ms);
    if (!this.#keepAlive) timer.unref();
    this.#timers.add(timer);
    return timer;
  }

  clearTimer(timer: Timer): void {
    clearTimeout(timer);
    this.#timers.delete(timer);
  }

  /** Waits `ms`; ends early (resolving) when the buffer is abandoned. */
  sleep(ms: number): Promise<void> {
    // Already abandoned (stop()'s deadline has passed): nothing would end the sleep at the
    // deadline any more, so it would run its full length past it.
    if (ms <= 0 || this.#abandoned) return RESOLVED;
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.clearTimer(timer);
        this.#onAbandon.delete(done);
        resolve();
      };
      const timer = this.timer(done, ms);
      this.#onAbandon.add(done);
    });
  }

  /** Runs `callback` once at abandonment unless removed first ({@link offAbandon}). */
  onAbandon(callback: () => void): void {
    this.#onAbandon.add(callback);
  }

  offAbandon(callback: () => void): void {
    this.#onAbandon.delete(callback);
  }

  /** stop()'s deadline: everything waiting or calling gives up now, and nothing starts after. */
  abandon(): void {
    if (this.#abandoned) return;
    this.#abandoned = true;
    const callbacks = [...this.#onAbandon];
    this.#onAbandon.clear();
    for (const callback of callbacks) callback();
  }

  /** A flush call carrying `events` ended without an answer: their outcome is unknown. */
  markUnanswered(events: readonly object[]): void {
    for (const event of events) this.#unanswered.add(event);
  }

  /** Whether a flush call carrying `event` ended without an answer (see {@link markUnanswered}). */
  wasUnanswered(event: object): boolean {
    return this.#unanswered.has(event);
  }

  /** A caller of flush()/flushAll()/stop() began waiting. */
  hold(): void {
    this.#holders++;
    this.#refreshKeepAlive();
  }

  release(): void {
    this.#holders--;
    this.#refreshKeepAlive();
  }

  /** Whether add() calls wait for room: their callers await delivery of what is ahead of them. */
  setAddsWaiting(waiting: boolean): void {
    if (waiting === this.#addsWaiting) return;
    this.#addsWaiting = waiting;
    this.#refreshKeepAlive();
  }

  /**
   * Timers keep the process alive only while someone waits on the buffer: a caller of
   * flush()/flushAll()/stop(), or an add() waiting for room (its caller awaits delivery of what
   * is ahead of it: if the process exited in a back-off, those events would be lost silently).
   * Otherwise every timer is unref()'d: a buffer never keeps a process alive by itself.
   */
  #refreshKeepAlive(): void {
    const keep = this.#holders > 0 || this.#addsWaiting;
    if (keep === this.#keepAlive) return;
    this.#keepAlive = keep;
    for (const timer of this.#timers) {
      if (keep) timer.ref();
      else timer.unref();
    }
  }
}
