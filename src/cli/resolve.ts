/**
 * @module cli/resolve
 * Short names and digest prefixes for local reads. A reference whose first path component does
 * not name a registry (no `.`, no `:`, not `localhost`) is looked up in the local store first:
 * `lp-mip:latest` is `runledger.local/demo/lp-mip:latest` when that is the only local reference
 * whose repository ends with `/lp-mip` (on a path boundary) and whose tag is `latest`. A digest
 * prefix as `ls` shows it (`sha256:0123456789ab`, or at least 7 bare hex digits) names the local
 * references pointing at that manifest. A short name is never read as a Docker Hub name
 * (`docker.io/library/…`) unless such a reference is in the store.
 */
import { RunledgerError } from '../errors.js';
import { parseReference } from '../oci/reference.js';
import type { LocalRegistry } from '../store/local-registry.js';

/** Fewest hex digits a bare digest prefix needs (`git`'s short hash length). */
const MIN_PREFIX = 7;
const DIGEST_PREFIX_RE = /^(?:sha256:([0-9a-f]{1,64})|([0-9a-f]{7,64}))$/;

/**
 * Whether a reference string names its registry: the first of several path components contains
 * `.` or `:`, is `localhost`, or has an uppercase letter (as `parseReference` reads it).
 * @param value - a reference as the user wrote it
 * @returns true for `ghcr.io/acme/qap:v1`, `localhost/x`; false for `qap:v1`, `acme/qap`
 * @example
 * ```ts
 * isFullyQualified('runledger.local/demo/lp-mip:latest'); // true
 * isFullyQualified('lp-mip:latest'); // false
 * ```
 */
export function isFullyQualified(value: string): boolean {
  const name = value.split('@')[0] as string;
  const slash = name.indexOf('/');
  if (slash < 0) return false;
  const first = name.slice(0, slash);
  return (
    first.includes('.') ||
    first.includes(':') ||
    first === 'localhost' ||
    first !== first.toLowerCase()
  );
}

/** Options of {@link resolveReference}. */
export interface ResolveOptions {
  /** What the reference is for, said in errors (`show`, `push`). */
  readonly command?: string;
}

/**
 * The full local reference a command argument names: a fully qualified reference as it is; a
 * digest prefix (`sha256:<hex>`, or ≥ 7 bare hex digits) unique among the local manifests as
 * the first reference (in `ls` order) pointing at it, one that is not a checkpoint's when there
 * is one; a short name (`name`, `name:tag`, `repo/name:tag`, `name@sha256:…`) as the one local
 * reference whose repository ends with `/<name>` on a path boundary and whose tag is the one
 * given, or `latest` when none is.
 * @param registry - the local registry
 * @param value - the argument as the user wrote it
 * @param options - the command, for messages
 * @returns a reference string (full, except a fully qualified input, returned as given)
 * @throws RunledgerError `USAGE` when several references match (they are listed);
 *   `REF_NOT_FOUND` when none does (the message names the short name and says how to list);
 *   `REFERENCE_INVALID` when the text is not a reference at all
 * @example
 * ```ts
 * await resolveReference(registry, 'lp-mip'); // 'runledger.local/demo/lp-mip:latest'
 * await resolveReference(registry, 'sha256:3f2a9c01be77'); // the reference ls shows with it
 * ```
 */
export async function resolveReference(
  registry: LocalRegistry,
  value: string,
  options: ResolveOptions = {}
): Promise<string> {
  if (isFullyQualified(value)) return value;
  const prefix = DIGEST_PREFIX_RE.exec(value);
  if (prefix !== null) {
    if (prefix[1] !== undefined && prefix[1].length < MIN_PREFIX) {
      throw new RunledgerError(
        'USAGE',
        `The digest prefix ${value} is too short: give at least ${MIN_PREFIX} hex digits (ls shows 12).`,
        { data: { reference: value } }
      );
    }
    const found = await byDigestPrefix(registry, value, (prefix[1] ?? prefix[2]) as string);
    if (found !== undefined) return found;
    if (prefix[1] !== undefined) {
      throw new RunledgerError(
        'REF_NOT_FOUND',
        `No manifest in the store ${registry.root} has a digest starting with ${value}.`,
        { data: { reference: value } }
      );
    }
  }
  return byShortName(registry, value, options);
}

