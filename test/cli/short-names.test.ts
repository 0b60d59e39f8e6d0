/**
 * Short names and digest prefixes (issue 19, part 3): a reference that does not name its
 * registry is looked up in the local store, never read as a Docker Hub name; a digest prefix as
 * `ls` shows it works wherever a reference does.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import {
  isFullyQualified,
  resolveReference,
  resolveScope,
  resolveTarget,
} from '../../src/cli/resolve.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

async function cli(args: string[]) {
  const io = memoryIo({});
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

/**
 * A store with runledger.local/demo/lp-mip:latest, ghcr.io/acme/qap:v1 and :latest (one
 * manifest, tagged twice), ghcr.io/other/qap:v1 (another manifest), each one run.
 */
async function store(): Promise<{
  root: string;
  registry: LocalRegistry;
  digests: Map<string, string>;
}> {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  const digests = new Map<string, string>();
  for (const [ref, seed] of [
    ['runledger.local/demo/lp-mip:latest', 1],
    ['ghcr.io/acme/qap:v1', 2],
    ['ghcr.io/other/qap:v1', 3],
  ] as const) {
    const exp = await Experiment.create(ref, { registry });
    await exp.run((run) => run.logParameter('seed', seed));
    const sealed = await exp.commit();
    digests.set(ref, sealed.manifestDigest);
  }
  await registry.tag('ghcr.io/acme/qap:v1', 'ghcr.io/acme/qap:latest');
  return { root, registry, digests };
}

describe('isFullyQualified', () => {
  it('names a registry by a first component with . or :, or localhost', () => {
    for (const v of [
      'ghcr.io/a/b:v1',
      'localhost:5000/x',
      'localhost/x',
      'runledger.local/demo/lp-mip',
    ])
      expect(isFullyQualified(v), v).toBe(true);
    for (const v of [
      'lp-mip',
      'lp-mip:latest',
      'demo/lp-mip:latest',
      'qap@sha256:' + '0'.repeat(64),
    ])
      expect(isFullyQualified(v), v).toBe(false);
  });
});

describe('resolveReference', () => {
  it('finds the one local reference a short name ends with, tag given or latest', async () => {
    const { registry } = await store();
    const lp = 'runledger.local/demo/lp-mip:latest';
    expect(await resolveReference(registry, 'lp-mip:latest')).toBe(lp);
    expect(await resolveReference(registry, 'lp-mip')).toBe(lp);
    expect(await resolveReference(registry, 'demo/lp-mip')).toBe(lp);
    expect(await resolveReference(registry, 'acme/qap:v1')).toBe('ghcr.io/acme/qap:v1');
    // `qap` without a tag means qap:latest: only acme's has one.
    expect(await resolveReference(registry, 'qap')).toBe('ghcr.io/acme/qap:latest');
    // Only on a path boundary: `mip` is not `lp-mip`.
    await expect(resolveReference(registry, 'mip')).rejects.toMatchObject({
      code: 'REF_NOT_FOUND',
    });
    // Fully qualified: as given, not looked up.
    expect(await resolveReference(registry, 'ghcr.io/nothing/here:v9')).toBe(
      'ghcr.io/nothing/here:v9'
    );
  });

  it('lists the candidates when a short name matches several references', async () => {
    const { registry } = await store();
    const e = await resolveReference(registry, 'qap:v1').catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'USAGE' });
    expect(String((e as Error).message)).toContain('ghcr.io/acme/qap:v1, ghcr.io/other/qap:v1');
  });

  it('takes a digest prefix of 7 or more hex digits, with or without sha256:', async () => {
    const { registry, digests } = await store();
    const lp = digests.get('runledger.local/demo/lp-mip:latest') as string;
    expect(await resolveReference(registry, lp.slice(0, 19))).toBe(
      'runledger.local/demo/lp-mip:latest'
    );
    expect(await resolveReference(registry, lp.slice(7, 14))).toBe(
      'runledger.local/demo/lp-mip:latest'
    );
    expect(await resolveReference(registry, lp)).toBe('runledger.local/demo/lp-mip:latest');
    // Two references to one manifest: the first in ls order.
    const qap = digests.get('ghcr.io/acme/qap:v1') as string;
    expect(await resolveReference(registry, qap.slice(0, 19))).toBe('ghcr.io/acme/qap:latest');
    await expect(resolveReference(registry, 'sha256:abc')).rejects.toMatchObject({ code: 'USAGE' });
    await expect(resolveReference(registry, `sha256:${'f'.repeat(12)}`)).rejects.toMatchObject({
      code: 'REF_NOT_FOUND',
    });
  });

  it('resolves a short project name for runs and sql, and leaves prefixes alone', async () => {
    const { registry } = await store();
    expect(await resolveScope(registry, ['lp-mip', 'acme/qap:v1', 'ghcr.io/'])).toEqual([
      'runledger.local/demo/lp-mip',
      'ghcr.io/acme/qap:v1',
      'ghcr.io/',
    ]);
    await expect(resolveScope(registry, ['qap'])).rejects.toMatchObject({ code: 'USAGE' });
  });
});

