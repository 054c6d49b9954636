/**
 * Pure retry logic: error classification by duck typing (never `instanceof`: two copies of a
 * package break it, as in smithy's service-error-classification) and exponential back-off with
 * full jitter.
 */

/** What the buffer does with an error from the flush function. */
export type ErrorKind =
  /** `ThrottlingException` and friends: retry with the longer throttling base. */
  | 'throttling'
  /** 5xx, network errors, timeouts: retry. */
  | 'transient'
  /** Legacy `InvalidSequenceTokenException`: forget the token, retry. */
  | 'sequence-token'
  /** Legacy `DataAlreadyAcceptedException`: the data is stored; count it delivered. */
  | 'already-accepted'
  /** `InvalidParameterException`: the batch itself is bad; bisect to find the bad events. */
  | 'invalid'
  /** Everything else: not retryable. */
  | 'fatal';

const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);

const TRANSIENT = new Set([
  'ServiceUnavailableException',
  'ServiceUnavailable',
  'InternalServerError',
  'InternalServerException',
  'InternalFailure',
  'InternalError',
  'RequestTimeoutException',
  'RequestTimeout',
  'OperationAbortedException',
  'TimeoutError',
  'AbortError',
  'FlushTimeoutError',
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'FLUSH_TIMEOUT',
]);

const SEQUENCE_TOKEN = 'InvalidSequenceTokenException';
const ALREADY_ACCEPTED = 'DataAlreadyAcceptedException';
const INVALID = 'InvalidParameterException';

/** Classifies anything thrown by a flush function. Looks at `name`, `code`, `$metadata`, `$retryable` and `cause`. */
export function classifyError(error: unknown): ErrorKind {
  return classify(error, 0);
}

