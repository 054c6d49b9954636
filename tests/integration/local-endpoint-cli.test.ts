/**
 * `cwbatch tail` and `cwbatch local` (BUILT, as child processes) against the embedded endpoint
 * on loopback (issue 16): `tail -F` over two groups prints each event once while streams are
 * created and late events arrive; --filter, --since/--until and colour; the warning of
 * `cwbatch local` beyond loopback.
 */
import { CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli, startCli } from '../fixtures/cli/run-cli.js';
import { useLocalEndpoint } from '../helpers/endpoint.js';
import { waitFor } from '../helpers/wait-for.js';

const fixture = useLocalEndpoint({ cli: true });

async function ensure(group: string, stream: string): Promise<void> {
  if (!fixture.endpoint.store.groupNames().includes(group)) await fixture.client.send(new CreateLogGroupCommand({ logGroupName: group }));
  if (!fixture.endpoint.store.streamNames(group).includes(stream)) {
    await fixture.client.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
  }
}

async function put(group: string, stream: string, events: Array<[number, string]>): Promise<void> {
  await ensure(group, stream);
  const logEvents = events.map(([timestamp, message]) => ({ timestamp, message })).sort((a, b) => a.timestamp - b.timestamp);
  await fixture.client.send(new PutLogEventsCommand({ logGroupName: group, logStreamName: stream, logEvents }));
}

describe('cwbatch tail -F', () => {
  it('prints each event once while streams are created and late events arrive, over two groups', async () => {
    const t = Date.now() - 60_000;
    await put('tailf/one', 'a', [
      [t, 'one-a-1'],
      [t + 10, 'one-a-2'],
    ]);
    await put('tailf/two', 'x', [[t + 5, 'two-x-1']]);
    const tail = startCli(['tail', '-F', '-g', 'tailf/one', '-g', 'tailf/two', '--json'], { env: cliEnv(fixture.endpoint.url), keepStdin: true, timeoutMs: 60_000 });
    const expected = ['one-a-1', 'one-a-2', 'two-x-1'];
    const printed = (): string[] =>
      tail.stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => (JSON.parse(l) as { message: string }).message);
    const allPrinted = (): boolean => expected.every((m) => printed().includes(m));
    await waitFor(allPrinted, 'the first events', 30_000);

    // While it follows: a new stream, events at the same millisecond as the newest seen, late
    // (older) events in an existing stream and in a new one, and more in the other group.
    await put('tailf/one', 'b', [[t + 10, 'one-b-same-ms']]);
    expected.push('one-b-same-ms');
    await waitFor(allPrinted, 'an event in a new stream', 30_000);
    await put('tailf/one', 'a', [[t - 20_000, 'one-a-late']]);
    await put('tailf/one', 'c', [[t - 30_000, 'one-c-late-new-stream'], [t + 20, 'one-c-new']]);
    await put('tailf/two', 'x', [[t + 15, 'two-x-2']]);
    expected.push('one-a-late', 'one-c-late-new-stream', 'one-c-new', 'two-x-2');
    await waitFor(allPrinted, 'late events and events in new streams', 30_000);

    // Let it poll both groups at least three more times, then stop it.
    const before = fixture.endpoint.stats().requests;
    await waitFor(() => fixture.endpoint.stats().requests >= before + 6, 'three more polls', 30_000);
    tail.child.kill('SIGINT');
    const result = await tail.done;
    expect(result.code).toBe(0);
    const lines = printed();
    expect([...lines].sort()).toEqual([...expected].sort());
    for (const line of tail.stdout.split('\n').filter((l) => l !== '')) expect(Object.keys(JSON.parse(line) as object)).toContain('logGroupName');
  }, 90_000);
});

describe('cwbatch tail options', () => {
  beforeAll(async () => {
    const base = Date.now() - 3 * 3_600_000;
    await put('tailo/g', 's', [
      [base, 'INFO started'],
      [base + 1_000, 'ERROR disk full'],
      [base + 2_000, 'INFO still here'],
      [base + 3_000, 'ERROR again'],
    ]);
  });

  it('--filter is applied by the service; --since/--until bound the time, relative or ISO 8601', async () => {
    const env = cliEnv(fixture.endpoint.url);
    const errors = await runCli(['tail', '-g', 'tailo/g', '--filter', 'ERROR', '--json'], { env });
    expect(errors.code).toBe(0);
    expect(errors.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['ERROR disk full', 'ERROR again']);

    const base = fixture.endpoint.store.events('tailo/g', 's')[0]!.timestamp;
    const window = await runCli(
      ['tail', '-g', 'tailo/g', '--since', new Date(base + 1_000).toISOString(), '--until', new Date(base + 2_000).toISOString(), '--json'],
      { env },
    );
    expect(window.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['ERROR disk full', 'INFO still here']);

    const recent = await runCli(['tail', '-g', 'tailo/g', '--since', '1h', '--json'], { env });
    expect(recent.stdout).toBe('');
    const older = await runCli(['tail', '-g', 'tailo/g', '-s', 's', '--since', '4h', '--until', '1h'], { env });
    expect(older.stdout.trim().split('\n')).toHaveLength(4);
  });

  it('refuses a bad filter pattern or time with a usage error (exit 2) naming the flag', async () => {
    const env = cliEnv(fixture.endpoint.url);
    const long = await runCli(['tail', '-g', 'tailo/g', '--filter', 'x'.repeat(1025)], { env });
    expect(long.code).toBe(2);
    expect(long.stderr).toContain('--filter');
    const since = await runCli(['tail', '-g', 'tailo/g', '--since', 'yesterday'], { env });
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('--since');
    const order = await runCli(['tail', '-g', 'tailo/g', '--since', '1h', '--until', '2h'], { env });
    expect(order.code).toBe(2);
  });

  it('colours only on request when piped (FORCE_COLOR), never with NO_COLOR', async () => {
    const plain = await runCli(['tail', '-g', 'tailo/g'], { env: cliEnv(fixture.endpoint.url) });
    expect(plain.stdout).not.toContain('\u001b[');
    expect(plain.stdout).toContain('ERROR disk full');
    const forced = await runCli(['tail', '-g', 'tailo/g'], { env: cliEnv(fixture.endpoint.url, { FORCE_COLOR: '1' }) });
    expect(forced.stdout).toContain('\u001b[2m');
    const no = await runCli(['tail', '-g', 'tailo/g'], { env: cliEnv(fixture.endpoint.url, { FORCE_COLOR: '1', NO_COLOR: '1' }) });
    expect(no.stdout).not.toContain('\u001b[');
  });
});

describe('cwbatch local', () => {
  it('warns on stderr when asked to listen beyond loopback', async () => {
    // 192.0.2.1 (TEST-NET-1) is on no interface here: the warning comes first, then the bind fails; nothing is exposed.
    const result = await runCli(['local', '--host', '192.0.2.1', '--port', '0'], { env: cliEnv(undefined) });
    expect(result.stderr).toContain('warning: listening on 192.0.2.1, beyond loopback');
    expect(result.code).toBe(1);
  });

  it('does not warn on loopback', async () => {
    const local = startCli(['local', '--port', '0', '--throttle', '0.5'], { env: cliEnv(undefined), keepStdin: true });
    await waitFor(() => local.stdout.includes('listening on'), 'the endpoint line');
    local.child.kill('SIGINT');
    const result = await local.done;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('"requestsPerSecond":0.5');
  });
});
