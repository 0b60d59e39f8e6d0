/**
 * A Docker token server (the Bearer realm of a registry) on 127.0.0.1, for auth tests against the
 * real docker-registry 2.8.2 (see registry-server.ts) or a registry double.
 *
 * - `GET /token?service=…&scope=repository:a/b:pull,push&scope=…`, optionally with Basic auth;
 *   `offline_token=true` or `access_type=offline` (authenticated only) adds a `refresh_token`.
 * - `POST /token` with a form body: `grant_type=password` (username, password; always answered
 *   with a `refresh_token`) or `grant_type=refresh_token` (refresh_token), plus service, scope
 *   (space-separated scopes), client_id.
 * - Success: `{ token, access_token, expires_in, issued_at [, refresh_token] }`. Wrong
 *   credentials or an unknown refresh token: 401 with a JSON error. Unknown grant type, or a
 *   `service` other than ours: 400. Other paths: 404.
 *
 * Tokens are RS256 JWTs whose header carries the signing certificate as `x5c`; the registry is
 * configured with that certificate as its `rootcertbundle`. Key and self-signed certificate are
 * made with openssl in a temp dir.
 */
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey, randomBytes, randomUUID, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir, removeTempDir } from './exit-cleanup.js';

/** Which actions of `repository` to grant; `user` is undefined for anonymous requests. */
export type GrantFn = (
  user: string | undefined,
  repository: string,
  requested: string[]
) => string[];

export interface TokenServerOptions {
  /** username -> password. Default `{ alice: 'wonderland-secret' }`. */
  users?: Record<string, string>;
  /** Default true: anonymous requests get `pull` on every repository (with the default grant). */
  anonymousPull?: boolean;
  /**
   * Decides repository scopes. Default: authenticated users get everything requested, anonymous
   * ones only `pull` when anonymousPull. Non-repository scopes (`registry:catalog:*`) are granted
   * in full to authenticated users and never to anonymous ones.
   */
  grant?: GrantFn;
  /** `expires_in` of the response, and the JWT lifetime unless jwtLifetime is set. Default 300. */
  expiresIn?: number;
  /**
   * Seconds from issue to the JWT's `exp`, when it should differ from expires_in (a negative value
   * makes tokens the registry already considers expired; note 2.8.2 allows 60 s of clock skew).
   */
  jwtLifetime?: number;
  /** Default 'runledger-test-issuer'. */
  issuer?: string;
  /** Default 'runledger-test-registry'. */
  service?: string;
}

export interface TokenRequest {
  method: string;
  path: string;
  /** Every requested scope, as sent (`repository:a/b:pull,push`). */
  scopes: string[];
  /** The authenticated user, when authentication succeeded. */
  user?: string;
  /** POST only. */
  grantType?: string;
  /** The Authorization header as received. */
  authorization?: string;
  service?: string;
  clientId?: string;
  /** The status this server answered. */
  status: number;
}

export interface TokenServer {
  readonly url: string; // 'http://127.0.0.1:<port>'; the realm is url + '/token'
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly certPath: string;
  readonly requests: TokenRequest[];
  /** Number of access tokens issued so far. */
  readonly issuedTokens: number;
  /** Mint a refresh (identity) token for `user` directly, as if from an earlier login. */
  refreshTokenFor(user: string): string;
  /** Replace the grant function (undefined restores the default). */
  setGrant(grant: GrantFn | undefined): void;
  stop(): Promise<void>;
}

export const DEFAULT_USERS: Readonly<Record<string, string>> = Object.freeze({
  alice: 'wonderland-secret',
});

const run = promisify(execFile);

interface Access {
  type: string;
  name: string;
  actions: string[];
}

