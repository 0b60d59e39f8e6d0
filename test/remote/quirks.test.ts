/**
 * docker-registry 2.8.2's quirks (oci-reference §7, §13 case 14), each met with a specific,
 * actionable error or handled silently, against the real registry: tag lists that ignore `n`,
 * the 4 MiB manifest limit (refused before sending), plain-text 404 bodies, DELETE by tag,
 * `policy.repository.classes`, unknown repositories, missing tags, and deletion disabled.
 * Requests are read from a recording pass-through `fetch` (the real registry answers).
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteError } from '../../src/errors.js';
import { digestOf } from '../../src/oci/digest.js';
import { MEDIA_TYPE_MANIFEST } from '../../src/oci/media-types.js';
import type { Manifest } from '../../src/oci/types.js';
import { RemoteClient } from '../../src/remote/client.js';
import { errorFromResponse } from '../../src/remote/http.js';
import { MAX_PUSH_MANIFEST } from '../../src/remote/repository.js';
import { pullArtifact, pushArtifact } from '../../src/remote/transfer.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { expectCode } from '../helpers/expect-code.js';
import { recordingFetch } from '../helpers/recording-fetch.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_DOCKER_REGISTRY, REGISTRY_SKIP_REASON } from '../helpers/tools.js';

if (!HAS_DOCKER_REGISTRY) console.warn(`skipping registry quirk tests: ${REGISTRY_SKIP_REASON}`);

const enc = new TextEncoder();

/** A local store with one artifact published under `name`. */
async function withArtifact(name: string, layers: string[] = ['quirk layer']) {
  const registry = await LocalRegistry.open(await tempDir());
  const { descriptor } = await writeArtifact(registry, { layers });
  await registry.publishRef(name, descriptor);
  return { registry, descriptor };
}

function remoteError(e: unknown): RemoteError {
  expect(e).toBeInstanceOf(RemoteError);
  return e as RemoteError;
}

