/**
 * A project through the registry (issue 16, part 6): `listRemoteTags` lists a repository's tags
 * with the digest and time of each, reading the tag list page by page; `pullProject` brings every
 * tag (or those made since a time) home, skipping what is already here and fetching a manifest
 * shared by several tags once, so that `searchRuns` sees every run.
 *
 * The registry is the real docker-registry 2.8.2 on loopback. It answers a tag list whole,
 * whatever `n` asks and without `Link` (test/remote/quirks.test.ts), so it sits behind
 * test/helpers/paging-proxy.ts, which pages its tag lists as the OCI spec does (3 tags a page
 * here) and passes everything else through. Faults the registry cannot produce (a `Link` to
 * another origin, a lying `Docker-Content-Digest`) use the in-memory registry double.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RemoteError } from '../../src/errors.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { searchRuns } from '../../src/experiment/search.js';
import { digestOf } from '../../src/oci/digest.js';
import { MEDIA_TYPE_EXPERIMENT } from '../../src/experiment/config.js';
import { RemoteClient } from '../../src/remote/client.js';
import type { FetchLike } from '../../src/remote/http.js';
import { pullProject } from '../../src/remote/pull-project.js';
import { listRemoteTags, parseTime, type RemoteTag } from '../../src/remote/tags.js';
import { pullArtifact, pushArtifact } from '../../src/remote/transfer.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { makeTempDir, removeTempDir } from '../helpers/exit-cleanup.js';
import { expectCode, expectError } from '../helpers/expect-code.js';
import { startPagingProxy, type PagingProxy } from '../helpers/paging-proxy.js';
import { recordingFetch } from '../helpers/recording-fetch.js';
import { fetchDouble, MemoryRegistry, type Handler } from '../helpers/registry-double.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { pushExperiments, tagTime, type PushedExperiment } from '../helpers/remote-project.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_DOCKER_REGISTRY, REGISTRY_SKIP_REASON } from '../helpers/tools.js';

if (!HAS_DOCKER_REGISTRY) console.warn(`skipping project tag tests: ${REGISTRY_SKIP_REASON}`);

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('parseTime (the times --since and annotations take)', () => {
  it.each([
    ['2026-12-01', '2026-12-01T00:00:00.000Z'],
    ['2026-12-01T06:00:00Z', '2026-12-01T06:00:00.000Z'],
    ['2026-12-01T06:00:00.250Z', '2026-12-01T06:00:00.250Z'],
    ['2026-12-01T06:00:00.123456789Z', '2026-12-01T06:00:00.123Z'],
    ['2026-12-01T07:30:00+01:30', '2026-12-01T06:00:00.000Z'],
    ['2026-12-01T00:00:00-0500', '2026-12-01T05:00:00.000Z'],
    ['2026-12-01 06:00', '2026-12-01T06:00:00.000Z'],
    ['2026-12-01T06:00:00', '2026-12-01T06:00:00.000Z'],
    ['20261201T060000.500Z', '2026-12-01T06:00:00.500Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(parseTime(text).toISOString()).toBe(iso);
  });

  it.each([
    'yesterday',
    '',
    '2026-02-30',
    '2026-13-01',
    '2026-12-01T24:00:00Z',
    '2026-12-01T06:60:00Z',
    '2026-12-01T06:00:00+24:00',
    '12/01/2026',
    '1733032800',
    '20261201T060000.500Z-0a1b2c3d',
  ])('refuses %j with ARGUMENT_INVALID', (text) => {
    const e = expectError(() => parseTime(text), 'ARGUMENT_INVALID');
    expect(e.message).toMatch(/is not a date \(2026-12-01\) or a timestamp/);
  });
});

describe.skipIf(!HAS_DOCKER_REGISTRY)(
  'a project on docker-registry, tags paged 3 at a time',
  () => {
    let server: RegistryServer;
    let proxy: PagingProxy;
    let project: string;
    let teammateRoot: string | undefined;
    let teammate: LocalRegistry;
    let pushed: PushedExperiment[];
    /** What the listing must say: tag, digest and time of each, by time then tag. */
    let expected: { tag: string; digest: string; created: string }[];

    beforeAll(async () => {
      server = await startRegistry();
      proxy = await startPagingProxy({ target: server.host, maxPage: 3 });
      project = `${proxy.host}/acme/qap`;
      // The teammate's store lives for the whole suite (tempDir's go after each test).
      teammateRoot = await makeTempDir('runledger-teammate-');
      teammate = await LocalRegistry.open(teammateRoot);
      // Four made elsewhere in November (their time in the annotation), three now (in their tag).
      pushed = await pushExperiments(project, teammate, [
        { seed: 0, created: '2026-11-01T12:00:00.000Z' },
        { seed: 1, created: '2026-11-02T12:00:00.000Z' },
        { seed: 2, created: '2026-11-03T12:00:00.000Z' },
        { seed: 3, created: '2026-11-04T12:00:00.000Z' },
        { seed: 4 },
        { seed: 5 },
        { seed: 6 },
      ]);
      // `latest` (the last commit moved it) and a hand-made `v1` share manifests with project tags.
      await pushArtifact(`${project}:latest`, undefined, { registry: teammate });
      await pushArtifact(pushed[2]!.reference, `${project}:v1`, { registry: teammate });
      const last = pushed[6]!;
      expected = [
        ...pushed.map((p) => ({ tag: p.tag, digest: p.digest, created: p.created })),
        { tag: 'latest', digest: last.digest, created: tagTime(last.tag) },
        { tag: 'v1', digest: pushed[2]!.digest, created: '2026-11-03T12:00:00.000Z' },
      ].sort((a, b) =>
        a.created !== b.created ? (a.created < b.created ? -1 : 1) : a.tag < b.tag ? -1 : 1
      );
    }, 120_000);
    afterAll(async () => {
      await proxy?.stop();
      await server?.stop();
      if (teammateRoot !== undefined) await removeTempDir(teammateRoot);
    });

    /** The digest docker-registry itself gives for a tag (HEAD, straight to it, not through runledger). */
    async function registryDigest(tag: string): Promise<string | null> {
      const res = await fetch(`${server.url}/v2/acme/qap/manifests/${tag}`, {
        method: 'HEAD',
        headers: { accept: OCI_MANIFEST },
      });
      return res.headers.get('docker-content-digest');
    }

    it('the proxy pages the real tag list: 9 tags in 3 pages, each after the last', async () => {
      const first = await fetch(`${proxy.url}/v2/acme/qap/tags/list?n=1000`);
      expect(first.headers.get('link')).toMatch(
        /^<\/v2\/acme\/qap\/tags\/list\?n=3&last=[^>]+>; rel="next"$/
      );
      expect(((await first.json()) as { tags: string[] }).tags).toHaveLength(3);
      const whole = await fetch(`${server.url}/v2/acme/qap/tags/list`);
      expect(((await whole.json()) as { tags: string[] }).tags).toHaveLength(9);
    });

    it('listRemoteTags follows every page and gives each tag its verified digest and its time', async () => {
      proxy.pages.length = 0;
      const tags = await listRemoteTags(project);
      expect(proxy.pages).toHaveLength(3);
      expect(proxy.pages.map((u) => u.searchParams.get('last'))).toEqual([
        null,
        expect.any(String),
        expect.any(String),
      ]);
      expect(tags.map((t) => ({ tag: t.tag, digest: t.digest, created: t.created }))).toEqual(
        expected
      );
      for (const t of tags) {
        expect(t.digest).toBe(await registryDigest(t.tag));
        expect(t.reference).toBe(`${project}:${t.tag}`);
        expect(t.mediaType).toBe(OCI_MANIFEST);
        expect(t.artifactType).toBe(MEDIA_TYPE_EXPERIMENT);
      }
      // What the teammate's store holds under each name (v1 was made on the registry only).
      for (const t of tags) {
        const local = t.tag === 'v1' ? pushed[2]!.reference : t.reference;
        expect((await teammate.resolve(local)).digest).toBe(t.digest);
      }
    });

    it('asks each manifest at most 8 at a time, one GET per tag', async () => {
      const rec = recordingFetch();
      let inFlight = 0;
      let most = 0;
      const counting: FetchLike = async (input, init) => {
        inFlight++;
        most = Math.max(most, inFlight);
        try {
          return await rec.fetch(input, init);
        } finally {
          inFlight--;
        }
      };
      await listRemoteTags(project, { fetch: counting, pageSize: 2 });
      const manifests = rec.requests.filter((r) => r.url.pathname.includes('/manifests/'));
      expect(manifests.map((r) => r.method)).toEqual(Array(9).fill('GET'));
      expect(new Set(manifests.map((r) => r.url.pathname)).size).toBe(9);
      expect(most).toBeLessThanOrEqual(8);
      // pageSize is sent as n; the proxy's cap of 3 is above it, so 5 pages of 2.
      const pages = rec.find('/tags/list', 'GET');
      expect(pages).toHaveLength(5);
      expect(pages[0]!.url.searchParams.get('n')).toBe('2');
    });

    it('pullProject brings all 9 tags into an empty store, each manifest fetched once; searchRuns sees every run', async () => {
      const home = await LocalRegistry.open(await tempDir());
      const rec = recordingFetch();
      const report = await pullProject(project, { registry: home, fetch: rec.fetch });
      expect(report.project).toBe(project);
      expect([report.pulled, report.tagged, report.skipped, report.kept, report.older]).toEqual([
        7, 2, 0, 0, 0,
      ]);
      expect(report.tags.map((t) => [t.tag, t.result])).toEqual(
        expected.map((e) => [e.tag, e.tag === 'latest' || e.tag === 'v1' ? 'tagged' : 'pulled'])
      );
      // Blobs the experiments share (an equal config…) come once: later pulls find them here.
      expect(report.blobs.transferred + report.blobs.skipped).toBe(report.blobs.total);
      expect(report.blobs.transferred).toBeGreaterThan(7);
      expect(report.bytes.transferred).toBeGreaterThan(0);
      // Each manifest: one GET by tag while listing, one by digest while pulling — none twice.
      for (const p of pushed) {
        expect(rec.find(`/manifests/${p.digest}`, 'GET')).toHaveLength(1);
      }
      const refs = await home.listRefs({ prefix: `${project}:` });
      expect(
        refs.map((r) => [r.reference.slice(project.length + 1), r.descriptor.digest]).sort()
      ).toEqual(expected.map((e) => [e.tag, e.digest]).sort());
      expect((await home.fsck()).problems).toEqual([]);

      const runs = await searchRuns({
        experiments: project,
        registry: home,
        orderBy: 'params.seed',
      });
      // Every run of the 7 experiments; v1 is an experiment of its own name (latest is not).
      expect(runs.numRows).toBe(8);
      expect([...runs.getChild('params.seed')!.toArray()].map(Number)).toEqual([
        0, 1, 2, 2, 3, 4, 5, 6,
      ]);
      expect(new Set(runs.getChild('experiment')!.toArray())).toEqual(
        new Set([...pushed.map((p) => p.reference), `${project}:v1`])
      );
      const loaded = await Experiment.load(project, { registry: home, pull: false });
      expect(loaded.manifestDigest).toBe(pushed[6]!.digest);

      // Again: every tag is here under its name, so no manifest by digest and no blob is asked for.
      const again = recordingFetch();
      const second = await pullProject(project, { registry: home, fetch: again.fetch });
      expect([second.pulled, second.tagged, second.skipped]).toEqual([0, 0, 9]);
      expect(second.tags.every((t) => t.result === 'skipped')).toBe(true);
      expect(again.requests.filter((r) => r.url.pathname.includes('/blobs/'))).toEqual([]);
      expect(again.requests.filter((r) => /\/manifests\/sha256:/.test(r.url.pathname))).toEqual([]);
    });

    it('since keeps the tags made at or after a date or timestamp, and says how many it left out', async () => {
      const home = await LocalRegistry.open(await tempDir());
      const report = await pullProject(project, { registry: home, since: '2026-11-03' });
      expect(report.older).toBe(2);
      expect(report.tags.map((t) => t.tag).sort()).toEqual(
        expected
          .filter((e) => e.created >= '2026-11-03')
          .map((e) => e.tag)
          .sort()
      );
      expect([report.pulled, report.tagged]).toEqual([5, 2]);
      const names = (await home.listRefs()).map((r) => r.reference);
      expect(names).not.toContain(pushed[0]!.reference);
      expect(names).not.toContain(pushed[1]!.reference);
      expect(names).toContain(pushed[2]!.reference);

      // A timestamp a millisecond after the third leaves it (and v1, its alias) out as well.
      const later = await LocalRegistry.open(await tempDir());
      const r2 = await pullProject(project, {
        registry: later,
        since: new Date('2026-11-03T12:00:00.001Z'),
      });
      expect(r2.older).toBe(4);
      expect(r2.tags.map((t) => t.tag)).not.toContain('v1');
      // Nothing made since tomorrow: nothing pulled, no reference made.
      const none = await LocalRegistry.open(await tempDir());
      const r3 = await pullProject(project, {
        registry: none,
        since: new Date(Date.now() + 86_400_000),
      });
      expect([r3.tags.length, r3.older]).toEqual([0, 9]);
      expect(await none.listRefs()).toEqual([]);
      await expectCode(
        pullProject(project, { registry: none, since: 'last week' }),
        'ARGUMENT_INVALID'
      );
    });

    it('a local tag on another manifest is not moved: the other tags are pulled, then REF_CONFLICT names it', async () => {
      const home = await LocalRegistry.open(await tempDir());
      const { descriptor } = await writeArtifact(home, { layers: ['mine'] });
      await home.publishRef(`${project}:v1`, descriptor);
      const e = await expectCode(pullProject(project, { registry: home }), 'REF_CONFLICT');
      expect(e.message).toMatch(
        /^1 of 9 tags of \S+ could not be pulled \(the other 8 are in the store, so pulling again fetches only the missing ones\); the first, v1, failed: The local reference \S+:v1 already points at sha256:/
      );
      expect(e.data['tags']).toEqual(['v1']);
      expect((await home.resolve(`${project}:v1`)).digest).toBe(descriptor.digest);
      expect(await home.listRefs({ prefix: `${project}:` })).toHaveLength(9);
      // The other tag of that manifest still came: its content is fetched once, for it.
      expect((await home.resolve(pushed[2]!.reference)).digest).toBe(pushed[2]!.digest);
    });

    it('a manifest already stored under another name is tagged, not fetched again', async () => {
      const home = await LocalRegistry.open(await tempDir());
      await pullArtifact(pushed[0]!.reference, { registry: home, as: 'localhost/elsewhere:copy' });
      const rec = recordingFetch();
      const report = await pullProject(project, { registry: home, fetch: rec.fetch });
      expect(report.tags.find((t) => t.tag === pushed[0]!.tag)?.result).toBe('tagged');
      expect([report.pulled, report.tagged]).toEqual([6, 3]);
      expect(rec.find(`/manifests/${pushed[0]!.digest}`, 'GET')).toEqual([]);
      expect((await home.resolve(pushed[0]!.reference)).digest).toBe(pushed[0]!.digest);
    });

    it('refuses a reference with a tag or digest, and a local-only name', async () => {
      const home = await LocalRegistry.open(await tempDir());
      for (const ref of [`${project}:v1`, `${project}@${pushed[0]!.digest}`]) {
        const e = await expectCode(pullProject(ref, { registry: home }), 'ARGUMENT_INVALID');
        expect(e.message).toContain(`name the repository alone (${project})`);
      }
      await expectCode(
        pullProject('runledger.local/demo/x', { registry: home }),
        'REFERENCE_INVALID'
      );
      await expectCode(listRemoteTags(`${proxy.host}/acme/none`), 'NOT_FOUND');
    });

    it('latest follows the registry when it pointed at a manifest the registry has, and stays on local work', async () => {
      const moving = `${proxy.host}/acme/moving`;
      const author = await LocalRegistry.open(await tempDir());
      const [one] = await pushExperiments(moving, author, [{ seed: 1 }]);
      await pushArtifact(`${moving}:latest`, undefined, { registry: author });
      const follower = await LocalRegistry.open(await tempDir());
      await pullProject(moving, { registry: follower });
      expect((await follower.resolve(`${moving}:latest`)).digest).toBe(one!.digest);

      // The author commits again and pushes latest: the follower's latest moves on.
      const [two] = await pushExperiments(moving, author, [{ seed: 2 }]);
      await pushArtifact(`${moving}:latest`, undefined, { registry: author });
      const report = await pullProject(moving, { registry: follower });
      const latest = report.tags.find((t) => t.tag === 'latest');
      expect(latest).toMatchObject({
        result: 'tagged',
        digest: two!.digest,
        previous: one!.digest,
      });
      expect((await follower.resolve(`${moving}:latest`)).digest).toBe(two!.digest);

      // A store whose latest is its own unpushed commit keeps it.
      const busy = await LocalRegistry.open(await tempDir());
      const mine = await Experiment.create(moving, {
        registry: busy,
        handleSignals: false,
        journal: false,
      });
      await mine.run((run) => {
        run.logParameter('seed', 99);
      });
      const own = await mine.commit();
      const kept = await pullProject(moving, { registry: busy });
      expect(kept.tags.find((t) => t.tag === 'latest')?.result).toBe('kept');
      expect(kept.kept).toBe(1);
      expect((await busy.resolve(`${moving}:latest`)).digest).toBe(own.manifestDigest);
      expect((await busy.resolve(two!.reference)).digest).toBe(two!.digest);
    });
  }
);

