/**
 * @module store/closure
 * The closure of a manifest: itself, its config, its layers, its subject chain, and for an
 * image index every manifest it lists. GC marks it, fsck and restore check it, size sums it.
 */
import { isRunledgerError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { parseManifestOrIndex } from '../oci/manifest.js';
import {
  isMediaType,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_IMAGE_INDEX,
  MEDIA_TYPE_MANIFEST,
} from '../oci/media-types.js';
import type { Descriptor, Manifest } from '../oci/types.js';
import { parseAnnotations, parseDescriptor } from '../oci/descriptor.js';
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
  /**
   * Blobs known to be present with their size (published by a live session of this process, which
   * GC keeps): counted present without a `stat`. Manifests are still read.
   */
  readonly known?: ((digest: Digest) => boolean) | undefined;
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

interface Children {
  readonly children: readonly Descriptor[];
  readonly subject?: Descriptor;
  /** The manifest itself, when this process wrote it. */
  readonly manifest?: Manifest;
}

// Manifests are content-addressed, so their parsed children can be cached for the process. The
// cache is bounded by the descriptors it holds (a checkpoint of 10,000 runs has 20,000), oldest
// first out, so a long study that checkpoints every second does not grow it without end.
const childrenCache = new Map<Digest, Children>();
const CACHED_CHILDREN_MAX = 250_000;
let cachedChildren = 0;

function cacheChildren(digest: Digest, entry: Children): void {
  const old = childrenCache.get(digest);
  if (old !== undefined) {
    childrenCache.delete(digest);
    cachedChildren -= old.children.length;
  }
  childrenCache.set(digest, entry);
  cachedChildren += entry.children.length;
  for (const [d, e] of childrenCache) {
    if (cachedChildren <= CACHED_CHILDREN_MAX || d === digest) break;
    childrenCache.delete(d);
    cachedChildren -= e.children.length;
  }
}

/**
 * Records the children of a manifest this process just serialized and stored, so the closure
 * check of the reference that publishes it need not read and parse it back — when the reader
 * would take it: any other is read back by that check, which refuses it as it refuses one
 * written by someone else.
 * @param digest - the digest of the manifest's bytes
 * @param manifest - the manifest, as serialized
 */
export function rememberManifest(digest: Digest, manifest: Manifest): void {
  if (!isReadableManifest(manifest)) return;
  const children = [manifest.config, ...manifest.layers];
  cacheChildren(
    digest,
    manifest.subject === undefined
      ? { children, manifest }
      : { children, subject: manifest.subject, manifest }
  );
}

/**
 * The manifest this process wrote under `digest` (see {@link rememberManifest}), if it is still
 * remembered: what parsing its bytes would give.
 * @param digest - a manifest's digest
 * @returns the manifest, or undefined
 */
export function rememberedManifest(digest: Digest): Manifest | undefined {
  return childrenCache.get(digest)?.manifest;
}

/** Descriptor objects already checked (a checkpoint's layers are those of the one before). */
const checkedDescriptors = new WeakSet<object>();

/** Whether a manifest object passes the reader's checks (`parseManifest`'s, on the object). */
function isReadableManifest(m: Manifest): boolean {
  const check = (d: unknown, where: string): void => {
    if (typeof d === 'object' && d !== null && checkedDescriptors.has(d)) return;
    parseDescriptor(d, where);
    checkedDescriptors.add(d as object);
  };
  try {
    if (m.schemaVersion !== 2 || m.mediaType !== MEDIA_TYPE_MANIFEST) return false;
    if (m.artifactType !== undefined && !isMediaType(m.artifactType)) return false;
    check(m.config, 'config');
    if (!Array.isArray(m.layers)) return false;
    for (const l of m.layers) check(l, 'layer');
    if (m.subject !== undefined) check(m.subject, 'subject');
    if (m.annotations !== undefined) parseAnnotations(m.annotations, 'manifest annotations');
    return true;
  } catch {
    return false;
  }
}

async function childrenOf(blobs: BlobStore, d: Descriptor): Promise<Children> {
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
  cacheChildren(d.digest, out);
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
  const known = options.known;
  while (queue.length > 0) {
    const d = queue.pop() as Descriptor;
    if (seen.has(d.digest)) continue;
    seen.add(d.digest);
    const manifest = isManifestType(d.mediaType);
    if (!manifest && known?.(d.digest) === true) {
      closure.present.set(d.digest, d);
      continue;
    }
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
    if (!manifest) continue;
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
