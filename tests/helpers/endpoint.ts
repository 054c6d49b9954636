/**
 * The embedded endpoint as a file's fixture: started before the file's first test (with a real
 * SDK client pointed at it), closed after its last, optionally reset before each test.
 */
import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { startLocalEndpoint, type LocalEndpoint, type LocalEndpointOptions } from '../../src/local/index.js';
import { ensureBuilt } from './build.js';
import { makeClient } from './client.js';

/** What {@link useLocalEndpoint} gives the tests (read inside tests and hooks). */
export interface EndpointFixture {
  readonly endpoint: LocalEndpoint;
  /** A client of the endpoint, one attempt per call. */
  readonly client: CloudWatchLogsClient;
}

/** Options of {@link useLocalEndpoint}. */
export interface EndpointFixtureOptions {
  /** Options of the endpoint. Default: a free port on loopback, everything else default. */
  endpoint?: LocalEndpointOptions;
  /** Before each test: forget every group, stream, event and counter, and clear faults. Default false. */
  resetEach?: boolean;
  /** The tests run the built CLI: build it first if dist/ is missing. Default false. */
  cli?: boolean;
}

/** Registers the hooks (call at the top of a test file) and returns the fixture. */
export function useLocalEndpoint(options: EndpointFixtureOptions = {}): EndpointFixture {
  let endpoint: LocalEndpoint | undefined;
  let client: CloudWatchLogsClient | undefined;
  beforeAll(async () => {
    if (options.cli === true) ensureBuilt();
    endpoint = await startLocalEndpoint({ port: 0, ...options.endpoint });
    client = makeClient(endpoint.url);
  });
  afterAll(async () => {
    client?.destroy();
    await endpoint?.close();
  });
  if (options.resetEach === true) {
    beforeEach(() => {
      endpoint?.reset();
      endpoint?.setFaults({});
    });
  }
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('useLocalEndpoint: the endpoint runs only while the tests of the file run');
    return value;
  };
  return {
    get endpoint() {
      return started(endpoint);
    },
    get client() {
      return started(client);
    },
  };
}
