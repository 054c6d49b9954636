/**
 * `cwbatch ship` as a user runs it: the BUILT command in a child process, against the embedded
 * endpoint started here on a free port (issue 4, Acceptance).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBatchViolation } from '../../src/batch/rules.js';
import type { InputLogEvent } from '../../src/batch/types.js';
import { cliEnv, runCli } from '../fixtures/cli/run-cli.js';
import { useLocalEndpoint } from '../helpers/endpoint.js';
import { useTempDir } from '../helpers/temp-dir.js';

const fixture = useLocalEndpoint({ cli: true, resetEach: true });
const work = useTempDir('cwbatch-cli-');

const HOUR = 3_600_000;

/** Line i of the mixed file, and the timestamp it must be stored with (undefined: the time it was read). */
function mixedLine(i: number, base: number): { line: string; timestamp: number | undefined } {
  const ts = base + i; // all within the last hour: inside AWS's time window
  switch (i % 5) {
    case 0:
      return { line: JSON.stringify({ time: ts, level: 'info', msg: `pino-style #${i}` }), timestamp: ts };
    case 1:
      // Epoch seconds with a fraction: milliseconds survive.
      return { line: JSON.stringify({ timestamp: ts / 1000, msg: `seconds #${i}` }), timestamp: ts };
    case 2:
      return { line: JSON.stringify({ '@timestamp': new Date(ts).toISOString(), message: `ecs #${i} ünïcödé 日本語 🚀` }), timestamp: ts };
    case 3:
      return { line: `plain text line #${i} with a tab\tand “quotes”`, timestamp: undefined };
    default:
      // JSON without a timestamp field: the time it was read.
      return { line: JSON.stringify({ msg: `no time #${i}`, n: i }), timestamp: undefined };
  }
}

