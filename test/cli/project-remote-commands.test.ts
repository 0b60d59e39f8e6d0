/**
 * `runledger ls <project> --remote` and `runledger pull <project> --all-tags [--since DATE]`,
 * run in-process through `main()`: against the real docker-registry 2.8.2 behind
 * test/helpers/paging-proxy.ts (which pages its tag lists 3 at a time, as 2.8.2 does not), and,
 * for a `Link` to another origin, against a tiny lying server on 127.0.0.1.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { makeTempDir, removeTempDir } from '../helpers/exit-cleanup.js';
import { memoryIo } from '../helpers/memory-io.js';
import { startPagingProxy, type PagingProxy } from '../helpers/paging-proxy.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { pushExperiments, type PushedExperiment } from '../helpers/remote-project.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_DOCKER_REGISTRY, REGISTRY_SKIP_REASON } from '../helpers/tools.js';

if (!HAS_DOCKER_REGISTRY) console.warn(`skipping project CLI tests: ${REGISTRY_SKIP_REASON}`);

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** An environment with its own store and Docker config, nothing of the real user's. */
async function home(): Promise<Record<string, string>> {
  const dir = await tempDir('runledger-cli-home-');
  return { RUNLEDGER_HOME: dir, DOCKER_CONFIG: dir, HOME: dir, PATH: process.env['PATH'] ?? '' };
}

