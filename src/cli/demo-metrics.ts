/**
 * The demo's phases as CloudWatch metrics (issue 19): each phase's added events, retries and
 * duration are put through `cwbatch/emf` into `<group>-metrics`, and read back from the embedded
 * endpoint's EMF extraction for the verification table. They are sent only at close (after the
 * endpoint's request counters were read), so the demo's request counts stay the log events' own.
 */
import { EmfSink } from '../emf/index.js';
import type { ExtractedMetric, LocalEndpoint } from '../local/index.js';
import { LOCAL_CREDENTIALS } from './cloudwatch.js';
import { int } from './format.js';

const NAMESPACE = 'cwbatch/demo';
const NAMES = ['Added', 'Retries', 'Duration'] as const;

/** Counts the demo reads at each phase boundary. */
export interface PhaseCounts {
  added: number;
  retries: number;
}

/** Puts one EMF line per finished phase; {@link close} delivers them and reads them back. */
export class PhaseMetrics {
  readonly #sink: EmfSink;
  readonly #counts: () => PhaseCounts;
  #mark: PhaseCounts & { at: number };

  constructor(endpointUrl: string, group: string, counts: () => PhaseCounts) {
    this.#sink = new EmfSink({
      logGroupName: `${group}-metrics`,
      logStreamName: 'demo',
      namespace: NAMESPACE,
      flushIntervalMs: 3_600_000,
      // A copy: the SDK writes into the credentials object it is given.
      clientConfig: { endpoint: endpointUrl, region: 'us-east-1', credentials: { ...LOCAL_CREDENTIALS } },
    });
    this.#counts = counts;
    this.#mark = { ...counts(), at: Date.now() };
  }

  /** The phase `phase` ends now: its figures since the last call become one EMF line. */
  phaseEnded(phase: string): void {
    const now = { ...this.#counts(), at: Date.now() };
    this.#sink
      .logger()
      .putDimensions({ Phase: phase })
      .putMetric('Added', now.added - this.#mark.added, 'Count')
      .putMetric('Retries', now.retries - this.#mark.retries, 'Count')
      .putMetric('Duration', now.at - this.#mark.at, 'Milliseconds')
      .flush();
    this.#mark = now;
  }

  /** Delivers the lines and returns what the endpoint extracted from them (the phase before the first step left out). */
  async close(endpoint: LocalEndpoint): Promise<ExtractedMetric[]> {
    await this.#sink.close();
    return endpoint.metrics().metrics.filter((x) => x.Namespace === NAMESPACE && x.Dimensions[0]?.Value !== 'starting');
  }
}

/** The table rows: one per phase, the sum of each metric's values. */
export function phaseRows(extracted: readonly ExtractedMetric[]): string[] {
  const rows = [`  metrics (cwbatch/emf, extracted by the endpoint)   ${NAMES.map((n) => n.padStart(10)).join('')}`];
  for (const phase of new Set(extracted.map((x) => x.Dimensions[0]?.Value ?? ''))) {
    const sum = (name: string): number =>
      extracted.find((x) => x.MetricName === name && x.Dimensions[0]?.Value === phase)?.Values.reduce((a, b) => a + b, 0) ?? 0;
    rows.push(
      `  Phase=${(phase.split(' ')[0] ?? phase).padEnd(45)}${int(sum('Added')).padStart(10)}${int(sum('Retries')).padStart(10)}${`${int(sum('Duration'))} ms`.padStart(10)}`,
    );
  }
  return rows;
}
