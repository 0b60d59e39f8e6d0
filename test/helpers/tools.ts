/**
 * Which external tools this machine has, for skipIf with a stated reason.
 */
import { spawnSync } from 'node:child_process';

function has(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

export const HAS_SKOPEO: boolean = has('skopeo');
export const SKOPEO_SKIP_REASON =
  'skopeo is not installed (npm test installs it as root: apt-get install -y skopeo)';
