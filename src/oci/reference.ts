/**
 * @module oci/reference
 * OCI references (`registry/repository[:tag][@digest]`): the one parse/format pair.
 * Grammar as the distribution project's reference package, with Docker Hub normalisation.
 */
import { RunledgerError } from '../errors.js';
import { isDigest, type Digest } from './digest.js';

/** A parsed, normalised reference. Produced only by {@link parseReference}. */
export interface Reference {
  /** Host with optional port, e.g. `ghcr.io`, `localhost:5000`, `docker.io`. */
  readonly registry: string;
  /** Slash-separated path, e.g. `acme/qap`, `library/ubuntu`. */
  readonly repository: string;
  /** The tag; `latest` when the string had neither tag nor digest. */
  readonly tag?: string;
  readonly digest?: Digest;
}

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const HOST_RE = new RegExp(
  `^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?$`
);
const PATH_COMPONENT_RE = /^[a-z0-9]+(?:(?:[_.]|__|-+)[a-z0-9]+)*$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const MAX_NAME_LENGTH = 255;
const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['index.docker.io', 'registry-1.docker.io']);

/**
 * Parses and normalises a reference. A name without a registry is on Docker Hub (`docker.io`),
 * and a one-part Docker Hub name gets `library/`; a reference with neither tag nor digest gets
 * tag `latest`.
 *
 * @param value - e.g. `ghcr.io/acme/qap:tai20a`, `localhost:5000/x@sha256:…`, `ubuntu`
 * @returns the parsed reference
 * @throws RunledgerError `REFERENCE_INVALID` naming the part that is wrong
 * @example
 * ```ts
 * parseReference('ubuntu'); // { registry: 'docker.io', repository: 'library/ubuntu', tag: 'latest' }
 * ```
 */
export function parseReference(value: string): Reference {
  const fail = (why: string): never => {
    throw new RunledgerError(
      'REFERENCE_INVALID',
      `Reference ${JSON.stringify(String(value).slice(0, 300))} ${why}.`,
      { data: { reference: String(value).slice(0, 300) } }
    );
  };
  if (typeof value !== 'string' || value.length === 0) fail('is empty');
  if (/\s/.test(value)) fail('contains whitespace');

  let rest = value;
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) fail('has a digest that is not "sha256:" and 64 lowercase hex digits');
    digest = d as Digest;
    rest = rest.slice(0, at);
  }

  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) fail(`has an invalid tag ${JSON.stringify(tag)}`);
  }
  if (rest.length === 0) fail('has no repository');
  if (rest.length > MAX_NAME_LENGTH) fail(`has a name longer than ${MAX_NAME_LENGTH} characters`);

  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (
      first.includes('.') ||
      first.includes(':') ||
      first === 'localhost' ||
      first !== first.toLowerCase()
    ) {
      if (!HOST_RE.test(first)) fail(`has an invalid registry host ${JSON.stringify(first)}`);
      registry = DOCKER_HUB_ALIASES.has(first) ? DOCKER_HUB : first;
      repository = rest.slice(slash + 1);
    }
  }
  const parts = repository.split('/');
  for (const part of parts) {
    if (part.length === 0) fail('has an empty path component');
    if (!PATH_COMPONENT_RE.test(part)) {
      fail(
        `has an invalid repository component ${JSON.stringify(part)} (lowercase a-z, 0-9, . _ -)`
      );
    }
  }
  if (registry === DOCKER_HUB && parts.length === 1) repository = `library/${repository}`;
  // The limit applies to the normalised name too, so that formatReference's output parses back.
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
    fail(`has a name longer than ${MAX_NAME_LENGTH} characters once normalised`);
  }
  if (tag === undefined && digest === undefined) tag = 'latest';

  const out: { registry: string; repository: string; tag?: string; digest?: Digest } = {
    registry,
    repository,
  };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/**
 * Formats a reference in full: `registry/repository[:tag][@digest]`.
 * @param ref - a parsed reference
 * @returns its canonical string, which {@link parseReference} maps back to `ref`
 * @example
 * ```ts
 * formatReference(parseReference('ubuntu')); // 'docker.io/library/ubuntu:latest'
 * ```
 */
export function formatReference(ref: Reference): string {
  let out = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) out += `:${ref.tag}`;
  if (ref.digest !== undefined) out += `@${ref.digest}`;
  return out;
}

/**
 * The normalised full string of a reference given as text: parse, then format.
 * @param value - a reference string
 * @returns e.g. `docker.io/library/ubuntu:latest` for `ubuntu`
 * @throws RunledgerError `REFERENCE_INVALID` as {@link parseReference}
 * @example
 * ```ts
 * normalizeReference('localhost:5000/a/b'); // 'localhost:5000/a/b:latest'
 * ```
 */
export function normalizeReference(value: string): string {
  return formatReference(parseReference(value));
}

/**
 * Whether a reference string names a repository only — no tag, no digest — so that it names a
 * project rather than one artifact (`ghcr.io/acme/qap`, not `ghcr.io/acme/qap:v1`).
 * @param value - a reference as the user wrote it
 * @returns true without a tag and a digest
 * @throws RunledgerError `REFERENCE_INVALID` as {@link parseReference}
 * @example
 * ```ts
 * namesRepository('ghcr.io/acme/qap'); // true
 * namesRepository('ghcr.io/acme/qap:v1'); // false
 * ```
 */
export function namesRepository(value: string): boolean {
  parseReference(value);
  return !value.includes('@') && !value.slice(value.lastIndexOf('/') + 1).includes(':');
}

/** A project's tag: `<UTC time>-<nonce>`, e.g. `20261206T060113.500Z-9f8e7d6c`. */
const PROJECT_TAG_RE = /^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{8}$/;

/**
 * A fresh tag for the next experiment of a project: its UTC creation time to the millisecond,
 * then a random nonce, so tags sort by time and never collide.
 * @param nonce - 4 random bytes, as hex
 * @param now - the time
 * @returns the tag
 */
export function projectTag(nonce: string, now: Date = new Date()): string {
  const iso = now.toISOString(); // 2026-12-06T06:01:13.123Z
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 23)}Z-${nonce}`;
}

/**
 * Whether a tag is one {@link projectTag} makes.
 * @param tag - a tag
 * @returns true for `<UTC time>-<nonce>`
 */
export function isProjectTag(tag: string | undefined): boolean {
  return tag !== undefined && PROJECT_TAG_RE.test(tag);
}
