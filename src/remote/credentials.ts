/**
 * @module remote/credentials
 * Where registry credentials come from and go to: `RUNLEDGER_AUTH_<HOST>` variables, Docker's
 * `config.json` (`credHelpers`, `credsStore`, `auths`) and `docker-credential-*` helpers.
 *
 * Secrets never reach an error message, `data` or `cause`; plaintext is written only to
 * `config.json`, only on explicit opt-in, atomically and with mode 0600 (oci-reference §3.4, §10).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import {
  access,
  lstat,
  mkdir,
  open,
  readFile,
  realpath,
  rename,
  stat,
  unlink,
} from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { ioError, RunledgerError, throwIfAborted } from '../errors.js';

/** A credential for one registry host. */
export type Credential =
  /** A user name and password (or a personal access token used as a password). */
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  /**
   * A refresh token, exchanged at the registry's token endpoint (Docker's `identitytoken`; a
   * helper answers it with Username `<token>`). `username` is kept when the source had one.
   */
  | { readonly kind: 'identity-token'; readonly token: string; readonly username?: string }
  /** A bearer token sent as is (Docker's `registrytoken`). */
  | { readonly kind: 'access-token'; readonly token: string };

/** A credential and where it was found. */
export interface CredentialSource {
  readonly credential: Credential;
  /**
   * Where it came from, for messages: `env RUNLEDGER_AUTH_GHCR_IO`,
   * `credHelpers docker-credential-pass`, `credsStore docker-credential-desktop`,
   * `/root/.docker/config.json auths`.
   */
  readonly source: string;
}

/** Options of {@link resolveCredential}, {@link storeCredential} and {@link eraseCredential}. */
export interface CredentialOptions {
  /**
   * The environment to read `RUNLEDGER_AUTH_*`, `DOCKER_CONFIG`, `HOME` and `PATH` from; it is
   * also the environment credential helpers run with. @default process.env
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
  /**
   * How long a credential helper may run before it is killed.
   * @internal Tests shorten it. @default 30000
   */
  readonly helperTimeoutMs?: number;
}

/** Options of {@link storeCredential}. */
export interface StoreCredentialOptions extends CredentialOptions {
  /**
   * Write the credential unencrypted to `config.json` when no credential helper is configured
   * (the CLI's `--allow-plaintext`). @default false
   */
  readonly allowPlaintext?: boolean;
}

/** What {@link eraseCredential} did. */
export interface EraseResult {
  /** Whether a helper erased a credential or an `auths` entry was removed. */
  readonly erased: boolean;
  /** Where it was erased from, comma-separated (absent when nothing was erased). */
  readonly source?: string;
}

const DOCKER_HUB = 'docker.io';
/** The key Docker writes Docker Hub credentials under, and the server URL its helpers get. */
const DOCKER_HUB_KEY = 'https://index.docker.io/v1/';
const DOCKER_HUB_HOSTS: ReadonlySet<string> = new Set([
  DOCKER_HUB,
  'index.docker.io',
  'registry-1.docker.io',
]);
const HELPER_PREFIX = 'docker-credential-';
const HELPER_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Username a helper uses to say its Secret is an identity token (docker-credential-helpers). */
const TOKEN_USERNAME = '<token>';
const DEFAULT_HELPER_TIMEOUT_MS = 30_000;
/** A helper's answer is a few hundred bytes; more is a broken or hostile helper. */
const MAX_HELPER_OUTPUT = 1024 * 1024;
/** Fields of an `auths` entry that hold (or encode) a secret. */
const SECRET_FIELDS = ['auth', 'username', 'password', 'identitytoken', 'registrytoken'] as const;

/**
 * The path of Docker's `config.json`: `$DOCKER_CONFIG/config.json`, else
 * `$HOME/.docker/config.json` (the user's home directory when `HOME` is unset).
 *
 * @param env - the environment to read; defaults to `process.env`
 * @returns the absolute path (the file need not exist)
 * @example
 * ```ts
 * dockerConfigPath({ HOME: '/root' }); // '/root/.docker/config.json'
 * ```
 */
