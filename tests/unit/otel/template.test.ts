import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LOG_GROUP_NAME_PATTERN } from '../../../src/batch/rules.js';
import { ABSENT_ATTRIBUTE, NameTemplate } from '../../../src/otel/template.js';

const sources = { now: () => Date.UTC(2026, 11, 5, 23, 59, 59, 999), hostname: 'web-1', pid: 42 };

describe('NameTemplate', () => {
  it('substitutes resource attributes, built-ins and fallbacks', () => {
    const t = new NameTemplate('{service.name}/{deployment.environment.name|dev}/{hostname}/{pid}/{date}', 'stream', 'logStreamName');
    expect(t.usesResource).toBe(true);
    expect(t.resolve({ 'service.name': 'shop' }, sources)).toBe('shop/dev/web-1/42/2026-12-05');
    expect(t.resolve({ 'service.name': 'shop', 'deployment.environment.name': 'prod' }, sources)).toBe('shop/prod/web-1/42/2026-12-05');
  });

  it('writes `undefined` for an absent attribute without a fallback (the Collector does)', () => {
    expect(new NameTemplate('/otel/{ClusterName}', 'group', 'logGroupName').resolve({}, sources)).toBe(`/otel/${ABSENT_ATTRIBUTE}`);
    // An explicit empty fallback is empty.
    expect(new NameTemplate('/otel/x{k|}', 'group', 'logGroupName').resolve({ k: '' }, sources)).toBe('/otel/x');
  });

  it('names without resource placeholders do not depend on the resource', () => {
    expect(new NameTemplate('{hostname}/{pid}', 'stream', 'logStreamName').usesResource).toBe(false);
    expect(new NameTemplate('/app/api', 'group', 'logGroupName').usesResource).toBe(false);
    // An explicit fallback on a built-in name reads the resource attribute of that name.
    expect(new NameTemplate('{pid|x}', 'stream', 'logStreamName').resolve({ pid: 7 }, sources)).toBe('7');
  });

  it('replaces characters a name may not contain in substituted values only', () => {
    // The SDK's default service.name has a colon: invalid in a stream name.
    expect(new NameTemplate('{service.name}', 'stream', 'logStreamName').resolve({ 'service.name': 'unknown_service:node' })).toBe(
      'unknown_service_node',
    );
    expect(new NameTemplate('/otel/{service.name}', 'group', 'logGroupName').resolve({ 'service.name': 'my shop:1*' })).toBe('/otel/my_shop_1_');
    expect(() => new NameTemplate('a:{x}', 'stream', 'logStreamName').resolve({ x: 'y' })).toThrow(expect.objectContaining({ code: 'INVALID_NAME' }));
  });

  it('refuses bad templates, naming the option', () => {
    expect(() => new NameTemplate(42, 'group', 'logGroupName')).toThrow(/`logGroupName`/);
    expect(() => new NameTemplate('a{}', 'stream', 'logStreamName')).toThrow(RangeError);
    expect(() => new NameTemplate('x'.repeat(600), 'stream', 'logStreamName').resolve({})).toThrow(/512/);
  });

  it('property: any attribute value gives a valid name, or InvalidNameError for a name too long', () => {
    const group = new NameTemplate('/otel/{a}-{b|fb}', 'group', 'logGroupName');
    const stream = new NameTemplate('{a}/{b|fb}', 'stream', 'logStreamName');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.option(fc.string({ maxLength: 300 })), (a, b) => {
        const attributes: Record<string, unknown> = { a, b: b ?? undefined };
        for (const [template, ok] of [
          [group, (n: string) => LOG_GROUP_NAME_PATTERN.test(n) && n.length <= 512],
          [stream, (n: string) => !/[:*]/.test(n) && n.length >= 1 && n.length <= 512],
        ] as const) {
          try {
            expect(ok(template.resolve(attributes, sources))).toBe(true);
          } catch (error) {
            expect((error as { code?: string }).code).toBe('INVALID_NAME');
            expect(template.source.length + a.length + (b ?? 'fb').length).toBeGreaterThan(200);
          }
        }
      }),
    );
  });
});
