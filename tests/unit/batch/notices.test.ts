import { describe, expect, it } from 'vitest';
import { Notices } from '../../../src/batch/notices.js';

describe('Notices (user callbacks run after the state change, never inside it)', () => {
  it('runs a callback at once when nothing holds it', () => {
    const seen: string[] = [];
    new Notices({}).call((x: string) => seen.push(x), 'now');
    expect(seen).toEqual(['now']);
  });

  it('defers callbacks and reports while held, and runs them in order at the last release', () => {
    const seen: string[] = [];
    const notices = new Notices({ onError: (e) => seen.push(`error ${(e as Error).message}`) });
    notices.hold();
    notices.call((x: string) => seen.push(x), 'a');
    notices.hold();
    notices.report(new Error('b'));
    notices.call((x: string) => seen.push(x), 'c');
    notices.release();
    expect(seen).toEqual([]);
    notices.release();
    expect(seen).toEqual(['a', 'error b', 'c']);
  });

  it('runs what a deferred callback posts, too, before release returns', () => {
    const seen: string[] = [];
    const notices = new Notices({});
    notices.hold();
    notices.call(() => {
      seen.push('first');
      notices.hold();
      notices.call(() => seen.push('posted by first'));
      notices.release();
    });
    notices.release();
    expect(seen).toEqual(['first', 'posted by first']);
  });

  it('reports a callback that throws through onError; an onError that throws is swallowed', () => {
    const errors: unknown[] = [];
    const notices = new Notices({ onError: (e) => errors.push(e) });
    const boom = new Error('boom');
    notices.call(() => {
      throw boom;
    });
    expect(errors).toEqual([boom]);
    const silent = new Notices({
      onError: () => {
        throw new Error('onError threw');
      },
    });
    expect(() => silent.call(() => {
      throw boom;
    })).not.toThrow();
  });

  it('reads onError at each report (the options object, as the buffer always has)', () => {
    const hooks: { onError?: (e: unknown) => void } = {};
    const notices = new Notices(hooks);
    const seen: unknown[] = [];
    hooks.onError = (e) => seen.push(e);
    notices.report('late');
    expect(seen).toEqual(['late']);
  });
});