function classify(error: unknown, depth: number): ErrorKind {
  if (error === null || typeof error !== 'object') return 'fatal';
  const e = error as Record<string, unknown>;
  const names = [e['name'], e['code'], e['__type'], e['errno']].filter((n): n is string => typeof n === 'string');
  for (const raw of names) {
    // AWS's `__type` may be "namespace#Code:extra": keep the part after '#' and before ':'.
    const name = raw.replace(/^.*#/, '').replace(/:.*$/, '');
    if (name === SEQUENCE_TOKEN) return 'sequence-token';
    if (name === ALREADY_ACCEPTED) return 'already-accepted';
    if (THROTTLING.has(name)) return 'throttling';
    if (TRANSIENT.has(name)) return 'transient';
    if (name === INVALID) return 'invalid';
  }
  const retryable = e['$retryable'];
  if (retryable && typeof retryable === 'object') {
    return (retryable as { throttling?: unknown }).throttling ? 'throttling' : 'transient';
  }
  const metadata = e['$metadata'];
  const status =
    metadata && typeof metadata === 'object' ? (metadata as { httpStatusCode?: unknown }).httpStatusCode : e['statusCode'];
  if (typeof status === 'number') {
    if (status === 429) return 'throttling';
    if (status >= 500 || status === 408) return 'transient';
  }
  if (depth < 5 && 'cause' in e) {
    const inner = classify(e['cause'], depth + 1);
    if (inner !== 'fatal') return inner;
  }
  // Errors that AggregateError-wrap network failures (e.g. fetch's "connect ECONNREFUSED").
  if (depth < 5 && Array.isArray(e['errors'])) {
    for (const inner of e['errors']) {
      const kind = classify(inner, depth + 1);
      if (kind !== 'fatal') return kind;
    }
  }
  return 'fatal';
}

/** Whether the buffer retries an error of this kind (with back-off). */
export function isRetryable(kind: ErrorKind): boolean {
  return kind === 'throttling' || kind === 'transient' || kind === 'sequence-token';
}

/**
 * Full-jitter exponential back-off (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * a uniform draw from [0, min(cap, base * 2^(attempt-1))). `attempt` counts from 1.
 */
export function backoffDelay(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.floor(random() * ceiling);
}

/** The token an `InvalidSequenceTokenException` says the service expected, if it says. */
export function expectedSequenceToken(error: unknown): string | undefined {
  if (error && typeof error === 'object') {
    const token = (error as { expectedSequenceToken?: unknown }).expectedSequenceToken;
    if (typeof token === 'string' && token.length > 0) return token;
  }
  return undefined;
}

/** What the sender does next with a batch whose call failed (see {@link nextStep}). */
export type NextStep =
  /** Settled without a retry: `delivered` (the service already stored it), or `invalid` (one event the service refuses: dropped). */
  | { readonly kind: 'settle'; readonly as: 'delivered' | 'invalid' }
  /** The service calls the batch invalid: send each half on its own, to isolate the events it refuses. */
  | { readonly kind: 'bisect' }
  /** Call again after `delayMs`. */
  | { readonly kind: 'retry'; readonly delayMs: number }
  /** Stop trying; the events go back to the buffer (`retryable`) or count toward maxRequeues. */
  | { readonly kind: 'give-up'; readonly retryable: boolean };

/** The retry settings {@link nextStep} reads (BatchConfig's fields of the same names). */
export interface RetryPolicy {
  readonly maxRetries: number;
  readonly retryBaseDelayMs: number;
  readonly throttleBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
}

/** Where one batch stands when its call failed. */
export interface AttemptState {
  /** Events in the batch. */
  readonly events: number;
  /** 1 for the first call of this batch. */
  readonly attempt: number;
  /** Consecutive failed runs of its stream before this one: grows the back-off across runs. */
  readonly failureStreak: number;
  /** The buffer's clock, ms. */
  readonly now: number;
  /** stop()'s deadline while stop() runs: retry until then instead of maxRetries. */
  readonly deadline: number | undefined;
  /** Random source in [0, 1) for the jitter. */
  readonly random: () => number;
  /**
   * Calls the bisection of this batch may still make (see {@link bisectionCalls}); undefined is
   * no limit. At 0, an invalid batch is dropped whole as `invalid` instead of being bisected.
   */
  readonly bisectCallsLeft?: number | undefined;
}

/**
 * The bisection budget: the most calls of the flush function that finding the invalid events of
 * a batch of `events` may cost, counting the call that found the batch invalid:
 * `budget × (⌈log2 events⌉ + 2) + 1`. Isolating one invalid event costs at most
 * ⌈log2 n⌉ + 2 calls (a binary search for the first one, a call to confirm it alone when it was
 * found by elimination, and one call for the rest of the batch), so a batch with up to `budget`
 * invalid events is always sorted out in full. Past the budget the rest of the batch is dropped
 * as `invalid` with the service's message. Retries after throttling or transient errors come on
 * top (bounded by `maxRetries` each). A budget of 0 drops an invalid batch whole, at one call.
 */
export function bisectionCalls(events: number, budget: number): number {
  if (events <= 1 || budget <= 0) return 1;
  return budget * (Math.ceil(Math.log2(events)) + 2) + 1;
}

/**
 * Pure: what to do after a failed call of kind `kind`. An invalid batch of one event is dropped;
 * a larger one is bisected while the bisection budget lasts (`bisectCallsLeft`), else dropped.
 */
export function nextStep(kind: ErrorKind, state: AttemptState, policy: RetryPolicy): NextStep {
  // Legacy: the service already stored this data. Never send it again.
  if (kind === 'already-accepted') return SETTLE_DELIVERED;
  if (kind === 'invalid') {
    if (state.events === 1) return SETTLE_INVALID;
    const left = state.bisectCallsLeft;
    return left === undefined || left > 0 ? BISECT : SETTLE_INVALID;
  }
  if (!isRetryable(kind)) return GIVE_UP_FINAL;
  const { attempt, deadline, now } = state;
  const withinBudget = deadline === undefined ? attempt <= policy.maxRetries : now < deadline;
  if (!withinBudget) return GIVE_UP_RETRYABLE;
  const base = kind === 'throttling' ? policy.throttleBaseDelayMs : policy.retryBaseDelayMs;
  let delayMs = backoffDelay(state.failureStreak + attempt, base, policy.retryMaxDelayMs, state.random);
  if (deadline !== undefined) delayMs = Math.min(delayMs, Math.max(0, deadline - now));
  return { kind: 'retry', delayMs };
}

const SETTLE_DELIVERED: NextStep = { kind: 'settle', as: 'delivered' };
const SETTLE_INVALID: NextStep = { kind: 'settle', as: 'invalid' };
const BISECT: NextStep = { kind: 'bisect' };
const GIVE_UP_FINAL: NextStep = { kind: 'give-up', retryable: false };
const GIVE_UP_RETRYABLE: NextStep = { kind: 'give-up', retryable: true };
