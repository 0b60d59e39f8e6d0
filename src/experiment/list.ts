/**
 * @module experiment/list
 * Discovery: the committed experiments of a local registry, with OMMX's `ExperimentRef` fields.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ioError, isRunledgerError, RunledgerError } from '../errors.js';
import { blobPath } from '../oci/layout.js';
import { compareCodePoints } from '../formats/code-points.js';
import { parseReference } from '../oci/reference.js';
import { readDerived, writeDerived } from '../store/derived.js';
import type { Digest } from '../oci/digest.js';
import type { Annotations } from '../oci/types.js';
import { LocalRegistry } from '../store/local-registry.js';
import type { RefEntry } from '../store/types.js';
import {
  MEDIA_TYPE_EXPERIMENT,
  MEDIA_TYPE_EXPERIMENT_CONFIG,
  type ExperimentStatus,
} from './config.js';
import { parseExperimentConfig } from './config.js';

/** One committed experiment, as OMMX's `list_experiments` describes it. */
export interface ExperimentRef {
  readonly imageName: string;
  readonly manifestDigest: Digest;
  readonly configDigest: Digest;
  /** When the reference was last set (RFC 3339); absent for references other tools wrote. */
  readonly updatedAt: string | undefined;
  readonly status: ExperimentStatus;
  readonly runCount: number;
  readonly solveCount: number;
  readonly samplingCount: number;
  readonly annotations: Annotations;
  /** The full config JSON. */
  readonly config: Readonly<Record<string, unknown>>;
}

/** Options of {@link listExperiments}. */
export interface ListExperimentsOptions {
  /** Only references starting with this text (the full `host/repo:tag`). */
  readonly prefix?: string;
  /** @default LocalRegistry.open() */
  readonly registry?: LocalRegistry;
}

/**
 * Lists the committed experiments of the local registry, ordered by reference. Checkpoints and
 * other artifacts are left out; an experiment whose blobs are damaged is left out too (run
 * `runledger fsck` to find it).
 * @param options - prefix, registry
 * @returns the experiments
 * @throws RunledgerError `LAYOUT_INVALID`
 * @example
 * ```ts
 * const names = (await listExperiments({ prefix: 'ghcr.io/acme/' })).map((e) => e.imageName);
 * ```
 */
export async function listExperiments(
  options: ListExperimentsOptions = {}
): Promise<ExperimentRef[]> {
  const registry = options.registry ?? (await LocalRegistry.open());
  const refs = await registry.listRefs(
    options.prefix === undefined ? {} : { prefix: options.prefix }
  );
  const out: ExperimentRef[] = [];
  for (const ref of refs) {
    // index.json entries written by other tools may lack artifactType: read the manifest then.
    if (
      ref.descriptor.artifactType !== undefined &&
      ref.descriptor.artifactType !== MEDIA_TYPE_EXPERIMENT
    )
      continue;
    const listed = await readListed(registry, ref);
    if (listed === undefined) continue;
    // Copied by descriptor: `config` stays a getter, read only when asked for.
    const entry = { imageName: ref.reference };
    for (const [key, d] of Object.entries(Object.getOwnPropertyDescriptors(listed))) {
      if (key !== 'requestedImageName' && key !== 'reason') Object.defineProperty(entry, key, d);
    }
    out.push(entry as ExperimentRef);
  }
  return out;
}

/** A project of the local registry: the experiments of one repository (`listProjects`). */
export interface ProjectRef {
  /** `registry/repository`, e.g. `ghcr.io/acme/qap`: what `Experiment.create` takes to add one. */
  readonly reference: string;
  /** The repository part: the `project` column of runs tables. */
  readonly project: string;
  /** Its experiments (tags; `:latest` when it only follows another tag is not counted). */
  readonly experiments: number;
  /** Runs across them. */
  readonly runCount: number;
  /** The tag `:latest` points at, else the one updated last. */
  readonly latest: string | undefined;
  /** When its newest reference was written (ISO 8601). */
  readonly updatedAt: string | undefined;
}

/**
 * The projects of the local registry: its experiments grouped by repository, sorted by name.
 * A reference given without a tag (`Experiment.create('ghcr.io/acme/qap')`) adds an experiment
 * to its project under a fresh `<UTC time>-<nonce>` tag and moves `:latest` to it.
 * @param options - registry, prefix
 * @returns one entry per repository that holds an experiment
 * @throws RunledgerError `LAYOUT_INVALID`, `IO_ERROR`
 * @example
 * ```ts
 * (await listProjects()).map((p) => `${p.reference} ${p.experiments}`);
 * ```
 */
