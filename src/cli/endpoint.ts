/**
 * Where the CLI's requests go, written once for every command (issue 14): the endpoint URL, the
 * Region, the label used in messages, and the network timeouts of the SDK client (issue 21).
 * No SDK import here: `ship --dry-run` resolves nothing but still parses these flags.
 */
import { UsageError, parseDuration } from './usage.js';

/** Default bound on establishing a TCP (and TLS) connection, ms (`--connect-timeout`). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Default bound on one request, from sending it to the whole answer, ms (`--request-timeout`). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Accepted range of both timeouts, ms: 1 ms to 10 minutes. */
export const TIMEOUT_RANGE_MS = Object.freeze({ min: 1, max: 600_000 });

/** The `parseArgs` option specs shared by the commands that talk to an endpoint. */
export const ENDPOINT_OPTIONS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'connect-timeout': { type: 'string' },
  'request-timeout': { type: 'string' },
} as const;

/** The help lines of {@link ENDPOINT_OPTIONS}, aligned for a 29-column option column. */
export const ENDPOINT_USAGE = `      --endpoint URL           send to this endpoint (default: AWS_ENDPOINT_URL_CLOUDWATCH_LOGS, else AWS)
      --region REGION          AWS Region (default: AWS_REGION / profile; us-east-1 with a custom endpoint)
      --connect-timeout TIME   give up connecting after TIME (default 5s; 1ms to 10m)
      --request-timeout TIME   give up on a request not answered within TIME (default 30s; 1ms to 10m)`;

/** The raw flag values {@link resolveDestination} reads. */
export interface EndpointFlags {
  endpoint?: string | undefined;
  region?: string | undefined;
  'connect-timeout'?: string | undefined;
  'request-timeout'?: string | undefined;
}

/** Where requests go and how long they may take. */
export interface Destination {
  /** The `--endpoint` URL; `undefined` leaves it to the SDK (endpoint variables, then AWS). */
  endpoint: string | undefined;
  /** The Region; `undefined` leaves it to the SDK (profile). */
  region: string | undefined;
  /** Where requests go, for messages: a URL, or "the AWS endpoint of REGION". */
  label: string;
  /** Bound on connecting, ms. */
  connectTimeoutMs: number;
  /** Bound on one request, ms. */
  requestTimeoutMs: number;
}

/**
 * Resolves the endpoint, Region and timeouts from the flags and the environment. Throws
 * {@link UsageError} (exit 2) for a URL that does not parse or is not http(s), naming the flag or
 * the variable it came from, and for a timeout out of range.
 */
export function resolveDestination(flags: EndpointFlags, env: NodeJS.ProcessEnv = process.env): Destination {
  const endpoint = flags.endpoint === undefined ? undefined : checkUrl('--endpoint', flags.endpoint);
  const fromEnv = firstSet(env, ['AWS_ENDPOINT_URL_CLOUDWATCH_LOGS', 'AWS_ENDPOINT_URL']);
  if (endpoint === undefined && fromEnv !== undefined) checkUrl(fromEnv.name, fromEnv.value);
  const custom = endpoint ?? fromEnv?.value;
  // The SDK needs a Region even for an emulator, where any value works.
  const region = flags.region ?? nonEmpty(env['AWS_REGION']) ?? nonEmpty(env['AWS_DEFAULT_REGION']) ?? (custom === undefined ? undefined : 'us-east-1');
  if (region !== undefined && !/^[a-z0-9-]{1,64}$/.test(region)) {
    throw new UsageError(`--region expects a Region name such as eu-west-1, got ${JSON.stringify(region)}`);
  }
  return {
    endpoint,
    region,
    label: endpointLabel(endpoint, region, env),
    connectTimeoutMs: timeout('connect-timeout', flags['connect-timeout'], DEFAULT_CONNECT_TIMEOUT_MS),
    requestTimeoutMs: timeout('request-timeout', flags['request-timeout'], DEFAULT_REQUEST_TIMEOUT_MS),
  };
}

/** Where requests go, for messages: the given endpoint, the endpoint variables, or the Region's AWS endpoint. */
export function endpointLabel(endpoint: string | undefined, region: string | undefined, env: NodeJS.ProcessEnv): string {
  const custom = endpoint ?? firstSet(env, ['AWS_ENDPOINT_URL_CLOUDWATCH_LOGS', 'AWS_ENDPOINT_URL'])?.value;
  return custom ?? `the AWS endpoint of ${region ?? 'the configured Region'}`;
}

function timeout(flag: string, value: string | undefined, fallback: number): number {
  return parseDuration(flag, value, fallback, TIMEOUT_RANGE_MS.min, TIMEOUT_RANGE_MS.max);
}

function checkUrl(source: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`${source} expects an http:// or https:// URL such as http://127.0.0.1:4588, got ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`${source} expects an http:// or https:// URL, got ${JSON.stringify(value)}`);
  }
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

function firstSet(env: NodeJS.ProcessEnv, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = nonEmpty(env[name]);
    if (value !== undefined) return { name, value };
  }
  return undefined;
}
