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

export const HAS_DOCKER_REGISTRY: boolean = has('docker-registry');
export const REGISTRY_SKIP_REASON =
  'docker-registry is not installed (npm test installs it as root: apt-get install -y docker-registry)';

/** openssl makes the token server's key and certificate (registry-server.ts, auth: 'token'). */
export const HAS_OPENSSL: boolean = has('openssl');
export const OPENSSL_SKIP_REASON = 'openssl is not installed (apt-get install -y openssl)';
