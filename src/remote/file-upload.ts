/**
 * @module remote/file-upload
 * Sends a request whose body is a range of a local file with `node:http(s)` instead of `fetch`,
 * through two reused 1 MiB buffers: a buffer is read again only after the socket has flushed
 * it (the write callback), which `fetch` cannot tell us, and returned to a small pool when the
 * upload is done. So uploads allocate nothing per chunk — memory stays flat and the CPU does not
 * page-fault through fresh buffers.
 * Used by {@link module:remote/http.HttpClient} for file-backed bodies when no `fetch` was
 * injected; the answer comes back as a web `Response`, like `fetch`'s.
 */
import { open, type FileHandle } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

const CHUNK = 1024 * 1024;
/** Buffers of finished uploads, reused by the next ones (at most 32 MiB kept). */
const pool: Buffer[] = [];
const POOL_MAX = 32;
const agents = {
  http: new http.Agent({ keepAlive: true }),
  https: new https.Agent({ keepAlive: true }),
};

/** A body that is `size` bytes of a file from `offset`. */
export interface FileBody {
  readonly path: string;
  readonly offset: number;
  readonly size: number;
  /** Called with each chunk's length once the socket has taken it. */
  readonly onSent?: (n: number) => void;
}

/**
 * Sends one request (no redirects followed) with a file range as its body.
 * @param url - where
 * @param method - PUT or PATCH (any method with a body)
 * @param headers - request headers (`content-length` is set here)
 * @param body - the file range
 * @param signal - aborts the request
 * @returns the response, as `fetch` would give it
 */
export async function sendFileBody(
  url: URL,
  method: string,
  headers: Readonly<Record<string, string>>,
  body: FileBody,
  signal: AbortSignal | undefined
): Promise<Response> {
  const fh = await open(body.path, 'r');
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await fh.close().catch(() => undefined);
  };
  try {
    return await new Promise<Response>((resolve, reject) => {
      const https_ = url.protocol === 'https:';
      const req = (https_ ? https : http).request(url, {
        method,
        headers: { ...headers, 'content-length': String(body.size) },
        agent: https_ ? agents.https : agents.http,
        ...(signal === undefined ? {} : { signal }),
      });
      let settled = false;
      req.on('error', (e) => {
        if (settled) return;
        settled = true;
        reject(e);
      });
      req.on('response', (res) => {
        if (settled) {
          res.resume();
          return;
        }
        settled = true;
        resolve(toResponse(res, method));
      });
      pump(fh, req, body).then(
        () => req.end(),
        (e: unknown) => req.destroy(e instanceof Error ? e : new Error(String(e)))
      );
    });
  } finally {
    // The response may come before the body is sent (an early refusal): closing here is safe,
    // a pending read then fails and destroys the request, which has settled already.
    await close();
  }
}

async function pump(fh: FileHandle, req: http.ClientRequest, body: FileBody): Promise<void> {
  const count = body.size > CHUNK ? 2 : 1;
  const buffers = Array.from({ length: count }, () => pool.pop() ?? Buffer.allocUnsafeSlow(CHUNK));
  const flushed: (Promise<void> | undefined)[] = [undefined, undefined];
  let at = 0;
  for (let i = 0; at < body.size; i = (i + 1) % count) {
    await flushed[i]; // this buffer's previous chunk has left for the socket
    if (req.destroyed) return;
    const buf = buffers[i] as Buffer;
    const want = Math.min(CHUNK, body.size - at);
    const { bytesRead } = await fh.read(buf, 0, want, body.offset + at);
    if (bytesRead === 0) throw new Error(`${body.path} ended before ${body.offset + body.size}`);
    at += bytesRead;
    const chunk = bytesRead === buf.byteLength ? buf : buf.subarray(0, bytesRead);
    flushed[i] = new Promise<void>((resolve, reject) => {
      req.write(chunk, (e) => {
        if (e !== null && e !== undefined) reject(e);
        else {
          body.onSent?.(bytesRead);
          resolve();
        }
      });
    });
    // A failed write surfaces through req's 'error'; don't leave the promise unobserved.
    flushed[i]?.catch(() => undefined);
  }
  await Promise.all(flushed);
  // Every chunk has left for the socket: the buffers are free. (After a failure they are left
  // to the garbage collector: a cancelled write may still hold one.)
  for (const b of buffers) if (pool.length < POOL_MAX) pool.push(b);
}

function toResponse(res: http.IncomingMessage, method: string): Response {
  const headers = new Headers();
  for (const [k, v] of Object.entries(res.headers)) {
    if (Array.isArray(v)) for (const x of v) headers.append(k, x);
    else if (v !== undefined) headers.set(k, v);
  }
  const status = res.statusCode ?? 502;
  const noBody = method === 'HEAD' || status === 204 || status === 304;
  if (noBody) res.resume();
  const stream = noBody ? null : (Readable.toWeb(res) as unknown as ReadableStream<Uint8Array>);
  return new Response(stream, {
    status: status < 200 || status > 599 ? 502 : status,
    statusText: res.statusMessage ?? '',
    headers,
  });
}