export function dockerConfigPath(
  env: Readonly<Record<string, string | undefined>> = process.env
): string {
  const dockerConfig = env['DOCKER_CONFIG'];
  if (dockerConfig !== undefined && dockerConfig !== '')
    return resolve(dockerConfig, 'config.json');
  const home = env['HOME'] || env['USERPROFILE'] || homedir();
  return resolve(home, '.docker', 'config.json');
}

/**
 * The environment variable that holds a registry's credential: `RUNLEDGER_AUTH_` and the host
 * upper-cased, with every character outside `[A-Z0-9]` replaced by `_`.
 *
 * @param registry - a host with optional port, e.g. `ghcr.io`, `127.0.0.1:5000`
 * @returns e.g. `RUNLEDGER_AUTH_GHCR_IO`, `RUNLEDGER_AUTH_127_0_0_1_5000`
 * @example
 * ```ts
 * envCredentialName('ghcr.io'); // 'RUNLEDGER_AUTH_GHCR_IO'
 * ```
 */
export function envCredentialName(registry: string): string {
  return `RUNLEDGER_AUTH_${registry.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/**
 * Finds the credential for a registry host. First hit wins:
 *
 * 1. `RUNLEDGER_AUTH_<HOST>` = `username:password` (split at the first colon; username `<token>`
 *    makes the password an identity token). An empty variable counts as unset.
 * 2. Docker's `config.json` (see {@link dockerConfigPath}; a missing file is skipped):
 *    a helper named by `credHelpers` for the host, else the `credsStore` helper, run as
 *    `docker-credential-<name> get`; then the `auths` entry (`auth`, legacy
 *    `username`/`password`, `identitytoken`, `registrytoken`). When a helper answers
 *    "credentials not found", `auths` is still consulted (Docker itself would stop there; a
 *    plaintext entry written by an older login stays usable), but a `credHelpers` miss does not
 *    fall through to `credsStore`.
 *
 * Keys match exactly first, then by hostname with scheme and path stripped (`https://ghcr.io`,
 * `ghcr.io/v2/`); for `docker.io` also `https://index.docker.io/v1/`, `index.docker.io` and
 * `registry-1.docker.io`. A helper gets the key that matched (`credHelpers`, or the `auths` key
 * for `credsStore`), else the bare host (`https://index.docker.io/v1/` for Docker Hub).
 *
 * @param registry - a host with optional port, as in a parsed reference (`docker.io` for Docker Hub)
 * @param options - environment and signal
 * @returns the credential and its source, or `undefined` (anonymous)
 * @throws RunledgerError `AUTHENTICATION` for a malformed variable, an unparsable `config.json`
 *   or `auth` field, or a helper that is missing, fails, or does not answer in time;
 *   `ARGUMENT_INVALID` for a malformed host; `IO_ERROR` when `config.json` cannot be read;
 *   `ABORTED` when `signal` fires
 * @example
 * ```ts
 * const found = await resolveCredential('ghcr.io');
 * const who = found?.credential.kind === 'basic' ? found.credential.username : 'anonymous';
 * ```
 */
export async function resolveCredential(
  registry: string,
  options: CredentialOptions = {}
): Promise<CredentialSource | undefined> {
  const host = checkRegistry(registry);
  throwIfAborted(options.signal);
  const env = options.env ?? process.env;

  const name = envCredentialName(host);
  const value = env[name];
  if (value !== undefined && value !== '') {
    return { credential: parseEnvCredential(name, value), source: `env ${name}` };
  }

  const path = dockerConfigPath(env);
  const config = await readDockerConfig(path);
  if (config === undefined) return undefined;
  const ctx = helperContext(options, env, path);

  const helper = selectHelper(config, host, path);
  if (helper !== undefined) {
    const run = await runHelper(helper, 'get', helper.serverURL, ctx, []);
    const found = interpretGet(helper, run);
    if (found !== undefined) {
      return { credential: found, source: `${helper.origin} ${HELPER_PREFIX}${helper.name}` };
    }
  }

  const auths = configObject(config, 'auths', path);
  if (auths !== undefined) {
    for (const key of matchingKeys(auths, host)) {
      const credential = parseAuthEntry(auths[key], path, key);
      if (credential !== undefined) return { credential, source: `${path} auths` };
    }
  }
  return undefined;
}

