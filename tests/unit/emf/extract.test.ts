/** The embedded endpoint's EMF extraction (src/local/emf.ts), on lines written by hand. */
import { describe, expect, it } from 'vitest';
import { EmfExtractor } from '../../../src/local/emf.js';

const T = 1_764_900_000_000;
const ev = (message: unknown) => ({ timestamp: T, message: typeof message === 'string' ? message : JSON.stringify(message) });
const aws = (directives: unknown[], timestamp: unknown = T) => ({ Timestamp: timestamp, CloudWatchMetrics: directives });

function extract(...messages: unknown[]) {
  const x = new EmfExtractor();
  const events = messages.map(ev);
  x.extract(events, 0, events.length);
  return x.snapshot();
}

describe('EmfExtractor', () => {
  it('one metric identity per dimension set, each value a datapoint at _aws.Timestamp', () => {
    const out = extract({
      _aws: aws([{ Namespace: 'Shop', Dimensions: [['Service'], ['Service', 'Op'], []], Metrics: [{ Name: 'Latency', Unit: 'Milliseconds' }, { Name: 'Hits', StorageResolution: 1 }] }]),
      Service: 'api',
      Op: 'get',
      Latency: [1, 2],
      Hits: 3,
      other: 'ignored',
    });
    expect(out.documents).toBe(1);
    expect(out.invalid).toBe(0);
    expect(out.metrics.map((m) => [m.MetricName, m.Dimensions.map((d) => `${d.Name}=${d.Value}`).join(','), m.Unit, m.StorageResolution, m.Values, m.Timestamps])).toEqual([
      ['Latency', 'Service=api', 'Milliseconds', 60, [1, 2], [T, T]],
      ['Latency', 'Service=api,Op=get', 'Milliseconds', 60, [1, 2], [T, T]],
      ['Latency', '', 'Milliseconds', 60, [1, 2], [T, T]],
      ['Hits', 'Service=api', 'None', 1, [3], [T]],
      ['Hits', 'Service=api,Op=get', 'None', 1, [3], [T]],
      ['Hits', '', 'None', 1, [3], [T]],
    ]);
  });

  it('accumulates values of one identity across events', () => {
    const line = (v: number) => ({ _aws: aws([{ Namespace: 'N', Dimensions: [[]], Metrics: [{ Name: 'm' }] }]), m: v });
    const out = extract(line(1), line(2), 'not json {"_aws"', 'plain text', { no: 'aws' });
    expect(out.metrics).toHaveLength(1);
    expect(out.metrics[0]!.Values).toEqual([1, 2]);
    expect(out.documents).toBe(2);
    expect(out.invalid).toBe(0);
  });

  it('extracts nothing from a document that breaks a rule, and counts it', () => {
    const ok = { Namespace: 'N', Dimensions: [['D']], Metrics: [{ Name: 'm' }] };
    const bad: unknown[] = [
      { _aws: aws([ok], 'soon'), D: 'x', m: 1 }, // Timestamp not a number
      { _aws: { Timestamp: T }, D: 'x', m: 1 }, // no CloudWatchMetrics
      { _aws: aws([ok]), D: 'x' }, // metric target missing
      { _aws: aws([ok]), D: 1, m: 1 }, // dimension target not a string
      { _aws: aws([ok]), D: 'x', m: 'fast' }, // metric target not numeric
      { _aws: aws([ok]), D: 'x', m: Array.from({ length: 101 }, () => 1) }, // over 100 values
      { _aws: aws([{ ...ok, Metrics: Array.from({ length: 101 }, () => ({ Name: 'm' })) }]), D: 'x', m: 1 }, // over 100 metrics
      { _aws: aws([{ ...ok, Dimensions: [Array.from({ length: 31 }, () => 'D')] }]), D: 'x', m: 1 }, // over 30 dimensions
      { _aws: aws([{ ...ok, Metrics: [{ Name: 'm', Unit: 'Furlongs' }] }]), D: 'x', m: 1 },
      { _aws: aws([{ ...ok, Metrics: [{ Name: 'm', StorageResolution: 5 }] }]), D: 'x', m: 1 },
      { _aws: aws([{ ...ok, Namespace: '' }]), D: 'x', m: 1 },
      { _aws: aws([{ ...ok, Dimensions: [] }]), D: 'x', m: 1 },
    ];
    const out = extract(...bad);
    expect(out.metrics).toEqual([]);
    expect(out.invalid).toBe(bad.length);
  });
});
