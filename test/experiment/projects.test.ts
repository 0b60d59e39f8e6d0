/**
 * Projects: a reference without a tag names a project; each experiment committed into it gets a
 * fresh sortable tag and `:latest` follows the newest, so re-running a study never conflicts.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { listProjects } from '../../src/experiment/list.js';
import {
  isProjectTag,
  namesRepository,
  parseReference,
  projectTag,
} from '../../src/oci/reference.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode } from '../helpers/expect-code.js';
import { memoryIo } from '../helpers/memory-io.js';
import { tempDir } from '../helpers/temp.js';

const PROJECT = 'ghcr.io/acme/qap';

/** The same study, run again: two runs, then commit. */
async function study(registry: LocalRegistry, reference: string, seed: number) {
  const exp = await Experiment.create(reference, { registry, handleSignals: false });
  for (const s of [seed, seed + 1]) await exp.run((run) => run.logParameter('seed', s));
  return exp.commit();
}

describe('project references', () => {
  it('tells a repository from a tagged or pinned reference, and makes sortable tags', () => {
    expect(namesRepository('ghcr.io/acme/qap')).toBe(true);
    expect(namesRepository('localhost:5000/qap')).toBe(true);
    expect(namesRepository('qap')).toBe(true);
    expect(namesRepository('ghcr.io/acme/qap:v1')).toBe(false);
    expect(namesRepository('localhost:5000/qap:v1')).toBe(false);
    expect(namesRepository(`ghcr.io/acme/qap@sha256:${'a'.repeat(64)}`)).toBe(false);
    const tag = projectTag('0a1b2c3d', new Date(Date.UTC(2026, 11, 6, 6, 1, 13, 500)));
    expect(tag).toBe('20261206T060113.500Z-0a1b2c3d');
    expect(isProjectTag(tag)).toBe(true);
    expect(isProjectTag('v1')).toBe(false);
    expect(isProjectTag(undefined)).toBe(false);
    const later = projectTag('00000000', new Date(Date.UTC(2026, 11, 6, 6, 1, 14)));
    expect([later, tag].sort()).toEqual([tag, later]);
  });

  it('re-running a study into a project never conflicts: fresh tags, :latest follows, old tags kept', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const first = await study(registry, PROJECT, 1);
    const second = await study(registry, PROJECT, 10);
    const third = await study(registry, PROJECT, 100);
    const refs = [first, second, third].map((s) => parseReference(s.reference));
    expect(refs.every((r) => `${r.registry}/${r.repository}` === PROJECT)).toBe(true);
    expect(refs.every((r) => isProjectTag(r.tag))).toBe(true);
    expect(new Set(refs.map((r) => r.tag)).size).toBe(3);
    // :latest is the third; each tag still reads its own study.
    expect((await registry.resolve(`${PROJECT}:latest`)).digest).toBe(third.manifestDigest);
    const latest = await Experiment.load(PROJECT, { registry });
    expect(latest.runs.map((r) => r.parameters['seed'])).toEqual([100n, 101n]);
    const old = await Experiment.load(first.reference, { registry });
    expect(old.runs.map((r) => r.parameters['seed'])).toEqual([1n, 2n]);
    // The project is the repository: the runs table says so.
    expect((await latest.runsDf()).getChild('project')?.get(0)).toBe('acme/qap');
  });

  it('an explicit tag keeps insert-or-conflict', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    await study(registry, `${PROJECT}:v1`, 1);
    await expectCode(study(registry, `${PROJECT}:v1`, 2), 'REF_CONFLICT');
  });

  it('a restored project experiment moves :latest when it commits', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const before = await study(registry, PROJECT, 1);
    const exp = await Experiment.create(PROJECT, { registry, handleSignals: false });
    await exp.run((run) => run.logParameter('seed', 7));
    await exp.checkpoint();
    const restored = await Experiment.restoreFromCheckpoint(exp.reference, {
      registry,
      handleSignals: false,
    });
    await restored.run((run) => run.logParameter('seed', 8));
    const sealed = await restored.commit();
    expect(sealed.reference).toBe(exp.reference);
    expect((await registry.resolve(`${PROJECT}:latest`)).digest).toBe(sealed.manifestDigest);
    expect((await registry.resolve(before.reference)).digest).toBe(before.manifestDigest);
  });

  it('lists projects with their experiments, runs and latest tag (listProjects, runledger projects)', async () => {
    const root = await tempDir();
    const registry = await LocalRegistry.open(root);
    await study(registry, PROJECT, 1);
    const last = await study(registry, PROJECT, 3);
    await study(registry, 'ghcr.io/acme/tsp:v1', 5);
    const projects = await listProjects({ registry });
    expect(projects.map((p) => [p.reference, p.project, p.experiments, p.runCount])).toEqual([
      ['ghcr.io/acme/qap', 'acme/qap', 2, 4],
      ['ghcr.io/acme/tsp', 'acme/tsp', 1, 2],
    ]);
    expect(projects[0]?.latest).toBe(parseReference(last.reference).tag);
    expect(projects[1]?.latest).toBe('v1');

    const io = memoryIo();
    expect(await main(['--root', root, 'projects'], io)).toBe(0);
    const lines = io.out().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^PROJECT\s+EXPERIMENTS\s+RUNS\s+LATEST\s+UPDATED \(UTC\)$/);
    expect(lines[1]).toMatch(/^ghcr\.io\/acme\/qap\s+2\s+4\s+\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}\s/);
    expect(lines[2]).toMatch(/^ghcr\.io\/acme\/tsp\s+1\s+2\s+v1\s/);
    const json = memoryIo();
    expect(await main(['--root', root, '--json', 'projects', 'ghcr.io/acme/t'], json)).toBe(0);
    expect((JSON.parse(json.out()) as { reference: string }[]).map((p) => p.reference)).toEqual([
      'ghcr.io/acme/tsp',
    ]);
  });
});