/**
 * Stores a credential for a registry host (what `runledger login` calls after checking it).
 * With a helper configured (`credHelpers` for the host, else `credsStore`) it runs
 * `docker-credential-<name> store` and writes no secret anywhere; plaintext `auths` entries
 * left for the host by an older login lose their secret fields (as Docker does), and
 * `config.json` is otherwise untouched. Without a helper it writes `auths[<host>]` (Docker Hub:
 * `https://index.docker.io/v1/`) to `config.json`, only when `allowPlaintext` is set: atomically
 * (temp file, fsync, rename, directory fsync), mode 0600, every other field kept.
 *
 * @param registry - a host with optional port (`docker.io` for Docker Hub)
 * @param credential - the credential; an access token cannot go to a helper
 * @param options - environment, signal and `allowPlaintext`
 * @returns where the credential was stored, e.g. `credsStore docker-credential-desktop`
 * @throws RunledgerError `ARGUMENT_INVALID` when no helper is configured and `allowPlaintext`
 *   is not set, or for a malformed host or credential; `AUTHENTICATION` when the helper fails
 *   or `config.json` does not parse; `IO_ERROR` when `config.json` cannot be written;
 *   `ABORTED` when `signal` fires
 * @example
 * ```ts
 * await storeCredential('ghcr.io', { kind: 'basic', username: 'me', password: token });
 * ```
 */
export async function storeCredential(
  registry: string,
  credential: Credential,
  options: StoreCredentialOptions = {}
): Promise<{ readonly source: string }> {
  const host = checkRegistry(registry);
  checkCredential(credential);
  throwIfAborted(options.signal);
  const env = options.env ?? process.env;
  const path = dockerConfigPath(env);
  const config = await readDockerConfig(path);

  const helper = config === undefined ? undefined : selectHelper(config, host, path);
  if (config !== undefined && helper !== undefined) {
    if (credential.kind === 'access-token') {
      throw new RunledgerError(
        'ARGUMENT_INVALID',
        `An access token for ${host} cannot be stored in credential helper ${HELPER_PREFIX}${helper.name}: log in with a password or an identity token.`,
        { data: { registry: host, helper: `${HELPER_PREFIX}${helper.name}` } }
      );
    }
    const username = credential.kind === 'basic' ? credential.username : TOKEN_USERNAME;
    const secret = credential.kind === 'basic' ? credential.password : credential.token;
    const input = JSON.stringify({
      ServerURL: helper.serverURL,
      Username: username,
      Secret: secret,
    });
    // A helper that echoes its input may show the secret JSON-escaped.
    const secrets = [secret, JSON.stringify(secret).slice(1, -1)];
    const run = await runHelper(helper, 'store', input, helperContext(options, env, path), secrets);
    if (run.code !== 0) throw helperFailed(helper, 'store', run, secrets);
    const auths = configObject(config, 'auths', path);
    if (auths !== undefined && stripSecrets(auths, host)) await writeDockerConfig(path, config);
    return { source: `${helper.origin} ${HELPER_PREFIX}${helper.name}` };
  }

  if (options.allowPlaintext !== true) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `No credential helper is configured for ${host}: configure credsStore or credHelpers in ${path}, or pass --allow-plaintext to store the credential unencrypted there.`,
      { data: { registry: host, path } }
    );
  }
  const next: Record<string, unknown> = config ?? {};
  const auths = configObject(next, 'auths', path) ?? {};
  for (const key of matchingKeys(auths, host)) delete auths[key];
  auths[canonicalKey(host)] = authEntry(credential);
  next['auths'] = auths;
  throwIfAborted(options.signal);
  await writeDockerConfig(path, next);
  return { source: `${path} auths` };
}

