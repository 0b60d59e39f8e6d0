/**
 * @module store/closure
 * The closure of a manifest: itself, its config, its layers, its subject chain, and for an
 * image index every manifest it lists. GC marks it, fsck and restore check it, size sums it.
 */
import { isRunledgerError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { parseManifestOrIndex } from '../oci/manifest.js';
import {
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_MANIFEST,
} from '../oci/media-types.js';
import type { Descriptor } from '../oci/types.js';
import type { BlobStore } from './blob-store.js';

/** What a walk found. */
export interface Closure {
  /** Every blob of the closure that is present with the right size. */
  readonly present: Map<Digest, Descriptor>;
  /** Referenced but absent. */
  readonly missing: Map<Digest, Descriptor>;
  /** Present with a size other than the descriptor's. */
  readonly wrongSize: Map<Digest, { descriptor: Descriptor; actual: number }>;
  /** Manifests that could not be read or parsed, with the reason. */
  readonly invalid: Map<Digest, string>;
}

/** Options of {@link walkClosure}. */
export interface WalkOptions {
  /** Follow `subject` descriptors (GC does; `size` does not). A missing subject is not an error. */
  readonly subjects: boolean;
}

/** Whether a descriptor's media type says it is a manifest or an index. */
export function isManifestType(mediaType: string): boolean {
  return (
    mediaType === MEDIA_TYPE_MANIFEST ||
    mediaType === MEDIA_TYPE_IMAGE_INDEX ||
    mediaType === MEDIA_TYPE_DOCKER_MANIFEST ||
    mediaType === MEDIA_TYPE_DOCKER_MANIFEST_LIST
  );
}

// Manifests are content-addressed, so their parsed children can be cached for the process.
const childrenCache = new Map<Digest, { children: Descriptor[]; subject?: Descriptor }>();

async function childrenOf(
  blobs: BlobStore,
  d: Descriptor
): Promise<{ children: Descriptor[]; subject?: Descriptor }> {
  const hit = childrenCache.get(d.digest);
  if (hit !== undefined) return hit;
  const bytes = await blobs.read(d.digest, d.size);
  let out: { children: Descriptor[]; subject?: Descriptor };
  const node = parseManifestOrIndex(bytes, d.mediaType);
  if (node.kind === 'index') {
    out = { children: [...node.index.manifests] };
    if (node.index.subject !== undefined) out.subject = node.index.subject;
  } else {
    const m = node.manifest;
    out = { children: [m.config, ...m.layers] };
    if (m.subject !== undefined) out.subject = m.subject;
  }
  if (childrenCache.size > 10_000) childrenCache.clear();
  childrenCache.set(d.digest, out);
  return out;
}

/**
 * Walks the closure of some root descriptors, checking presence and size of every blob with
 * `stat` (manifests are read and verified in full).
 */
export async function walkClosure(
  blobs: BlobStore,
  roots: readonly Descriptor[],
  options: WalkOptions
): Promise<Closure> {
  const closure: Closure = {
    present: new Map(),
    missing: new Map(),
    wrongSize: new Map(),
    invalid: new Map(),
  };
  const optionalSubjects = new Set<Digest>();
  const queue: Descriptor[] = [...roots];
  const seen = new Set<Digest>();
  while (queue.length > 0) {
    const d = queue.pop() as Descriptor;
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    const s = await blobs.stat(d.digest);
    if (s === undefined) {
      if (!optionalSubjects.has(d.digest)) closure.missing.set(d.digest, d);
      continue;
    }
    if (s.size !== d.size) {
      closure.wrongSize.set(d.digest, { descriptor: d, actual: s.size });
      continue;
    }
    closure.present.set(d.digest, d);
    if (!isManifestType(d.mediaType)) continue;
    try {
      const { children, subject } = await childrenOf(blobs, d);
      queue.push(...children);
      if (subject !== undefined && options.subjects) {
        if (!seen.has(subject.digest)) optionalSubjects.add(subject.digest);
        queue.push(subject);
      }
    } catch (e) {
      closure.invalid.set(d.digest, isRunledgerError(e) ? e.message : String(e));
    }
  }
  return closure;
}
