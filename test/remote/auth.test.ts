/**
 * The auth matrix on real servers (oci-reference §13 case 13): docker-registry 2.8.2 with htpasswd
 * (Basic) and with a Bearer token server (anonymous pull, authenticated push, the refresh-token
 * grant, a cross-repository mount needing `pull` on the source, token renewal), credentials from
 * RUNLEDGER_AUTH_* and from Docker's config.json in the order credHelpers → credsStore → auths
 * (the fake docker-credential helper on a PATH), and no plaintext written by a helper store.
 */
import { chmod, copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteError } from '../../src/errors.js';
import { RegistryAuth } from '../../src/remote/auth.js';
import { RemoteClient } from '../../src/remote/client.js';
import { envCredentialName, storeCredential } from '../../src/remote/credentials.js';
import { HttpClient } from '../../src/remote/http.js';
import { copyArtifact, pullArtifact, pushArtifact } from '../../src/remote/transfer.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { expectCode } from '../helpers/expect-code.js';
import { DEFAULT_USERS, startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { tempDir } from '../helpers/temp.js';
import {
  HAS_DOCKER_REGISTRY,
  HAS_OPENSSL,
  OPENSSL_SKIP_REASON,
  REGISTRY_SKIP_REASON,
} from '../helpers/tools.js';

const HELPER_SCRIPT = fileURLToPath(
  new URL('../helpers/docker-credential-test.mjs', import.meta.url)
);
const PASSWORD = DEFAULT_USERS['alice'] as string;
const WRONG = 'not-the-password';
const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

interface Home {
  readonly env: Record<string, string>;
  readonly configPath: string;
  readonly fakeDir: string;
}

/**
 * An environment of its own: an empty HOME, a DOCKER_CONFIG dir (config.json written when given),
 * the fake helper installed as docker-credential-test and docker-credential-other first on PATH.
 */
async function home(config?: unknown, extra: Record<string, string> = {}): Promise<Home> {
  const root = await tempDir('runledger-auth-');
  const bin = join(root, 'bin');
  const fakeDir = join(root, 'fake');
  const configDir = join(root, 'docker');
  await mkdir(bin);
  await mkdir(fakeDir);
  await mkdir(configDir);
  for (const name of ['test', 'other']) {
    const file = join(bin, `docker-credential-${name}`);
    await copyFile(HELPER_SCRIPT, file);
    await chmod(file, 0o755);
  }
  const configPath = join(configDir, 'config.json');
  if (config !== undefined) await writeFile(configPath, JSON.stringify(config, null, '\t'));
  return {
    env: {
      HOME: join(root, 'home'),
      DOCKER_CONFIG: configDir,
      PATH: [bin, dirname(process.execPath), process.env['PATH'] ?? ''].join(delimiter),
      FAKE_CRED_DIR: fakeDir,
      ...extra,
    },
    configPath,
    fakeDir,
  };
}

/** Puts alice's credential with `password` in a fake helper's keychain under `serverURL`. */
async function seed(h: Home, helper: string, serverURL: string, password: string): Promise<void> {
  const path = join(h.fakeDir, `${helper}.json`);
  let store: Record<string, unknown> = {};
  try {
    store = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    // first entry
  }
  store[serverURL] = { Username: 'alice', Secret: password };
  await writeFile(path, JSON.stringify(store));
}

/** Which helpers were asked for what, in order. */
async function helperCalls(h: Home): Promise<string[]> {
  try {
    const text = await readFile(join(h.fakeDir, 'calls.log'), 'utf8');
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => {
        const c = JSON.parse(l) as { helper: string; action: string };
        return `${c.helper} ${c.action}`;
      });
  } catch {
    return [];
  }
}

/** A small artifact in a fresh local store, published under `reference`. */
async function localArtifact(reference: string): Promise<{
  registry: LocalRegistry;
  digest: string;
  blobs: number;
}> {
  const registry = await LocalRegistry.open(await tempDir('runledger-auth-store-'));
  const { descriptor, manifest } = await writeArtifact(registry, {
    layers: [`payload of ${reference}`],
  });
  await registry.publishRef(reference, descriptor);
  return { registry, digest: descriptor.digest, blobs: 1 + manifest.layers.length };
}