describe('short names on the command line', () => {
  it('show, runs, solves, metrics, size, export and tag take a short name', async () => {
    const { root } = await store();
    const show = await cli(['--root', root, 'show', 'lp-mip:latest', '--json']);
    expect(show.code, show.err).toBe(0);
    expect(JSON.parse(show.out).reference).toBe('runledger.local/demo/lp-mip:latest');
    const runs = await cli(['--root', root, 'runs', 'lp-mip:latest', '--json']);
    expect(runs.code, runs.err).toBe(0);
    expect(JSON.parse(runs.out)).toHaveLength(1);
    // Without a tag, runs reads a short name as a project: every experiment of it.
    const project = await cli(['--root', root, 'runs', 'lp-mip', '--json']);
    expect(project.code, project.err).toBe(0);
    expect(JSON.parse(project.out)[0].experiment).toBe('runledger.local/demo/lp-mip:latest');
    for (const args of [
      ['solves', 'lp-mip'],
      ['metrics', 'lp-mip'],
      ['size', 'lp-mip'],
    ]) {
      const r = await cli(['--root', root, ...args]);
      expect(r.code, `${args.join(' ')}: ${r.err}`).toBe(0);
    }
    const out = join(await tempDir(), 'lp.ommx');
    const exported = await cli(['--root', root, 'export', 'lp-mip', out]);
    expect(exported.code, exported.err).toBe(0);
    expect(exported.out).toContain('Exported runledger.local/demo/lp-mip:latest');
    // push reads locally too: the short name is the local-only lp-mip, not docker.io/library/lp-mip.
    const push = await cli(['--root', root, 'push', 'lp-mip']);
    expect(push.code).toBe(2);
    expect(push.err).toContain('runledger.local/demo/lp-mip:latest is a local-only name');
    const tag = await cli(['--root', root, 'tag', 'lp-mip', 'runledger.local/demo/lp-mip:copy']);
    expect(tag.code, tag.err).toBe(0);
    // Now two lp-mip references, but only one :latest.
    expect((await cli(['--root', root, 'show', 'lp-mip'])).code).toBe(0);
  });

  it('a digest prefix from ls works where a reference does', async () => {
    const { root, digests } = await store();
    const ls = await cli(['--root', root, 'ls']);
    const lp = digests.get('runledger.local/demo/lp-mip:latest') as string;
    const shown = lp.slice(0, 19);
    expect(ls.out).toContain(shown);
    const show = await cli(['--root', root, 'show', shown, '--json']);
    expect(show.code, show.err).toBe(0);
    expect(JSON.parse(show.out).reference).toBe('runledger.local/demo/lp-mip:latest');
    const rm = await cli(['--root', root, 'rm', shown]);
    expect(rm.code, rm.err).toBe(0);
    expect(rm.out).toContain('Removed runledger.local/demo/lp-mip:latest');
  });

  it('ambiguity lists the candidates; a missing short name never means Docker Hub', async () => {
    const { root } = await store();
    const many = await cli(['--root', root, 'show', 'qap:v1']);
    expect(many.code).not.toBe(0);
    expect(many.err).toContain('USAGE');
    expect(many.err).toContain('ghcr.io/acme/qap:v1');
    expect(many.err).toContain('ghcr.io/other/qap:v1');
    const none = await cli(['--root', root, 'show', 'ubuntu']);
    expect(none.code).not.toBe(0);
    expect(none.err).toContain('REF_NOT_FOUND');
    expect(none.err).toContain('short name ubuntu');
    expect(none.err).not.toContain('docker.io');
  });
});

