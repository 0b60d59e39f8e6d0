/**
 * A real Debian `docker-registry` (distribution 2.8.2) on 127.0.0.1, with filesystem storage in a
 * temp dir and optional htpasswd (Basic) or token (Bearer) auth. See ../shared/spec/oci-reference.md
 * §7 for its measured behaviour. Skip suites with HAS_DOCKER_REGISTRY / REGISTRY_SKIP_REASON from
 * tools.ts.
 *
 * The process never outlives the test process: it is started with `setpriv --pdeathsig KILL` when
 * available (killed even if this process is SIGKILLed) and SIGKILLed on 'exit' otherwise.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { killOnExit, makeTempDir, removeTempDir } from './exit-cleanup.js';
import { DEFAULT_USERS, startTokenServer } from './token-server.js';
import type { TokenServer, TokenServerOptions } from './token-server.js';

export type { TokenServer, TokenServerOptions } from './token-server.js';
export { DEFAULT_USERS } from './token-server.js';

export interface RegistryServer {
  readonly host: string; // '127.0.0.1:<port>'
  readonly url: string; // 'http://127.0.0.1:<port>'
  readonly root: string; // storage directory (temp)
  readonly token?: TokenServer; // present for auth: 'token'
  readonly log: () => string; // the registry's stderr/stdout so far, for failure messages
  stop(): Promise<void>; // kills the process, waits for exit, removes temp dirs
}

export interface StartRegistryOptions {
  auth?: 'none' | 'basic' | 'token'; // default 'none'
  users?: Record<string, string>; // basic + token: username -> password. default { alice: 'wonderland-secret' }
  deleteEnabled?: boolean; // default true
  repositoryClasses?: string[]; // sets policy.repository.classes (2.8.2 then refuses non-image configs with DENIED)
  token?: TokenServerOptions; // for auth: 'token'
}

/** `Basic <base64(user:password)>`. */
export function basicAuthorization(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

const BINARY = 'docker-registry';
const READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 2_000;
const LOG_LIMIT = 256 * 1024;
const INSTANCE_HEADER = 'X-Runledger-Test-Instance';

const HAS_SETPRIV = spawnSync('sh', ['-c', 'command -v setpriv']).status === 0;

type Yaml = string | number | boolean | Yaml[] | { [k: string]: Yaml | undefined };

/** Block-style YAML; strings are JSON-quoted (valid YAML scalars). */
function toYaml(v: Yaml, indent = ''): string {
  if (Array.isArray(v)) {
    return v.map((x) => `${indent}- ${JSON.stringify(x)}\n`).join('');
  }
  if (typeof v === 'object') {
    let out = '';
    for (const [k, x] of Object.entries(v)) {
      if (x === undefined) continue;
      if (typeof x === 'object') out += `${indent}${k}:\n${toYaml(x, indent + '  ')}`;
      else out += `${indent}${k}: ${JSON.stringify(x)}\n`;
    }
    return out;
  }
  return `${indent}${JSON.stringify(v)}\n`;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Status and instance header of GET /v2/, or undefined when nothing answers yet. */
function probe(
  port: number
): Promise<{ status: number; instance: string | undefined } | undefined> {
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

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Environment without REGISTRY_* variables, which would override the config file. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('REGISTRY_')) env[k] = v;
  return env;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(t);
      resolve(true);
    });
  });
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (!(await waitExit(child, STOP_GRACE_MS))) {
    child.kill('SIGKILL');
    await waitExit(child, STOP_GRACE_MS * 5);
  }
}

