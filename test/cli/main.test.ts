import { readFile, rm, writeFile } from 'node:fs/promises';
import { utimes } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

async function storeWithRef(ref = 'ghcr.io/acme/qap:v1') {
  const root = await tempDir();
  const registry = await LocalRegistry.open(root);
  const artifact = await writeArtifact(registry, { layers: ['aaaa', 'bb'] });
  await registry.publishRef(ref, artifact.descriptor);
  return { root, registry, ...artifact };
}

async function cli(args: string[], env: Record<string, string> = {}) {
  const io = memoryIo(env);
  const code = await main(args, io);
  return { code, out: io.out(), err: io.err() };
}

describe('runledger CLI', () => {
  it('prints help and version, and exits 2 on usage errors', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const c of [
      'demo',
      'ls',
      'show',
      'runs',
      'solves',
      'get',
      'tag',
      'rm',
      'restore',
      'gc',
      'fsck',
      'size',
    ])
      expect(help.out).toContain(`  ${c}`);
    const version = await cli(['--version']);
    expect(version.out.trim()).toBe(JSON.parse(await readFile('package.json', 'utf8')).version);
    const none = await cli([]);
    expect(none.code).toBe(0);
    expect(none.out).toBe(help.out);
    expect((await cli(['frobnicate'])).code).toBe(2);
    expect((await cli(['ls', '--bogus'])).code).toBe(2);
    expect((await cli(['tag', 'only-one'])).err).toContain('usage: runledger tag');
  });

  it('ls lists references as a table and as JSON, from --root or RUNLEDGER_HOME', async () => {
    const { root, descriptor } = await storeWithRef();
    const table = await cli(['--root', root, 'ls']);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^REFERENCE\s+DIGEST\s+TYPE\s+STATUS\s+RUNS\s+UPDATED \(UTC\)\n/);
    expect(table.out).toContain('ghcr.io/acme/qap:v1');
    expect(table.out).toContain(descriptor.digest.slice(0, 19));
    const json = await cli(['ls', '--json'], { RUNLEDGER_HOME: root });
    expect(JSON.parse(json.out)).toEqual([
      {
        reference: 'ghcr.io/acme/qap:v1',
        digest: descriptor.digest,
        type: 'application/vnd.runledger.test.v1',
        updated_at: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
      },
    ]);
    expect(JSON.parse((await cli(['--root', root, 'ls', 'docker.io/', '--json'])).out)).toEqual([]);
  });

  it('tag, rm and restore round-trip with a printed rollback command', async () => {
    const { root, descriptor } = await storeWithRef();
    expect(
      (await cli(['--root', root, 'tag', 'ghcr.io/acme/qap:v1', 'ghcr.io/acme/qap:best'])).code
    ).toBe(0);
    const removed = await cli(['--root', root, 'rm', 'ghcr.io/acme/qap:best']);
    expect(removed.code).toBe(0);
    expect(removed.out).toContain(`runledger restore ghcr.io/acme/qap:best ${descriptor.digest}`);
    const again = await cli(['--root', root, 'rm', 'ghcr.io/acme/qap:best']);
    expect(again.code).toBe(1);
    expect(again.err).toMatch(
      /^runledger: REF_NOT_FOUND: Reference ghcr\.io\/acme\/qap:best is not in the store/
    );
    expect(again.err).toContain('hint: ');
    const restored = await cli([
      '--root',
      root,
      'restore',
      'ghcr.io/acme/qap:best',
      descriptor.digest,
      '--json',
    ]);
    expect(JSON.parse(restored.out)).toEqual({
      reference: 'ghcr.io/acme/qap:best',
      digest: descriptor.digest,
      result: 'created',
    });
  });

  it('refuses a tag that would move a reference', async () => {
    const { root, registry } = await storeWithRef();
    const other = await writeArtifact(registry, { layers: ['other'] });
    await registry.publishRef('ghcr.io/acme/qap:v2', other.descriptor);
    const r = await cli(['--root', root, 'tag', 'ghcr.io/acme/qap:v2', 'ghcr.io/acme/qap:v1']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^runledger: REF_CONFLICT: /);
  });

  it('size, gc and fsck report in text and JSON; fsck exits 1 when unhealthy', async () => {
    const { root, registry, descriptor, manifest } = await storeWithRef();
    const size = JSON.parse(
      (await cli(['--root', root, 'size', 'ghcr.io/acme/qap:v1', '--json'])).out
    );
    expect(size).toEqual([
      {
        reference: 'ghcr.io/acme/qap:v1',
        digest: descriptor.digest,
        size: descriptor.size + manifest.config.size + 6,
        blobs: 4,
      },
    ]);

    const orphan = await registry.putBlob(new TextEncoder().encode('orphan'));
    const old = new Date(Date.now() - 48 * 3_600_000);
    await utimes((await registry.statBlob(orphan.digest)).path, old, old);
    const dry = await cli(['--root', root, 'gc']);
    expect(dry.out).toContain('Dry run: nothing deleted');
    expect(await registry.hasBlob(orphan.digest)).toBe(true);
    const real = JSON.parse(
      (await cli(['--root', root, 'gc', '--delete', '--grace', '1h', '--json'])).out
    );
    expect(real.deleted.count).toBe(1);
    expect(await registry.hasBlob(orphan.digest)).toBe(false);
    expect((await cli(['--root', root, 'gc', '--grace', 'soon'])).err).toMatch(
      /^runledger: ARGUMENT_INVALID: /
    );

    expect((await cli(['--root', root, 'fsck'])).code).toBe(0);
    const layer = manifest.layers[0]!;
    await writeFile((await registry.statBlob(layer.digest)).path, 'aaab');
    const bad = await cli(['--root', root, 'fsck']);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain(`corrupt: ${layer.digest}`);
    expect(bad.out).toContain('UNHEALTHY');
    await rm((await registry.statBlob(layer.digest)).path);
    const json = await cli(['--root', root, 'fsck', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out).problems[0]).toMatchObject({
      kind: 'missing',
      digest: layer.digest,
    });
  });

  it('prints typed errors as one line plus a hint, or as JSON with --json', async () => {
    const file = `${await tempDir()}/not-a-dir`;
    await writeFile(file, 'x');
    const text = await cli(['--root', file, 'ls']);
    expect(text.code).toBe(1);
    expect(text.err.split('\n')[0]).toBe(
      `runledger: LAYOUT_INVALID: ${file} is not a runledger store: it is a file, not a directory.`
    );
    const json = await cli(['--root', file, 'ls', '--json']);
    expect(JSON.parse(json.err).error).toMatchObject({
      code: 'LAYOUT_INVALID',
      data: { root: file },
    });
    const bad = await cli([
      '--root',
      await tempDir(),
      'restore',
      'ghcr.io/a/b:1',
      'sha256:../../x',
    ]);
    expect(bad.err).toMatch(/^runledger: DIGEST_INVALID: /);
  });
});
