/**
 * add()'s turn of the event loop. A caller awaiting add() in a burst never reaches the event
 * loop (the promise is already resolved): requests waiting for I/O would wait for the whole
 * burst, or until the buffer is full. So once a batch's worth was accepted since the last look,
 * if flush runs are in progress and settled no call meanwhile (they need the event loop, unlike
 * a flush function that settles in microtasks), add() resolves after one turn of the loop.
 */

/** Counts accepted bytes, runs and settled calls, and says when add() must yield. */
export class Fairness {
  /** A batch's worth of bytes (`maxBytes`): add() looks once per that much. */
  readonly #batchBytes: number;
  /** Bytes add() accepted since it last looked whether calls in progress need the event loop. */
  #acceptedSinceLook = 0;
  /** Flush function calls settled (either way), and that count at add()'s last look. */
  #callsSettled = 0;
  #settledAtLastLook = 0;
  /** Flush runs started and not ended (a run waits for a microtask before its first call), and whether one was at the last look. */
  #runsInProgress = 0;
  #runningAtLastLook = false;

  constructor(batchBytes: number) {
    this.#batchBytes = batchBytes;
  }

  /**
   * Counts `size` accepted bytes (looking once per batch's worth) and says whether accepting
   * them completes a batch's worth since the last look while flush runs, in progress then and
   * now, settled no call since: they wait for the event loop (I/O, a back-off timer), or, in a
   * synchronous burst of tryAdd()s, for a microtask to make a call at all.
   */
  countAccepted(size: number): boolean {
    // Below a batch's worth since the last look (nearly every call): only the count. Kept this
    // small so that V8 inlines it into add() whatever else add() inlines.
    const since = this.#acceptedSinceLook + size;
    if (since < this.#batchBytes) {
      this.#acceptedSinceLook = since;
      return false;
    }
    return this.#look();
  }

  /** A batch's worth was accepted since the last look: whether to yield, and look again from here. */
  #look(): boolean {
    const yieldNow = this.#runningAtLastLook && this.#runsInProgress > 0 && this.#callsSettled === this.#settledAtLastLook;
    this.#acceptedSinceLook = 0;
    this.#settledAtLastLook = this.#callsSettled;
    this.#runningAtLastLook = this.#runsInProgress > 0;
    return yieldNow;
  }

  runStarted(): void {
    this.#runsInProgress++;
  }

  runEnded(): void {
    this.#runsInProgress--;
  }

  callSettled(): void {
    this.#callsSettled++;
  }
}
