/** `cwbatch local`, `cwbatch tail` and `cwbatch demo`, BUILT and run as child processes (issue 4). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, runCli, startCli } from '../fixtures/cli/run-cli.js';
import { ensureBuilt } from '../helpers/build.js';
import { waitFor } from '../helpers/wait-for.js';

beforeAll(() => ensureBuilt());

describe('cwbatch local + ship + tail', () => {
  let local: ReturnType<typeof startCli>;
  let url: string;

  beforeAll(async () => {
    local = startCli(['local', '--port', '0'], { env: cliEnv(undefined), keepStdin: true });
    await waitFor(() => /AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=http:\/\/127\.0\.0\.1:\d+/.test(local.stdout), 'the endpoint line');
    url = /AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=(\S+)/.exec(local.stdout)![1]!;
  });
  afterAll(async () => {
    local.child.kill('SIGINT');
    const result = await local.done;
    expect(result.code).toBe(0);
  });

  it('prints the environment to use; ship sends to it and tail reads it back, per stream and per group', async () => {
    expect(local.stdout).toContain('export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test');
    const env = cliEnv(url);
    const t = Date.now() - 60_000;
    const a = await runCli(['ship', '-g', 'tail/demo', '-s', 'a'], { env, input: `{"time":${t},"m":"a1"}\n{"time":${t + 2},"m":"a2"}\n` });
    const b = await runCli(['ship', '-g', 'tail/demo', '-s', 'b'], { env, input: `{"time":${t + 1},"m":"b1"}\n` });
    expect([a.code, b.code]).toEqual([0, 0]);

    const stream = await runCli(['tail', '-g', 'tail/demo', '-s', 'a', '--json'], { env });
    expect(stream.code).toBe(0);
    expect(stream.stdout.trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([
      { logStreamName: 'a', timestamp: t, message: `{"time":${t},"m":"a1"}` },
      { logStreamName: 'a', timestamp: t + 2, message: `{"time":${t + 2},"m":"a2"}` },
    ]);

    const group = await runCli(['tail', '-g', 'tail/demo'], { env });
    expect(group.code).toBe(0);
    expect(group.stdout.trim().split('\n')).toEqual([
      `${new Date(t).toISOString()}  a  {"time":${t},"m":"a1"}`,
      `${new Date(t + 1).toISOString()}  b  {"time":${t + 1},"m":"b1"}`,
      `${new Date(t + 2).toISOString()}  a  {"time":${t + 2},"m":"a2"}`,
    ]);

    const missing = await runCli(['tail', '-g', 'tail/none'], { env });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('cwbatch tail: ResourceNotFoundException: The specified log group does not exist.\n');
  });

  it('tail --follow prints events as they arrive', async () => {
    const env = cliEnv(url);
    await runCli(['ship', '-g', 'tail/follow', '-s', 's'], { env, input: 'before\n' });
    const tail = startCli(['tail', '-g', 'tail/follow', '--follow', '--json'], { env, keepStdin: true });
    await waitFor(() => tail.stdout.includes('"before"'), 'the first event');
    await runCli(['ship', '-g', 'tail/follow', '-s', 's'], { env, input: 'after\n' });
    await waitFor(() => tail.stdout.includes('"after"'), 'the event shipped later');
    tail.child.kill('SIGINT');
    const result = await tail.done;
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['before', 'after']);
  });
});

describe('cwbatch demo', () => {
  it('ships a generated workload through the embedded endpoint, reads it back and reports lost 0', async () => {
    const result = await runCli(['demo', '--events', '20000'], { env: cliEnv(undefined) });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\s+lost\s+0\s+✓/m);
    expect(result.stdout).toMatch(/^\s+rejected\s+5\s+too-old 3, too-new 2/m);
    expect(result.stdout).toMatch(/^\s+duplicates\s+0\s+✓/m);
    expect(result.stdout).toContain('PASS: lost 0.');
    expect(result.stderr).toBe(''); // progress only on a terminal, no warnings
  });
});