class HttpError extends Error {
  readonly status: number;
  readonly body: Record<string, unknown>;
  constructor(status: number, body: Record<string, unknown>) {
    super(`HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function b64url(b: Buffer | string): string {
  return Buffer.from(b).toString('base64url');
}

/** `type:name:actions`; the name may itself contain ':' only in theory, so split at both ends. */
function parseScope(scope: string): Access | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first < 0 || last === first) return undefined;
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter((a) => a !== '');
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions };
}

function splitScopes(values: string[]): string[] {
  return values.flatMap((v) => v.split(' ')).filter((s) => s !== '');
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, { error: 'invalid_request' });
    parts.push(chunk);
  }
  return Buffer.concat(parts).toString('utf8');
}

function unauthorized(message: string): HttpError {
  return new HttpError(401, {
    error: 'invalid_grant',
    error_description: message,
    errors: [{ code: 'UNAUTHORIZED', message }],
  });
}

export async function startTokenServer(options: TokenServerOptions = {}): Promise<TokenServer> {
  const users: Record<string, string> = { ...(options.users ?? DEFAULT_USERS) };
  const anonymousPull = options.anonymousPull ?? true;
  const expiresIn = options.expiresIn ?? 300;
  const jwtLifetime = options.jwtLifetime ?? expiresIn;
  const issuer = options.issuer ?? 'runledger-test-issuer';
  const service = options.service ?? 'runledger-test-registry';
  const defaultGrant: GrantFn = (user, _repository, requested) =>
    user !== undefined ? requested : anonymousPull ? requested.filter((a) => a === 'pull') : [];
  let grant: GrantFn = options.grant ?? defaultGrant;

  const dir = await makeTempDir('runledger-token-');
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  let key: KeyObject;
  let certDer: string;
  try {
    // -days 2: the cert must be valid now and for the whole test run.
    await run(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyPath,
        '-out',
        certPath,
        '-days',
        '2',
        '-subj',
        '/CN=runledger-test-token',
      ],
      { timeout: 30_000 }
    );
    key = createPrivateKey(await readFile(keyPath));
    certDer = new X509Certificate(await readFile(certPath)).raw.toString('base64');
  } catch (e) {
    await removeTempDir(dir);
    throw new Error(`token server: could not make a key and certificate with openssl: ${e}`);
  }

  const refreshTokens = new Map<string, string>();
  const requests: TokenRequest[] = [];
  let issuedTokens = 0;

  function refreshTokenFor(user: string): string {
    const t = randomBytes(24).toString('base64url');
    refreshTokens.set(t, user);
    return t;
  }

  function authenticate(username: string, password: string): string {
    if (!Object.hasOwn(users, username) || users[username] !== password) {
      throw unauthorized('invalid username or password');
    }
    return username;
  }

  function accessFor(user: string | undefined, scopes: string[]): Access[] {
    const merged = new Map<string, Access>();
    for (const s of scopes) {
      const a = parseScope(s);
      if (a === undefined) throw new HttpError(400, { error: 'invalid_scope', scope: s });
      const k = `${a.type}\0${a.name}`;
      const prev = merged.get(k);
      if (prev === undefined) merged.set(k, a);
      else for (const x of a.actions) if (!prev.actions.includes(x)) prev.actions.push(x);
    }
    const out: Access[] = [];
    for (const a of merged.values()) {
      const granted =
        a.type === 'repository'
          ? grant(user, a.name, [...a.actions]).filter((x) => a.actions.includes(x))
          : user !== undefined
            ? a.actions
            : [];
      if (granted.length > 0) out.push({ type: a.type, name: a.name, actions: granted });
    }
    return out;
  }

  function issue(user: string | undefined, scopes: string[], refresh: boolean): object {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [certDer] };
    const claims = {
      iss: issuer,
      sub: user ?? '',
      aud: service,
      exp: now + jwtLifetime,
      nbf: now,
      iat: now,
      jti: randomUUID(),
      access: accessFor(user, scopes),
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${input}.${b64url(sign('sha256', Buffer.from(input), key))}`;
    issuedTokens++;
    return {
      token,
      access_token: token,
      expires_in: expiresIn,
      issued_at: new Date(now * 1000).toISOString(),
      ...(refresh && user !== undefined ? { refresh_token: refreshTokenFor(user) } : {}),
    };
  }

  function checkService(s: string | null): void {
    if (s !== null && s !== service) {
      throw new HttpError(400, {
        error: 'invalid_request',
        error_description: `unknown service ${s}`,
      });
    }
  }

  async function handle(req: IncomingMessage, rec: TokenRequest): Promise<object> {
    const url = new URL(req.url ?? '/', 'http://token.invalid');
    if (url.pathname !== '/token') throw new HttpError(404, { error: 'not_found' });
    if (req.method === 'GET') {
      const q = url.searchParams;
      rec.scopes = splitScopes(q.getAll('scope'));
      const service = q.get('service');
      if (service !== null) rec.service = service;
      const clientId = q.get('client_id');
      if (clientId !== null) rec.clientId = clientId;
      checkService(service);
      let user: string | undefined;
      const auth = req.headers.authorization;
      if (auth !== undefined) {
        const m = /^Basic\s+(\S+)$/i.exec(auth);
        if (m === null) throw unauthorized('unsupported authorization scheme');
        const decoded = Buffer.from(m[1] ?? '', 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        if (colon < 0) throw unauthorized('malformed basic credentials');
        user = authenticate(decoded.slice(0, colon), decoded.slice(colon + 1));
        rec.user = user;
      }
      const offline = q.get('offline_token') === 'true' || q.get('access_type') === 'offline';
      return issue(user, rec.scopes, offline);
    }
    if (req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      rec.scopes = splitScopes(form.getAll('scope'));
      const grantType = form.get('grant_type');
      if (grantType !== null) rec.grantType = grantType;
      const service = form.get('service');
      if (service !== null) rec.service = service;
      const clientId = form.get('client_id');
      if (clientId !== null) rec.clientId = clientId;
      checkService(service);
      if (grantType === 'password') {
        const user = authenticate(form.get('username') ?? '', form.get('password') ?? '');
        rec.user = user;
        return issue(user, rec.scopes, true);
      }
      if (grantType === 'refresh_token') {
        const user = refreshTokens.get(form.get('refresh_token') ?? '');
        if (user === undefined) throw unauthorized('unknown refresh token');
        rec.user = user;
        return issue(user, rec.scopes, false);
      }
      throw new HttpError(400, {
        error: 'unsupported_grant_type',
        error_description: `unsupported grant_type ${grantType ?? '(none)'}`,
      });
    }
    throw new HttpError(405, { error: 'method_not_allowed' });
  }

  function reply(res: ServerResponse, status: number, body: object): void {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
    });
    res.end(text);
  }

  const server = createServer((req, res) => {
    const rec: TokenRequest = {
      method: req.method ?? '',
      path: new URL(req.url ?? '/', 'http://token.invalid').pathname,
      scopes: [],
      status: 0,
      ...(req.headers.authorization !== undefined
        ? { authorization: req.headers.authorization }
        : {}),
    };
    requests.push(rec);
    handle(req, rec).then(
      (body) => {
        rec.status = 200;
        reply(res, 200, body);
      },
      (e: unknown) => {
        const err = e instanceof HttpError ? e : new HttpError(500, { error: String(e) });
        rec.status = err.status;
        reply(res, err.status, err.body);
      }
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
  } catch (e) {
    await removeTempDir(dir);
    throw e;
  }
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  let stopped: Promise<void> | undefined;
  return {
    url,
    realm: `${url}/token`,
    service,
    issuer,
    certPath,
    requests,
    get issuedTokens() {
      return issuedTokens;
    },
    refreshTokenFor,
    setGrant(g) {
      grant = g ?? defaultGrant;
    },
    stop() {
      stopped ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await removeTempDir(dir);
      })();
      return stopped;
    },
  };
}
