/**
 * What decoding pino's output costs by the size of the piece decoded (issue 20). thread-stream's
 * worker decodes everything written to its shared buffer since its last read into one string
 * (`StringDecoder#write`), so a worker that falls behind gets large pieces. This decodes the same
 * bytes (pino-shaped lines, from a SharedArrayBuffer, as thread-stream does) in pieces of each
 * size and prints the CPU per run of ~170 MB (1,000,000 lines' worth): user and system time.
 *
 *   node bench/decode-sizes.mjs [--mb=170]
 *
 * Strings past ~128 KiB go to V8's large-object space, a fresh mapping of their own each: the
 * system time is the kernel mapping and zeroing those pages.
 */
import { StringDecoder } from 'node:string_decoder';

const mb = Number(process.argv.find((a) => a.startsWith('--mb='))?.split('=')[1] ?? 170);
const SIZES = [16_384, 65_536, 100_000, 262_144, 524_288, 2_097_152];
const largest = SIZES.at(-1);
const shared = Buffer.from(new SharedArrayBuffer(largest));
const line = '{"level":30,"time":1764000000000,"pid":12345,"hostname":"host","seq":123456,"path":"/api/v1/orders/23456","status":200,"ms":12,"msg":"request handled"}\n';
shared.write(line.repeat(Math.ceil(largest / line.length)).slice(0, largest), 'latin1');
const rounds = Math.round((mb * 1e6) / largest);

console.log(`decoding ${((rounds * largest) / 1e6).toFixed(0)} MB of pino lines from a SharedArrayBuffer, Node ${process.version}`);
console.log('piece bytes   wall ms   user ms   system ms');
for (const size of [...SIZES, ...SIZES]) {
  const decoder = new StringDecoder('utf8');
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let chars = 0;
  for (let r = 0; r < rounds; r++) {
    for (let at = 0; at < largest; at += size) chars += decoder.write(shared.subarray(at, Math.min(at + size, largest))).length;
  }
  const wall = Number(process.hrtime.bigint() - start) / 1e6;
  const { user, system } = process.cpuUsage(cpu);
  if (chars !== rounds * largest) throw new Error('decoded a different length');
  console.log(`${String(size).padStart(11)} ${wall.toFixed(0).padStart(9)} ${(user / 1e3).toFixed(0).padStart(9)} ${(system / 1e3).toFixed(0).padStart(11)}`);
}
