/**
 * Legacy sequence tokens, kept for the seed's API and for old emulators. AWS has ignored them
 * since January 2023 (rules document, "Sequence tokens"): nothing in cwbatch depends on them.
 */
export class SequenceTokenManager {
  readonly #tokens = new Map<string, string>();

  /** The token to send with the next PutLogEvents call for this stream, if one is known. */
  getToken(logGroup: string, logStream: string): string | undefined {
    // Called twice per flush call; tokens are legacy and nearly always absent: skip building the key.
    if (this.#tokens.size === 0) return undefined;
    return this.#tokens.get(key(logGroup, logStream));
  }

  /** Remembers the token a successful PutLogEvents returned. An empty or missing token forgets it. */
  setToken(logGroup: string, logStream: string, token: string | null | undefined): void {
    if (token) this.#tokens.set(key(logGroup, logStream), token);
    else this.#tokens.delete(key(logGroup, logStream));
  }

  /** Forgets the token, e.g. after `InvalidSequenceTokenException`. */
  invalidateToken(logGroup: string, logStream: string): void {
    this.#tokens.delete(key(logGroup, logStream));
  }

  /** Forgets every token. */
  clear(): void {
    this.#tokens.clear();
  }

  /** Number of streams with a known token. */
  get size(): number {
    return this.#tokens.size;
  }
}

// Group names cannot contain NUL, so it separates the two names unambiguously.
function key(logGroup: string, logStream: string): string {
  return `${logGroup}\u0000${logStream}`;
}