/**
 * Erases a registry host's credential: `docker-credential-<name> erase` with the helper
 * {@link storeCredential} would use, and every matching `auths` entry of `config.json`
 * (rewritten atomically). A `RUNLEDGER_AUTH_*` variable is not touched.
 *
 * @param registry - a host with optional port (`docker.io` for Docker Hub)
 * @param options - environment and signal
 * @returns whether anything was erased, and from where
 * @throws RunledgerError `AUTHENTICATION` when the helper fails or `config.json` does not parse;
 *   `ARGUMENT_INVALID` for a malformed host; `IO_ERROR` when `config.json` cannot be written;
 *   `ABORTED` when `signal` fires
 * @example
 * ```ts
 * const { erased } = await eraseCredential('ghcr.io');
 * ```
 */
export async function eraseCredential(
  registry: string,
  options: CredentialOptions = {}
): Promise<EraseResult> {
  const host = checkRegistry(registry);
  throwIfAborted(options.signal);
  const env = options.env ?? process.env;
  const path = dockerConfigPath(env);
  const config = await readDockerConfig(path);
  if (config === undefined) return { erased: false };

  const sources: string[] = [];
  const helper = selectHelper(config, host, path);
  if (helper !== undefined) {
    const run = await runHelper(
      helper,
      'erase',
      helper.serverURL,
      helperContext(options, env, path),
      []
    );
    if (run.code === 0) sources.push(`${helper.origin} ${HELPER_PREFIX}${helper.name}`);
    else if (!saysNotFound(run)) throw helperFailed(helper, 'erase', run, []);
  }
  const auths = configObject(config, 'auths', path);
  const keys = auths === undefined ? [] : matchingKeys(auths, host);
  if (auths !== undefined && keys.length > 0) {
    for (const key of keys) delete auths[key];
    throwIfAborted(options.signal);
    await writeDockerConfig(path, config);
    sources.push(`${path} auths`);
  }
  return sources.length === 0 ? { erased: false } : { erased: true, source: sources.join(', ') };
}

// ---------------------------------------------------------------------------------------------
// Arguments

/** Validates a host[:port] and folds Docker Hub's aliases into `docker.io`. */
function checkRegistry(registry: string): string {
  if (
    typeof registry !== 'string' ||
    registry.length === 0 ||
    registry.length > 255 ||
    !/^[A-Za-z0-9.\-:[\]]+$/.test(registry)
  ) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      `Registry ${JSON.stringify(String(registry).slice(0, 300))} is not a host with an optional port: pass e.g. ghcr.io or 127.0.0.1:5000.`,
      { data: { registry: String(registry).slice(0, 300) } }
    );
  }
  const lower = registry.toLowerCase();
  return DOCKER_HUB_HOSTS.has(lower) ? DOCKER_HUB : registry;
}

function checkCredential(credential: Credential): void {
  const bad = (why: string): never => {
    throw new RunledgerError('ARGUMENT_INVALID', `The credential to store ${why}.`, {
      data: { kind: (credential as { kind?: unknown } | undefined)?.kind },
    });
  };
  if (typeof credential !== 'object' || credential === null) bad('is not an object');
  switch (credential.kind) {
    case 'basic':
      if (typeof credential.username !== 'string' || credential.username === '')
        bad('has no username');
      if (credential.username.includes(':'))
        bad('has a username with a colon, which config.json cannot encode');
      if (credential.username === TOKEN_USERNAME)
        bad('uses the reserved username <token>: pass an identity token instead');
      if (typeof credential.password !== 'string' || credential.password === '')
        bad('has no password');
      return;
    case 'identity-token':
    case 'access-token':
      if (typeof credential.token !== 'string' || credential.token === '') bad('has no token');
      return;
    default:
      bad('has an unknown kind (expected basic, identity-token or access-token)');
  }
}

