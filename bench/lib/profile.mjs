/** `{ target, options }` for pino.transport: `target` itself, or (with `--profile`) it wrapped by ./profiled-target.mjs. */
import { fileURLToPath } from 'node:url';

export function profiled(target, out) {
  if (out === undefined) return { target, options: {} };
  return { target: fileURLToPath(new URL('./profiled-target.mjs', import.meta.url)), options: { $target: target, $out: out } };
}
