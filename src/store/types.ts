/**
 * @module store/types
 * Plain records LocalRegistry takes and returns.
 */
import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/types.js';
import type { StoreSession } from './session.js';

/** Progress of a long transfer. */
export interface Progress {
  readonly phase: string;
  readonly loaded: number;
  /** Absent when the total is not known. */
  readonly total: number | undefined;
}

/** Options of blob writes. */
export interface PutBlobOptions {
  /** The digest the content must have; otherwise `DIGEST_MISMATCH` and nothing is stored. */
  readonly expectedDigest?: Digest;
  /** The size the content must have; otherwise `SIZE_MISMATCH` and nothing is stored. */
  readonly expectedSize?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: Progress) => void;
}

/** The session of a write: what it publishes is pinned there first (see {@link StoreSession}). */
export interface SessionWriteOptions {
  /** Pins each blob in this session before it is published, so GC keeps it until the session ends. */
  readonly session?: StoreSession;
}

/** Options of {@link LocalRegistry.gc}. */
export interface GcOptions {
  /** Delete the candidates; without it GC only reports. @default false */
  readonly delete?: boolean;
  /** Unreferenced blobs younger than this are kept: a duration (`24h`) or milliseconds. @default '24h' */
  readonly gracePeriod?: string | number;
  /** The clock, for tests. @default Date.now() */
  readonly now?: number;
  readonly signal?: AbortSignal;
}

/** Options of {@link LocalRegistry.prune}. */
export interface PruneOptions {
  /** Remove the references; without it prune only reports. @default false */
  readonly delete?: boolean;
  /** Include anonymous experiments, not only anonymous artifacts. @default false */
  readonly experiments?: boolean;
  /** Only references set at least this long ago (`30d`, or milliseconds). */
  readonly olderThan?: string | number;
  /** The clock, for tests. @default Date.now() */
  readonly now?: number;
  readonly signal?: AbortSignal;
}

/** One reference {@link LocalRegistry.prune} found. */
export interface PrunedRef {
  readonly reference: string;
  readonly kind: 'artifact' | 'experiment';
  readonly digest: Digest;
  readonly updatedAt?: string;
}

/** What {@link LocalRegistry.prune} found and did. */
export interface PruneReport {
  readonly dryRun: boolean;
  readonly refs: readonly PrunedRef[];
}

/** Options of {@link LocalRegistry.listRefs}. */
export interface ListRefsOptions {
  /** Only references starting with this text. */
  readonly prefix?: string;
  /** Include runledger's internal checkpoint references. @default false */
  readonly includeInternal?: boolean;
}

/** A blob's digest and size. */
export interface BlobInfo {
  readonly digest: Digest;
  readonly size: number;
}

/** One reference of the store. */
export interface RefEntry {
  /** The full normalised reference, e.g. `ghcr.io/acme/qap:tai20a`. */
  readonly reference: string;
  /** The manifest (or index) it points at, as written in `index.json`. */
  readonly descriptor: Descriptor;
  /** When runledger last set this reference (RFC 3339); absent for entries other tools wrote. */
  readonly updatedAt?: string;
}

/** What {@link LocalRegistry.gc} found and did. */
export interface GcReport {
  /** True when nothing was deleted because `delete` was not set. */
  readonly dryRun: boolean;
  readonly refs: number;
  /** Blobs of the references' closures. */
  readonly reachable: { readonly count: number; readonly size: number };
  /**
   * Unreferenced blobs kept because a session pins them: an experiment being recorded, an import
   * or pull between its blobs and its reference, or a crash journal's blobs (a dead experiment
   * that `Experiment.restoreFromCheckpoint` recovers).
   */
  readonly pinned: { readonly count: number; readonly size: number };
  /**
   * Sessions found: of live processes, of dead ones that back a crash journal (`recoverable`),
   * and of dead ones whose pins no longer count (`ended`: their files are removed with `delete`).
   */
  readonly sessions: {
    readonly live: number;
    readonly recoverable: number;
    readonly ended: number;
  };
  /** Unreferenced, unpinned blobs older than the grace period: deleted unless dry run. */
  readonly candidates: {
    readonly count: number;
    readonly size: number;
    readonly digests: readonly Digest[];
  };
  /** Unreferenced blobs younger than the grace period: kept. */
  readonly deferred: { readonly count: number; readonly size: number };
  readonly deleted: { readonly count: number; readonly size: number };
  /** Referenced blobs that are absent. */
  readonly missing: readonly Digest[];
  /**
   * Abandoned temp files (a write or import whose process ended, e.g. after Ctrl-C) and owner
   * files of lock waiters that ended: removed with `delete`. A temp file whose owner cannot be
   * told (another host, an older runledger's name) counts once older than the grace period.
   */
  readonly tempFiles: { readonly count: number; readonly size: number };
  /** Abandoned temp and lock owner files removed. */
  readonly tempFilesRemoved: number;
}

/** A problem {@link LocalRegistry.fsck} found. */
export interface FsckProblem {
  readonly kind: 'corrupt' | 'missing' | 'invalid-manifest' | 'size-mismatch';
  readonly digest?: Digest;
  readonly path?: string;
  /** The references whose closure contains it. */
  readonly refs?: readonly string[];
  readonly detail: string;
}

/** What {@link LocalRegistry.fsck} checked and found. */
export interface FsckReport {
  readonly ok: boolean;
  readonly blobs: number;
  readonly bytes: number;
  readonly refs: number;
  readonly problems: readonly FsckProblem[];
}

/** What {@link LocalRegistry.size} counts for one reference. */
export interface SizeReport {
  readonly reference: string;
  readonly digest: Digest;
  /** Manifest bytes + config + unique layers (the subject is not counted). */
  readonly size: number;
  readonly blobs: number;
}