/**
 * {@link resolveReference} for each of several arguments, in order.
 * @param registry - the local registry
 * @param values - the arguments
 * @returns the references
 * @throws RunledgerError as {@link resolveReference}
 */
export async function resolveReferences(
  registry: LocalRegistry,
  values: readonly string[]
): Promise<string[]> {
  const out: string[] = [];
  for (const v of values) out.push(await resolveReference(registry, v));
  return out;
}

/** The reference a digest prefix names, or undefined when no manifest has that prefix. */
async function byDigestPrefix(
  registry: LocalRegistry,
  value: string,
  hex: string
): Promise<string | undefined> {
  const all = await registry.listRefs({ includeInternal: true });
  const visible = new Set((await registry.listRefs()).map((r) => r.reference));
  const start = `sha256:${hex}`;
  const byDigest = new Map<string, string[]>();
  for (const r of all) {
    if (!r.descriptor.digest.startsWith(start)) continue;
    const refs = byDigest.get(r.descriptor.digest) ?? [];
    refs.push(r.reference);
    byDigest.set(r.descriptor.digest, refs);
  }
  if (byDigest.size === 0) return undefined;
  if (byDigest.size > 1) {
    const list = [...byDigest].map(([d, refs]) => `${d} (${refs.join(', ')})`);
    throw new RunledgerError(
      'USAGE',
      `The digest prefix ${value} matches ${byDigest.size} manifests: ${list.join('; ')}; give more digits.`,
      { data: { reference: value, candidates: [...byDigest.keys()] } }
    );
  }
  const refs = [...byDigest.values()][0] as string[];
  return refs.find((r) => visible.has(r)) ?? (refs[0] as string);
}

/** The one local reference a short name names. */
async function byShortName(
  registry: LocalRegistry,
  value: string,
  options: ResolveOptions
): Promise<string> {
  const at = value.indexOf('@');
  const digest = at < 0 ? undefined : value.slice(at + 1);
  const name = at < 0 ? value : value.slice(0, at);
  const colon = name.indexOf(':', name.lastIndexOf('/') + 1);
  const path = colon < 0 ? name : name.slice(0, colon);
  const tag = colon >= 0 ? name.slice(colon + 1) : digest === undefined ? 'latest' : undefined;
  // Validate the text as a reference (an error names what is wrong with it).
  parseReference(value);
  const matches: string[] = [];
  for (const r of await registry.listRefs()) {
    const ref = parseReference(r.reference);
    const repo = ref.repository;
    if (repo !== path && !repo.endsWith(`/${path}`)) continue;
    if (tag !== undefined && ref.tag !== tag) continue;
    if (digest !== undefined && r.descriptor.digest !== digest) continue;
    matches.push(r.reference);
  }
  if (matches.length === 1) return matches[0] as string;
  if (matches.length > 1) {
    throw new RunledgerError(
      'USAGE',
      `The short name ${value} matches ${matches.length} local references: ${matches.join(', ')}; give one in full.`,
      { data: { reference: value, candidates: matches } }
    );
  }
  const where = options.command === undefined ? '' : ` for ${options.command}`;
  throw new RunledgerError(
    'REF_NOT_FOUND',
    `No local reference matches the short name ${value}${where} in the store ${registry.root} (a short name is looked up in the local store, never on Docker Hub); give a reference in full (registry/repository:tag) for another.`,
    { data: { reference: value } }
  );
}

/**
 * The arguments of a command that reads several experiments (`runs`, `sql`): a prefix ending in
 * `/` and a fully qualified reference or project as they are; a short name without a tag or
 * digest as the one local project (repository) ending with `/<name>`; anything else as
 * {@link resolveReference}.
 * @param registry - the local registry
 * @param values - the arguments
 * @returns the references, projects and prefixes to read
 * @throws RunledgerError as {@link resolveReference}
 * @example
 * ```ts
 * await resolveScope(registry, ['lp-mip', 'qap:v1']); // ['runledger.local/demo/lp-mip', '…/qap:v1']
 * ```
 */