/** `username:password`, split at the first colon; username `<token>` means an identity token. */
function parseEnvCredential(name: string, value: string): Credential {
  const colon = value.indexOf(':');
  if (colon <= 0 || colon === value.length - 1) {
    throw new RunledgerError(
      'AUTHENTICATION',
      `Environment variable ${name} is not of the form username:password: set it to both parts, separated by the first colon, or unset it.`,
      { data: { variable: name } }
    );
  }
  const username = value.slice(0, colon);
  const password = value.slice(colon + 1);
  if (username === TOKEN_USERNAME) return { kind: 'identity-token', token: password };
  return { kind: 'basic', username, password };
}

// ---------------------------------------------------------------------------------------------
// config.json

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function badConfig(path: string, why: string, data: Record<string, unknown> = {}): RunledgerError {
  return new RunledgerError('AUTHENTICATION', `Docker config ${path} ${why}: fix or remove it.`, {
    data: { path, ...data },
  });
}

/** Reads and parses `config.json`; `undefined` when there is none. */
async function readDockerConfig(path: string): Promise<JsonObject | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw ioError(e, 'read', path);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch {
    // No cause: V8's SyntaxError quotes the text around the fault, which may be a secret.
    throw badConfig(path, 'is not valid JSON');
  }
  if (!isObject(parsed)) throw badConfig(path, 'is not a JSON object');
  return parsed;
}

/** The object under `field`, `undefined` when absent. */
function configObject(config: JsonObject, field: string, path: string): JsonObject | undefined {
  if (!Object.hasOwn(config, field) || config[field] === undefined) return undefined;
  const v = config[field];
  if (!isObject(v)) throw badConfig(path, `has a ${field} field that is not an object`, { field });
  return v;
}

/** The hostname (with port) of a config key: scheme and any path removed, lower-cased. */
function keyHost(key: string): string {
  const noScheme = key.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '');
  const slash = noScheme.indexOf('/');
  return (slash < 0 ? noScheme : noScheme.slice(0, slash)).toLowerCase();
}

/** Own keys of `obj` that name `host`: exact key first, then by hostname in file order. */
function matchingKeys(obj: JsonObject, host: string): string[] {
  const hosts = host === DOCKER_HUB ? DOCKER_HUB_HOSTS : new Set([host.toLowerCase()]);
  const out: string[] = [];
  const exact = host === DOCKER_HUB ? [host, DOCKER_HUB_KEY] : [host];
  for (const key of exact) if (Object.hasOwn(obj, key)) out.push(key);
  for (const key of Object.keys(obj)) {
    if (!out.includes(key) && hosts.has(keyHost(key))) out.push(key);
  }
  return out;
}

/** The key a new plaintext entry is written under, and the server URL of a helper by default. */
function canonicalKey(host: string): string {
  return host === DOCKER_HUB ? DOCKER_HUB_KEY : host;
}

/** The credential of one `auths` entry; `undefined` for an entry without one (e.g. `{}`). */
function parseAuthEntry(entry: unknown, path: string, key: string): Credential | undefined {
  if (!isObject(entry))
    throw badConfig(path, `has an auths entry ${JSON.stringify(key)} that is not an object`, {
      key,
    });
  const str = (field: string): string => {
    const v = entry[field];
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') {
      throw badConfig(
        path,
        `has an auths entry ${JSON.stringify(key)} whose ${field} is not a string`,
        { key, field }
      );
    }
    return v;
  };
  let username = str('username');
  let password = str('password');
  const auth = str('auth');
  if (auth !== '') {
    const decoded = decodeAuth(auth);
    if (decoded === undefined) {
      throw badConfig(
        path,
        `has an auths entry ${JSON.stringify(key)} whose auth is not base64 of username:password`,
        { key }
      );
    }
    [username, password] = decoded;
  }
  // Docker's order: a registry token is used as is, an identity token is exchanged first.
  const registryToken = str('registrytoken');
  if (registryToken !== '') return { kind: 'access-token', token: registryToken };
  const identityToken = str('identitytoken');
  if (identityToken !== '') {
    return username === ''
      ? { kind: 'identity-token', token: identityToken }
      : { kind: 'identity-token', token: identityToken, username };
  }
  if (username === '' && password === '') return undefined;
  if (username === TOKEN_USERNAME) return { kind: 'identity-token', token: password };
  return { kind: 'basic', username, password };
}

