import { chmod, copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { RunledgerError } from '../../src/errors.js';
import {
  dockerConfigPath,
  envCredentialName,
  eraseCredential,
  resolveCredential,
  storeCredential,
  type CredentialOptions,
} from '../../src/remote/credentials.js';
import { expectCode } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';

const HELPER_SCRIPT = fileURLToPath(
  new URL('../helpers/docker-credential-test.mjs', import.meta.url)
);
const SECRET = 'hunter2-s3cr3t';

interface Setup {
  readonly root: string;
  readonly configDir: string;
  readonly configPath: string;
  readonly fakeDir: string;
  readonly env: Record<string, string>;
  readonly options: CredentialOptions;
}

/**
 * A temp directory with a Docker config dir (written when `config` is given), a bin dir first on
 * the PATH holding the fake helper under each name in `helpers`, and an env object of its own.
 */
async function setup(config?: unknown, helpers: readonly string[] = []): Promise<Setup> {
  const root = await tempDir('runledger-cred-');
  const bin = join(root, 'bin');
  const fakeDir = join(root, 'fake');
  const configDir = join(root, 'docker');
  await mkdir(bin);
  await mkdir(fakeDir);
  for (const h of helpers) {
    const file = join(bin, `docker-credential-${h}`);
    await copyFile(HELPER_SCRIPT, file);
    await chmod(file, 0o755);
  }
  const env: Record<string, string> = {
    HOME: join(root, 'home'),
    DOCKER_CONFIG: configDir,
    PATH: [bin, dirname(process.execPath), process.env['PATH'] ?? ''].join(delimiter),
    FAKE_CRED_DIR: fakeDir,
  };
  const configPath = join(configDir, 'config.json');
  if (config !== undefined) {
    await mkdir(configDir);
    await writeFile(
      configPath,
      typeof config === 'string' ? config : JSON.stringify(config, null, '\t')
    );
  }
  return { root, configDir, configPath, fakeDir, env, options: { env } };
}

/** Puts a credential in a fake helper's keychain. */
async function seed(
  s: Setup,
  helper: string,
  serverURL: string,
  Username: string,
  Secret: string
): Promise<void> {
  const path = join(s.fakeDir, `${helper}.json`);
  let store: Record<string, unknown> = {};
  try {
    store = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch {
    // first entry
  }
  store[serverURL] = { Username, Secret };
  await writeFile(path, JSON.stringify(store));
}

async function keychain(s: Setup, helper: string): Promise<Record<string, unknown>> {
  try {
    return JSON.parse(await readFile(join(s.fakeDir, `${helper}.json`), 'utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    return {};
  }
}

type Call = { helper: string; action: string; serverURL: string };
async function calls(s: Setup): Promise<Call[]> {
  try {
    const text = await readFile(join(s.fakeDir, 'calls.log'), 'utf8');
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Call);
  } catch {
    return [];
  }
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

function expectNoSecret(e: RunledgerError, secret: string): void {
  expect(e.message).not.toContain(secret);
  expect(JSON.stringify(e.data)).not.toContain(secret);
  expect(JSON.stringify(e)).not.toContain(secret);
  expect(String(e.stack)).not.toContain(secret);
}

describe('names and paths', () => {
  it('derives the environment variable from the host', () => {
    expect(envCredentialName('ghcr.io')).toBe('RUNLEDGER_AUTH_GHCR_IO');
    expect(envCredentialName('127.0.0.1:5000')).toBe('RUNLEDGER_AUTH_127_0_0_1_5000');
    expect(envCredentialName('my-registry.example.com')).toBe(
      'RUNLEDGER_AUTH_MY_REGISTRY_EXAMPLE_COM'
    );
    expect(envCredentialName('docker.io')).toBe('RUNLEDGER_AUTH_DOCKER_IO');
  });

  it('finds config.json through DOCKER_CONFIG, else HOME', () => {
    expect(dockerConfigPath({ DOCKER_CONFIG: '/etc/dc', HOME: '/home/u' })).toBe(
      '/etc/dc/config.json'
    );
    expect(dockerConfigPath({ DOCKER_CONFIG: '', HOME: '/home/u' })).toBe(
      '/home/u/.docker/config.json'
    );
    expect(dockerConfigPath({ HOME: '/root' })).toBe('/root/.docker/config.json');
  });

  it('refuses a registry that is not a host', async () => {
    const s = await setup();
    await expectCode(resolveCredential('ghcr.io/acme', s.options), 'ARGUMENT_INVALID');
    await expectCode(resolveCredential('', s.options), 'ARGUMENT_INVALID');
  });
});

describe('RUNLEDGER_AUTH_* variables', () => {
  it('reads username:password, split at the first colon', async () => {
    const s = await setup();
    s.env['RUNLEDGER_AUTH_GHCR_IO'] = `me:${SECRET}:with:colons`;
    expect(await resolveCredential('ghcr.io', s.options)).toEqual({
      credential: { kind: 'basic', username: 'me', password: `${SECRET}:with:colons` },
      source: 'env RUNLEDGER_AUTH_GHCR_IO',
    });
    s.env['RUNLEDGER_AUTH_127_0_0_1_5000'] = 'u:p';
    expect((await resolveCredential('127.0.0.1:5000', s.options))?.source).toBe(
      'env RUNLEDGER_AUTH_127_0_0_1_5000'
    );
  });

  it('reads <token>:… as an identity token', async () => {
    const s = await setup();
    s.env['RUNLEDGER_AUTH_GHCR_IO'] = `<token>:${SECRET}`;
    expect((await resolveCredential('ghcr.io', s.options))?.credential).toEqual({
      kind: 'identity-token',
      token: SECRET,
    });
  });

  it('wins over config.json', async () => {
    const s = await setup({ auths: { 'ghcr.io': { auth: b64('file:pw') } } });
    s.env['RUNLEDGER_AUTH_GHCR_IO'] = 'env:pw';
    expect((await resolveCredential('ghcr.io', s.options))?.credential).toMatchObject({
      username: 'env',
    });
    s.env['RUNLEDGER_AUTH_GHCR_IO'] = ''; // empty counts as unset
    expect((await resolveCredential('ghcr.io', s.options))?.credential).toMatchObject({
      username: 'file',
    });
  });

  it.each([SECRET, `:${SECRET}`, 'me:'])(
    'rejects %j naming the variable, never the secret',
    async (value) => {
      const s = await setup();
      s.env['RUNLEDGER_AUTH_GHCR_IO'] = value;
      const e = await expectCode(resolveCredential('ghcr.io', s.options), 'AUTHENTICATION');
      expect(e.message).toContain('RUNLEDGER_AUTH_GHCR_IO');
      expectNoSecret(e, SECRET);
    }
  );
});

describe('config.json auths', () => {
  it('reads auth, legacy username/password, identitytoken and registrytoken', async () => {
    const s = await setup({
      auths: {
        'a.example': { auth: b64(`alice:${SECRET}`) },
        'b.example': { username: 'bob', password: SECRET },
        'c.example': { auth: b64('carol:'), identitytoken: SECRET },
        'd.example': { identitytoken: SECRET },
        'e.example': { registrytoken: SECRET },
        'f.example': {},
      },
    });
    const get = async (r: string) => (await resolveCredential(r, s.options))?.credential;
    expect(await get('a.example')).toEqual({ kind: 'basic', username: 'alice', password: SECRET });
    expect(await get('b.example')).toEqual({ kind: 'basic', username: 'bob', password: SECRET });
    expect(await get('c.example')).toEqual({
      kind: 'identity-token',
      token: SECRET,
      username: 'carol',
    });
    expect(await get('d.example')).toEqual({ kind: 'identity-token', token: SECRET });
    expect(await get('e.example')).toEqual({ kind: 'access-token', token: SECRET });
    expect(await get('f.example')).toBeUndefined();
    expect(await get('g.example')).toBeUndefined();
    expect((await resolveCredential('a.example', s.options))?.source).toBe(`${s.configPath} auths`);
  });

  it('matches keys with a scheme or a path, and Docker Hub by its aliases', async () => {
    const s = await setup({
      auths: {
        'https://ghcr.io': { auth: b64('scheme:pw') },
        'quay.io/v2/': { auth: b64('path:pw') },
        'https://index.docker.io/v1/': { auth: b64('hub:pw') },
        'ghcr.io.evil.example': { auth: b64('evil:pw') },
      },
    });
    const user = async (r: string) =>
      ((await resolveCredential(r, s.options))?.credential as { username?: string } | undefined)
        ?.username;
    expect(await user('ghcr.io')).toBe('scheme');
    expect(await user('quay.io')).toBe('path');
    expect(await user('docker.io')).toBe('hub');
    expect(await user('index.docker.io')).toBe('hub');
    expect(await user('evil.example')).toBeUndefined();

    for (const key of ['index.docker.io', 'registry-1.docker.io', 'https://index.docker.io/v1/']) {
      const t = await setup({ auths: { [key]: { auth: b64('hub:pw') } } });
      expect(await resolveCredential('docker.io', t.options), `key ${key}`).toMatchObject({
        credential: { username: 'hub' },
      });
    }
  });

  it('prefers the exact key', async () => {
    const s = await setup({
      auths: {
        'https://ghcr.io/v2/': { auth: b64('loose:pw') },
        'ghcr.io': { auth: b64('exact:pw') },
      },
    });
    expect((await resolveCredential('ghcr.io', s.options))?.credential).toMatchObject({
      username: 'exact',
    });
  });

  it('reports an auth that does not decode, naming file and key but not the secret', async () => {
    for (const auth of [`${SECRET}!!`, b64(SECRET)]) {
      const s = await setup({ auths: { 'ghcr.io': { auth } } });
      const e = await expectCode(resolveCredential('ghcr.io', s.options), 'AUTHENTICATION');
      expect(e.message).toContain(s.configPath);
      expect(e.message).toContain('ghcr.io');
      expectNoSecret(e, SECRET);
      expectNoSecret(e, auth);
    }
  });

  it('gives a clear error for a garbage config.json, without quoting it', async () => {
    const s = await setup(`{"auths": {"ghcr.io": {"auth": "${b64(`me:${SECRET}`)}", ${SECRET}`);
    const e = await expectCode(resolveCredential('ghcr.io', s.options), 'AUTHENTICATION');
    expect(e.message).toContain(s.configPath);
    expect(e.message).toMatch(/not valid JSON/);
    expectNoSecret(e, SECRET);
    const t = await setup('[1, 2]');
    await expectCode(resolveCredential('ghcr.io', t.options), 'AUTHENTICATION');
  });

  it('is anonymous without a config file, and honours DOCKER_CONFIG over HOME', async () => {
    const s = await setup();
    expect(await resolveCredential('ghcr.io', s.options)).toBeUndefined();

    const homeConfig = join(s.env['HOME'] as string, '.docker', 'config.json');
    await mkdir(dirname(homeConfig), { recursive: true });
    await writeFile(homeConfig, JSON.stringify({ auths: { 'ghcr.io': { auth: b64('home:pw') } } }));
    expect(await resolveCredential('ghcr.io', s.options)).toBeUndefined(); // DOCKER_CONFIG wins

    const { DOCKER_CONFIG: _, ...noDockerConfig } = s.env;
    expect(await resolveCredential('ghcr.io', { env: noDockerConfig })).toEqual({
      credential: { kind: 'basic', username: 'home', password: 'pw' },
      source: `${homeConfig} auths`,
    });
  });
});

describe('credential helpers', () => {
  const config = {
    credHelpers: { 'ghcr.io': 'test' },
    credsStore: 'other',
    auths: {
      'ghcr.io': { auth: b64('plain:pw') },
      'quay.io': { auth: b64('plain:pw') },
    },
  };

  it('consults credHelpers, then credsStore, then auths', async () => {
    const s = await setup(config, ['test', 'other']);
    await seed(s, 'test', 'ghcr.io', 'fromHelper', SECRET);
    await seed(s, 'other', 'ghcr.io', 'fromStore', SECRET);
    await seed(s, 'other', 'quay.io', 'fromStore', SECRET);

    expect(await resolveCredential('ghcr.io', s.options)).toEqual({
      credential: { kind: 'basic', username: 'fromHelper', password: SECRET },
      source: 'credHelpers docker-credential-test',
    });
    expect(await resolveCredential('quay.io', s.options)).toEqual({
      credential: { kind: 'basic', username: 'fromStore', password: SECRET },
      source: 'credsStore docker-credential-other',
    });
    // credsStore says "not found": auths still answers.
    const t = await setup(
      { credsStore: 'other', auths: { 'quay.io': { auth: b64('plain:pw') } } },
      ['other']
    );
    expect(await resolveCredential('quay.io', t.options)).toEqual({
      credential: { kind: 'basic', username: 'plain', password: 'pw' },
      source: `${t.configPath} auths`,
    });
    expect(await calls(t)).toEqual([{ helper: 'other', action: 'get', serverURL: 'quay.io' }]);
  });

  it('falls back to auths (not credsStore) when the credHelpers helper has nothing', async () => {
    const s = await setup(config, ['test', 'other']);
    await seed(s, 'other', 'ghcr.io', 'fromStore', SECRET);
    expect(await resolveCredential('ghcr.io', s.options)).toEqual({
      credential: { kind: 'basic', username: 'plain', password: 'pw' },
      source: `${s.configPath} auths`,
    });
    expect((await calls(s)).map((c) => c.helper)).toEqual(['test']);

    const t = await setup({ credHelpers: { 'ghcr.io': 'test' } }, ['test']);
    expect(await resolveCredential('ghcr.io', t.options)).toBeUndefined();
  });

  it('passes the matched key, or the bare host (Docker Hub: its v1 URL), as the server URL', async () => {
    const s = await setup(
      {
        credHelpers: { 'https://ghcr.io': 'test' },
        credsStore: 'other',
        auths: { 'quay.io/v2/': {} },
      },
      ['test', 'other']
    );
    await seed(s, 'other', 'https://index.docker.io/v1/', '<token>', SECRET);
    expect(await resolveCredential('ghcr.io', s.options)).toBeUndefined();
    expect(await resolveCredential('quay.io', s.options)).toBeUndefined();
    expect(await resolveCredential('docker.io', s.options)).toEqual({
      credential: { kind: 'identity-token', token: SECRET },
      source: 'credsStore docker-credential-other',
    });
    expect(await resolveCredential('127.0.0.1:5000', s.options)).toBeUndefined();
    expect((await calls(s)).map((c) => `${c.helper} ${c.serverURL}`)).toEqual([
      'test https://ghcr.io',
      'other quay.io/v2/',
      'other https://index.docker.io/v1/',
      'other 127.0.0.1:5000',
    ]);
  });

  it('looks the helper up on the PATH of the env it is given', async () => {
    const s = await setup({ credsStore: 'test' }, ['test']);
    await seed(s, 'test', 'ghcr.io', 'u', SECRET);
    const e = await expectCode(
      resolveCredential('ghcr.io', { env: { ...s.env, PATH: dirname(process.execPath) } }),
      'AUTHENTICATION'
    );
    expect(e.message).toMatch(/docker-credential-test .*not on PATH: install it/);
    expect(e.message).toContain(s.configPath);
  });

  it('reports a failing helper with the first line of its stderr', async () => {
    const s = await setup({ credsStore: 'test' }, ['test']);
    s.env['FAKE_CRED_MODE'] = 'fail';
    const e = await expectCode(resolveCredential('ghcr.io', s.options), 'AUTHENTICATION');
    expect(e.message).toContain('docker-credential-test');
    expect(e.message).toContain('fake helper failed on ghcr.io');
    expect(e.message).not.toContain('second line');
  });

  it('does not quote a get answer that is not JSON', async () => {
    const s = await setup({ credsStore: 'test' }, ['test']);
    await seed(s, 'test', 'ghcr.io', 'u', SECRET);
    s.env['FAKE_CRED_MODE'] = 'garbage';
    const e = await expectCode(resolveCredential('ghcr.io', s.options), 'AUTHENTICATION');
    expect(e.message).toContain('docker-credential-test');
    expectNoSecret(e, SECRET);
  });

  it('kills a helper that hangs at the timeout, and stops on abort', async () => {
    const s = await setup({ credsStore: 'test' }, ['test']);
    s.env['FAKE_CRED_MODE'] = 'hang';
    const e = await expectCode(
      resolveCredential('ghcr.io', { env: s.env, helperTimeoutMs: 300 }),
      'AUTHENTICATION'
    );
    expect(e.message).toMatch(/did not answer get within 0\.3 s/);

    const controller = new AbortController();
    const pending = resolveCredential('ghcr.io', { env: s.env, signal: controller.signal });
    setTimeout(() => controller.abort(), 200);
    await expectCode(pending, 'ABORTED');
  });

  it('refuses a helper name that is a path', async () => {
    const s = await setup({ credsStore: '../../bin/sh' });
    const e = await expectCode(resolveCredential('ghcr.io', s.options), 'AUTHENTICATION');
    expect(e.message).toContain(s.configPath);
  });
});

describe('storeCredential', () => {
  it('stores through a helper and writes no plaintext', async () => {
    const s = await setup(
      { credHelpers: { 'ghcr.io': 'test' }, credsStore: 'other', auths: { 'quay.io': {} } },
      ['test', 'other']
    );
    const before = await readFile(s.configPath);
    expect(
      await storeCredential(
        'ghcr.io',
        { kind: 'basic', username: 'me', password: SECRET },
        s.options
      )
    ).toEqual({ source: 'credHelpers docker-credential-test' });
    expect(
      await storeCredential('docker.io', { kind: 'identity-token', token: SECRET }, s.options)
    ).toEqual({ source: 'credsStore docker-credential-other' });
    expect(await readFile(s.configPath)).toEqual(before);
    expect(await keychain(s, 'test')).toEqual({ 'ghcr.io': { Username: 'me', Secret: SECRET } });
    expect(await keychain(s, 'other')).toEqual({
      'https://index.docker.io/v1/': { Username: '<token>', Secret: SECRET },
    });
    expect(await resolveCredential('docker.io', s.options)).toEqual({
      credential: { kind: 'identity-token', token: SECRET },
      source: 'credsStore docker-credential-other',
    });
    await expectCode(
      storeCredential('quay.io', { kind: 'access-token', token: SECRET }, s.options),
      'ARGUMENT_INVALID'
    );
  });

  it('removes the secret of an older plaintext entry when a helper takes over', async () => {
    const s = await setup(
      { credsStore: 'test', auths: { 'ghcr.io': { auth: b64('old:pw'), email: 'a@b.c' } } },
      ['test']
    );
    await storeCredential(
      'ghcr.io',
      { kind: 'basic', username: 'me', password: SECRET },
      s.options
    );
    const after = JSON.parse(await readFile(s.configPath, 'utf8')) as unknown;
    expect(after).toEqual({ credsStore: 'test', auths: { 'ghcr.io': { email: 'a@b.c' } } });
    expect(await resolveCredential('ghcr.io', s.options)).toMatchObject({
      credential: { username: 'me' },
    });
  });

  it('redacts the secret from a failing helper message', async () => {
    const s = await setup({ credsStore: 'test' }, ['test']);
    s.env['FAKE_CRED_MODE'] = 'fail';
    const e = await expectCode(
      storeCredential('ghcr.io', { kind: 'basic', username: 'me', password: SECRET }, s.options),
      'AUTHENTICATION'
    );
    expect(e.message).toContain('fake helper failed');
    expect(e.message).toContain('[redacted]');
    expectNoSecret(e, SECRET);
  });

  it('refuses plaintext unless allowed, and writes nothing', async () => {
    const s = await setup();
    const e = await expectCode(
      storeCredential('ghcr.io', { kind: 'basic', username: 'me', password: SECRET }, s.options),
      'ARGUMENT_INVALID'
    );
    expect(e.message).toMatch(/No credential helper is configured/);
    expect(e.message).toContain('credsStore');
    expect(e.message).toContain('--allow-plaintext');
    expect(e.message).toContain(s.configPath);
    expectNoSecret(e, SECRET);
    await expect(stat(s.configDir)).rejects.toMatchObject({ code: 'ENOENT' });

    const t = await setup({ auths: {} });
    const before = await readFile(t.configPath);
    await expectCode(
      storeCredential('ghcr.io', { kind: 'basic', username: 'me', password: SECRET }, t.options),
      'ARGUMENT_INVALID'
    );
    expect(await readFile(t.configPath)).toEqual(before);
  });

  it('writes plaintext when allowed: mode 0600, other fields kept, atomically', async () => {
    const original = {
      auths: {
        'quay.io': { auth: b64('q:pw') },
        'https://ghcr.io/v2/': { auth: b64('stale:pw') },
      },
      psFormat: 'table {{.ID}}',
      unknownField: { nested: [1, 'two', null, true] },
    };
    const s = await setup(original);
    await chmod(s.configPath, 0o644);
    expect(
      await storeCredential(
        'ghcr.io',
        { kind: 'basic', username: 'me', password: SECRET },
        { ...s.options, allowPlaintext: true }
      )
    ).toEqual({ source: `${s.configPath} auths` });
    const after = JSON.parse(await readFile(s.configPath, 'utf8')) as Record<string, unknown>;
    expect(after).toEqual({
      ...original,
      auths: { 'quay.io': { auth: b64('q:pw') }, 'ghcr.io': { auth: b64(`me:${SECRET}`) } },
    });
    expect((await stat(s.configPath)).mode & 0o777).toBe(0o600);
    expect(await readdir(s.configDir)).toEqual(['config.json']);
    expect((await resolveCredential('ghcr.io', s.options))?.credential).toEqual({
      kind: 'basic',
      username: 'me',
      password: SECRET,
    });
  });

  it('creates the directory 0700 and writes Docker Hub and token entries', async () => {
    const s = await setup();
    const opts = { ...s.options, allowPlaintext: true };
    await storeCredential(
      'docker.io',
      { kind: 'identity-token', token: 'id', username: 'u' },
      opts
    );
    await storeCredential('e.example', { kind: 'access-token', token: 'at' }, opts);
    expect((await stat(s.configDir)).mode & 0o777).toBe(0o700);
    expect((await stat(s.configPath)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(s.configPath, 'utf8'))).toEqual({
      auths: {
        'https://index.docker.io/v1/': { auth: b64('u:'), identitytoken: 'id' },
        'e.example': { registrytoken: 'at' },
      },
    });
    expect((await resolveCredential('docker.io', s.options))?.credential).toEqual({
      kind: 'identity-token',
      token: 'id',
      username: 'u',
    });
  });

  it('refuses a malformed credential', async () => {
    const s = await setup();
    const opts = { ...s.options, allowPlaintext: true };
    await expectCode(
      storeCredential('ghcr.io', { kind: 'basic', username: 'a:b', password: SECRET }, opts),
      'ARGUMENT_INVALID'
    );
    await expectCode(
      storeCredential('ghcr.io', { kind: 'basic', username: 'a', password: '' }, opts),
      'ARGUMENT_INVALID'
    );
    await expect(stat(s.configDir)).rejects.toMatchObject({ code: 'ENOENT' });
  });
});

describe('eraseCredential', () => {
  it('erases from the helper and every matching auths key', async () => {
    const s = await setup(
      {
        credsStore: 'test',
        auths: {
          'ghcr.io': { auth: b64('a:pw') },
          'https://ghcr.io/v2/': { auth: b64('b:pw') },
          'quay.io': { auth: b64('q:pw') },
        },
        other: 1,
      },
      ['test']
    );
    await seed(s, 'test', 'ghcr.io', 'me', SECRET);
    expect(await eraseCredential('ghcr.io', s.options)).toEqual({
      erased: true,
      source: `credsStore docker-credential-test, ${s.configPath} auths`,
    });
    expect(await keychain(s, 'test')).toEqual({});
    expect(JSON.parse(await readFile(s.configPath, 'utf8'))).toEqual({
      credsStore: 'test',
      auths: { 'quay.io': { auth: b64('q:pw') } },
      other: 1,
    });
    expect((await stat(s.configPath)).mode & 0o777).toBe(0o600);
    expect(await resolveCredential('ghcr.io', s.options)).toBeUndefined();
    expect(await eraseCredential('ghcr.io', s.options)).toEqual({ erased: false });
  });

  it('erases only plaintext when no helper is configured', async () => {
    const s = await setup({ auths: { 'https://index.docker.io/v1/': { auth: b64('h:pw') } } });
    expect(await eraseCredential('docker.io', s.options)).toEqual({
      erased: true,
      source: `${s.configPath} auths`,
    });
    expect(await eraseCredential('docker.io', s.options)).toEqual({ erased: false });
    const t = await setup();
    expect(await eraseCredential('ghcr.io', t.options)).toEqual({ erased: false });
  });
});
