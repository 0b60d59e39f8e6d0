// A real Debian `docker-registry` (distribution 2.8.2) on 127.0.0.1 for the benchmarks: no auth,
// filesystem storage in a directory the caller picks (so it sits on the scratch file system).
// The same configuration as test/helpers/registry-server.ts (auth 'none'), in plain JavaScript
// because the benchmarks run on the built dist/ with plain node and the test helpers are not
// compiled. Not a bench file itself.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { children } from './lib.mjs';

const BINARY = 'docker-registry';
const READY_TIMEOUT_MS = 10_000;
const INSTANCE_HEADER = 'X-Runledger-Bench-Instance';
const has = (bin) => spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;

/** Throws a clear error when the registry binary is missing. */
export function checkRegistry() {
  if (!has(BINARY)) {
    throw new Error(`${BINARY} is not installed (apt-get install -y docker-registry)`);
  }
}

async function freePort() {
  const server = createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address();
  await new Promise((resolve) => server.close(() => resolve()));
  return port;
}

/** Status and instance header of GET /v2/, or undefined when nothing answers yet. */
function probe(port) {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/v2/', method: 'GET', agent: false, timeout: 1000 },
      (res) => {
        res.resume();
        const h = res.headers[INSTANCE_HEADER.toLowerCase()];
        resolve({ status: res.statusCode ?? 0, instance: typeof h === 'string' ? h : undefined });
      }
    );
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** Environment without REGISTRY_* variables, which would override the config file. */
function cleanEnv() {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_')) env[k] = v;
  return env;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts docker-registry with its storage in `<dir>/storage` and its config in `<dir>`.
 * @param {string} dir - an empty directory on the scratch file system
 * @returns {Promise<{ host: string, root: string, pid: number, log: () => string, stop: () => Promise<void> }>}
 */
export async function startRegistry(dir) {
  checkRegistry();
  const root = join(dir, 'storage');
  mkdirSync(root, { recursive: true });
  const configPath = join(dir, 'config.yml');
  const instance = randomBytes(12).toString('hex');
  const failures = [];
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    // Block-style YAML, strings JSON-quoted (valid YAML scalars).
    const config = [
      'version: "0.1"',
      'log:',
      '  level: "warn"',
      '  formatter: "text"',
      // One access-log line per request costs the registry CPU that neither client causes.
      '  accesslog:',
      '    disabled: true',
      'storage:',
      '  filesystem:',
      `    rootdirectory: ${JSON.stringify(root)}`,
      '  delete:',
      '    enabled: true',
      '  maintenance:',
      '    uploadpurging:',
      '      enabled: false',
      'http:',
      `  addr: "127.0.0.1:${port}"`,
      `  secret: "${randomBytes(24).toString('hex')}"`,
      '  headers:',
      '    X-Content-Type-Options: ["nosniff"]',
      `    ${INSTANCE_HEADER}: ["${instance}"]`,
      'health:',
      '  storagedriver:',
      '    enabled: false',
      '',
    ].join('\n');
    writeFileSync(configPath, config);
    const argv = [BINARY, 'serve', configPath];
    // --pdeathsig: the registry dies with us even if we are SIGKILLed.
    const child = has('setpriv')
      ? spawn('setpriv', ['--pdeathsig', 'KILL', ...argv], {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: cleanEnv(),
        })
      : spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
    children.add(child);
    // The last chunks of output, for error messages (cheap: no string copying per chunk).
    const tail = [];
    let tailBytes = 0;
    const append = (d) => {
      tail.push(d);
      tailBytes += d.length;
      while (tailBytes > 64 * 1024 && tail.length > 1) tailBytes -= tail.shift().length;
    };
    const log = () => Buffer.concat(tail).toString('utf8');
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    let spawnError;
    child.on('error', (e) => {
      spawnError = e;
    });
    const exited = new Promise((resolve) => child.once('exit', () => resolve()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(t);
      }
      children.delete(child);
    };

    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) break;
      const r = await probe(port);
      if (r !== undefined && r.instance === instance && r.status === 200) {
        return { host: `127.0.0.1:${port}`, root, pid: child.pid, log, stop };
      }
      await sleep(25);
    }
    await stop();
    if (spawnError !== undefined)
      throw new Error(`could not start ${BINARY}: ${spawnError.message}`);
    failures.push(`attempt ${attempt + 1} on port ${port}:\n${log()}`);
    if (!/address already in use/i.test(log())) break;
  }
  throw new Error(`${BINARY} did not answer GET /v2/ in time:\n${failures.join('\n')}`);
}