describe.skipIf(!HAS_DOCKER_REGISTRY)('docker-registry 2.8.2 quirks (§13.14)', () => {
  let server: RegistryServer;
  let imagesOnly: RegistryServer;
  let noDelete: RegistryServer;
  beforeAll(async () => {
    [server, imagesOnly, noDelete] = await Promise.all([
      startRegistry(),
      startRegistry({ repositoryClasses: ['image'] }),
      startRegistry({ deleteEnabled: false }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), imagesOnly?.stop(), noDelete?.stop()]);
  });

  it('tags/list ignores n: listTags({ pageSize: 2 }) still returns all 5 tags, sorted, in one request', async () => {
    const { registry } = await withArtifact('localhost/acme/tags:src');
    const tags = ['v10', 'beta', 'v2', 'alpha', '1.0'];
    for (const t of tags) {
      await pushArtifact('localhost/acme/tags:src', `${server.host}/acme/tags:${t}`, { registry });
    }
    // What 2.8.2 does with n=2: every tag, no Link header.
    const raw = await fetch(`${server.url}/v2/acme/tags/tags/list?n=2`);
    expect(raw.headers.get('link')).toBeNull();
    expect(((await raw.json()) as { tags: string[] }).tags).toHaveLength(5);

    const rec = recordingFetch();
    const repo = new RemoteClient({ fetch: rec.fetch }).repository(`${server.host}/acme/tags`);
    expect(await repo.listTags({ pageSize: 2 })).toEqual(['1.0', 'alpha', 'beta', 'v10', 'v2']);
    const pages = rec.find('/tags/list', 'GET');
    expect(pages).toHaveLength(1);
    expect(pages[0]!.url.searchParams.get('n')).toBe('2');
  });

  it('a manifest over 4 MiB is refused with MANIFEST_INVALID before any request (2.8.2 would answer 400)', async () => {
    const manifest: Manifest = {
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_MANIFEST,
      artifactType: 'application/vnd.runledger.test.v1',
      config: {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest: digestOf('{}'),
        size: 2,
      },
      layers: [],
      annotations: { padding: 'x'.repeat(MAX_PUSH_MANIFEST) },
    };
    const bytes = enc.encode(JSON.stringify(manifest));
    expect(bytes.byteLength).toBeGreaterThan(4 * 1024 * 1024);
    const rec = recordingFetch();
    const repo = new RemoteClient({ fetch: rec.fetch }).repository(`${server.host}/acme/big`);
    const err = await expectCode(
      repo.putManifest('v1', bytes, MEDIA_TYPE_MANIFEST),
      'MANIFEST_INVALID'
    );
    expect(err.message).toContain(`${bytes.byteLength} bytes`);
    expect(err.message).toContain('at most 4194304');
    expect(err.data).toMatchObject({ size: bytes.byteLength, limit: 4 * 1024 * 1024 });
    expect(rec.requests).toEqual([]);

    // Why: sent anyway, 2.8.2 answers 400 MANIFEST_INVALID ("request body too large"), not 413.
    const raw = await fetch(`${server.url}/v2/acme/big/manifests/v1`, {
      method: 'PUT',
      headers: { 'content-type': MEDIA_TYPE_MANIFEST },
      body: bytes,
    });
    expect(raw.status).toBe(400);
    expect(((await raw.json()) as { errors: { code: string }[] }).errors[0]!.code).toBe(
      'MANIFEST_INVALID'
    );
  });

  it("a plain-text 404 body ('404 page not found', no JSON) becomes NOT_FOUND quoting it", async () => {
    // 2.8.2's router answers a path it has no route for (here a 129-character tag) in plain text.
    const url = new URL(`/v2/acme/plain/manifests/${'t'.repeat(129)}`, server.url);
    const res = await fetch(url, { headers: { accept: MEDIA_TYPE_MANIFEST } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const err = await errorFromResponse(res, { method: 'GET', url }, 'fetch the manifest', {
      notFound: `${server.host}/acme/plain has no such manifest`,
    });
    expect(err.code).toBe('NOT_FOUND');
    expect(err.status).toBe(404);
    expect(err.registryErrors).toEqual([]);
    expect(err.message).toBe(
      `Could not fetch the manifest: ${server.host} answered 404 "404 page not found"; ${server.host}/acme/plain has no such manifest.`
    );
    // The client never sends such a tag: it is refused locally, before any request.
    const rec = recordingFetch();
    const repo = new RemoteClient({ fetch: rec.fetch }).repository(`${server.host}/acme/plain`);
    await expectCode(repo.fetchManifest('t'.repeat(129)), 'REFERENCE_INVALID');
    expect(rec.requests).toEqual([]);
  });

  it('deleteTag is PROTOCOL explaining that 2.8 only deletes by digest, and the tag survives', async () => {
    const { registry, descriptor } = await withArtifact('localhost/acme/del:src');
    for (const t of ['keep', 'drop']) {
      await pushArtifact('localhost/acme/del:src', `${server.host}/acme/del:${t}`, { registry });
    }
    const repo = new RemoteClient().repository(`${server.host}/acme/del`);
    const err = remoteError(await expectCode(repo.deleteTag('drop'), 'PROTOCOL'));
    expect(err.status).toBe(400);
    expect(err.method).toBe('DELETE');
    expect(err.registryErrors[0]?.code).toBe('DIGEST_INVALID');
    expect(err.message).toContain('only delete by digest');
    expect(err.message).toContain('removes every tag of that manifest');
    expect(err.message).toContain(`${server.host}/acme/del@<digest>`);
    expect((await repo.resolve('drop')).digest).toBe(descriptor.digest);
    expect((await repo.resolve('keep')).digest).toBe(descriptor.digest);
  });

  it('policy.repository.classes: an artifact is AUTHORIZATION (403 DENIED) explaining the policy; an image config passes', async () => {
    const { registry } = await withArtifact('localhost/acme/art:v1');
    const target = `${imagesOnly.host}/acme/art:v1`;
    const err = remoteError(
      await expectCode(pushArtifact('localhost/acme/art:v1', target, { registry }), 'AUTHORIZATION')
    );
    expect(err.status).toBe(403);
    expect(err.method).toBe('PUT');
    expect(err.registryErrors[0]).toMatchObject({ code: 'DENIED' });
    expect(err.registryErrors[0]?.message).toMatch(/unknown manifest class/);
    expect(err.message).toContain('policy.repository.classes');
    expect(err.message).toContain('ask its operator to allow OCI artifacts');
    expect(err.message).toContain(`${imagesOnly.host}/acme/art:v1`);
    const repo = new RemoteClient().repository(target);
    await expectCode(repo.resolve('v1'), 'NOT_FOUND');

    // The refusal is about the config type: the same layers under an image config are accepted.
    const batch = registry.batch();
    const config = await batch.putBlob(enc.encode('{"architecture":"amd64","os":"linux"}'));
    const layer = await batch.putBlob(enc.encode('image layer'));
    await batch.commit();
    const image = await registry.writeManifest({
      schemaVersion: 2,
      mediaType: MEDIA_TYPE_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...layer }],
    });
    await registry.publishRef('localhost/acme/image:v1', image);
    const pushed = await pushArtifact(
      'localhost/acme/image:v1',
      `${imagesOnly.host}/acme/art:img`,
      {
        registry,
      }
    );
    expect(pushed.digest).toBe(image.digest);
  });

  it('a manifest GET in an unknown repository is NOT_FOUND (2.8.2 says MANIFEST_UNKNOWN, not NAME_UNKNOWN)', async () => {
    const repo = new RemoteClient().repository(`${server.host}/nobody/here`);
    const err = remoteError(await expectCode(repo.fetchManifest('v1'), 'NOT_FOUND'));
    expect(err.status).toBe(404);
    expect(err.registryErrors[0]?.code).toBe('MANIFEST_UNKNOWN');
    expect(err.message).toContain(`${server.host}/nobody/here has no manifest v1`);
    await expectCode(repo.resolve('v1'), 'NOT_FOUND');
    // The tag list is where 2.8.2 does say NAME_UNKNOWN.
    const list = remoteError(await expectCode(repo.listTags(), 'NOT_FOUND'));
    expect(list.registryErrors[0]?.code).toBe('NAME_UNKNOWN');
    expect(list.message).toContain(`${server.host}/nobody/here does not exist`);
  });

  it('pulling a missing tag is NOT_FOUND naming the reference, and leaves the local store untouched', async () => {
    const { registry } = await withArtifact('localhost/acme/pull:v1');
    await pushArtifact('localhost/acme/pull:v1', `${server.host}/acme/pull:v1`, { registry });
    const fresh = await LocalRegistry.open(await tempDir());
    const err = remoteError(
      await expectCode(
        pullArtifact(`${server.host}/acme/pull:nope`, { registry: fresh }),
        'NOT_FOUND'
      )
    );
    expect(err.message).toContain(`${server.host}/acme/pull:nope`);
    expect(err.registryErrors[0]?.code).toBe('MANIFEST_UNKNOWN');
    expect(await fresh.listRefs()).toEqual([]);
    expect(await readdir(join(fresh.root, 'blobs', 'sha256'))).toEqual([]);
    expect((await fresh.fsck()).problems).toEqual([]);
  });

  it('with storage.delete disabled, deleteManifest is PROTOCOL naming storage.delete, and the manifest stays', async () => {
    const { registry, descriptor } = await withArtifact('localhost/acme/nodel:v1');
    const target = `${noDelete.host}/acme/nodel:v1`;
    await pushArtifact('localhost/acme/nodel:v1', target, { registry });
    const repo = new RemoteClient().repository(target);
    const err = remoteError(await expectCode(repo.deleteManifest(descriptor.digest), 'PROTOCOL'));
    expect(err.status).toBe(405);
    expect(err.message).toContain('storage.delete');
    expect(err.message).toContain(descriptor.digest);
    expect((await repo.resolve('v1')).digest).toBe(descriptor.digest);
  });
});
