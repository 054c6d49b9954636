/**
 * `cwbatch ship --stream 'app-{date}'` (issue 17, Acceptance): names evaluated per line, from the
 * line's own timestamp, by the BUILT command against the embedded fixture.endpoint. Also the group
 * settings flags and their usage errors.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { describe, expect, it } from 'vitest';
import { createCloudWatchLogsClient } from '../../src/aws/client.js';
import { cliEnv, runCli } from '../fixtures/cli/run-cli.js';
import { useLocalEndpoint } from '../helpers/endpoint.js';
import { useTempDir } from '../helpers/temp-dir.js';
import { clientConfig } from '../helpers/client.js';

const fixture = useLocalEndpoint({ cli: true, resetEach: true });
const work = useTempDir('cwbatch-cli-template-');

const DAY = 86_400_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

describe('cwbatch ship with name templates', () => {
  it("--stream 'app-{date}' of JSON lines spanning three days creates three streams holding exactly their day's lines", async () => {
    // Three UTC days, the oldest within AWS's 14-day window; interleaved, as a merged log would be.
    const today = Math.floor(Date.now() / DAY) * DAY;
    const days = [today - 2 * DAY, today - DAY, today];
    const lines: Array<{ line: string; day: string; timestamp: number }> = [];
    for (let i = 0; i < 3_000; i++) {
      const dayStart = days[i % 3]!;
      // Spread over the day, edges included (00:00:00.000 and 23:59:59.999), never in the future.
      const offset = i < 3 ? 0 : i < 6 ? DAY - 1 : (i * 7_919_993) % DAY;
      const timestamp = Math.min(dayStart + offset, Date.now() - 1_000);
      const ts = i % 2 === 0 ? timestamp : new Date(timestamp).toISOString(); // epoch ms and ISO 8601
      lines.push({ line: JSON.stringify({ time: ts, level: 'info', msg: `line #${i}` }), day: utcDay(timestamp), timestamp });
    }
    const file = join(work.path, 'three-days.log');
    writeFileSync(file, lines.map((l) => l.line).join('\n') + '\n');

    const result = await runCli(['ship', '-g', 'cli/rotate', '-s', 'app-{date}', '--file', file], { env: cliEnv(fixture.endpoint.url) });
    expect(result.stderr).toMatch(/3,000 lines read · 3,000 events delivered to cli\/rotate \/ app-\{date\}/);
    expect(result.code).toBe(0);

    const expectedStreams = [...new Set(lines.map((l) => `app-${l.day}`))].sort();
    expect(expectedStreams).toHaveLength(3);
    expect(fixture.endpoint.store.streamNames('cli/rotate')).toEqual(expectedStreams);
    for (const name of expectedStreams) {
      const stored = fixture.endpoint.store.events('cli/rotate', name).map((e) => `${e.timestamp} ${e.message}`).sort();
      const expected = lines
        .filter((l) => `app-${l.day}` === name)
        .map((l) => `${l.timestamp} ${l.line}`)
        .sort();
      expect(stored).toEqual(expected);
    }
  });

  it('{field:...} reads JSON lines (default when absent, forbidden characters replaced); a fixed name works as before', async () => {
    const now = Date.now() - 1_000;
    const input = [
      JSON.stringify({ time: now, tenant: 'acme', msg: 'a' }),
      JSON.stringify({ time: now, tenant: 'globex:eu', msg: 'b' }),
      JSON.stringify({ time: now, msg: 'c' }),
      'plain text',
    ].join('\n');
    const result = await runCli(['ship', '-g', 'cli/tenants', '-s', 't-{field:tenant|none}'], { env: cliEnv(fixture.endpoint.url), input });
    expect(result.code).toBe(0);
    expect(fixture.endpoint.store.streamNames('cli/tenants')).toEqual(['t-acme', 't-globex_eu', 't-none']);
    expect(fixture.endpoint.store.events('cli/tenants', 't-none').map((e) => e.message)).toEqual([JSON.stringify({ time: now, msg: 'c' }), 'plain text']);
  });

  it('a line for which no valid name comes out is skipped, counted, and makes the exit code 1; the others are delivered', async () => {
    const input = [JSON.stringify({ id: 'ok' }), JSON.stringify({ id: 'x'.repeat(600) })].join('\n');
    const result = await runCli(['ship', '-g', 'cli/skip', '-s', '{field:id}'], { env: cliEnv(fixture.endpoint.url), input });
    expect(result.stderr).toMatch(/1 events delivered to cli\/skip \/ \{field:id\}/);
    expect(result.stderr).toMatch(/1 lines skipped: no valid name for them \(first: InvalidNameError: Invalid logStreamName: must be 1 to 512 characters/);
    expect(result.code).toBe(1);
    expect(fixture.endpoint.store.streamNames('cli/skip')).toEqual(['ok']);
  });

  it('creates a missing group with the settings of the flags (retention here; class, KMS and tags are the endpoint’s to describe)', async () => {
    const result = await runCli(
      ['ship', '-g', 'cli/settings', '-s', 's', '--retention-days', '7', '--log-group-class', 'INFREQUENT_ACCESS', '--tag', 'team=core', '--tag', 'env=test'],
      { env: cliEnv(fixture.endpoint.url), input: 'hello\n' },
    );
    expect(result.stderr).toMatch(/1 events delivered/);
    expect(result.code).toBe(0);
    const client = createCloudWatchLogsClient(clientConfig(fixture.endpoint.url));
    try {
      const described = await client.send(new DescribeLogGroupsCommand({ logGroupNamePrefix: 'cli/settings' }));
      expect(described.logGroups?.[0]).toMatchObject({ logGroupName: 'cli/settings', retentionInDays: 7 });
    } finally {
      client.destroy();
    }
  });

  it('refuses bad templates and bad group settings with exit code 2, naming the flag', async () => {
    const env = cliEnv(fixture.endpoint.url);
    const cases: Array<[string[], RegExp]> = [
      [['-g', 'g', '-s', '{host}'], /--stream "\{host\}": Unknown placeholder `\{host\}`/],
      [['-g', 'bad group {date}', '-s', 's'], /--group "bad group \{date\}"/],
      [['-g', 'g', '-s', 's', '--retention-days', '2'], /--retention-days: .*retentionInDays.* got 2/],
      [['-g', 'g', '-s', 's', '--log-group-class', 'COLD'], /--log-group-class: .*got "COLD"/],
      [['-g', 'g', '-s', 's', '--kms-key-id', 'alias/mine'], /--kms-key-id: .*ARN of a KMS key/],
      [['-g', 'g', '-s', 's', '--tag', 'novalue'], /--tag expects KEY=VALUE/],
      [['-g', 'g', '-s', 's', '--tag', 'aws:x=1'], /--tag: .*reserved/],
      [['-g', 'g', '-s', 's', '--tag', 'a=1', '--tag', 'a=2'], /--tag "a" is given twice/],
      [['-g', 'g', '-s', 's', '--no-create', '--retention-days', '7'], /--retention-days applies to groups cwbatch creates/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['ship', ...args], { env, input: '' });
      expect(result.stderr, args.join(' ')).toMatch(message);
      expect(result.code, args.join(' ')).toBe(2);
    }
    expect(fixture.endpoint.store.groupNames()).toEqual([]);
  });

  it('--no-create with a per-line stream checks only the group', async () => {
    const env = cliEnv(fixture.endpoint.url);
    const missing = await runCli(['ship', '-g', 'cli/absent', '-s', 'app-{date}', '--no-create'], { env, input: 'x\n' });
    expect(missing.stderr).toMatch(/log group "cli\/absent" does not exist/);
    expect(missing.code).toBe(1);
  });
});