async function freshStore(): Promise<LocalRegistry> {
  return LocalRegistry.open(await tempDir('runledger-auth-pull-'));
}

function expectNoSecret(e: unknown, secret: string): void {
  expect(String((e as Error).message)).not.toContain(secret);
  expect(JSON.stringify(e)).not.toContain(secret);
}

describe.skipIf(!HAS_DOCKER_REGISTRY)(
  `Basic auth on docker-registry 2.8.2 (${HAS_DOCKER_REGISTRY ? 'docker-registry found' : REGISTRY_SKIP_REASON})`,
  () => {
    let server: RegistryServer;
    beforeAll(async () => {
      server = await startRegistry({ auth: 'basic' });
    });
    afterAll(async () => server?.stop());

    it('pushes and pulls with credentials from RUNLEDGER_AUTH_<HOST>', async () => {
      const ref = `${server.host}/basic/env:v1`;
      const { registry, digest } = await localArtifact(ref);
      const { env } = await home(undefined, {
        [envCredentialName(server.host)]: `alice:${PASSWORD}`,
      });
      const pushed = await pushArtifact(ref, ref, { registry, env });
      expect(pushed.digest).toBe(digest);
      expect(pushed.blobs.transferred).toBe(2);
      const into = await freshStore();
      const pulled = await pullArtifact(ref, { registry: into, env });
      expect(pulled.digest).toBe(digest);
      expect((await into.resolve(ref)).digest).toBe(digest);
      const client = new RemoteClient({ env });
      expect(await client.describeCredentials(server.host)).toBe(
        `the credentials from env ${envCredentialName(server.host)}`
      );
    });

    it('refuses a wrong password with AUTHENTICATION naming `runledger login <host>`', async () => {
      const ref = `${server.host}/basic/wrong:v1`;
      const { registry } = await localArtifact(ref);
      const { env } = await home(undefined, {
        [envCredentialName(server.host)]: `alice:${WRONG}`,
      });
      const push = await expectCode(pushArtifact(ref, ref, { registry, env }), 'AUTHENTICATION');
      expect(push.message).toContain(`runledger login ${server.host}`);
      expect((push as RemoteError).status).toBe(401);
      expectNoSecret(push, WRONG);
      const pull = await expectCode(
        pullArtifact(ref, { registry: await freshStore(), env }),
        'AUTHENTICATION'
      );
      expect(pull.message).toContain(`runledger login ${server.host}`);
      expectNoSecret(pull, WRONG);
    });

    it('refuses a client without credentials with AUTHENTICATION', async () => {
      const ref = `${server.host}/basic/anonymous:v1`;
      const { registry } = await localArtifact(ref);
      const { env } = await home();
      const push = await expectCode(pushArtifact(ref, ref, { registry, env }), 'AUTHENTICATION');
      expect(push.message).toContain(`runledger login ${server.host}`);
      expect(push.message).toContain(envCredentialName(server.host));
      await expectCode(pullArtifact(ref, { registry: await freshStore(), env }), 'AUTHENTICATION');
    });

    describe('config.json: credHelpers, then credsStore, then auths', () => {
      const auths = (password: string): Record<string, unknown> => ({
        auth: b64(`alice:${password}`),
      });

      it('uses credHelpers first (credsStore and auths hold wrong passwords)', async () => {
        const h = await home({
          credHelpers: { [server.host]: 'test' },
          credsStore: 'other',
          auths: { [server.host]: auths(WRONG) },
        });
        await seed(h, 'test', server.host, PASSWORD);
        await seed(h, 'other', server.host, WRONG);
        const ref = `${server.host}/basic/helpers:v1`;
        const { registry, digest } = await localArtifact(ref);
        expect((await pushArtifact(ref, ref, { registry, env: h.env })).digest).toBe(digest);
        expect(await helperCalls(h)).toEqual(['test get']);
      });

      it('uses credsStore when no credHelpers entry names the host', async () => {
        const h = await home({
          credHelpers: { 'elsewhere.example': 'test' },
          credsStore: 'other',
          auths: { [server.host]: auths(WRONG) },
        });
        await seed(h, 'test', server.host, WRONG);
        await seed(h, 'other', server.host, PASSWORD);
        await new RemoteClient({ env: h.env }).ping(server.host);
        expect(await helperCalls(h)).toEqual(['other get']);
      });

      it('uses auths when no helper is configured', async () => {
        const h = await home({ auths: { [server.host]: auths(PASSWORD) } });
        const client = new RemoteClient({ env: h.env });
        await client.ping(server.host);
        expect(await client.describeCredentials(server.host)).toBe(
          `the credentials from ${h.configPath} auths`
        );
        expect(await helperCalls(h)).toEqual([]);
      });

      it('does not fall through to a lower source when the helper’s credential is wrong', async () => {
        const h = await home({
          credHelpers: { [server.host]: 'test' },
          auths: { [server.host]: auths(PASSWORD) },
        });
        await seed(h, 'test', server.host, WRONG);
        const err = await expectCode(
          new RemoteClient({ env: h.env }).ping(server.host),
          'AUTHENTICATION'
        );
        expect(err.message).toContain('credHelpers docker-credential-test');
        expectNoSecret(err, WRONG);
      });

      it('stores a login through credsStore without writing plaintext, and uses it', async () => {
        const config = { credsStore: 'test', auths: {} };
        const h = await home(config);
        const before = await readFile(h.configPath);
        const { source } = await storeCredential(
          server.host,
          { kind: 'basic', username: 'alice', password: PASSWORD },
          { env: h.env }
        );
        expect(source).toBe('credsStore docker-credential-test');
        const after = await readFile(h.configPath);
        expect(after.equals(before)).toBe(true);
        expect(after.toString('utf8')).not.toContain(PASSWORD);
        expect(after.toString('utf8')).not.toContain(b64(`alice:${PASSWORD}`));
        const ref = `${server.host}/basic/stored:v1`;
        const { registry, digest } = await localArtifact(ref);
        expect((await pushArtifact(ref, ref, { registry, env: h.env })).digest).toBe(digest);
        expect(await helperCalls(h)).toEqual(['test store', 'test get']);
        // Without a helper and without the opt-in, nothing is written at all.
        const bare = await home();
        await expectCode(
          storeCredential(
            server.host,
            { kind: 'basic', username: 'alice', password: PASSWORD },
            { env: bare.env }
          ),
          'ARGUMENT_INVALID'
        );
        await expect(readFile(bare.configPath)).rejects.toThrow(/ENOENT/);
      });
    });
  }
);