describe('hostile and lying registries (registry double)', () => {
  /** A registry double whose tag list answers with `page(i)` for the i-th request. */
  function tagPages(page: (i: number) => Response): {
    double: ReturnType<typeof fetchDouble>;
    client: RemoteClient;
    remote: MemoryRegistry;
  } {
    const remote = new MemoryRegistry();
    let i = 0;
    const tags: Handler = (r) =>
      r.url.pathname === '/v2/acme/x/tags/list' ? page(i++) : undefined;
    const double = fetchDouble(tags, remote.handle);
    const client = new RemoteClient({ fetch: double.fetch, sleep: async () => undefined });
    return { double, client, remote };
  }
  const tagJson = (tags: string[], link?: string): Response =>
    new Response(JSON.stringify({ name: 'acme/x', tags }), {
      status: 200,
      headers: {
        'content-type': 'application/json',
        ...(link === undefined ? {} : { link: `<${link}>; rel="next"` }),
      },
    });

  it('refuses a tag-list Link to another origin: nothing requested there, no manifest fetched, nothing stored', async () => {
    const { double, client, remote } = tagPages(() =>
      tagJson(['a'], 'https://evil.example/v2/acme/x/tags/list?last=a')
    );
    remote.seed('acme/x', 'a', [new TextEncoder().encode('a')]);
    const listed = (await expectCode(
      listRemoteTags('registry.example/acme/x', { client }),
      'REMOTE_REFUSED'
    )) as RemoteError;
    expect(listed.message).toMatch(
      /^Refused the tag-list page link https:\/\/evil\.example\/.* it leaves registry\.example\.$/
    );
    const home = await LocalRegistry.open(await tempDir());
    await expectCode(
      pullProject('registry.example/acme/x', { client, registry: home }),
      'REMOTE_REFUSED'
    );
    expect(double.to('evil.example')).toEqual([]);
    expect(double.requests.filter((r) => r.url.pathname.includes('/manifests/'))).toEqual([]);
    expect(await home.listRefs()).toEqual([]);
  });

  it('a manifest whose bytes do not match its Docker-Content-Digest fails the listing with DIGEST_MISMATCH', async () => {
    const remote = new MemoryRegistry();
    remote.seed('acme/x', 'good', [new TextEncoder().encode('good')]);
    const { digest } = remote.seed('acme/x', 'bad', [new TextEncoder().encode('bad')]);
    const liar: Handler = async (r) => {
      if (!r.url.pathname.endsWith('/manifests/bad')) return undefined;
      const real = (await remote.handle(r)) as Response;
      const headers = new Headers(real.headers);
      headers.set('docker-content-digest', digestOf(new TextEncoder().encode('other')));
      return new Response(await real.arrayBuffer(), { status: 200, headers });
    };
    const double = fetchDouble(liar, remote.handle);
    const e = (await expectCode(
      listRemoteTags('registry.example/acme/x', { fetch: double.fetch }),
      'DIGEST_MISMATCH'
    )) as RemoteError;
    expect(e.message).toContain(`registry.example/acme/x:bad`);
    expect(e.message).toContain(digest);
  });

  it('does not pull the sha256-<hex> tags of the referrers tag schema (the registry bookkeeping)', async () => {
    const remote = new MemoryRegistry();
    const { digest } = remote.seed('acme/x', 'v1', [new TextEncoder().encode('v1')]);
    const index = `sha256-${digest.slice(7)}`;
    remote.seed('acme/x', index, [new TextEncoder().encode('an index, as far as this test cares')]);
    const double = fetchDouble(remote.handle);
    const listed = await listRemoteTags('registry.example/acme/x', { fetch: double.fetch });
    expect(listed.map((t) => t.tag).sort()).toEqual([index, 'v1'].sort());
    const home = await LocalRegistry.open(await tempDir());
    const report = await pullProject('registry.example/acme/x', {
      fetch: double.fetch,
      registry: home,
    });
    expect(report.tags.map((t) => [t.tag, t.result])).toEqual([['v1', 'pulled']]);
    expect((await home.listRefs()).map((r) => r.reference)).toEqual(['registry.example/acme/x:v1']);
  });

  it('leaves out tags that are not tags (they could not be addressed) and tags deleted meanwhile', async () => {
    const remote = new MemoryRegistry();
    remote.seed('acme/x', 'v1', [new TextEncoder().encode('v1')]);
    const tags: Handler = (r) =>
      r.url.pathname === '/v2/acme/x/tags/list'
        ? tagJson(['v1', '../../blobs/x', 'gone', '\u001b[31mred', '-dash'])
        : undefined;
    const double = fetchDouble(tags, remote.handle);
    const listed: RemoteTag[] = await listRemoteTags('registry.example/acme/x', {
      fetch: double.fetch,
    });
    expect(listed.map((t) => [t.tag, t.created])).toEqual([['v1', null]]);
    const asked = double.requests.filter((r) => r.url.pathname.includes('/manifests/'));
    expect(asked.map((r) => r.url.pathname).sort()).toEqual([
      '/v2/acme/x/manifests/gone',
      '/v2/acme/x/manifests/v1',
    ]);
  });
});
