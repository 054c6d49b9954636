import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateLogGroupCreateOptions, type LogGroupCreateOptions } from '../../../src/aws/index.js';

const KEY_ARN = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const bad = (options: Record<string, unknown>) => () => validateLogGroupCreateOptions(options as LogGroupCreateOptions);
/** The API reference's tag text: Unicode letters, separators, digits and _ . : / = + - @. */
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

describe('validateLogGroupCreateOptions', () => {
  it('returns a frozen copy with the fields set, and drops empty tags', () => {
    const tags = { team: 'core', 'cost-center': '42', 'ünïcode key': 'värde / x=y @z', empty: '' };
    const out = validateLogGroupCreateOptions({ retentionInDays: 30, logGroupClass: 'INFREQUENT_ACCESS', kmsKeyId: KEY_ARN, tags });
    expect(out).toEqual({ retentionInDays: 30, logGroupClass: 'INFREQUENT_ACCESS', kmsKeyId: KEY_ARN, tags });
    expect(Object.isFrozen(out)).toBe(true);
    expect(Object.isFrozen(out.tags)).toBe(true);
    expect(validateLogGroupCreateOptions({ tags: {}, retentionInDays: undefined })).toEqual({});
  });

  it('retentionInDays: one of the values AWS accepts', () => {
    expect(bad({ retentionInDays: 2 })).toThrow(RangeError);
    expect(bad({ retentionInDays: 0 })).toThrow(/`retentionInDays`.*got 0/);
    expect(bad({ retentionInDays: '7' })).toThrow(/`retentionInDays`/);
    for (const days of [1, 3, 5, 7, 14, 30, 60, 90, 365, 3653]) expect(validateLogGroupCreateOptions({ retentionInDays: days }).retentionInDays).toBe(days);
  });

  it("logGroupClass: 'STANDARD' or 'INFREQUENT_ACCESS'", () => {
    expect(validateLogGroupCreateOptions({ logGroupClass: 'STANDARD' }).logGroupClass).toBe('STANDARD');
    expect(bad({ logGroupClass: 'standard' })).toThrow(/`logGroupClass`.*'STANDARD' or 'INFREQUENT_ACCESS', got "standard"/);
    expect(bad({ logGroupClass: 'DELIVERY' })).toThrow(RangeError);
    expect(bad({ logGroupClass: 1 })).toThrow(/got 1/);
  });

  it('kmsKeyId: a KMS key ARN of at most 256 characters', () => {
    expect(validateLogGroupCreateOptions({ kmsKeyId: 'arn:aws-cn:kms:cn-north-1:123456789012:key/mrk-1234' }).kmsKeyId).toMatch(/^arn:aws-cn/);
    expect(bad({ kmsKeyId: 42 })).toThrow(TypeError);
    for (const id of ['1234abcd-12ab', 'alias/mine', 'arn:aws:kms:us-east-1:123456789012:alias/mine', 'arn:aws:s3:::bucket', `${KEY_ARN}${'x'.repeat(200)}`]) {
      expect(bad({ kmsKeyId: id }), id).toThrow(/`kmsKeyId`.*ARN of a KMS key/);
    }
  });

  it('tags: 1 to 50, AWS key and value rules, no aws: prefix, string values', () => {
    expect(bad({ tags: [] })).toThrow(TypeError);
    expect(bad({ tags: null })).toThrow(/`tags`.*null/);
    expect(bad({ tags: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) })).toThrow(/at most 50 tags, got 51/);
    expect(validateLogGroupCreateOptions({ tags: Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`k${i}`, 'v'])) }).tags).toBeDefined();
    expect(bad({ tags: { '': 'v' } })).toThrow(/each key of `tags`/);
    expect(bad({ tags: { ['k'.repeat(129)]: 'v' } })).toThrow(/1 to 128/);
    expect(validateLogGroupCreateOptions({ tags: { ['𝒜'.repeat(128)]: 'v' } }).tags).toBeDefined(); // 128 code points (256 UTF-16 units)
    expect(bad({ tags: { ['𝒜'.repeat(129)]: 'v' } })).toThrow(/1 to 128/);
    expect(bad({ tags: { rocket: '🚀' } })).toThrow(/`tags.rocket`/); // a symbol, not a letter
    expect(bad({ tags: { 'a*b': 'v' } })).toThrow(/each key/);
    expect(bad({ tags: { 'AWS:name': 'v' } })).toThrow(/reserved/);
    expect(bad({ tags: { k: 1 } })).toThrow(/`tags.k` to be a string, got number/);
    expect(bad({ tags: { k: 'v'.repeat(257) } })).toThrow(/`tags.k`.*0 to 256/);
    expect(bad({ tags: { k: 'a;b' } })).toThrow(/`tags.k`/);
  });

  it('names the option with a prefix when asked (the CLI)', () => {
    expect(() => validateLogGroupCreateOptions({ retentionInDays: 2 }, 'group.')).toThrow(/`group.retentionInDays`/);
  });

  it('property: a tag map is accepted exactly when every entry follows the rules', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'Z', '9', ' ', '_', '.', ':', '/', '=', '+', '-', '@', 'é', '日', '*', ';', '\n', '🚀'), maxLength: 6 });
    fc.assert(
      fc.property(fc.dictionary(text, text, { maxKeys: 6 }), (tags) => {
        const entries = Object.entries(tags);
        const valid = entries.every(([k, v]) => k.length > 0 && TAG_TEXT.test(k) && !k.toLowerCase().startsWith('aws:') && TAG_TEXT.test(v));
        if (valid) {
          const out = validateLogGroupCreateOptions({ tags });
          expect(out.tags ?? {}).toEqual(tags);
        } else {
          expect(() => validateLogGroupCreateOptions({ tags })).toThrow(RangeError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