export async function listProjects(options: ListExperimentsOptions = {}): Promise<ProjectRef[]> {
  const byRepository = new Map<string, ExperimentRef[]>();
  for (const e of await listExperiments(options)) {
    const { registry, repository } = parseReference(e.imageName);
    const key = `${registry}/${repository}`;
    byRepository.set(key, [...(byRepository.get(key) ?? []), e]);
  }
  const out: ProjectRef[] = [];
  for (const [reference, experiments] of [...byRepository].sort(([a], [b]) =>
    compareCodePoints(a, b)
  )) {
    const tagOf = (e: ExperimentRef): string | undefined => parseReference(e.imageName).tag;
    const latestRef = experiments.find((e) => tagOf(e) === 'latest');
    const tagged = experiments.filter(
      (e) =>
        tagOf(e) !== 'latest' ||
        !experiments.some((o) => o !== e && o.manifestDigest === e.manifestDigest)
    );
    const newest = [...tagged].sort((a, b) =>
      compareCodePoints(b.updatedAt ?? '', a.updatedAt ?? '')
    )[0];
    const followed =
      latestRef === undefined
        ? undefined
        : tagged.find((e) => e !== latestRef && e.manifestDigest === latestRef.manifestDigest);
    out.push({
      reference,
      project: parseReference(reference).repository,
      experiments: tagged.length,
      runCount: tagged.reduce((n, e) => n + e.runCount, 0),
      latest: tagOf(followed ?? newest ?? experiments[0]!),
      updatedAt: experiments
        .map((e) => e.updatedAt)
        .filter((t): t is string => t !== undefined)
        .sort()
        .at(-1),
    });
  }
  return out;
}

/** The fields listings show of one experiment manifest. @internal */
export interface ListedExperiment {
  readonly manifestDigest: Digest;
  readonly configDigest: Digest;
  readonly updatedAt: string | undefined;
  readonly status: ExperimentStatus;
  readonly reason: string | undefined;
  readonly requestedImageName: string | undefined;
  readonly runCount: number;
  readonly solveCount: number;
  readonly samplingCount: number;
  readonly annotations: Annotations;
  readonly config: Readonly<Record<string, unknown>>;
}

/**
 * Reads what a listing shows of the experiment a reference points at (checkpoints allowed).
 * @returns undefined when it is not an experiment, or its blobs are damaged (fsck finds those)
 * @internal
 */
export async function readListed(
  registry: LocalRegistry,
  ref: RefEntry
): Promise<ListedExperiment | undefined> {
  // What a listing shows depends on the manifest alone: cached per manifest digest, a listing
  // of many experiments reads one small file each instead of every manifest and config. The
  // config itself is left out of the cache and read from its blob when asked for.
  const digest = ref.descriptor.digest;
  const cached = await readDerived(registry.root, 'listed', digest, LISTED_KEY);
  if (cached !== undefined) {
    try {
      const listed = JSON.parse(new TextDecoder().decode(cached)) as Omit<
        ListedExperiment,
        'updatedAt' | 'config'
      >;
      if (listed.manifestDigest === digest) {
        return withConfig({ ...listed, updatedAt: ref.updatedAt }, registry);
      }
    } catch {
      // rebuilt below
    }
  }
  const listed = await readListedFromStore(registry, ref);
  if (listed !== undefined) {
    const { updatedAt: _, config: _config, ...fields } = listed;
    await writeDerived(
      registry.root,
      'listed',
      digest,
      LISTED_KEY,
      new TextEncoder().encode(JSON.stringify(fields))
    );
  }
  return listed;
}

/** The key of listing cache entries: bumped when what they hold changes (1: no config). */
const LISTED_KEY = '1';

/** Adds the lazy, memoized `config`: the config blob, verified and parsed on first use. */
function withConfig(
  fields: Omit<ListedExperiment, 'config'>,
  registry: LocalRegistry
): ListedExperiment {
  let config: Readonly<Record<string, unknown>> | undefined;
  return Object.defineProperty(fields, 'config', {
    enumerable: true,
    get(): Readonly<Record<string, unknown>> {
      if (config === undefined) {
        const path = join(registry.root, blobPath(fields.configDigest));
        let bytes: Buffer;
        try {
          bytes = readFileSync(path);
        } catch (e) {
          throw ioError(e, 'read', path);
        }
        if (`sha256:${createHash('sha256').update(bytes).digest('hex')}` !== fields.configDigest) {
          throw new RunledgerError(
            'DIGEST_MISMATCH',
            `The config blob ${fields.configDigest} at ${path} does not hash to its digest; "runledger fsck" finds what else is damaged.`,
            { data: { digest: fields.configDigest, path } }
          );
        }
        config = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
      }
      return config;
    },
  }) as ListedExperiment;
}

async function readListedFromStore(
  registry: LocalRegistry,
  ref: RefEntry
): Promise<ListedExperiment | undefined> {
  try {
    const { manifest } = await registry.readManifest(ref.descriptor.digest);
    if ((manifest.artifactType ?? manifest.config.mediaType) !== MEDIA_TYPE_EXPERIMENT) return;
    if (manifest.config.mediaType !== MEDIA_TYPE_EXPERIMENT_CONFIG) return;
    const bytes = await registry.readBlob(manifest.config.digest, {
      expectedSize: manifest.config.size,
    });
    const config = parseExperimentConfig(bytes, manifest.layers, {
      subject: ref.reference,
      allowDraft: true,
    });
    return {
      manifestDigest: ref.descriptor.digest,
      configDigest: manifest.config.digest,
      updatedAt: ref.updatedAt,
      status: config.status,
      reason: config.reason,
      requestedImageName: config.requestedImageName,
      runCount: config.runs.length,
      solveCount: config.runs.reduce((n, r) => n + r.solves.length, 0),
      samplingCount: config.runs.reduce((n, r) => n + r.samplings.length, 0),
      annotations: manifest.annotations ?? {},
      config: JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>,
    };
  } catch (e) {
    if (!isRunledgerError(e)) throw e;
    return undefined;
  }
}