describe('cwbatch ship', () => {
  it('ships a 100,000-line file of mixed JSON and plain lines: every line stored once, with the right timestamp', async () => {
    const base = Date.now() - HOUR;
    const lines = Array.from({ length: 100_000 }, (_, i) => mixedLine(i, base));
    const file = join(work.path, 'mixed.log');
    writeFileSync(file, lines.map((l) => l.line).join('\n') + '\n');

    const before = Date.now();
    const result = await runCli(['ship', '--group', 'cli/mixed', '--stream', 'app-{pid}', '--file', file], { env: cliEnv(fixture.endpoint.url) });
    const after = Date.now();
    expect(result.stderr).toMatch(/100,000 lines read · 100,000 events delivered to cli\/mixed \/ app-\d+/);
    expect(result.code).toBe(0);

    const [stream] = fixture.endpoint.store.streamNames('cli/mixed');
    expect(stream).toMatch(/^app-\d+$/); // {pid} was filled in
    const stored = fixture.endpoint.store.events('cli/mixed', stream!);
    expect(stored).toHaveLength(100_000);
    const byMessage = new Map(lines.map((l, i) => [l.line, i]));
    const seen = new Set<number>();
    for (const event of stored) {
      const i = byMessage.get(event.message);
      expect(i, `unexpected message ${event.message.slice(0, 80)}`).toBeDefined();
      expect(seen.has(i!)).toBe(false);
      seen.add(i!);
      const expected = lines[i!]!.timestamp;
      if (expected === undefined) {
        expect(event.timestamp).toBeGreaterThanOrEqual(before);
        expect(event.timestamp).toBeLessThanOrEqual(after);
      } else if (event.timestamp !== expected) {
        expect.fail(`line ${i} stored at ${event.timestamp}, expected ${expected}`);
      }
    }
    expect(seen.size).toBe(100_000);
  });

  it('reads stdin, fills in {hostname} and {date}, and exits 0 when everything was delivered', async () => {
    const result = await runCli(['ship', '-g', 'cli/stdin', '-s', '{hostname}/{date}'], {
      env: cliEnv(fixture.endpoint.url),
      input: 'one\r\ntwo\n\nthree without newline',
    });
    expect(result.code).toBe(0);
    const [stream] = fixture.endpoint.store.streamNames('cli/stdin');
    expect(stream).toMatch(/^.+\/\d{4}-\d{2}-\d{2}$/);
    expect(fixture.endpoint.store.events('cli/stdin', stream!).map((e) => e.message)).toEqual(['one', 'two', 'three without newline']);
    expect(result.stderr).toContain('4 lines read (1 empty, skipped) · 3 events delivered');
  });

  it('exits 1 and says why when the service rejects events (too old, too new)', async () => {
    const now = Date.now();
    const input = [
      JSON.stringify({ time: now - 15 * 24 * HOUR, msg: 'fifteen days old' }),
      'fine',
      JSON.stringify({ time: now + 3 * HOUR, msg: 'three hours ahead' }),
    ].join('\n');
    const result = await runCli(['ship', '-g', 'cli/rejects', '-s', 's'], { env: cliEnv(fixture.endpoint.url), input });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/1 events delivered .* rejected 2 \(too-old 1, too-new 1\)/);
    expect(fixture.endpoint.store.events('cli/rejects', 's').map((e) => e.message)).toEqual(['fine']);
  });

  it('exits 1 with one clear line for a missing group or stream under --no-create, and sends nothing', async () => {
    const noGroup = await runCli(['ship', '-g', 'cli/absent', '-s', 's', '--no-create'], { env: cliEnv(fixture.endpoint.url), input: 'x\n' });
    expect(noGroup.code).toBe(1);
    expect(noGroup.stderr).toBe('cwbatch: log group "cli/absent" does not exist (and --no-create forbids creating it)\n');

    await runCli(['ship', '-g', 'cli/present', '-s', 'exists'], { env: cliEnv(fixture.endpoint.url), input: 'x\n' });
    const noStream = await runCli(['ship', '-g', 'cli/present', '-s', 'absent', '--no-create'], { env: cliEnv(fixture.endpoint.url), input: 'x\n' });
    expect(noStream.code).toBe(1);
    expect(noStream.stderr).toBe('cwbatch: log stream "absent" does not exist in log group "cli/present" (and --no-create forbids creating it)\n');
    expect(fixture.endpoint.store.streamNames('cli/present')).toEqual(['exists']);

    const exists = await runCli(['ship', '-g', 'cli/present', '-s', 'exists', '--no-create'], { env: cliEnv(fixture.endpoint.url), input: 'y\n' });
    expect(exists.code).toBe(0);
    expect(fixture.endpoint.store.eventCount('cli/present', 'exists')).toBe(2);
  });

  it('exits 1 with one clear line for an unreachable endpoint and for missing credentials', async () => {
    const unreachable = await runCli(['ship', '-g', 'g', '-s', 's', '--endpoint', 'http://127.0.0.1:9'], { env: cliEnv(undefined), input: 'x\n' });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toBe('cwbatch: cannot reach CloudWatch Logs at http://127.0.0.1:9 (ECONNREFUSED)\n');

    const noCredentials = await runCli(['ship', '-g', 'g', '-s', 's'], {
      env: cliEnv(fixture.endpoint.url, { AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined }),
      input: 'x\n',
    });
    expect(noCredentials.code).toBe(1);
    expect(noCredentials.stderr).toMatch(/^cwbatch: no AWS credentials found: [^\n]+\n$/);
    expect(fixture.endpoint.store.groupNames()).toEqual([]);
  });

  it('exits 2 for usage errors, with one line and a hint', async () => {
    const env = cliEnv(fixture.endpoint.url);
    for (const args of [
      ['ship', '--stream', 's'],
      ['ship', '-g', 'g', '-s', 's', '--bogus'],
      ['ship', '-g', 'g', '-s', 's', '--flush-interval', 'soon'],
      ['ship', '-g', 'g', '-s', '{host}'],
      ['ship', '-g', 'aws/reserved', '-s', 's'],
      ['ship', '-g', 'g', '-s', 's', '--file', join(work.path, 'no-such-file')],
      ['ship', '-g', 'g', '-s', 's', '--follow'],
      ['launch'],
    ]) {
      const result = await runCli(args, { env, input: '' });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(/^cwbatch: [^\n]+\nRun "cwbatch --help"/);
    }
    expect(fixture.endpoint.store.groupNames()).toEqual([]);
  });

  it('--dry-run prints batches that obey every PutLogEvents rule, in order, and sends nothing', async () => {
    const now = Date.now();
    const lines: string[] = [];
    for (let i = 0; i < 30_000; i++) {
      // 30 h of timestamps (the 24 h span rule), out of order in places, multibyte, and two 1.5 MB lines.
      const ts = now - 30 * HOUR + Math.floor((i / 30_000) * 30 * HOUR) - (i % 997 === 0 ? 10 * 60_000 : 0);
      lines.push(JSON.stringify({ time: ts, msg: `event ${i} ${'é🚀'.repeat(i % 40)}` }));
      if (i === 100 || i === 20_000) lines.push(`${'x'.repeat(1_500_000)} ${i}`);
    }
    const result = await runCli(['ship', '-g', 'cli/dry', '-s', 's', '--dry-run', '--flush-interval', '10m'], {
      env: cliEnv('http://127.0.0.1:9'),
      input: lines.join('\n') + '\n',
    });
    expect(result.code).toBe(0);
    const batches = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { logGroupName: string; logStreamName: string; logEvents: InputLogEvent[] });
    expect(batches.length).toBeGreaterThan(3);
    let total = 0;
    for (const batch of batches) {
      expect(batch.logGroupName).toBe('cli/dry');
      expect(batch.logStreamName).toBe('s');
      expect(findBatchViolation(batch.logEvents)).toBeUndefined();
      total += batch.logEvents.length;
    }
    expect(total).toBe(30_000 + 4); // each 1.5 MB line became two events
    // Every line is there: JSON lines whole, the big ones as parts that join back.
    const messages = batches.flatMap((b) => b.logEvents.map((e) => e.message));
    const json = new Set(messages.filter((m) => m.startsWith('{')));
    expect(json.size).toBe(30_000);
    const parts = messages.filter((m) => m.startsWith('x'));
    expect(parts).toHaveLength(4);
    expect(parts.join('')).toBe(`${'x'.repeat(1_500_000)} 100${'x'.repeat(1_500_000)} 20000`);
    expect(result.stderr).toContain(`30,002 lines read · 30,004 events in ${batches.length} batches printed, nothing sent`);
    expect(fixture.endpoint.store.groupNames()).toEqual([]);
  });
});