export async function resolveScope(
  registry: LocalRegistry,
  values: readonly string[]
): Promise<string[]> {
  const out: string[] = [];
  for (const v of values) {
    if (v.endsWith('/') || isFullyQualified(v)) out.push(v);
    else if (/[:@]/.test(v) || DIGEST_PREFIX_RE.test(v)) {
      out.push(await resolveReference(registry, v));
    } else out.push(await projectOf(registry, v));
  }
  return out;
}

/** The one local repository a short project name names, as `registry/repository`. */
async function projectOf(registry: LocalRegistry, value: string): Promise<string> {
  parseReference(value);
  const projects = new Set<string>();
  for (const r of await registry.listRefs()) {
    const ref = parseReference(r.reference);
    if (ref.repository === value || ref.repository.endsWith(`/${value}`)) {
      projects.add(`${ref.registry}/${ref.repository}`);
    }
  }
  if (projects.size === 1) return [...projects][0] as string;
  if (projects.size > 1) {
    throw new RunledgerError(
      'USAGE',
      `The short name ${value} matches ${projects.size} local projects: ${[...projects].join(', ')}; give one in full.`,
      { data: { reference: value, candidates: [...projects] } }
    );
  }
  throw new RunledgerError(
    'REF_NOT_FOUND',
    `No local project matches the short name ${value} in the store ${registry.root} (a short name is looked up in the local store, never on Docker Hub); "runledger projects" lists them, or give the project in full (registry/repository).`,
    { data: { reference: value } }
  );
}

/** The registry name a short write target without a source goes under. */
const LOCAL_REGISTRY_NAME = 'runledger.local';

/**
 * The full reference a command writes to (`tag`'s target, `import --as`, `pull --as`): a fully
 * qualified reference as it is; `:tag` as the source's repository with that tag; a short name
 * (`name[:tag]`, `repo/name[:tag]`, tag `latest` when none) as the one local repository ending
 * with `/<name>` on a path boundary, else under the source's registry (or `runledger.local`
 * without a source). Never a Docker Hub name.
 * @param registry - the local registry
 * @param value - the target as the user wrote it
 * @param source - the full reference being tagged or imported, when there is one
 * @returns the full reference to write
 * @throws RunledgerError `USAGE` when the name matches several local repositories (listed) or
 *   carries a digest; `REFERENCE_INVALID` when the text is not a reference
 * @example
 * ```ts
 * await resolveTarget(registry, 'lp-mip:v2', 'runledger.local/demo/lp-mip:latest');
 * // 'runledger.local/demo/lp-mip:v2'
 * ```
 */
export async function resolveTarget(
  registry: LocalRegistry,
  value: string,
  source?: string
): Promise<string> {
  if (isFullyQualified(value)) return value;
  if (value.includes('@')) {
    throw new RunledgerError(
      'USAGE',
      `The target ${value} has a digest; name a tag to write (e.g. ${value.split('@')[0]}:v1).`,
      { data: { reference: value } }
    );
  }
  const src = source === undefined ? undefined : parseReference(source);
  if (value.startsWith(':')) {
    if (src === undefined) {
      throw new RunledgerError(
        'USAGE',
        `The target ${value} is a tag alone; give a repository too (e.g. demo/study${value}).`,
        { data: { reference: value } }
      );
    }
    parseReference(`${src.registry}/${src.repository}${value}`);
    return `${src.registry}/${src.repository}${value}`;
  }
  const colon = value.indexOf(':', value.lastIndexOf('/') + 1);
  const path = colon < 0 ? value : value.slice(0, colon);
  const tag = colon < 0 ? 'latest' : value.slice(colon + 1);
  parseReference(value);
  const repos = new Set<string>();
  for (const r of await registry.listRefs()) {
    const ref = parseReference(r.reference);
    if (ref.repository === path || ref.repository.endsWith(`/${path}`))
      repos.add(`${ref.registry}/${ref.repository}`);
  }
  if (repos.size > 1) {
    throw new RunledgerError(
      'USAGE',
      `The target ${value} matches ${repos.size} local repositories: ${[...repos].join(', ')}; give one in full.`,
      { data: { reference: value, candidates: [...repos] } }
    );
  }
  const repo = [...repos][0] ?? `${src?.registry ?? LOCAL_REGISTRY_NAME}/${path}`;
  return `${repo}:${tag}`;
}