/** Strict base64 (padding optional) of UTF-8 `user:pass`, split at the first colon. */
function decodeAuth(auth: string): [string, string] | undefined {
  const body = auth.replace(/=+$/, '');
  if (!/^[A-Za-z0-9+/]*$/.test(body) || body.length % 4 === 1 || auth.length - body.length > 2) {
    return undefined;
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(body, 'base64'));
  } catch {
    return undefined;
  }
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  return [text.slice(0, colon), text.slice(colon + 1)];
}

function authEntry(credential: Credential): JsonObject {
  const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
  switch (credential.kind) {
    case 'basic':
      return { auth: b64(`${credential.username}:${credential.password}`) };
    case 'identity-token':
      return credential.username === undefined || credential.username === ''
        ? { identitytoken: credential.token }
        : { auth: b64(`${credential.username}:`), identitytoken: credential.token };
    case 'access-token':
      return { registrytoken: credential.token };
  }
}

/** Removes the secret fields of every `auths` entry for `host`; whether anything changed. */
function stripSecrets(auths: JsonObject, host: string): boolean {
  let changed = false;
  for (const key of matchingKeys(auths, host)) {
    const entry = auths[key];
    if (!isObject(entry)) continue;
    for (const field of SECRET_FIELDS) {
      if (Object.hasOwn(entry, field)) {
        delete entry[field];
        changed = true;
      }
    }
  }
  return changed;
}

/**
 * Replaces `config.json` atomically: a 0600 temp file in the same directory (the symlink's
 * target directory when the file is a symlink), fsync, rename, directory fsync. The directory is
 * created with mode 0700 when missing. Tab indentation, as Docker writes it.
 */
