/**
 * For scripts whose rounds call gc() between them: when this process was started without
 * `--expose-gc`, runs the script at `scriptUrl` again with it (same arguments, same stdio) and
 * exits with its status. Call it first, with `import.meta.url`.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export function relaunchWithExposedGc(scriptUrl) {
  if (typeof globalThis.gc === 'function') return;
  const { status } = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(scriptUrl), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(status ?? 1);
}
