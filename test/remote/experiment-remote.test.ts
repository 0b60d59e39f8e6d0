/**
 * The experiment-level remote API: push of a committed experiment, `Experiment.load` and
 * `Artifact.load` local first else pulled, OMMX's push-before-commit rule (§9.32) and OMMX's
 * remote error mapping (§9.74–9.77), against the real docker-registry 2.8.2.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RemoteError, isRunledgerError } from '../../src/errors.js';
import { Artifact } from '../../src/experiment/artifact.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import type { FetchLike } from '../../src/remote/http.js';
import { writeArtifact } from '../helpers/artifacts.js';
import { expectCode } from '../helpers/expect-code.js';
import { startRegistry, type RegistryServer } from '../helpers/registry-server.js';
import { tempDir } from '../helpers/temp.js';
import { HAS_DOCKER_REGISTRY, REGISTRY_SKIP_REASON } from '../helpers/tools.js';

if (!HAS_DOCKER_REGISTRY) console.warn(`skipping remote experiment tests: ${REGISTRY_SKIP_REASON}`);

describe.skipIf(!HAS_DOCKER_REGISTRY)('experiments and artifacts on a registry', () => {
  let server: RegistryServer;
  let basic: RegistryServer;
  beforeAll(async () => {
    [server, basic] = await Promise.all([startRegistry(), startRegistry({ auth: 'basic' })]);
  });
  afterAll(async () => {
    await Promise.all([server?.stop(), basic?.stop()]);
  });

  async function recorded(name: string, registry: LocalRegistry): Promise<Experiment> {
    const exp = await Experiment.create(name, { registry, handleSignals: false, journal: false });
    for (const seed of [1, 2, 3]) {
      await exp.run(async (run) => {
        run.logParameter('seed', seed);
        run.logParameter('solver', 'highs');
        run.logMetric('gap', 1 / seed);
        await run.logJson('settings', { seed, presolve: seed % 2 === 0 });
      });
    }
    return exp;
  }

  it('refuses to push an experiment that was never committed (OMMX §9.32), then pushes it once committed', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const name = `${server.host}/acme/study:uncommitted`;
    const exp = await recorded(name, registry);
    const err = await expectCode(exp.push(), 'EXPERIMENT_UNCOMMITTED');
    expect(err.message).toContain('must be committed');
    const sealed = await exp.commit();
    const viaExperiment = await exp.push();
    expect(viaExperiment.digest).toBe(sealed.manifestDigest);
    expect(viaExperiment.blobs.transferred).toBeGreaterThan(0);
    const again = await sealed.push();
    expect(again.upToDate).toBe(true);
    expect(again.blobs.transferred).toBe(0);
  });

  it('Experiment.load pulls what the local store lacks, then reads locally without the network', async () => {
    const a = await LocalRegistry.open(await tempDir());
    const name = `${server.host}/acme/study:v1`;
    const sealed = await (await recorded(name, a)).commit();
    const events: number[] = [];
    const report = await sealed.push({ onProgress: (p) => events.push(p.bytesDone) });
    expect(report.digest).toBe(sealed.manifestDigest);
    expect(events.at(-1)).toBe(report.bytes.total);

    const b = await LocalRegistry.open(await tempDir());
    const loaded = await Experiment.load(name, { registry: b });
    expect(loaded.manifestDigest).toBe(sealed.manifestDigest);
    expect(loaded.runs.map((r) => r.parameters)).toEqual(sealed.runs.map((r) => r.parameters));
    expect(await loaded.runs[1]!.getJson('settings')).toEqual({ seed: 2, presolve: true });
    expect((await b.fsck()).problems).toEqual([]);

    // Second load: the reference is local now, so a fetch that fails proves no request is made.
    const offline: FetchLike = () => Promise.reject(new Error('no network in this test'));
    const again = await Experiment.load(name, { registry: b, fetch: offline });
    expect(again.manifestDigest).toBe(sealed.manifestDigest);
    // pull: false keeps a missing reference local (the CLI's read commands use it).
    await expectCode(
      Experiment.load(`${server.host}/acme/study:absent`, {
        registry: b,
        pull: false,
        fetch: offline,
      }),
      'REF_NOT_FOUND'
    );
  });

  it('gc --delete --grace 0 between a pull publishing its blobs and its reference takes none of them', async () => {
    const a = await LocalRegistry.open(await tempDir());
    const name = `${server.host}/acme/study:gc-race`;
    const sealed = await (await recorded(name, a)).commit();
    await sealed.push();
    const b = await LocalRegistry.open(await tempDir());
    const publishRef = b.publishRef.bind(b);
    let deleted = -1;
    b.publishRef = async (...args: Parameters<typeof publishRef>) => {
      // The pulled blobs are in the store, no reference holds them yet: a gc runs now.
      deleted = (await b.gc({ delete: true, gracePeriod: 0 })).deleted.count;
      return publishRef(...args);
    };
    const loaded = await Experiment.load(name, { registry: b });
    expect(deleted).toBe(0);
    expect(loaded.manifestDigest).toBe(sealed.manifestDigest);
    expect((await b.fsck()).problems).toEqual([]);
  });

  it('pushes under another name with `to`, and Artifact.load pulls a plain artifact', async () => {
    const a = await LocalRegistry.open(await tempDir());
    const { descriptor } = await writeArtifact(a, { layers: ['alpha', 'beta'] });
    const local = `${server.host}/acme/plain:v1`;
    await a.publishRef(local, descriptor);
    const art = await Artifact.load(local, { registry: a });
    const other = `${server.host}/acme/plain-copy:v2`;
    const r = await art.push({ to: other });
    expect(r.reference).toBe(other);
    expect(r.digest).toBe(descriptor.digest);

    const b = await LocalRegistry.open(await tempDir());
    const pulled = await Artifact.load(other, { registry: b });
    expect(pulled.manifestDigest).toBe(descriptor.digest);
    expect(new TextDecoder().decode(await b.readBlob(pulled.layers[1]!.digest))).toBe('beta');
  });

  it('a local-only name is never pulled and cannot be pushed without a target', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const exp = await recorded('0123abcd.runledger.local/experiment:x', registry);
    const sealed = await exp.commit();
    const err = await expectCode(sealed.push(), 'REFERENCE_INVALID');
    expect(err.message).toContain('--to');
    await expectCode(
      Experiment.load('0123abcd.runledger.local/experiment:missing', { registry }),
      'REF_NOT_FOUND'
    );
  });

  it('maps a missing manifest to NOT_FOUND and a 401 to AUTHENTICATION, distinctly (OMMX §9.75–9.77)', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const missing = await expectCode(
      Experiment.load(`${server.host}/acme/nothing:here`, { registry }),
      'NOT_FOUND'
    );
    expect(missing).toBeInstanceOf(RemoteError);
    expect((missing as RemoteError).status).toBe(404);
    expect(missing.message).toContain(`${server.host}/acme/nothing`);
    const artMissing = await expectCode(
      Artifact.load(`${server.host}/acme/nothing:here`, { registry }),
      'NOT_FOUND'
    );
    expect(artMissing).toBeInstanceOf(RemoteError);

    const env = { HOME: await tempDir(), PATH: process.env['PATH'] };
    const denied = await expectCode(
      Experiment.load(`${basic.host}/acme/private:v1`, { registry, env }),
      'AUTHENTICATION'
    );
    expect((denied as RemoteError).status).toBe(401);
    expect(denied.message).toContain(`runledger login ${basic.host}`);
    // Nothing was published locally by the failed loads.
    expect(await registry.listRefs()).toEqual([]);
    expect(isRunledgerError(denied)).toBe(true);
  });
});