describe('short names as write targets (tag, import --as, pull --as)', () => {
  it('resolveTarget: a known repository keeps its registry, a new one goes under the source', async () => {
    const { registry } = await store();
    const lp = 'runledger.local/demo/lp-mip:latest';
    expect(await resolveTarget(registry, 'lp-mip:v2', lp)).toBe('runledger.local/demo/lp-mip:v2');
    // A bare tag names the source's repository.
    expect(await resolveTarget(registry, ':v3', lp)).toBe('runledger.local/demo/lp-mip:v3');
    // A repository the store does not have goes under the source's registry.
    expect(await resolveTarget(registry, 'study/new:v1', 'ghcr.io/acme/qap:v1')).toBe(
      'ghcr.io/study/new:v1'
    );
    // Without a source (import --as): the local registry name, never docker.io.
    expect(await resolveTarget(registry, 'fresh')).toBe('runledger.local/fresh:latest');
    // Fully qualified: as given.
    expect(await resolveTarget(registry, 'ghcr.io/x/y:z', lp)).toBe('ghcr.io/x/y:z');
    // A repository name several local ones end with is ambiguous: the candidates are listed.
    await expect(resolveTarget(registry, 'qap:v9', lp)).rejects.toMatchObject({
      code: 'USAGE',
      message: expect.stringContaining('ghcr.io/other/qap'),
    });
    // A digest is not a name to write.
    await expect(resolveTarget(registry, 'x@sha256:' + '0'.repeat(64), lp)).rejects.toMatchObject({
      code: 'USAGE',
    });
  });

  it('tag writes the short target next to its repository and prints the full name', async () => {
    const { root, registry } = await store();
    const tag = await cli(['--root', root, 'tag', 'lp-mip', 'lp-mip:v2']);
    expect(tag.code, tag.err).toBe(0);
    expect(tag.out).toContain('Tagged runledger.local/demo/lp-mip:v2 -> sha256:');
    const refs = (await registry.listRefs()).map((r) => r.reference);
    expect(refs).toContain('runledger.local/demo/lp-mip:v2');
    expect(refs.some((r) => r.startsWith('docker.io/'))).toBe(false);
    const bare = await cli(['--root', root, 'tag', 'lp-mip', ':best']);
    expect(bare.code, bare.err).toBe(0);
    expect(bare.out).toContain('runledger.local/demo/lp-mip:best');
  });

  it('import --as takes a short name as a local one', async () => {
    const { root } = await store();
    const file = join(await tempDir(), 'lp.ommx');
    expect((await cli(['--root', root, 'export', 'lp-mip', file])).code).toBe(0);
    const imported = await cli(['--root', root, 'import', file, '--as', 'lp-mip:imported']);
    expect(imported.code, imported.err).toBe(0);
    expect(imported.out).toContain('runledger.local/demo/lp-mip:imported');
    expect(imported.out).not.toContain('docker.io');
  });
});

describe('prune dry-run hint', () => {
  it('repeats --older-than and --experiments in the command it suggests', async () => {
    const { root } = await store();
    const registry = await LocalRegistry.open(root);
    const exp = await Experiment.create(undefined, { registry });
    await exp.run((run) => run.logParameter('seed', 9));
    await exp.commit();
    const dry = await cli(['--root', root, 'prune', '--experiments', '--older-than', '0s']);
    expect(dry.code, dry.err).toBe(0);
    expect(dry.out).toContain('prune --experiments --older-than 0s --delete');
  });
});
