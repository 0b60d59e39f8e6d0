/**
 * An HTTP proxy on 127.0.0.1 in front of a real docker-registry that pages its tag lists.
 *
 * docker-registry 2.8.2 ignores `n` on `tags/list` and answers every tag at once, without a `Link`
 * header (measured: test/remote/quirks.test.ts), so against it a client's pagination is never
 * exercised. This proxy passes every request and response through unchanged (the Host header too,
 * so the registry's upload `Location`s point back at the proxy), except `GET /v2/<name>/tags/list`:
 * it reads the whole list from the registry (with the client's headers, so authentication is the
 * registry's) and answers it as the OCI Distribution spec pages it (end-8b) — tags in lexical
 * order, after `last`, at most `min(n, maxPage)` of them, and while more remain a
 * `Link: </v2/<name>/tags/list?n=<n>&last=<tag>>; rel="next"` header — as distribution 3.x, GHCR
 * and Harbor do. `maxPage` plays the cap those registries put on `n`.
 */
import { createServer, request } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PagingProxy {
  readonly host: string; // '127.0.0.1:<port>'
  readonly url: string; // 'http://127.0.0.1:<port>'
  /** Every `tags/list` request the proxy answered, as received (path and query). */
  readonly pages: URL[];
  /** Every request that went through, `METHOD path`. */
  readonly requests: string[];
  stop(): Promise<void>;
}

export interface PagingProxyOptions {
  /** 'host:port' of the registry, e.g. registry.host. */
  readonly target: string;
  /** Most tags in one page, whatever `n` asks. */
  readonly maxPage: number;
}

const TAGS_PATH = /^\/v2\/(.+)\/tags\/list$/;

function upstream(
  target: URL,
  method: string,
  path: string,
  headers: IncomingHttpHeaders,
  body?: IncomingMessage
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const up = request(
      { host: target.hostname, port: target.port, method, path, headers, agent: false },
      resolve
    );
    up.on('error', reject);
    if (body === undefined) up.end();
    else body.pipe(up);
  });
}

async function readAll(res: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startPagingProxy(options: PagingProxyOptions): Promise<PagingProxy> {
  const target = new URL(`http://${options.target}`);
  const pages: URL[] = [];
  const requests: string[] = [];
  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    requests.push(`${method} ${path}`);
    const url = new URL(path, 'http://proxy.invalid');
    const tags = TAGS_PATH.exec(url.pathname);
    const fail = (e: unknown): void => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`paging proxy: ${(e as Error).message}`);
    };
    if (method !== 'GET' || tags === null) {
      upstream(target, method, path, req.headers, req)
        .then((up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        })
        .catch(fail);
      return;
    }
    pages.push(url);
    (async () => {
      const up = await upstream(target, 'GET', url.pathname, req.headers);
      const bytes = await readAll(up);
      if (up.statusCode !== 200) {
        res.writeHead(up.statusCode ?? 502, up.headers);
        res.end(bytes);
        return;
      }
      const body = JSON.parse(bytes.toString('utf8')) as { name: string; tags: string[] | null };
      const all = [...(body.tags ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const n = Number(url.searchParams.get('n') ?? options.maxPage);
      const size = Math.max(1, Math.min(Number.isFinite(n) ? n : options.maxPage, options.maxPage));
      const last = url.searchParams.get('last');
      const after = last === null ? all : all.filter((t) => t > last);
      const page = after.slice(0, size);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (after.length > page.length) {
        const next = `/v2/${tags[1]}/tags/list?n=${size}&last=${encodeURIComponent(page.at(-1) as string)}`;
        headers['link'] = `<${next}>; rel="next"`;
      }
      res.writeHead(200, headers);
      res.end(JSON.stringify({ name: body.name, tags: page }));
    })().catch(fail);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  return {
    host,
    url: `http://${host}`,
    pages,
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