async function cli(args: string[], env: Record<string, string>) {
  const io = memoryIo(env);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('ls --remote and pull --all-tags: usage', () => {
  it('--help shows both', async () => {
    const help = await cli(['--help'], {});
    expect(help.out).toContain('  ls [prefix] [--all] | <project> --remote [registry options]');
    expect(help.out).toContain(
      '  pull <ref> [--as NAME] | <project> --all-tags [--since DATE] [registry options]'
    );
    expect(help.out).toContain('Registry options (push, pull, copy, login, ls --remote):');
  });

  it('exits 2 on arguments that do not fit, before the network', async () => {
    const env = await home();
    const p = '127.0.0.1:9/acme/qap';
    const cases: [string[], RegExp][] = [
      [['ls', '--remote'], /--remote lists the tags of a project on its registry: name it/],
      [['ls', `${p}:v1`, '--remote'], /name the repository alone \(127\.0\.0\.1:9\/acme\/qap\)/],
      [['ls', `${p}@sha256:${'a'.repeat(64)}`, '--remote'], /name the repository alone/],
      [['ls', p, '--remote', '--all'], /--all .* cannot go with --remote/],
      [['ls', 'runledger.local/demo/x', '--remote'], /local-only name/],
      [['ls', '--plain-http'], /--plain-http goes with --remote/],
      [['pull', `${p}:v1`, '--all-tags'], /--all-tags pulls a project: name the repository alone/],
      [['pull', p, '--all-tags', '--as', 'x/y:z'], /--as names one artifact/],
      [['pull', p, '--all-tags', '--since', 'yesterday'], /--since takes a date \(2026-12-01\)/],
      [['pull', p, '--all-tags', '--since', '2026-02-30'], /--since takes a date/],
      [['pull', `${p}:v1`, '--since', '2026-12-01'], /--since goes with --all-tags/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args, env);
      expect([r.code, r.out], args.join(' ')).toEqual([2, '']);
      expect(r.err, args.join(' ')).toMatch(/^runledger: USAGE: /);
      expect(r.err, args.join(' ')).toMatch(message);
    }
  });
});

describe.skipIf(!HAS_DOCKER_REGISTRY)('a project on docker-registry, 3 tags a page', () => {
  let server: RegistryServer;
  let proxy: PagingProxy;
  let project: string;
  let teammateRoot: string | undefined;
  let pushed: PushedExperiment[];

  beforeAll(async () => {
    server = await startRegistry();
    proxy = await startPagingProxy({ target: server.host, maxPage: 3 });
    project = `${proxy.host}/acme/qap`;
    teammateRoot = await makeTempDir('runledger-teammate-');
    const teammate = await LocalRegistry.open(teammateRoot);
    pushed = await pushExperiments(project, teammate, [
      { seed: 0, created: '2026-11-01T12:00:00.000Z' },
      { seed: 1, created: '2026-11-02T12:00:00.000Z' },
      { seed: 2, created: '2026-11-03T12:00:00.000Z' },
      { seed: 3 },
      { seed: 4 },
      { seed: 5 },
      { seed: 6 },
    ]);
    // The teammate's `latest` (on the last commit): 8 tags, 3 pages.
    const env = { RUNLEDGER_HOME: teammateRoot, HOME: teammateRoot, DOCKER_CONFIG: teammateRoot };
    expect((await cli(['push', `${project}:latest`, '-q'], env)).code).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await proxy?.stop();
    await server?.stop();
    if (teammateRoot !== undefined) await removeTempDir(teammateRoot);
  });

  /** The digest docker-registry itself gives for a tag (HEAD, straight to it). */
  async function registryDigest(tag: string): Promise<string | null> {
    const res = await fetch(`${server.url}/v2/acme/qap/manifests/${tag}`, {
      method: 'HEAD',
      headers: { accept: OCI_MANIFEST },
    });
    return res.headers.get('docker-content-digest');
  }

  it('ls --remote prints every tag of every page with its digest and time, oldest first', async () => {
    proxy.pages.length = 0;
    const r = await cli(['ls', project, '--remote'], await home());
    expect([r.code, r.err]).toEqual([0, '']);
    expect(proxy.pages.length).toBe(3);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TAG\s+DIGEST\s+CREATED \(UTC\)$/);
    const rows = lines.slice(1).map((l) => l.split(/\s{2,}/));
    expect(rows).toHaveLength(8);
    expect(rows.map((c) => c[0])).toEqual([...pushed.map((p) => p.tag), 'latest']);
    for (const [tag, digest, created] of rows as [string, string, string][]) {
      expect((await registryDigest(tag))?.slice(0, 19)).toBe(digest);
      const at = tag === 'latest' ? pushed[6]! : pushed.find((p) => p.tag === tag)!;
      expect(created).toBe(at.created.slice(0, 19).replace('T', ' '));
    }

    const json = await cli(['--json', 'ls', project, '--remote'], await home());
    expect(json.code).toBe(0);
    const listed = JSON.parse(json.out) as Record<string, unknown>[];
    expect(listed.map((t) => [t['tag'], t['digest'], t['created']])).toEqual(
      await Promise.all(
        [...pushed, { ...pushed[6]!, tag: 'latest' }].map(async (p) => [
          p.tag,
          await registryDigest(p.tag),
          p.created,
        ])
      )
    );
    expect(Object.keys(listed[0]!).sort()).toEqual(
      ['artifact_type', 'created', 'digest', 'media_type', 'reference', 'size', 'tag'].sort()
    );
  });

  it('ls --remote of a repository the registry lacks exits 1 with NOT_FOUND naming it', async () => {
    const r = await cli(['ls', `${proxy.host}/acme/absent`, '--remote'], await home());
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(`^runledger: NOT_FOUND: .*${proxy.host}/acme/absent does not exist`)
    );
  });

  it('pull --all-tags brings the whole project into an empty store; again, it skips all', async () => {
    const env = await home();
    const first = await cli(['pull', project, '--all-tags'], env);
    expect([first.code, first.err]).toEqual([0, '']);
    expect(first.out).toMatch(
      new RegExp(
        `^${project}: 8 tags; 7 pulled, 1 tagged, 0 skipped \\(already here\\); \\d+ of \\d+ blobs fetched, [\\d.]+ (B|KiB|MiB) in \\d+\\.\\d s\\n$`
      )
    );
    const ls = await cli(['--json', 'ls', `${project}:`], env);
    const refs = JSON.parse(ls.out) as { reference: string; digest: string }[];
    expect(refs.map((r) => r.reference).sort()).toEqual(
      [...pushed.map((p) => p.reference), `${project}:latest`].sort()
    );
    for (const p of pushed) {
      expect(refs.find((r) => r.reference === p.reference)?.digest).toBe(p.digest);
    }
    // The runs of every experiment are there to query.
    const runs = await cli(['--json', 'runs', project], env);
    expect(runs.code).toBe(0);
    const seeds = (JSON.parse(runs.out) as Record<string, unknown>[]).map((r) =>
      Number(r['params.seed'])
    );
    expect(seeds.sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);

    const again = await cli(['pull', project, '--all-tags'], env);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/: 8 tags; 0 pulled, 0 tagged, 8 skipped \(already here\); 0 of 0/);

    const json = await cli(['--json', 'pull', project, '--all-tags'], env);
    const report = JSON.parse(json.out) as Record<string, unknown>;
    expect([report['project'], report['pulled'], report['skipped']]).toEqual([project, 0, 8]);
    expect(await cli(['pull', project, '--all-tags', '-q'], env)).toMatchObject({ out: '' });
  });

  it('pull --all-tags --since takes the tags made since a date, and says how many it left out', async () => {
    const env = await home();
    const r = await cli(['pull', project, '--all-tags', '--since', '2026-11-02'], env);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toMatch(
      /: 7 tags, 1 made before 2026-11-02T00:00:00\.000Z left out; 6 pulled, 1 tagged, 0 skipped/
    );
    const refs = (
      JSON.parse((await cli(['--json', 'ls'], env)).out) as { reference: string }[]
    ).map((x) => x.reference);
    expect(refs).not.toContain(pushed[0]!.reference);
    expect(refs).toContain(pushed[1]!.reference);

    const stamp = await cli(
      ['pull', project, '--all-tags', '--since', '2026-11-02T12:00:00.001Z'],
      await home()
    );
    expect(stamp.out).toMatch(
      /: 6 tags, 2 made before 2026-11-02T12:00:00\.001Z left out; 5 pulled/
    );
  });
});