describe.skipIf(!HAS_DOCKER_REGISTRY || !HAS_OPENSSL)(
  `Bearer tokens on docker-registry 2.8.2 (${!HAS_DOCKER_REGISTRY ? REGISTRY_SKIP_REASON : !HAS_OPENSSL ? OPENSSL_SKIP_REASON : 'docker-registry and openssl found'})`,
  () => {
    let server: RegistryServer;
    let aliceEnv: Record<string, string>;
    beforeAll(async () => {
      server = await startRegistry({ auth: 'token' });
      aliceEnv = (await home(undefined, { [envCredentialName(server.host)]: `alice:${PASSWORD}` }))
        .env;
    });
    afterAll(async () => server?.stop());
    const tokenRequests = (): NonNullable<RegistryServer['token']>['requests'] =>
      server.token?.requests ?? [];

    it('pulls anonymously and pushes only with credentials', async () => {
      const ref = `${server.host}/token/public:v1`;
      const { registry, digest } = await localArtifact(ref);
      await pushArtifact(ref, ref, { registry, env: aliceEnv });

      const { env } = await home();
      const seen = tokenRequests().length;
      const into = await freshStore();
      expect((await pullArtifact(ref, { registry: into, env })).digest).toBe(digest);
      const anonymous = tokenRequests().slice(seen);
      expect(anonymous.length).toBeGreaterThan(0);
      for (const r of anonymous) {
        expect(r.authorization).toBeUndefined();
        expect(r.scopes).toEqual(['repository:token/public:pull']);
        expect(r.status).toBe(200);
      }

      const other = `${server.host}/token/anonymous-push:v1`;
      const local = await localArtifact(other);
      let err: unknown;
      try {
        await pushArtifact(other, other, { registry: local.registry, env });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(RemoteError);
      const e = err as RemoteError;
      expect(['AUTHENTICATION', 'AUTHORIZATION']).toContain(e.code);
      expect(e.message).toMatch(new RegExp(`runledger login ${server.host.replace(/\./g, '\\.')}`));
      // Nothing landed.
      await expectCode(
        new RemoteClient({ env: aliceEnv }).repository(other).resolve('v1'),
        'NOT_FOUND'
      );
    });

    it('exchanges an identity token from config.json with the refresh_token grant', async () => {
      const refreshToken = (server.token as NonNullable<RegistryServer['token']>).refreshTokenFor(
        'alice'
      );
      const h = await home({ auths: { [server.host]: { identitytoken: refreshToken } } });
      const ref = `${server.host}/token/identity:v1`;
      const { registry, digest } = await localArtifact(ref);
      const seen = tokenRequests().length;
      expect((await pushArtifact(ref, ref, { registry, env: h.env })).digest).toBe(digest);
      const used = tokenRequests().slice(seen);
      expect(used.length).toBeGreaterThan(0);
      for (const r of used) {
        expect(r).toMatchObject({ method: 'POST', grantType: 'refresh_token', user: 'alice' });
        expect(r.authorization).toBeUndefined();
      }
      expect(used.some((r) => r.scopes.includes('repository:token/identity:pull,push'))).toBe(true);
      const after = await readFile(h.configPath, 'utf8');
      expect(JSON.parse(after)).toEqual({
        auths: { [server.host]: { identitytoken: refreshToken } },
      });
    });

    it('mounts blobs across repositories, asking pull on the source', async () => {
      const src = `${server.host}/token/mount-src:v1`;
      const dst = `${server.host}/token/mount-dst:v1`;
      const { registry, digest, blobs } = await localArtifact(src);
      await pushArtifact(src, src, { registry, env: aliceEnv });
      const seen = tokenRequests().length;
      const report = await copyArtifact(src, dst, { env: aliceEnv });
      expect(report.digest).toBe(digest);
      expect(report.blobs).toEqual({ total: blobs, transferred: 0, skipped: 0, mounted: blobs });
      expect(report.bytes.transferred).toBe(0);
      const scopes = tokenRequests()
        .slice(seen)
        .filter((r) => r.user === 'alice')
        .map((r) => r.scopes);
      expect(
        scopes.some(
          (s) =>
            s.includes('repository:token/mount-src:pull') &&
            s.includes('repository:token/mount-dst:pull,push')
        )
      ).toBe(true);
      const into = await freshStore();
      expect((await pullArtifact(dst, { registry: into, env: aliceEnv })).digest).toBe(digest);
    });

    it('renews a token before it expires (RegistryAuth with an injected clock)', async () => {
      const base = new URL(server.url);
      let clock = Date.now();
      const auth = new RegistryAuth(base, {
        credential: async () => ({
          credential: { kind: 'basic', username: 'alice', password: PASSWORD },
          source: 'test',
        }),
        now: () => clock,
      });
      const http = new HttpClient(base, { auth, sleep: async () => undefined });
      const scope = 'repository:token/renew:pull';
      const status = async (): Promise<number> => {
        const res = await http.send({
          method: 'GET',
          url: new URL('/v2/token/renew/tags/list', base),
          scopes: [scope],
        });
        await res.body?.cancel();
        return res.status;
      };
      const issued = (): number =>
        tokenRequests().filter((r) => r.scopes.includes(scope) && r.status === 200).length;
      // Authenticated, the registry answers for the repository (it does not exist: 404).
      expect(await status()).toBe(404);
      expect(auth.tokenRequests).toBe(1);
      clock += 200_000; // the token server's tokens last 300 s: still fresh
      expect(await status()).toBe(404);
      expect(auth.tokenRequests).toBe(1);
      clock += 75_000; // 25 s left: inside the 30 s renewal margin
      expect(await status()).toBe(404);
      expect(auth.tokenRequests).toBe(2);
      expect(issued()).toBe(2);
    });
  }
);