export async function startRegistry(options: StartRegistryOptions = {}): Promise<RegistryServer> {
  const auth = options.auth ?? 'none';
  const users = options.users ?? DEFAULT_USERS;
  const base = await makeTempDir('runledger-registry-');
  const root = join(base, 'storage');
  let token: TokenServer | undefined;
  try {
    await mkdir(root);
    let authConfig: Yaml | undefined;
    if (auth === 'basic') {
      const htpasswd = join(base, 'htpasswd');
      // 2.8.2 accepts only bcrypt entries; cost 4 keeps this fast.
      const lines = Object.entries(users).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 4)}\n`);
      await writeFile(htpasswd, lines.join(''));
      authConfig = { htpasswd: { realm: 'basic-realm', path: htpasswd } };
    } else if (auth === 'token') {
      token = await startTokenServer({ users, ...options.token });
      authConfig = {
        token: {
          realm: token.realm,
          service: token.service,
          issuer: token.issuer,
          rootcertbundle: token.certPath,
        },
      };
    }

    const instance = randomBytes(12).toString('hex');
    const configPath = join(base, 'config.yml');
    const failures: string[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = await freePort();
      const config: Yaml = {
        version: '0.1',
        log: { level: 'warn', formatter: 'text' },
        storage: {
          filesystem: { rootdirectory: root },
          delete: { enabled: options.deleteEnabled ?? true },
          maintenance: { uploadpurging: { enabled: false } },
        },
        http: {
          addr: `127.0.0.1:${port}`,
          secret: randomBytes(24).toString('hex'),
          // Identifies this instance, so a port race can't make us talk to someone else's server.
          headers: { 'X-Content-Type-Options': ['nosniff'], [INSTANCE_HEADER]: [instance] },
        },
        health: { storagedriver: { enabled: false } },
        auth: authConfig,
        policy:
          options.repositoryClasses !== undefined
            ? { repository: { classes: options.repositoryClasses } }
            : undefined,
      };
      await writeFile(configPath, toYaml(config));

      const argv = [BINARY, 'serve', configPath];
      const child = HAS_SETPRIV
        ? spawn('setpriv', ['--pdeathsig', 'KILL', ...argv], {
            stdio: ['ignore', 'pipe', 'pipe'],
            env: cleanEnv(),
          })
        : spawn(argv[0] as string, argv.slice(1), {
            stdio: ['ignore', 'pipe', 'pipe'],
            env: cleanEnv(),
          });
      killOnExit(child);
      let log = '';
      const append = (d: Buffer): void => {
        log += d.toString('utf8');
        if (log.length > LOG_LIMIT) log = log.slice(log.length - LOG_LIMIT);
      };
      child.stdout?.on('data', append);
      child.stderr?.on('data', append);
      let spawnError: Error | undefined;
      child.on('error', (e) => {
        spawnError = e;
      });

      const deadline = Date.now() + READY_TIMEOUT_MS;
      let ready = false;
      while (Date.now() < deadline) {
        if (spawnError !== undefined || child.exitCode !== null || child.signalCode !== null) break;
        const r = await probe(port);
        if (r !== undefined && r.instance === instance && (r.status === 200 || r.status === 401)) {
          ready = true;
          break;
        }
        await sleep(25);
      }
      if (ready) {
        const host = `127.0.0.1:${port}`;
        let stopped: Promise<void> | undefined;
        const tokenServer = token;
        return {
          host,
          url: `http://${host}`,
          root,
          ...(tokenServer !== undefined ? { token: tokenServer } : {}),
          log: () => log,
          stop() {
            stopped ??= (async () => {
              await kill(child);
              await tokenServer?.stop();
              await removeTempDir(base);
            })();
            return stopped;
          },
        };
      }
      await kill(child);
      if (spawnError !== undefined)
        throw new Error(`could not start ${BINARY}: ${spawnError.message}`);
      failures.push(`attempt ${attempt + 1} on port ${port}:\n${log}`);
      // Only a lost port race is worth retrying.
      if (!/address already in use/i.test(log)) break;
    }
    throw new Error(
      `${BINARY} did not answer GET /v2/ within ${READY_TIMEOUT_MS} ms:\n${failures.join('\n')}`
    );
  } catch (e) {
    await token?.stop();
    await removeTempDir(base);
    throw e;
  }
}
