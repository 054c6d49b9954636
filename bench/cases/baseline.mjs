/**
 * Case "baseline": what the AWS SDK itself costs. A plain loop over the raw SDK client that
 * batches by hand: up to 10,000 events and 1,048,576 bytes (UTF-8 + 26 each) per PutLogEvents,
 * at most 4 requests in flight. The same SDK copy cwbatch loads, with the same client settings
 * (`maxAttempts: 1`), so the core's ratio is cwbatch's own cost.
 */
import { createRequire } from 'node:module';
import { CREDENTIALS, REGION } from '../lib/aws-env.mjs';
import { rawMessage } from '../lib/message.mjs';

const MAX_EVENTS = 10_000;
const MAX_BYTES = 1_048_576;
const IN_FLIGHT = 4;

export async function setup({ url, group, stream }) {
  // Resolve the SDK from cwbatch's own location: the copy the core case uses.
  const fromCwbatch = createRequire(createRequire(import.meta.url).resolve('cwbatch/aws'));
  const { CloudWatchLogsClient, PutLogEventsCommand } = await import(fromCwbatch.resolve('@aws-sdk/client-cloudwatch-logs'));
  const client = new CloudWatchLogsClient({ endpoint: url, region: REGION, credentials: { ...CREDENTIALS }, maxAttempts: 1 });
  const inFlight = new Set();
  let failures = 0;
  let batch = [];
  let bytes = 0;

  function send() {
    const command = new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents: batch });
    batch = [];
    bytes = 0;
    const p = client.send(command).then(
      () => inFlight.delete(p),
      (error) => {
        failures++;
        inFlight.delete(p);
        console.error('baseline: PutLogEvents failed', error?.name, error?.message);
      },
    );
    inFlight.add(p);
  }

  return {
    config: { maxEvents: MAX_EVENTS, maxBytes: MAX_BYTES, inFlight: IN_FLIGHT, maxAttempts: 1 },
    log(i) {
      const now = Date.now();
      const message = rawMessage(i, now);
      const size = Buffer.byteLength(message, 'utf8') + 26;
      if (batch.length === MAX_EVENTS || bytes + size > MAX_BYTES) {
        send();
        batch.push({ timestamp: now, message });
        bytes += size;
        if (inFlight.size >= IN_FLIGHT) return Promise.race(inFlight);
        return undefined;
      }
      batch.push({ timestamp: now, message });
      bytes += size;
      return undefined;
    },
    async finish() {
      if (batch.length > 0) send();
      while (inFlight.size > 0) await Promise.race(inFlight);
      client.destroy();
      return { failures };
    },
  };
}
