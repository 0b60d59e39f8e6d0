/**
 * @module remote/auth
 * Registry authentication: anonymous, Basic, and Bearer tokens from the realm a
 * `WWW-Authenticate` challenge names (Docker token protocol and the OAuth2 refresh-token grant).
 * Tokens are cached per scope set and renewed before they expire; the realm is checked by the
 * origin policy, and Basic credentials go to it only over https or to the registry's own origin.
 */
import { RemoteError } from '../errors.js';
import type { Credential, CredentialSource } from './credentials.js';
import {
  HttpClient,
  abortableSleep,
  errorFromResponse,
  readCapped,
  type AuthProvider,
  type FetchLike,
} from './http.js';
import { addressClass, checkTarget, redactUrl, sameOrigin } from './origin.js';

/** A parsed `WWW-Authenticate` challenge. */
export interface Challenge {
  /** Lower-cased scheme: `bearer`, `basic`… */
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses a `WWW-Authenticate` header, which may hold several challenges
 * (`Basic realm="x", Bearer realm="…",service="…",scope="…"`).
 * @param header - the header value
 * @returns the challenges in order
 */
export function parseChallenges(header: string): Challenge[] {
  const out: { scheme: string; params: Record<string, string> }[] = [];
  const text = header.slice(0, 8192);
  const isTokenChar = (c: string): boolean => /[A-Za-z0-9!#$%&'*+.^_`|~-]/.test(c);
  let i = 0;
  let current: { scheme: string; params: Record<string, string> } | undefined;
  while (i < text.length) {
    while (i < text.length && /[\s,]/.test(text[i] as string)) i++;
    const start = i;
    while (i < text.length && isTokenChar(text[i] as string)) i++;
    if (i === start) {
      i++;
      continue;
    }
    const name = text.slice(start, i);
    let j = i;
    while (j < text.length && text[j] === ' ') j++;
    if (text[j] !== '=') {
      current = { scheme: name.toLowerCase(), params: {} };
      out.push(current);
      continue;
    }
    i = j + 1;
    while (i < text.length && text[i] === ' ') i++;
    let value = '';
    if (text[i] === '"') {
      i++;
      while (i < text.length && text[i] !== '"') {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        value += text[i];
        i++;
      }
      i++;
    } else {
      const v0 = i;
      while (i < text.length && !/[\s,]/.test(text[i] as string)) i++;
      value = text.slice(v0, i);
    }
    if (current !== undefined) current.params[name.toLowerCase()] = value;
  }
  return out;
}

/** Options of {@link RegistryAuth}. */
export interface RegistryAuthOptions {
  /** Finds the credential for the registry (called once, lazily). */
  readonly credential: () => Promise<CredentialSource | undefined>;
  readonly fetch?: FetchLike;
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The clock, for token expiry. @default Date.now */
  readonly now?: () => number;
  /** Seconds before expiry at which a token is renewed. @default 30 */
  readonly renewBeforeSeconds?: number;
}

interface Token {
  readonly value: string;
  readonly expiresAt: number;
}

/** Most a token response may weigh. */
const MAX_TOKEN_BODY = 128 * 1024;

function scopeKey(scopes: readonly string[]): string {
  return [...new Set(scopes)].sort().join(' ');
}

/** Merges `repository:x:pull` and `repository:x:push` into `repository:x:pull,push`. */
export function mergeScopes(scopes: readonly string[]): string[] {
  const byResource = new Map<string, Set<string>>();
  const other: string[] = [];
  for (const s of scopes) {
    const m = /^([a-z0-9]+):(.+):([a-z*,]+)$/i.exec(s);
    if (m === null) {
      other.push(s);
      continue;
    }
    const key = `${m[1]}:${m[2]}`;
    const set = byResource.get(key) ?? new Set<string>();
    for (const a of (m[3] as string).split(',')) if (a !== '') set.add(a);
    byResource.set(key, set);
  }
  const merged = [...byResource].map(([k, actions]) => `${k}:${[...actions].sort().join(',')}`);
  return [...new Set([...merged, ...other])].sort();
}

/**
 * Authentication state for one registry, shared by every request to it.
 */
export class RegistryAuth implements AuthProvider {
  readonly #registry: URL;
  readonly #options: RegistryAuthOptions;
  readonly #now: () => number;
  #credential: Promise<CredentialSource | undefined> | undefined;
  #scheme: { kind: 'basic' } | { kind: 'bearer'; realm: URL; service?: string } | undefined;
  #basicRejected = false;
  readonly #tokens = new Map<string, Token>();
  readonly #inflight = new Map<string, Promise<Token>>();
  /** Token requests made (for tests and diagnostics). */
  tokenRequests = 0;

  /**
   * @param registry - the registry's base URL
   * @param options - where credentials come from, fetch, clock
   */
  constructor(registry: URL, options: RegistryAuthOptions) {
    this.#registry = registry;
    this.#options = options;
    this.#now = options.now ?? Date.now;
  }

  /** The credential in use and where it came from (resolved on first need). */
  credential(): Promise<CredentialSource | undefined> {
    this.#credential ??= this.#options.credential();
    return this.#credential;
  }

  /** A description of where the credentials came from, for messages. */
  async describe(): Promise<string> {
    const c = await this.credential().catch(() => undefined);
    return c === undefined ? 'no credentials (anonymous)' : `the credentials from ${c.source}`;
  }

  async authorization(
    scopes: readonly string[],
    signal?: AbortSignal
  ): Promise<string | undefined> {
    const scheme = this.#scheme;
    if (scheme === undefined) return undefined;
    const cred = (await this.credential())?.credential;
    if (scheme.kind === 'basic') {
      return cred?.kind === 'basic' && !this.#basicRejected ? basicHeader(cred) : undefined;
    }
    if (cred?.kind === 'access-token') return `Bearer ${cred.token}`;
    const token = await this.#token(scheme, mergeScopes(scopes), signal, false);
    return `Bearer ${token.value}`;
  }

  async challenge(
    response: Response,
    scopes: readonly string[],
    signal?: AbortSignal
  ): Promise<boolean> {
    const header = response.headers.get('www-authenticate');
    if (header === null) return false;
    const challenges = parseChallenges(header);
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const cred = (await this.credential())?.credential;
    if (bearer !== undefined) {
      const realmText = bearer.params['realm'];
      if (realmText === undefined || realmText === '') return false;
      let realm: URL;
      try {
        realm = new URL(realmText);
      } catch {
        throw new RemoteError(
          'PROTOCOL',
          `The token realm ${JSON.stringify(realmText.slice(0, 200))} that ${this.#registry.host} named is not a URL.`,
          { method: 'GET', url: redactUrl(this.#registry) }
        );
      }
      checkTarget(realm, this.#registry, 'token realm', 'GET');
      const scheme: { kind: 'bearer'; realm: URL; service?: string } = { kind: 'bearer', realm };
      if (bearer.params['service'] !== undefined) scheme.service = bearer.params['service'];
      this.#scheme = scheme;
      if (cred?.kind === 'access-token') return false; // it was refused as is
      const asked = bearer.params['scope'];
      const wanted = mergeScopes([...scopes, ...(asked === undefined ? [] : asked.split(' '))]);
      const key = scopeKey(wanted);
      const had = this.#tokens.get(key);
      // A fresh token for exactly this scope set was just refused: asking again won't help.
      const used = this.#tokens.get(scopeKey(mergeScopes(scopes)));
      if (had !== undefined && used === had && bearer.params['error'] === 'insufficient_scope') {
        return false;
      }
      const token = await this.#token(scheme, wanted, signal, true);
      this.#tokens.set(scopeKey(mergeScopes(scopes)), token);
      return true;
    }
    if (challenges.some((c) => c.scheme === 'basic')) {
      if (cred?.kind !== 'basic') return false;
      if (this.#scheme?.kind === 'basic') {
        this.#basicRejected = true;
        return false;
      }
      this.#scheme = { kind: 'basic' };
      return true;
    }
    return false;
  }

  async #token(
    scheme: { realm: URL; service?: string },
    scopes: readonly string[],
    signal: AbortSignal | undefined,
    force: boolean
  ): Promise<Token> {
    const key = scopeKey(scopes);
    const renew = (this.#options.renewBeforeSeconds ?? 30) * 1000;
    const cached = this.#tokens.get(key);
    if (!force && cached !== undefined && cached.expiresAt - renew > this.#now()) return cached;
    const running = this.#inflight.get(key);
    if (running !== undefined) return running;
    const p = this.#fetchToken(scheme, scopes, signal)
      .then((t) => {
        this.#tokens.set(key, t);
        return t;
      })
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, p);
    return p;
  }

  async #fetchToken(
    scheme: { realm: URL; service?: string },
    scopes: readonly string[],
    signal: AbortSignal | undefined
  ): Promise<Token> {
    this.tokenRequests++;
    const source = await this.credential();
    const cred = source?.credential;
    const realm = scheme.realm;
    const mayCarrySecrets =
      realm.protocol === 'https:' ||
      sameOrigin(realm, this.#registry) ||
      (addressClass(realm.hostname) === 'loopback' &&
        addressClass(this.#registry.hostname) === 'loopback');
    if (cred !== undefined && !mayCarrySecrets) {
      throw new RemoteError(
        'REMOTE_REFUSED',
        `Refused to send credentials to the plain-http token realm ${redactUrl(realm)} that ${this.#registry.host} named.`,
        { method: 'GET', url: redactUrl(realm) }
      );
    }
    const http = new HttpClient(new URL(realm.origin), {
      ...(this.#options.fetch === undefined ? {} : { fetch: this.#options.fetch }),
      sleep: this.#options.sleep ?? abortableSleep,
    });
    let res: Response;
    let req: { method: 'GET' | 'POST'; url: URL };
    if (cred?.kind === 'identity-token') {
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: cred.token,
        client_id: 'runledger',
      });
      if (scheme.service !== undefined) form.set('service', scheme.service);
      if (scopes.length > 0) form.set('scope', scopes.join(' '));
      req = { method: 'POST', url: realm };
      res = await http.send({
        method: 'POST',
        url: realm,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new TextEncoder().encode(form.toString()),
        ...(signal === undefined ? {} : { signal }),
      });
    } else {
      const url = new URL(realm.href);
      if (scheme.service !== undefined) url.searchParams.set('service', scheme.service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const headers: Record<string, string> = {};
      if (cred?.kind === 'basic') {
        url.searchParams.set('account', cred.username);
        headers['authorization'] = basicHeader(cred);
      }
      req = { method: 'GET', url };
      res = await http.send({
        method: 'GET',
        url,
        headers,
        ...(signal === undefined ? {} : { signal }),
      });
    }
    if (!res.ok) {
      const where = await this.describe();
      throw await errorFromResponse(res, req, `get a token for ${this.#registry.host}`, {
        authentication: `the token server refused ${where}: run \`runledger login ${this.#registry.host}\` with valid credentials`,
        authorization: `the token server refused ${where} for ${scopes.join(' ')}`,
      });
    }
    const bytes = await readCapped(res, MAX_TOKEN_BODY, 'token response', req.method, req.url);
    let body: {
      token?: unknown;
      access_token?: unknown;
      expires_in?: unknown;
      issued_at?: unknown;
    };
    try {
      body = JSON.parse(new TextDecoder().decode(bytes)) as typeof body;
    } catch {
      body = {};
    }
    const value =
      typeof body.token === 'string' && body.token !== ''
        ? body.token
        : typeof body.access_token === 'string'
          ? body.access_token
          : '';
    if (value === '' || /\s/.test(value)) {
      throw new RemoteError(
        'PROTOCOL',
        `The token server ${realm.host} for ${this.#registry.host} answered without a usable token.`,
        { method: req.method, url: redactUrl(realm) }
      );
    }
    const expiresIn =
      typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    const issued = typeof body.issued_at === 'string' ? Date.parse(body.issued_at) : NaN;
    const now = this.#now();
    // A server clock ahead of ours must not make the token look fresher than it is.
    const start = Number.isNaN(issued) ? now : Math.min(issued, now);
    return { value, expiresAt: start + expiresIn * 1000 };
  }
}

function basicHeader(cred: Extract<Credential, { kind: 'basic' }>): string {
  return `Basic ${Buffer.from(`${cred.username}:${cred.password}`).toString('base64')}`;
}