async function writeDockerConfig(path: string, config: JsonObject): Promise<void> {
  let target = path;
  try {
    if ((await lstat(path)).isSymbolicLink()) target = await realpath(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw ioError(e, 'write', path);
  }
  const dir = dirname(target);
  const temp = join(
    dir,
    `.${basename(target)}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`
  );
  const bytes = JSON.stringify(config, null, '\t');
  let created = false;
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const h = await open(temp, 'wx', 0o600);
    created = true;
    try {
      await h.chmod(0o600); // the umask can only narrow it, but be explicit
      await h.writeFile(bytes, 'utf8');
      await h.sync();
    } finally {
      await h.close();
    }
    await rename(temp, target);
    created = false;
    const d = await open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch (e) {
    if (created) await unlink(temp).catch(() => undefined);
    throw ioError(e, 'write', path);
  }
}

// ---------------------------------------------------------------------------------------------
// Credential helpers (docker-credential-helpers protocol)

interface Helper {
  /** The part after `docker-credential-`. */
  readonly name: string;
  readonly origin: 'credHelpers' | 'credsStore';
  /** What goes on stdin for get and erase, and in ServerURL for store. */
  readonly serverURL: string;
}

interface HelperContext {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number;
  readonly configPath: string;
}

interface HelperRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function helperContext(
  options: CredentialOptions,
  env: Readonly<Record<string, string | undefined>>,
  configPath: string
): HelperContext {
  const t = options.helperTimeoutMs;
  return {
    env,
    signal: options.signal,
    timeoutMs: t !== undefined && Number.isFinite(t) && t > 0 ? t : DEFAULT_HELPER_TIMEOUT_MS,
    configPath,
  };
}

/** The helper for `host`: `credHelpers` (matched like `auths` keys), else `credsStore`. */
function selectHelper(config: JsonObject, host: string, path: string): Helper | undefined {
  const credHelpers = configObject(config, 'credHelpers', path);
  if (credHelpers !== undefined) {
    for (const key of matchingKeys(credHelpers, host)) {
      const name = credHelpers[key];
      if (name === '' || name === undefined || name === null) continue;
      return {
        name: helperName(name, path, `credHelpers ${JSON.stringify(key)}`),
        origin: 'credHelpers',
        serverURL: key,
      };
    }
  }
  const store = config['credsStore'];
  if (
    !Object.hasOwn(config, 'credsStore') ||
    store === '' ||
    store === undefined ||
    store === null
  ) {
    return undefined;
  }
  const auths = configObject(config, 'auths', path);
  const key = auths === undefined ? undefined : matchingKeys(auths, host)[0];
  return {
    name: helperName(store, path, 'credsStore'),
    origin: 'credsStore',
    serverURL: key ?? canonicalKey(host),
  };
}

function helperName(name: unknown, path: string, where: string): string {
  if (typeof name !== 'string' || !HELPER_NAME_RE.test(name)) {
    throw badConfig(
      path,
      `has a ${where} value that is not a helper name (letters, digits, '.', '_', '-')`,
      { field: where }
    );
  }
  return name;
}

/** Looks `file` up in the PATH of the given environment (not this process's). */
async function findExecutable(
  file: string,
  env: Readonly<Record<string, string | undefined>>
): Promise<string | undefined> {
  const pathKey =
    process.platform === 'win32'
      ? Object.keys(env).find((k) => k.toUpperCase() === 'PATH')
      : 'PATH';
  const dirs = (pathKey === undefined ? '' : (env[pathKey] ?? '')).split(delimiter);
  const exts =
    process.platform === 'win32' ? (env['PATHEXT'] ?? '.EXE;.CMD;.BAT').split(';') : [''];
  for (const dir of dirs) {
    // An empty or relative PATH entry would run a binary from the current directory.
    if (dir === '' || !isAbsolute(dir)) continue;
    for (const ext of exts) {
      const candidate = join(dir, file + ext);
      try {
        if (!(await stat(candidate)).isFile()) continue;
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

/** Runs `docker-credential-<name> <action>` with `input` on stdin, bounded in time and output. */
async function runHelper(
  helper: Helper,
  action: 'get' | 'store' | 'erase',
  input: string,
  ctx: HelperContext,
  secrets: readonly string[]
): Promise<HelperRun> {
  const program = `${HELPER_PREFIX}${helper.name}`;
  const file = await findExecutable(program, ctx.env);
  if (file === undefined) {
    throw new RunledgerError(
      'AUTHENTICATION',
      `Credential helper ${program} (named by ${helper.origin} in ${ctx.configPath}) is not on PATH: install it, or remove it from ${ctx.configPath}.`,
      { data: { helper: program, origin: helper.origin, path: ctx.configPath } }
    );
  }
  throwIfAborted(ctx.signal);
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(ctx.env)) if (v !== undefined) childEnv[k] = v;

  return new Promise<HelperRun>((resolvePromise, reject) => {
    const child = spawn(file, [action], { env: childEnv, stdio: 'pipe', windowsHide: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let settled = false;
    const data = { helper: program, action, serverURL: helper.serverURL };

    const finish = (error: RunledgerError | undefined, run?: HelperRun): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ctx.signal?.removeEventListener('abort', onAbort);
      if (error === undefined) {
        resolvePromise(run as HelperRun);
        return;
      }
      // Do not wait for 'close': a grandchild may hold the pipes open.
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      child.stdout.destroy();
      child.stderr.destroy();
      child.stdin.destroy();
      reject(error);
    };
    const onAbort = (): void => {
      finish(
        new RunledgerError('ABORTED', 'The operation was aborted.', { cause: ctx.signal?.reason })
      );
    };
    const timer = setTimeout(() => {
      finish(
        new RunledgerError(
          'AUTHENTICATION',
          `Credential helper ${program} did not answer ${action} within ${ctx.timeoutMs / 1000} s and was stopped: check that it works on its own (a locked keychain or a prompt can block it).`,
          { data: { ...data, timeoutMs: ctx.timeoutMs } }
        )
      );
    }, ctx.timeoutMs);
    ctx.signal?.addEventListener('abort', onAbort, { once: true });

    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_HELPER_OUTPUT) {
        finish(
          new RunledgerError(
            'AUTHENTICATION',
            `Credential helper ${program} wrote more than ${MAX_HELPER_OUTPUT} bytes for ${action} and was stopped: check the helper.`,
            { data }
          )
        );
      } else into.push(chunk);
    };
    child.stdout.on('data', collect(out));
    child.stderr.on('data', collect(err));
    // EPIPE when the helper exits without reading its input: its exit status says what happened.
    child.stdin.on('error', () => undefined);
    child.on('error', (e) => {
      finish(
        new RunledgerError(
          'AUTHENTICATION',
          `Credential helper ${program} could not be started: check that ${file} is an executable.`,
          { data: { ...data, file, errno: (e as NodeJS.ErrnoException).code }, cause: e }
        )
      );
    });
    child.on('close', (code) => {
      finish(undefined, {
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(input);
  }).catch((e: unknown) => {
    // Belt and braces: a secret must not travel in a cause either.
    if (e instanceof RunledgerError) throw e;
    throw new RunledgerError(
      'AUTHENTICATION',
      `Credential helper ${program} failed: check the helper.`,
      {
        data: { helper: program, action, detail: redact(String(e), secrets) },
      }
    );
  });
}

/** docker-credential-helpers print this (on stdout, exit 1) when they hold nothing for a server. */
function saysNotFound(run: HelperRun): boolean {
  return /credentials not found/i.test(run.stdout) || /credentials not found/i.test(run.stderr);
}

/** The credential a `get` answered, `undefined` for "not found" or an empty answer. */
function interpretGet(helper: Helper, run: HelperRun): Credential | undefined {
  if (run.code !== 0) {
    if (saysNotFound(run)) return undefined;
    throw helperFailed(helper, 'get', run, []);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(run.stdout);
  } catch {
    parsed = undefined;
  }
  const username = isObject(parsed) ? parsed['Username'] : undefined;
  const secret = isObject(parsed) ? parsed['Secret'] : undefined;
  if (
    !isObject(parsed) ||
    (username !== undefined && typeof username !== 'string') ||
    (secret !== undefined && typeof secret !== 'string')
  ) {
    // The answer is not quoted: it may hold the secret.
    throw new RunledgerError(
      'AUTHENTICATION',
      `Credential helper ${HELPER_PREFIX}${helper.name} answered get for ${helper.serverURL} with something other than {ServerURL, Username, Secret} JSON: check the helper.`,
      {
        data: {
          helper: `${HELPER_PREFIX}${helper.name}`,
          action: 'get',
          serverURL: helper.serverURL,
        },
      }
    );
  }
  const user = username ?? '';
  const pass = secret ?? '';
  if (pass === '') return undefined;
  if (user === TOKEN_USERNAME) return { kind: 'identity-token', token: pass };
  return { kind: 'basic', username: user, password: pass };
}

function helperFailed(
  helper: Helper,
  action: string,
  run: HelperRun,
  secrets: readonly string[]
): RunledgerError {
  const program = `${HELPER_PREFIX}${helper.name}`;
  // docker-credential-helpers report errors on stdout; others use stderr.
  const line = firstLine(run.stderr) || firstLine(run.stdout);
  const detail = line === '' ? '' : redact(line, secrets);
  return new RunledgerError(
    'AUTHENTICATION',
    `Credential helper ${program} failed to ${action} the credential for ${helper.serverURL} (exit ${run.code ?? 'by signal'}${detail === '' ? '' : `: ${detail}`}): fix the helper or its configuration.`,
    { data: { helper: program, action, serverURL: helper.serverURL, exitCode: run.code, detail } }
  );
}

function firstLine(text: string): string {
  const line = text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
  return line.trim().slice(0, 200);
}

/** Removes known secrets, `key=value` secrets and long token-like runs from a helper's message. */
function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s !== '') out = out.split(s).join('[redacted]');
  out = out.replace(/\b(password|passwd|secret|token|auth)(\s*[=:]\s*)\S+/gi, '$1$2[redacted]');
  return out.replace(/[A-Za-z0-9+_=.~-]{32,}/g, '[redacted]');
}