describe('a Link to another origin (a lying server on 127.0.0.1)', () => {
  let liar: Server;
  let other: Server;
  let otherRequests: string[];
  let host: string;
  beforeAll(async () => {
    otherRequests = [];
    other = createServer((req, res) => {
      otherRequests.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"name":"acme/x","tags":["stolen"]}');
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const otherPort = (other.address() as AddressInfo).port;
    liar = createServer((req, res) => {
      if (req.url?.startsWith('/v2/acme/x/tags/list') === true) {
        res.writeHead(200, {
          'content-type': 'application/json',
          link: `<http://127.0.0.1:${otherPort}/v2/acme/x/tags/list?last=a>; rel="next"`,
        });
        res.end('{"name":"acme/x","tags":["a"]}');
        return;
      }
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}');
    });
    await new Promise<void>((resolve) => liar.listen(0, '127.0.0.1', resolve));
    host = `127.0.0.1:${(liar.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => liar?.close(resolve));
    await new Promise((resolve) => other?.close(resolve));
  });

  it('ls --remote and pull --all-tags refuse it with REMOTE_REFUSED and never ask the other server', async () => {
    const env = await home();
    const ls = await cli(['ls', `${host}/acme/x`, '--remote'], env);
    expect([ls.code, ls.out]).toEqual([1, '']);
    expect(ls.err).toMatch(
      /^runledger: REMOTE_REFUSED: Refused the tag-list page link http:\/\/127\.0\.0\.1:\d+\/v2\/acme\/x\/tags\/list\?last=…: it leaves 127\.0\.0\.1:\d+\.\n/
    );
    const pull = await cli(['pull', `${host}/acme/x`, '--all-tags'], env);
    expect([pull.code, pull.out]).toEqual([1, '']);
    expect(pull.err).toMatch(/^runledger: REMOTE_REFUSED: Refused the tag-list page link/);
    expect(otherRequests).toEqual([]);
    expect(JSON.parse((await cli(['--json', 'ls'], env)).out)).toEqual([]);
  });
});
