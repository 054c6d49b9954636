/**
 * The embedded endpoint driven by boto3 (Python), a client the project did not write, on
 * loopback: the answers are checked against the CloudWatch Logs API reference. The script is
 * tests/fixtures/boto3/check_endpoint.py; each scenario prints one JSON line. Skipped, with a
 * message, where python3 or boto3 is absent.
 */
import { spawn, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLocalEndpoint } from '../../src/local/index.js';
import type { LocalEndpoint } from '../../src/local/index.js';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'boto3', 'check_endpoint.py');

/** The environment of the python child: dummy static credentials, nothing from the host's AWS setup. */
const CHILD_ENV: NodeJS.ProcessEnv = {
  PATH: process.env['PATH'],
  HOME: process.env['HOME'],
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
  AWS_REGION: 'us-east-1',
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: '/nonexistent/config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
};

const probe = spawnSync('python3', ['-c', 'import boto3'], { env: CHILD_ENV, encoding: 'utf8' });
const HAVE_BOTO3 = probe.status === 0;
if (!HAVE_BOTO3) {
  console.warn(`boto3 tests skipped: \`python3 -c "import boto3"\` failed (${probe.error?.message ?? probe.stderr.trim()}); install python3 and boto3 to run them.`);
}

/** Runs the scenarios in one python process; resolves to each scenario's result. */
function runScenarios(url: string, names: string[]): Promise<Record<string, any>> {
  return new Promise((resolve, reject) => {
    const child = spawn('python3', [SCRIPT, url, ...names], { env: CHILD_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const results: Record<string, any> = {};
      for (const line of stdout.split('\n')) {
        if (line.trim() === '') continue;
        const record = JSON.parse(line) as { scenario: string; result?: unknown; error?: string };
        if (record.error !== undefined) {
          reject(new Error(`scenario ${record.scenario} failed in python: ${record.error}`));
          return;
        }
        results[record.scenario] = record.result;
      }
      if (code !== 0) reject(new Error(`python exited ${String(code)}: ${stderr}`));
      else resolve(results);
    });
  });
}

describe.skipIf(!HAVE_BOTO3)('the embedded endpoint through boto3', () => {
  let endpoint: LocalEndpoint;
  let results: Record<string, any>;

  beforeAll(async () => {
    endpoint = await startLocalEndpoint({ host: '127.0.0.1' });
    results = await runScenarios(endpoint.url, ['paginate_delete', 'page_while_creating', 'ids_and_time', 'errors', 'tags', 'metric_filters']);
  }, 120_000);

  afterAll(async () => {
    await endpoint?.close();
  });

  it('a paginate-and-delete loop with page size 3 removes all of 7 groups and all of 7 streams', () => {
    expect(results.paginate_delete).toEqual({ groupPages: 3, groupsLeft: [], streamPages: 3, streamsLeft: [] });
  });

  it('lists every group that existed throughout exactly once while groups are created between pages', () => {
    const seen = results.page_while_creating.seen as string[];
    expect(new Set(seen).size).toBe(seen.length);
    const original = Array.from({ length: 7 }, (_, i) => `/boto3/creating/g${String(i * 2).padStart(2, '0')}`);
    expect(seen.filter((n) => n.includes('/g'))).toEqual(original);
  });

  it('event ids are the same whatever the query, as streams and late events arrive', () => {
    const r = results.ids_and_time;
    const idOf = (list: Array<{ id: string; message: string }>) => new Map(list.map((e) => [e.message, e.id]));
    const first = idOf(r.first);
    const second = idOf(r.second);
    for (const [message, id] of first) expect(second.get(message)).toBe(id);
    expect(new Set(r.second.map((e: { id: string }) => e.id)).size).toBe(r.second.length);
    // Paged by 2 with an older event arriving between pages: every event once, same ids, none skipped.
    expect(r.paged).toEqual(r.second);
    for (const e of r.second as Array<{ id: string }>) expect(e.id).toMatch(/^\d+$/);
  });

  it('FilterLogEvents includes events at exactly endTime; GetLogEvents excludes them (API reference)', () => {
    const r = results.ids_and_time;
    expect(r.endInclusive).toEqual(['b0', 'b1', 'b2']);
    expect(r.getEndExclusive).toEqual(['b0', 'b1']);
  });

  it('GetLogEvents pages forward and back with tokens; at the end the forward token comes back unchanged', () => {
    const r = results.ids_and_time;
    expect(r.head).toEqual(['late', 'b0', 'b1', 'b2']);
    expect(r.rest).toEqual(['b3', 'b4']);
    expect(r.end).toEqual([]);
    expect(r.endTokenRepeats).toBe(true);
    expect(r.back).toEqual(['late', 'b0', 'b1', 'b2']);
  });

  it('answers what AWS refuses with the error code botocore reads, status 400', () => {
    const e = results.errors;
    const invalid = [
      'prefixAndPattern',
      'badPrefix',
      'limit51',
      'nameAndIdentifier',
      'streams101',
      'namesAndPrefix',
      'pattern1025',
      'badToken',
      'badClass',
      'lastEventTimeWithPrefix',
      'awsTagKey',
    ];
    for (const name of invalid) expect({ name, ...e[name] }).toMatchObject({ name, code: 'InvalidParameterException', status: 400 });
    expect(e.missingGroup).toEqual({ code: 'ResourceNotFoundException', message: 'The specified log group does not exist.', status: 400 });
    expect(e.deleteMissingMetricFilter).toMatchObject({ code: 'ResourceNotFoundException', status: 400 });
    expect(e.exists).toMatchObject({ code: 'ResourceAlreadyExistsException', status: 400 });
    expect(e.limit51.message).toBe(
      "1 validation error detected: Value '51' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 50",
    );
  });

  it('tags round trip (ARN and legacy calls); class and KMS key are described', () => {
    const t = results.tags;
    expect(t.described).toEqual({
      logGroupName: '/boto3/tags',
      logGroupClass: 'INFREQUENT_ACCESS',
      kmsKeyId: 'arn:aws:kms:us-east-1:000000000000:key/1234abcd-12ab-34cd-56ef-1234567890ab',
      arn: 'arn:aws:logs:us-east-1:000000000000:log-group:/boto3/tags:*',
      logGroupArn: 'arn:aws:logs:us-east-1:000000000000:log-group:/boto3/tags',
    });
    expect(t.atCreate).toEqual({ team: 'logs', env: 'test' });
    expect(t.afterTag).toEqual({ team: 'logs', env: 'prod', owner: 'me' });
    expect(t.afterUntag).toEqual({ env: 'prod', owner: 'me' });
    expect(t.legacy).toEqual({ env: 'prod', owner: 'me', legacy: 'yes' });
    expect(t.legacyAfter).toEqual({ env: 'prod' });
    // logGroupNamePattern: a case-sensitive substring; only arn, creationTime and logGroupName.
    expect(t.byPattern).toHaveLength(1);
    expect(Object.keys(t.byPattern[0]).sort()).toEqual(['arn', 'creationTime', 'logGroupName']);
  });

  it('metric filters are stored, described, counted and deleted; subscription filters are an empty list', () => {
    const m = results.metric_filters;
    expect(m.described).toEqual([
      {
        filterName: 'errors',
        filterPattern: 'ERROR',
        metricTransformations: [{ metricName: 'Errors', metricNamespace: 'App', metricValue: '1', defaultValue: 0 }],
        logGroupName: '/boto3/metrics',
      },
    ]);
    expect(m.metricFilterCount).toBe(1);
    expect(m.subscriptions).toEqual([]);
    expect(m.after).toEqual([]);
  });
});
