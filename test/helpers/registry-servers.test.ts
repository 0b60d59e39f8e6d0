/**
 * Self-test of the server helpers against the real docker-registry 2.8.2: the registry with each
 * auth mode, the token server's grants, and the fault proxy.
 */
import { mergeScopes, parseChallenges } from '../../src/remote/auth.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from './fault-proxy.js';
import type { FaultProxy } from './fault-proxy.js';
import { basicAuthorization, startRegistry } from './registry-server.js';
import type { RegistryServer } from './registry-server.js';
import {
  HAS_DOCKER_REGISTRY,
  HAS_OPENSSL,
  OPENSSL_SKIP_REASON,
  REGISTRY_SKIP_REASON,
} from './tools.js';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const ALICE = basicAuthorization('alice', 'wonderland-secret');

async function tokenFrom(realm: string, query: string, authorization?: string): Promise<string> {
  const res = await fetch(`${realm}?${query}`, {
    headers: authorization !== undefined ? { authorization } : {},
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { token: string; access_token: string };
  expect(body.access_token).toBe(body.token);
  return body.token;
}

function bearer(token: string): Record<string, string> {
  return { authorization: `Bearer ${token}` };
}

describe.skipIf(!HAS_DOCKER_REGISTRY)(
  `registry test servers (${HAS_DOCKER_REGISTRY ? 'docker-registry found' : REGISTRY_SKIP_REASON})`,
  () => {
    describe('no auth', () => {
      let reg: RegistryServer;
      beforeAll(async () => {
        reg = await startRegistry();
      });
      afterAll(async () => {
        await reg?.stop();
      });

      it('answers /v2/ and starts an upload on loopback', async () => {
        expect(reg.host).toMatch(/^127\.0\.0\.1:\d+$/);
        const res = await fetch(`${reg.url}/v2/`);
        expect(res.status, reg.log()).toBe(200);
        expect(res.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
        const up = await fetch(`${reg.url}/v2/x/y/blobs/uploads/`, { method: 'POST' });
        expect(up.status, reg.log()).toBe(202);
        expect(up.headers.get('location')).toContain(`${reg.host}/v2/x/y/blobs/uploads/`);
      });
    });

    describe('basic auth', () => {
      let reg: RegistryServer;
      beforeAll(async () => {
        reg = await startRegistry({ auth: 'basic' });
      });
      afterAll(async () => {
        await reg?.stop();
      });

      it('requires alice’s password', async () => {
        const none = await fetch(`${reg.url}/v2/`);
        expect(none.status).toBe(401);
        expect(none.headers.get('www-authenticate')).toBe('Basic realm="basic-realm"');
        const ok = await fetch(`${reg.url}/v2/`, { headers: { authorization: ALICE } });
        expect(ok.status, reg.log()).toBe(200);
        const wrong = await fetch(`${reg.url}/v2/`, {
          headers: { authorization: basicAuthorization('alice', 'nope') },
        });
        expect(wrong.status).toBe(401);
      });
    });

    describe.skipIf(!HAS_OPENSSL)(
      `token auth (${HAS_OPENSSL ? 'openssl found' : OPENSSL_SKIP_REASON})`,
      () => {
        let reg: RegistryServer;
        beforeAll(async () => {
          reg = await startRegistry({ auth: 'token' });
        });
        afterAll(async () => {
          await reg?.stop();
        });

        it('challenges with the token server’s realm and service', async () => {
          const t = reg.token!;
          const res = await fetch(`${reg.url}/v2/`);
          expect(res.status).toBe(401);
          expect(res.headers.get('www-authenticate')).toBe(
            `Bearer realm="${t.url}/token",service="${t.service}"`
          );
        });

        it('grants anonymous pull but not push', async () => {
          const t = reg.token!;
          const pull = await tokenFrom(t.realm, `service=${t.service}&scope=repository:x/y:pull`);
          const get = await fetch(`${reg.url}/v2/x/y/manifests/latest`, {
            headers: { ...bearer(pull), accept: OCI_MANIFEST },
          });
          expect(get.status, reg.log()).toBe(404);
          expect(((await get.json()) as { errors: Array<{ code: string }> }).errors[0]?.code).toBe(
            'MANIFEST_UNKNOWN'
          );

          const anon = await tokenFrom(
            t.realm,
            `service=${t.service}&scope=repository:x/y:pull,push`
          );
          const post = await fetch(`${reg.url}/v2/x/y/blobs/uploads/`, {
            method: 'POST',
            headers: bearer(anon),
          });
          expect(post.status).toBe(401);
          // 2.8.2 lists the actions in Go map order: pull,push or push,pull.
          const [challenge] = parseChallenges(post.headers.get('www-authenticate') ?? '');
          expect(challenge?.scheme).toBe('bearer');
          expect(challenge?.params).toMatchObject({
            realm: t.realm,
            service: t.service,
            error: 'insufficient_scope',
          });
          expect(mergeScopes([challenge?.params['scope'] ?? ''])).toEqual([
            'repository:x/y:pull,push',
          ]);
          const last = t.requests.at(-1);
          expect(last?.scopes).toEqual(['repository:x/y:pull,push']);
          expect(last?.user).toBeUndefined();
        });

        it('lets alice push with a Basic-authenticated token', async () => {
          const t = reg.token!;
          const token = await tokenFrom(
            t.realm,
            `service=${t.service}&scope=repository:x/y:pull,push`,
            ALICE
          );
          const post = await fetch(`${reg.url}/v2/x/y/blobs/uploads/`, {
            method: 'POST',
            headers: bearer(token),
          });
          expect(post.status, reg.log()).toBe(202);
          expect(t.requests.at(-1)?.user).toBe('alice');
        });

        it('serves the password and refresh-token grants', async () => {
          const t = reg.token!;
          const form = (f: Record<string, string>): Promise<Response> =>
            fetch(t.realm, { method: 'POST', body: new URLSearchParams(f) });
          const scope = 'repository:x/y:pull,push';
          const login = await form({
            grant_type: 'password',
            username: 'alice',
            password: 'wonderland-secret',
            service: t.service,
            scope,
            client_id: 'runledger-test',
          });
          expect(login.status).toBe(200);
          const { refresh_token } = (await login.json()) as { refresh_token: string };
          expect(refresh_token).toMatch(/^\S{16,}$/);

          for (const rt of [refresh_token, t.refreshTokenFor('alice')]) {
            const res = await form({
              grant_type: 'refresh_token',
              refresh_token: rt,
              service: t.service,
              scope,
              client_id: 'runledger-test',
            });
            expect(res.status).toBe(200);
            const body = (await res.json()) as { access_token: string; refresh_token?: string };
            expect(body.refresh_token).toBeUndefined();
            const post = await fetch(`${reg.url}/v2/x/y/blobs/uploads/`, {
              method: 'POST',
              headers: bearer(body.access_token),
            });
            expect(post.status, reg.log()).toBe(202);
          }
          expect(t.requests.at(-1)).toMatchObject({
            method: 'POST',
            grantType: 'refresh_token',
            user: 'alice',
            clientId: 'runledger-test',
            service: t.service,
            scopes: [scope],
          });

          const bad = await form({ grant_type: 'refresh_token', refresh_token: 'forged' });
          expect(bad.status).toBe(401);
          const unknown = await form({ grant_type: 'client_credentials' });
          expect(unknown.status).toBe(400);
        });

        it('refuses a bad password', async () => {
          const t = reg.token!;
          const before = t.issuedTokens;
          const res = await fetch(`${t.realm}?service=${t.service}&scope=repository:x/y:pull`, {
            headers: { authorization: basicAuthorization('alice', 'wrong') },
          });
          expect(res.status).toBe(401);
          const post = await fetch(t.realm, {
            method: 'POST',
            body: new URLSearchParams({ grant_type: 'password', username: 'alice', password: 'x' }),
          });
          expect(post.status).toBe(401);
          expect(t.issuedTokens).toBe(before);
        });
      }
    );

    describe('fault proxy', () => {
      let reg: RegistryServer;
      let proxy: FaultProxy;
      beforeAll(async () => {
        reg = await startRegistry();
        proxy = await startFaultProxy({ target: reg.host });
      });
      afterAll(async () => {
        await proxy?.stop();
        await reg?.stop();
      });

      it('kills a connection mid-upload, and passes other requests through', async () => {
        const post = await fetch(`${proxy.url}/v2/x/y/blobs/uploads/`, { method: 'POST' });
        expect(post.status, reg.log()).toBe(202);
        const location = post.headers.get('location') ?? '';
        expect(location.startsWith(`${proxy.url}/`)).toBe(true);

        proxy.setRule({ killAfterUploadBytes: 100_000, match: (method) => method === 'PUT' });
        const body = new Uint8Array(1024 * 1024).fill(7);
        const digest = 'sha256:' + '0'.repeat(64);
        const sep = location.includes('?') ? '&' : '?';
        await expect(
          fetch(`${location}${sep}digest=${digest}`, {
            method: 'PUT',
            headers: { 'content-type': 'application/octet-stream' },
            body,
          })
        ).rejects.toThrow();
        expect(proxy.kills).toBe(1);
        expect(proxy.requests.at(-1)).toMatchObject({ method: 'PUT', contentLength: body.length });

        const after = await fetch(`${proxy.url}/v2/`);
        expect(after.status).toBe(200);
        expect(proxy.kills).toBe(1);
        expect(proxy.connections).toBeGreaterThanOrEqual(2);
        expect(proxy.bytesUp).toBeGreaterThan(100_000);
      });
    });
  }
);
