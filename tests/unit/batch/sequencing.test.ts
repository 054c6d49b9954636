import { describe, expect, it } from 'vitest';
import { BatchBufferImpl, SequenceTokenManager } from '../../../src/batch/index.js';
import { G, S, awsError, ev, recorder } from './helpers.js';

describe('SequenceTokenManager', () => {
  it('sets, gets and invalidates per (group, stream), as the seed shows', () => {
    const manager = new SequenceTokenManager();
    expect(manager.getToken('/app/logs', 'stream-1')).toBeUndefined();
    manager.setToken('/app/logs', 'stream-1', 'token-xyz');
    expect(manager.getToken('/app/logs', 'stream-1')).toBe('token-xyz');
    expect(manager.getToken('/app/logs', 'stream-2')).toBeUndefined();
    expect(manager.getToken('/app/other', 'stream-1')).toBeUndefined();
    manager.invalidateToken('/app/logs', 'stream-1');
    expect(manager.getToken('/app/logs', 'stream-1')).toBeUndefined();
  });

  it('keeps group and stream apart (no ambiguous key joining)', () => {
    const manager = new SequenceTokenManager();
    manager.setToken('a/b', 'c', 'one');
    manager.setToken('a', 'b/c', 'two');
    manager.setToken('a', 'b\u0000c', 'three');
    expect(manager.getToken('a/b', 'c')).toBe('one');
    expect(manager.getToken('a', 'b/c')).toBe('two');
    expect(manager.size).toBe(3);
  });

  it('an empty or missing token forgets; clear() forgets all', () => {
    const manager = new SequenceTokenManager();
    manager.setToken(G, S, 't');
    manager.setToken(G, S, '');
    expect(manager.getToken(G, S)).toBeUndefined();
    manager.setToken(G, S, 't');
    manager.setToken(G, S, null);
    expect(manager.getToken(G, S)).toBeUndefined();
    manager.setToken(G, 'a', 'x');
    manager.setToken(G, 'b', 'y');
    manager.clear();
    expect(manager.size).toBe(0);
  });
});

describe('tokens through the buffer', () => {
  it('passes the token each stream last got, per stream', async () => {
    const rec = recorder((call, i) => ({ nextSequenceToken: `${call.stream}-${i}` }));
    const buffer = new BatchBufferImpl(rec.flush, { retryBaseDelayMs: 0 });
    await buffer.add(G, 'a', ev(0));
    await buffer.flush(G, 'a');
    await buffer.add(G, 'b', ev(1));
    await buffer.flush(G, 'b');
    await buffer.add(G, 'a', ev(2));
    await buffer.flush(G, 'a');
    await buffer.add(G, 'b', ev(3));
    await buffer.flush(G, 'b');
    expect(rec.calls.map((c) => [c.stream, c.token])).toEqual([
      ['a', undefined],
      ['b', undefined],
      ['a', 'a-0'],
      ['b', 'b-1'],
    ]);
  });

  it('a result without a token keeps the old one (AWS stopped returning tokens in 2023)', async () => {
    const rec = recorder((_c, i) => (i === 0 ? { nextSequenceToken: 'first' } : {}));
    const buffer = new BatchBufferImpl(rec.flush);
    for (let i = 0; i < 3; i++) {
      await buffer.add(G, S, ev(i));
      await buffer.flush(G, S);
    }
    expect(rec.calls.map((c) => c.token)).toEqual([undefined, 'first', 'first']);
  });

  it('InvalidSequenceTokenException: the token is invalidated and the retry goes without it, or with expectedSequenceToken', async () => {
    const rec = recorder((call, i) => {
      if (i === 0) return { nextSequenceToken: 'stale' };
      if (i === 1) throw awsError('InvalidSequenceTokenException');
      if (i === 2) return { nextSequenceToken: 'fresh' };
      if (i === 3) throw awsError('InvalidSequenceTokenException', 400, { expectedSequenceToken: 'expected-by-service' });
      return { nextSequenceToken: `ok-${call.token}` };
    });
    const buffer = new BatchBufferImpl(rec.flush, { retryBaseDelayMs: 0, onError: () => undefined });
    for (let i = 0; i < 3; i++) {
      await buffer.add(G, S, ev(i));
      await buffer.flush(G, S);
    }
    expect(rec.calls.map((c) => c.token)).toEqual([undefined, 'stale', undefined, 'fresh', 'expected-by-service']);
    const m = buffer.getMetrics();
    expect(m.eventsDelivered).toBe(3);
    expect(m.retries).toBe(2);
    expect(m.flushesFailed).toBe(0);
  });
});
