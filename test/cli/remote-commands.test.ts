/**
 * The CLI's registry commands — push, pull, copy, login, logout — run in-process through
 * `main()` against the real docker-registry 2.8.2 on loopback (no auth, and htpasswd Basic),
 * each side with its own RUNLEDGER_HOME and DOCKER_CONFIG.
 */
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { applyInsecure, remoteOptions } from '../../src/cli/remote.js';
import type { CliInput, CommandContext } from '../../src/cli/types.js';
import { RemoteClient } from '../../src/remote/client.js';
import { envCredentialName } from '../../src/remote/credentials.js';
import type { FetchLike } from '../../src/remote/http.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { memoryIo } from '../helpers/memory-io.js';
import {
  basicAuthorization,
  startRegistry,
  type RegistryServer,
} from '../helpers/registry-server.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_DOCKER_REGISTRY, REGISTRY_SKIP_REASON } from '../helpers/tools.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const HELPER_SCRIPT = fileURLToPath(
  new URL('../helpers/docker-credential-test.mjs', import.meta.url)
);
const PASSWORD = 'wonderland-secret'; // alice's, in startRegistry's default htpasswd
const SUMMARY =
  /^pushed (\S+) (sha256:[0-9a-f]{64}) \((\d+) blobs, (\d+) sent, (\d+) skipped, [\d.]+ (B|KiB|MiB) in \d+\.\d s\)\n$/;

/** One machine: its own store and Docker config, and an env naming nothing of the real user's. */
interface Side {
  readonly home: string;
  readonly dockerConfig: string;
  readonly env: Record<string, string>;
}

async function side(extra: Record<string, string> = {}): Promise<Side> {
  const home = await tempDir('runledger-cli-home-');
  const dockerConfig = await tempDir('runledger-cli-docker-');
  return {
    home,
    dockerConfig,
    env: {
      RUNLEDGER_HOME: home,
      DOCKER_CONFIG: dockerConfig,
      HOME: dockerConfig,
      PATH: process.env['PATH'] ?? '',
      ...extra,
    },
  };
}

async function cli(
  args: string[],
  env: Record<string, string>,
  options: { stdin?: CliInput; tty?: boolean } = {}
) {
  const base = memoryIo(env);
  const io = {
    ...base,
    ...(options.tty === true
      ? { stderr: { write: (t: string) => base.stderr.write(t), isTTY: true } }
      : {}),
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
  };
  const code = await main(args, io);
  return { code, out: base.out(), err: base.err() };
}

/** Standard input that is a pipe holding `text`. */
function piped(text: string): CliInput {
  return Readable.from([Buffer.from(text)]);
}

/** A terminal that types `chunks` and records raw-mode switches. */
function terminal(chunks: readonly string[]): CliInput & { readonly modes: boolean[] } {
  const modes: boolean[] = [];
  return {
    isTTY: true,
    modes,
    setRawMode: (mode: boolean) => modes.push(mode),
    async *[Symbol.asyncIterator]() {
      for (const c of chunks) yield Buffer.from(c);
    },
  };
}

/** A store holding one artifact (config + 2 layers) under `ref`. */
async function stored(s: Side, ref: string) {
  const registry = await LocalRegistry.open(s.home);
  const big = randomBytes(300 * 1024);
  const artifact = await writeArtifact(registry, { layers: [`small ${ref}`, big] });
  await registry.publishRef(ref, artifact.descriptor);
  return { registry, big, ...artifact };
}

