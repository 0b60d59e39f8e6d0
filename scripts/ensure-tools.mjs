// Installs the real components the test suites use (Debian's docker-registry, skopeo, zstd, chromium and firefox-esr, and
// zsh and fish for the completion scripts) when they are missing and we run as root. Otherwise prints which suites will be skipped and why.
import { execFileSync, spawnSync } from 'node:child_process';

const tools = [
  { bin: 'skopeo', pkg: 'skopeo' },
  { bin: 'docker-registry', pkg: 'docker-registry' },
  { bin: 'zstd', pkg: 'zstd' },
  { bin: 'chromium', pkg: 'chromium' },
  { bin: 'firefox-esr', pkg: 'firefox-esr' },
  { bin: 'zsh', pkg: 'zsh' },
  { bin: 'fish', pkg: 'fish' },
];
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
const missing = tools.filter((t) => !has(t.bin));
if (missing.length === 0) process.exit(0);
const pkgs = missing.map((t) => t.pkg);
if (process.getuid?.() === 0 && has('apt-get')) {
  console.log(`pretest: installing ${pkgs.join(' ')} with apt-get`);
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit' });
    execFileSync('apt-get', ['install', '-y', '-qq', ...pkgs], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  } catch {
    console.log(`pretest: apt-get failed; suites that need ${pkgs.join(', ')} will be skipped.`);
  }
} else {
  console.log(
    `pretest: ${pkgs.join(', ')} not installed and not root; suites that need them will be skipped (install with: apt-get install -y ${pkgs.join(' ')}).`
  );
}
