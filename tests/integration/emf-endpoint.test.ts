/**
 * cwbatch/emf against the embedded endpoint, through the real AWS SDK client: every value put
 * comes back, value for value, from the endpoint's EMF extraction (endpoint.metrics() and GET /metrics).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmfSink, UNITS, type TransportFailure, type Unit } from '../../src/emf/index.js';
import { mulberry32 } from '../../src/local/faults.js';
import { startLocalEndpoint, type ExtractedMetrics, type LocalEndpoint } from '../../src/local/index.js';
import { cliEnv, runCli } from '../fixtures/cli/run-cli.js';
import { ensureBuilt } from '../helpers/build.js';
import { clientConfig } from '../helpers/client.js';


let endpoint: LocalEndpoint;
beforeAll(async () => {
  endpoint = await startLocalEndpoint({ port: 0 });
});
afterAll(async () => {
  await endpoint.close();
});

/** identity -> "timestamp:value" pairs, sorted (batches of one stream may arrive in any order). */
type Model = Map<string, string[]>;
const identity = (namespace: string, name: string, dims: Array<[string, string]>, unit: string, resolution: number) =>
  JSON.stringify([namespace, name, dims, unit, resolution]);

function fromEndpoint(extracted: ExtractedMetrics): Model {
  const model: Model = new Map();
  for (const m of extracted.metrics) {
    const key = identity(m.Namespace, m.MetricName, m.Dimensions.map((d) => [d.Name, d.Value]), m.Unit, m.StorageResolution);
    model.set(key, [...(model.get(key) ?? []), ...m.Values.map((v, i) => `${m.Timestamps[i]}:${v}`)]);
  }
  for (const values of model.values()) values.sort();
  return model;
}

describe('cwbatch/emf -> embedded endpoint', () => {
  it('metrics put equal, value for value, the metrics the endpoint extracts', async () => {
    const failures: TransportFailure[] = [];
    const sink = new EmfSink({
      logGroupName: '/metrics/acceptance',
      logStreamName: 'emf',
      namespace: 'Shop',
      dimensions: { Service: 'checkout' },
      clientConfig: clientConfig(endpoint.url),
      onFailure: (f) => failures.push(f),
    });
    const random = mulberry32(19);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const expected: Model = new Map();
    const t0 = Date.now() - 3_600_000;
    let lines = 0;
    for (let unit = 0; unit < 1_500; unit++) {
      const m = sink.logger();
      const op = pick(['get', 'put', 'list']);
      const perSet = random() < 0.5;
      if (perSet) m.putDimensions({ Service: 'checkout', Op: op });
      const namespace = random() < 0.1 ? 'Shop/Batch' : 'Shop';
      m.setNamespace(namespace);
      const timestamp = t0 + unit * 1000;
      m.setTimestamp(timestamp);
      m.setProperty('requestId', `r${unit}`);
      // Now and then, beyond the limits: more than 100 metrics, more than 100 values of one.
      const metricCount = unit % 97 === 0 ? 130 : 1 + Math.floor(random() * 5);
      for (let k = 0; k < metricCount; k++) {
        const name = metricCount > 5 ? `wide${k}` : pick(['Latency', 'Bytes', 'Hits', 'Errors']);
        // One unit per name (CloudWatch keeps a unit per datapoint, the endpoint the first one's).
        const unitOf: Unit = name === 'Latency' ? 'Milliseconds' : name === 'Bytes' ? 'Bytes' : name.startsWith('wide') ? (UNITS[k % UNITS.length] as Unit) : 'Count';
        const resolution = name === 'Hits' ? 1 : 60;
        const repeat = unit % 89 === 0 && k === 0 ? 250 : 1;
        for (let r = 0; r < repeat; r++) {
          const value = Math.round(random() * 1e6) / 100;
          m.putMetric(name, value, unitOf, resolution);
          const sets: Array<Array<[string, string]>> = [[['Service', 'checkout']]];
          if (perSet) sets.push([['Service', 'checkout'], ['Op', op]]);
          for (const dims of sets) {
            const key = identity(namespace, name, dims, unitOf, resolution);
            expected.set(key, [...(expected.get(key) ?? []), `${timestamp}:${value}`]);
          }
        }
      }
      lines += m.flush();
    }
    await sink.close();
    expect(failures).toEqual([]);
    // Some loggers went beyond 100 metrics or 100 values: more lines than loggers.
    expect(lines).toBeGreaterThan(1_500);
    expect(endpoint.store.eventCount('/metrics/acceptance', 'emf')).toBe(lines);

    const extracted = endpoint.metrics();
    expect(extracted.invalid).toBe(0);
    expect(extracted.documents).toBe(lines);
    for (const values of expected.values()) values.sort();
    const actual = fromEndpoint(extracted);
    expect([...actual.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [key, values] of expected) expect(actual.get(key), key).toEqual(values);

    // The same over HTTP.
    const response = await fetch(`${endpoint.url}/metrics`);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual(extracted);
  });

  it('cwbatch tail --metrics prints the metrics of EMF events and skips the others', async () => {
    ensureBuilt();
    const t = Date.now() - 60_000;
    const sink = new EmfSink({
      logGroupName: '/metrics/tail',
      logStreamName: 's',
      namespace: 'Shop',
      clientConfig: clientConfig(endpoint.url),
    });
    sink.logger().putDimensions({ Service: 'api' }).setTimestamp(t).putMetric('Latency', 12, 'Milliseconds').putMetric('Latency', 13).flush();
    sink.sink.tryAdd(t + 1, 'plain text, not a metric');
    await sink.close();
    const result = await runCli(['tail', '-g', '/metrics/tail', '-s', 's', '--metrics'], { env: cliEnv(endpoint.url) });
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(`${new Date(t).toISOString()}  Shop  Latency{Service=api}  12 13 Milliseconds\n`);
  });

  it('cwbatch demo prints its phases as metrics put through cwbatch/emf and extracted by the endpoint', async () => {
    ensureBuilt();
    const result = await runCli(['demo', '--events', '2000'], { env: cliEnv(undefined) });
    expect(result.code).toBe(0);
    const rows = [...result.stdout.matchAll(/^ {2}Phase=(\w+) +([\d,]+) +([\d,]+) +([\d,]+) ms$/gm)].map((r) => [r[1], Number(r[2]!.replace(/,/g, ''))]);
    expect(rows.map((r) => r[0])).toEqual(['steady', 'burst', 'throttling', 'recovery', 'stopping', 'reading']);
    // Every event the demo added is in one phase's Added metric: 2,000 generated + 3 oversized + 5 outside the window.
    expect(rows.reduce((sum, r) => sum + (r[1] as number), 0)).toBe(2_008);
  });
});