/** The digest a registry serves for a tag, asked directly (not through runledger). */
async function remoteDigest(reg: RegistryServer, repo: string, tag: string, auth?: string) {
  const res = await fetch(`${reg.url}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: OCI_MANIFEST, ...(auth === undefined ? {} : { authorization: auth }) },
  });
  return res.status === 200 ? res.headers.get('docker-content-digest') : res.status;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false
  );
}

describe('remote commands: usage', () => {
  it('lists the five commands and the registry options in --help', async () => {
    const help = await cli(['--help'], {});
    expect(help.code).toBe(0);
    for (const c of [
      'push <ref> [--to REF]',
      'pull <ref> [--as NAME]',
      'copy ',
      'login ',
      'logout ',
    ])
      expect(help.out).toContain(`  ${c}`);
    expect(help.out).toContain('--plain-http');
    expect(help.out).toContain('--insecure');
    expect(help.out).toContain('RUNLEDGER_AUTH_<HOST>');
  });

  it('exits 2 on bad arguments before touching the store or the network', async () => {
    const s = await side();
    const cases: [string[], RegExp][] = [
      [['push'], /usage: runledger push/],
      [['push', 'a/b:1', 'c/d:1'], /usage: runledger push/],
      [['copy', '127.0.0.1:9/a:1'], /usage: runledger copy/],
      [['pull', '127.0.0.1:9/a:1', '--to', 'x'], /Unknown option --to for pull\./],
      [['pull', '127.0.0.1:9/a:1', '--concurrency', '0'], /--concurrency takes a whole number/],
      [['pull', '127.0.0.1:9/a:1', '--concurrency', '65'], /--concurrency takes a whole number/],
      [['push', '127.0.0.1:9/a:1', '--concurrency', 'many'], /--concurrency takes a whole/],
      [['push', 'runledger.local/demo/x:1'], /local-only name .* pass --to <registry>/],
      [['push', '1a2b3c4d.runledger.local/experiment:t-1'], /pass --to/],
      [['push', '127.0.0.1:9/a:1', '--to', 'runledger.local/x:1'], /target \(--to\)/],
      [['pull', 'runledger.local/demo/x:1'], /local-only name/],
      [['copy', '127.0.0.1:9/a:1', 'runledger.local/x:1'], /The target/],
      [['login', 'http://127.0.0.1:9'], /not a registry host.*--plain-http/],
      [['login', 'two words'], /not a registry host/],
      [['login', 'runledger.local'], /local-only namespace/],
      [
        ['login', '127.0.0.1:9', '--password', 'x'],
        /Unknown option --password for login; did you mean --password-stdin\?/,
      ],
      [['login', '127.0.0.1:9', '--password-stdin'], /needs the user name as well: pass -u/],
      [['login', '127.0.0.1:9', '-u', 'alice'], /No terminal .* --password-stdin/],
      [['login', '127.0.0.1:9', '-u', 'a:b', '--password-stdin'], /without a colon/],
      [['logout'], /usage: runledger logout/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args, s.env, { stdin: piped('x\n') });
      expect([args, r.code]).toEqual([args, 2]);
      expect(r.err).toMatch(/^runledger: USAGE: /);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    }
    // The piped stdin was never taken for a password without --password-stdin.
    expect(await exists(join(s.dockerConfig, 'config.json'))).toBe(false);
    // Nothing was created in the store: no command got as far as opening it.
    expect(await exists(join(s.home, 'index.json'))).toBe(false);
  });

  it('--insecure for a remote host turns TLS checks off with a warning and refuses other hosts', async () => {
    const processEnv: Record<string, string | undefined> = {};
    const warnings: string[] = [];
    const sent: string[] = [];
    const inner: FetchLike = async (input) => {
      sent.push(input);
      return new Response(null, { status: 200 });
    };
    const guarded = applyInsecure(
      ['registry.example.com:5443', '127.0.0.1:5000'],
      (w) => warnings.push(w),
      { processEnv, fetch: inner }
    );
    expect(processEnv['NODE_TLS_REJECT_UNAUTHORIZED']).toBe('0');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('TLS certificates of registry.example.com:5443 are not verified');
    expect(warnings[0]).not.toContain('127.0.0.1');
    expect(
      (await guarded!('https://registry.example.com:5443/v2/', { method: 'GET' })).status
    ).toBe(200);
    await expect(
      guarded!('https://auth.example.com/token?scope=x', { method: 'GET' })
    ).rejects.toMatchObject({
      code: 'REMOTE_REFUSED',
      url: expect.stringMatching(/^https:\/\/auth\.example\.com\/token/),
    });
    expect(sent).toEqual(['https://registry.example.com:5443/v2/']);

    // Loopback registries use http: --insecure changes nothing for them.
    const untouched: Record<string, string | undefined> = {};
    expect(
      applyInsecure(['127.0.0.1:5000', 'localhost:5001'], () => undefined, {
        processEnv: untouched,
      })
    ).toBe(undefined);
    expect(untouched).toEqual({});
  });

  it('--plain-http applies to the registries on the command line only, with a warning', async () => {
    let err = '';
    const ctx = {
      io: { stdout: { write: () => true }, stderr: { write: (t: string) => (err += t) }, env: {} },
      positionals: [],
      values: { 'plain-http': true },
      json: false,
      openRegistry: () => Promise.reject(new Error('not used')),
      print: () => undefined,
      printJson: () => undefined,
    } satisfies CommandContext;
    const client = new RemoteClient(remoteOptions(ctx, ['registry.example.com:5000']));
    expect(client.baseUrl('registry.example.com:5000').protocol).toBe('http:');
    expect(client.baseUrl('ghcr.io').protocol).toBe('https:');
    expect(err).toBe(
      'warning: --plain-http: talking to registry.example.com:5000 without TLS (credentials included).\n'
    );
  });
});

describe.skipIf(!HAS_DOCKER_REGISTRY)(
  `remote commands against docker-registry (${HAS_DOCKER_REGISTRY ? 'found' : REGISTRY_SKIP_REASON})`,
  () => {
    describe('no auth', () => {
      let reg: RegistryServer;
      beforeAll(async () => {
        reg = await startRegistry();
      });
      afterAll(async () => {
        await reg?.stop();
      });

      it('push then pull round-trips an artifact between two stores', async () => {
        const a = await side();
        const ref = `${reg.host}/acme/qap:v1`;
        const { descriptor, manifest, big } = await stored(a, ref);

        const pushed = await cli(['push', ref], a.env);
        expect(pushed.code, pushed.err).toBe(0);
        expect(pushed.err).toBe(''); // stderr is not a terminal: no progress line
        const m = SUMMARY.exec(pushed.out);
        expect(m, pushed.out).not.toBeNull();
        expect(m!.slice(1, 6)).toEqual([ref, descriptor.digest, '3', '3', '0']);
        expect(await remoteDigest(reg, 'acme/qap', 'v1')).toBe(descriptor.digest);

        const b = await side();
        const pulled = await cli(['pull', ref], b.env);
        expect(pulled.code, pulled.err).toBe(0);
        expect(pulled.out).toMatch(
          new RegExp(
            `^pulled ${ref.replace(/\./g, '\\.')} ${descriptor.digest} \\(3 blobs, 3 fetched, 0 already here, 300\\.\\d KiB in \\d+\\.\\d s\\)\\n$`
          )
        );
        const there = await LocalRegistry.open(b.home);
        expect((await there.resolve(ref)).digest).toBe(descriptor.digest);
        expect(Buffer.from(await there.readBlob(manifest.layers[1]!.digest))).toEqual(big);
        expect((await there.fsck()).ok).toBe(true);

        // By digest: a local tag named after the digest.
        const byDigest = await cli(
          ['pull', `${reg.host}/acme/qap@${descriptor.digest}`, '--json'],
          b.env
        );
        expect(byDigest.code, byDigest.err).toBe(0);
        const report = JSON.parse(byDigest.out);
        expect(report.reference).toBe(
          `${reg.host}/acme/qap:${descriptor.digest.replace(':', '-').slice(0, 39)}`
        );
        expect(report.blobs).toEqual({ total: 3, transferred: 0, skipped: 3, mounted: 0 });
      });

      it('--json prints the TransferReport; a second push is up to date and sends nothing', async () => {
        const a = await side();
        const ref = `${reg.host}/acme/json:v1`;
        const { descriptor, manifest } = await stored(a, ref);
        const total = manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);

        const first = await cli(['push', ref, '--json', '--concurrency', '2'], a.env);
        expect(first.code, first.err).toBe(0);
        expect(first.err).toBe('');
        expect(JSON.parse(first.out)).toEqual({
          reference: ref,
          digest: descriptor.digest,
          media_type: OCI_MANIFEST,
          blobs: { total: 3, transferred: 3, skipped: 0, mounted: 0 },
          bytes: { total, transferred: total },
          up_to_date: false,
          seconds: expect.any(Number),
        });

        const again = await cli(['push', ref, '--json'], a.env);
        expect(JSON.parse(again.out)).toMatchObject({
          digest: descriptor.digest,
          blobs: { transferred: 0 },
          bytes: { transferred: 0 },
          up_to_date: true,
        });
        const human = await cli(['push', ref], a.env);
        expect(human.out).toMatch(
          new RegExp(
            `^up to date: ${ref.replace(/\./g, '\\.')} ${descriptor.digest} \\(3 blobs, nothing sent in \\d+\\.\\d s\\)\\n$`
          )
        );
        expect((await cli(['push', ref, '--quiet'], a.env)).out).toBe('');
      });

      it('--to pushes a local-only name under a registry name', async () => {
        const a = await side();
        const local = 'runledger.local/demo/x:1';
        const { descriptor } = await stored(a, local);
        const target = `${reg.host}/team/x:2`;
        const r = await cli(['push', local, '--to', target], a.env);
        expect(r.code, r.err).toBe(0);
        expect(SUMMARY.exec(r.out)?.slice(1, 3)).toEqual([target, descriptor.digest]);
        expect(await remoteDigest(reg, 'team/x', '2')).toBe(descriptor.digest);

        const missing = await cli(['push', `${reg.host}/team/nope:1`], a.env);
        expect(missing.code).toBe(1);
        expect(missing.err).toMatch(/^runledger: REF_NOT_FOUND: /);
      });

      it('copy moves an artifact between two repositories without the local store', async () => {
        const a = await side();
        const src = `${reg.host}/acme/copy-src:v1`;
        const { descriptor } = await stored(a, src);
        expect((await cli(['push', src, '--quiet'], a.env)).code).toBe(0);

        const empty = await side();
        const dst = `${reg.host}/other/copy-dst:v9`;
        const copied = await cli(['copy', src, dst, '--json'], empty.env);
        expect(copied.code, copied.err).toBe(0);
        const report = JSON.parse(copied.out);
        expect(report).toMatchObject({
          reference: dst,
          digest: descriptor.digest,
          up_to_date: false,
        });
        // Same registry: every blob is mounted from the source repository, none streamed.
        expect(report.blobs).toEqual({ total: 3, transferred: 0, skipped: 0, mounted: 3 });
        expect(await remoteDigest(reg, 'other/copy-dst', 'v9')).toBe(descriptor.digest);
        expect(await exists(join(empty.home, 'index.json'))).toBe(false);

        const dst2 = `${reg.host}/third/copy-dst:v10`;
        const human = await cli(['copy', src, dst2], empty.env);
        expect(human.out).toMatch(
          new RegExp(
            `^copied ${src.replace(/\./g, '\\.')} to ${dst2.replace(/\./g, '\\.')} ${descriptor.digest} \\(3 blobs, 0 sent, 0 skipped, 3 mounted, 0 B in \\d+\\.\\d s\\)\\n$`
          )
        );
        const again = await cli(['copy', src, dst], empty.env);
        expect(again.out).toMatch(/^up to date: /);

        const gone = await cli(['copy', `${reg.host}/acme/copy-src:nope`, dst], empty.env);
        expect(gone.code).toBe(1);
        expect(gone.err).toMatch(/^runledger: NOT_FOUND: /);
      });

      it('pull refuses to move a local name (REF_CONFLICT) and takes --as', async () => {
        const a = await side();
        const ref = `${reg.host}/acme/conflict:v1`;
        const { descriptor } = await stored(a, ref);
        expect((await cli(['push', ref, '--quiet'], a.env)).code).toBe(0);

        const b = await side();
        const other = await stored(b, ref); // the same name, another artifact
        const refused = await cli(['pull', ref], b.env);
        expect(refused.code).toBe(1);
        expect(refused.err).toContain(
          `runledger: REF_CONFLICT: The local reference ${ref} already points at ${other.descriptor.digest}, not at the pulled ${descriptor.digest}: remove it with "runledger rm ${ref}", or pull under another local name with --as NAME.`
        );
        const store = await LocalRegistry.open(b.home);
        expect((await store.resolve(ref)).digest).toBe(other.descriptor.digest);

        const renamed = await cli(['pull', ref, '--as', 'localhost/mine:v1', '--json'], b.env);
        expect(renamed.code, renamed.err).toBe(0);
        expect(JSON.parse(renamed.out).reference).toBe('localhost/mine:v1');
        expect((await store.resolve('localhost/mine:v1')).digest).toBe(descriptor.digest);
      });

      it('draws progress on stderr only when it is a terminal, never with --json or --quiet', async () => {
        const a = await side();
        const ref = `${reg.host}/acme/progress:v1`;
        await stored(a, ref);
        const shown = await cli(['push', ref], a.env, { tty: true });
        expect(shown.code, shown.err).toBe(0);
        expect(shown.err).toMatch(new RegExp(`^\\rpush ${ref.replace(/\./g, '\\.')} \\d/3 blobs `));
        expect(shown.err.endsWith('\n')).toBe(true);
        expect(shown.out).toMatch(SUMMARY); // stdout holds the summary only

        const b = await side();
        const json = await cli(['pull', ref, '--json'], b.env, { tty: true });
        expect(json.err).toBe('');
        expect(JSON.parse(json.out).blobs.total).toBe(3);
        const quiet = await cli(['pull', ref, '--as', 'localhost/q:1', '--quiet'], b.env, {
          tty: true,
        });
        expect([quiet.code, quiet.out, quiet.err]).toEqual([0, '', '']);
      });

      it('--insecure and --plain-http change nothing for a loopback registry', async () => {
        const before = process.env['NODE_TLS_REJECT_UNAUTHORIZED'];
        const a = await side();
        const ref = `${reg.host}/acme/flags:v1`;
        await stored(a, ref);
        const r = await cli(['push', ref, '--insecure', '--plain-http'], a.env);
        expect(r.code, r.err).toBe(0);
        expect(r.err).toBe('');
        expect(process.env['NODE_TLS_REJECT_UNAUTHORIZED']).toBe(before);
      });
    });

    describe('basic auth: login, logout, stored credentials', () => {
      let reg: RegistryServer;
      let variable: string;
      beforeAll(async () => {
        reg = await startRegistry({ auth: 'basic' });
        variable = envCredentialName(reg.host);
      });
      afterAll(async () => {
        await reg?.stop();
      });

      it('login --password-stdin --allow-plaintext writes config.json 0600; push then works; logout removes it', async () => {
        const a = await side();
        const ref = `${reg.host}/acme/login:v1`;
        const { descriptor } = await stored(a, ref);
        const anonymous = await cli(['push', ref], a.env);
        expect(anonymous.code).toBe(1);
        expect(anonymous.err).toMatch(/^runledger: AUTHENTICATION: /);
        expect(anonymous.err).toContain(`runledger login ${reg.host}`);

        const login = await cli(
          ['login', reg.host, '-u', 'alice', '--password-stdin', '--allow-plaintext'],
          a.env,
          { stdin: piped(`${PASSWORD}\n`) }
        );
        const configPath = join(a.dockerConfig, 'config.json');
        expect(login.code, login.err).toBe(0);
        expect(login.out).toBe(
          `Logged in to ${reg.host} as alice; credentials stored in ${configPath} auths\n`
        );
        expect(login.err).toContain(`warning: the password for ${reg.host} is stored unencrypted`);
        expect(login.out + login.err).not.toContain(PASSWORD);
        expect((await stat(configPath)).mode & 0o777).toBe(0o600);
        const config = JSON.parse(await readFile(configPath, 'utf8'));
        expect(config.auths[reg.host].auth).toBe(
          Buffer.from(`alice:${PASSWORD}`).toString('base64')
        );

        const pushed = await cli(['push', ref], a.env);
        expect(pushed.code, pushed.err).toBe(0);
        const auth = basicAuthorization('alice', PASSWORD);
        expect(await remoteDigest(reg, 'acme/login', 'v1', auth)).toBe(descriptor.digest);
        const b = await side();
        await writeFile(join(b.dockerConfig, 'config.json'), JSON.stringify(config));
        expect((await cli(['pull', ref], b.env)).code).toBe(0);

        const logout = await cli(['logout', reg.host], a.env);
        expect(logout.code).toBe(0);
        expect(logout.out).toBe(
          `Logged out of ${reg.host}: credentials removed from ${configPath} auths\n`
        );
        expect(JSON.parse(await readFile(configPath, 'utf8')).auths).toEqual({});
        expect((await cli(['push', ref], a.env)).err).toMatch(/^runledger: AUTHENTICATION: /);
        const again = await cli(['logout', reg.host, '--json'], a.env);
        expect(JSON.parse(again.out)).toEqual({ registry: reg.host, erased: false });
      });

      it('login --json prints {registry, stored}', async () => {
        const a = await side();
        const r = await cli(
          ['login', reg.host, '-u', 'alice', '--password-stdin', '--allow-plaintext', '--json'],
          a.env,
          { stdin: piped(`${PASSWORD}\r\n`) }
        );
        expect(r.code, r.err).toBe(0);
        expect(JSON.parse(r.out)).toEqual({
          registry: reg.host,
          stored: `${join(a.dockerConfig, 'config.json')} auths`,
        });
      });

      it('a wrong password is refused with AUTHENTICATION and nothing is stored', async () => {
        const a = await side();
        const r = await cli(
          ['login', reg.host, '-u', 'alice', '--password-stdin', '--allow-plaintext'],
          a.env,
          { stdin: piped('not-the-password\n') }
        );
        expect(r.code).toBe(1);
        expect(r.err).toMatch(
          new RegExp(
            `^runledger: AUTHENTICATION: .*refused the credentials from runledger login \\(user alice\\)`
          )
        );
        expect(r.err).not.toContain('not-the-password');
        expect(r.out).toBe('');
        expect(await exists(join(a.dockerConfig, 'config.json'))).toBe(false);
      });

      it('without a credential helper or --allow-plaintext nothing is stored', async () => {
        const a = await side();
        const r = await cli(['login', reg.host, '-u', 'alice', '--password-stdin'], a.env, {
          stdin: piped(PASSWORD),
        });
        expect(r.code).toBe(1);
        expect(r.err).toMatch(/^runledger: ARGUMENT_INVALID: No credential helper is configured/);
        expect(r.err).toContain('--allow-plaintext');
        expect(r.err).not.toContain(PASSWORD);
        expect(await exists(join(a.dockerConfig, 'config.json'))).toBe(false);
      });

      it('stores in the credsStore helper when one is configured, and logout erases it there', async () => {
        const bin = await tempDir('runledger-cli-bin-');
        const fake = await tempDir('runledger-cli-fake-');
        await copyFile(HELPER_SCRIPT, join(bin, 'docker-credential-test'));
        await chmod(join(bin, 'docker-credential-test'), 0o755);
        const a = await side({
          PATH: [bin, dirname(process.execPath), process.env['PATH'] ?? ''].join(delimiter),
          FAKE_CRED_DIR: fake,
        });
        const configPath = join(a.dockerConfig, 'config.json');
        await mkdir(a.dockerConfig, { recursive: true });
        await writeFile(configPath, JSON.stringify({ credsStore: 'test' }));

        const login = await cli(['login', reg.host, '-u', 'alice', '--password-stdin'], a.env, {
          stdin: piped(`${PASSWORD}\n`),
        });
        expect(login.code, login.err).toBe(0);
        expect(login.out).toBe(
          `Logged in to ${reg.host} as alice; credentials stored in credsStore docker-credential-test\n`
        );
        expect(login.err).toBe(''); // not plaintext: no warning
        expect(JSON.parse(await readFile(join(fake, 'test.json'), 'utf8'))).toEqual({
          [reg.host]: { Username: 'alice', Secret: PASSWORD },
        });
        expect(await readFile(configPath, 'utf8')).not.toContain('auths');

        const ref = `${reg.host}/acme/helper:v1`;
        await stored(a, ref);
        const pushed = await cli(['push', ref], a.env);
        expect(pushed.code, pushed.err).toBe(0);

        const logout = await cli(['logout', reg.host], a.env);
        expect(logout.out).toBe(
          `Logged out of ${reg.host}: credentials removed from credsStore docker-credential-test\n`
        );
        expect(JSON.parse(await readFile(join(fake, 'test.json'), 'utf8'))).toEqual({});
      });

      it('asks on a terminal with echo off for the password, and never shows it', async () => {
        const a = await side();
        const tty = terminal(['alice\n', 'wonder', `land-secreX\u007ft\r`]);
        const r = await cli(['login', reg.host, '--allow-plaintext'], a.env, { stdin: tty });
        expect(r.code, r.err).toBe(0);
        expect(tty.modes).toEqual([true, false]); // raw (no echo) for the password only
        expect(r.err).toContain(`Username for ${reg.host}: `);
        expect(r.err).toContain(`Password for alice@${reg.host}: \n`);
        expect(r.out + r.err).not.toContain('wonderland');
        const config = JSON.parse(await readFile(join(a.dockerConfig, 'config.json'), 'utf8'));
        expect(Buffer.from(config.auths[reg.host].auth, 'base64').toString()).toBe(
          `alice:${PASSWORD}`
        );

        const b = await side();
        const cancelled = terminal(['hunt', '\u0003']);
        const stop = await cli(['login', reg.host, '-u', 'alice', '--allow-plaintext'], b.env, {
          stdin: cancelled,
        });
        expect(stop.code).toBe(1);
        expect(stop.err).toContain('runledger: ABORTED: Cancelled.');
        expect(cancelled.modes).toEqual([true, false]); // the terminal is restored
        expect(await exists(join(b.dockerConfig, 'config.json'))).toBe(false);
      });

      it('RUNLEDGER_AUTH_<HOST> comes first, and login/logout say it still applies', async () => {
        const a = await side();
        const env = { ...a.env, [variable]: `alice:${PASSWORD}` };
        const ref = `${reg.host}/acme/env:v1`;
        await stored(a, ref);
        const pushed = await cli(['push', ref], env);
        expect(pushed.code, pushed.err).toBe(0);

        const login = await cli(
          ['login', reg.host, '-u', 'alice', '--password-stdin', '--allow-plaintext', '--quiet'],
          env,
          { stdin: piped(PASSWORD) }
        );
        expect(login.code, login.err).toBe(0);
        expect(login.out).toBe('');
        expect(login.err).toContain(
          `warning: ${variable} is set and is used before the stored credentials`
        );
        const logout = await cli(['logout', reg.host], env);
        expect(logout.err).toBe(
          `warning: ${variable} is set and still supplies credentials for ${reg.host}.\n`
        );
      });
    });
  }
);
