/**
 * A teammate's project on a registry: experiments committed into a project (a reference without
 * a tag, so each gets a `<UTC time>-<nonce>` tag) in the teammate's own store, one run each, and
 * pushed; the time each should be listed with, worked out here independently of runledger.
 */
import { Experiment } from '../../src/experiment/experiment.js';
import { ANNOTATION_CREATED } from '../../src/oci/media-types.js';
import type { LocalRegistry } from '../../src/store/local-registry.js';

export interface PushedExperiment {
  readonly tag: string;
  readonly reference: string;
  readonly digest: string;
  readonly seed: number;
  /** The `org.opencontainers.image.created` annotation given, else the tag's time (RFC 3339). */
  readonly created: string;
}

/** `20261206T060113.500Z-0a1b2c3d` → `2026-12-06T06:01:13.500Z`. */
export function tagTime(tag: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2}\.\d{3})Z-[0-9a-f]{8}$/.exec(tag);
  if (m === null) throw new Error(`${tag} is not a project tag`);
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
}

/**
 * Commits one experiment per spec into `project` in `registry` and pushes each under its tag.
 * @param project - `host/repository`, no tag
 * @param registry - the teammate's store
 * @param specs - a seed each, and the annotated creation time (RFC 3339, UTC) when there is one
 */
export async function pushExperiments(
  project: string,
  registry: LocalRegistry,
  specs: readonly { seed: number; created?: string }[]
): Promise<PushedExperiment[]> {
  const out: PushedExperiment[] = [];
  for (const { seed, created } of specs) {
    const exp = await Experiment.create(project, {
      registry,
      handleSignals: false,
      journal: false,
      ...(created === undefined ? {} : { annotations: { [ANNOTATION_CREATED]: created } }),
    });
    await exp.run((run) => {
      run.logParameter('seed', seed);
      run.logMetric('gap', seed / 10);
    });
    const sealed = await exp.commit();
    await sealed.push();
    const tag = sealed.reference.slice(sealed.reference.lastIndexOf(':') + 1);
    out.push({
      tag,
      reference: sealed.reference,
      digest: sealed.manifestDigest,
      seed,
      created: created ?? tagTime(tag),
    });
  }
  return out;
}
