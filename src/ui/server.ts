/**
 * @module ui/server
 * `runledger ui`'s server: read-only, on 127.0.0.1 only, every request carrying a random token
 * and a `Host` naming the bound address (no DNS rebinding); it serves the built page and the
 * JSON API of `ui/model` (`/api/study`, `/api/run`, `/api/metrics`, `/api/attachment`) over the
 * experiments it was started on. The study is read once per store state: a request for it
 * re-reads only when the references chosen name other manifests.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { isRunledgerError, RunledgerError } from '../errors.js';
import { LocalRegistry } from '../store/local-registry.js';
import { UiData } from './data.js';
import { readPage } from './page.js';

/** Options of {@link serveUi}. */
export interface ServeUiOptions {
  /** @default LocalRegistry.open() */
  readonly registry?: LocalRegistry;
  /** Which experiments: a reference, a project, a prefix ending in `/`, or several; all when absent. */
  readonly experiments?: string | readonly string[];
  /** The title the page shows (default: the selection). */
  readonly title?: string;
  /** The port on 127.0.0.1; a free one when 0 or absent. */
  readonly port?: number;
  /** The token every request must carry (default: 32 random bytes, hex); at least 32 characters. */
  readonly token?: string;
  /** The built page (default: `dist/web/index.html` of this package). */
  readonly page?: string;
}

/** A running viewer server. */
export interface UiServer {
  /** The page's address with the token: `http://127.0.0.1:<port>/?token=<token>`. */
  readonly url: string;
  readonly port: number;
  readonly token: string;
  /** The node:http server (bound to 127.0.0.1). */
  readonly server: Server;
  /** Stops listening and closes every connection. */
  close(): Promise<void>;
}

/** Largest request head (request line and headers) accepted: room for 50,000 runs in a URL. */
const MAX_REQUEST_HEAD = 1024 * 1024;

/** The only address the server listens on. */
const HOST = '127.0.0.1';

/** Media types served inline (the page previews them); anything else is a download. */
const INLINE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'text/plain',
  'text/csv',
  'application/json',
]);

/** An HTTP answer that is not a success. */
class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/**
 * Starts the viewer's server on 127.0.0.1. The study is read before it listens, so a bad
 * selection fails here, not in the browser.
 * @param options - registry, experiments, title, port, token, page
 * @returns the running server and its URL
 * @throws RunledgerError `IO_ERROR` (`data.errno` `EADDRINUSE` when the port is taken),
 *   `DEPENDENCY_MISSING` when the page is not built, `REF_NOT_FOUND` for a selection the store
 *   does not have, `ARGUMENT_INVALID` for a bad port or token
 * @example
 * ```ts
 * const ui = await serveUi({ experiments: 'runledger.local/demo/ml' });
 * const page = ui.url; // 'http://127.0.0.1:<port>/?token=<hex>': open it in a browser
 * await ui.close();
 * ```
 */
export async function serveUi(options: ServeUiOptions = {}): Promise<UiServer> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RunledgerError('ARGUMENT_INVALID', `The port ${String(port)} is not 0 to 65535.`, {
      data: { port },
    });
  }
  const token = options.token ?? randomBytes(32).toString('hex');
  if (token.length < 32 || !/^[\x21-\x7e]+$/.test(token)) {
    throw new RunledgerError(
      'ARGUMENT_INVALID',
      'The viewer token must be at least 32 printable ASCII characters.'
    );
  }
  const page = Buffer.from(await readPage(options.page));
  const registry = options.registry ?? (await LocalRegistry.open());
  const selection = options.experiments;
  const open = (): Promise<UiData> =>
    UiData.open({
      registry,
      ...(selection === undefined ? {} : { experiments: selection }),
      ...(options.title === undefined ? {} : { title: options.title }),
    });
  let data = await open();
  let refreshing: Promise<UiData> | undefined;
  /** The study as the store is now: re-read when the selection names other manifests. */
  const current = async (): Promise<UiData> => {
    refreshing ??= (async () => {
      try {
        const key = await UiData.stateKey(registry, selection);
        if (key !== data.key) data = await open();
        return data;
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  };

  let studyBody: { readonly data: UiData; readonly body: Body } | undefined;
  // A URL naming many runs (`/api/metrics?runs=…`, about 16 bytes a run) outgrows Node's 16 KiB
  // default for the request head.
  const server = createServer({ maxHeaderSize: MAX_REQUEST_HEAD }, (req, res) => {
    handle(req, res).catch((e: unknown) => sendError(req, res, e));
  });
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const bound = (server.address() as AddressInfo).port;
    // A browser leaves the port out of Host for port 80.
    const port = bound === 80 ? '' : `:${bound}`;
    const host = req.headers.host;
    if (host !== `${HOST}${port}` && host !== `localhost${port}`) {
      throw new HttpError(403, 'FORBIDDEN', 'The Host header does not name this server.');
    }
    const url = new URL(req.url ?? '/', `http://${HOST}:${bound}`);
    const given = req.headers['x-runledger-token'] ?? url.searchParams.get('token') ?? '';
    if (!sameToken(typeof given === 'string' ? given : '', token)) {
      throw new HttpError(403, 'FORBIDDEN', 'This request does not carry the viewer token.');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'The viewer is read-only: GET and HEAD only.');
    }
    const q = url.searchParams;
    switch (url.pathname) {
      case '/':
      case '/index.html':
        return send(req, res, 200, page, {
          'Content-Type': 'text/html; charset=utf-8',
          // The page's own meta CSP governs scripts; framing can only be refused by a header.
          'Content-Security-Policy': "frame-ancestors 'none'",
          'X-Frame-Options': 'DENY',
        });
      case '/api/study': {
        // Serialized (and compressed) once per study read: the page asks for it on every load.
        const now = await current();
        if (studyBody?.data !== now) {
          studyBody = { data: now, body: new Body(Buffer.from(JSON.stringify(now.study))) };
        }
        return send(req, res, 200, studyBody.body, {
          ...JSON_TYPE,
          [STATE_HEADER]: stateTag(now.key),
        });
      }
      case '/api/state':
        // What the page polls to see whether the store changed: index.json read, no study read.
        return sendJson(req, res, {
          state: stateTag(await UiData.stateKey(registry, selection)),
        });
      case '/api/runs.arrow': {
        // The same study as /api/study, as the runs table itself (Arrow IPC file).
        const now = await current();
        return send(req, res, 200, now.runsArrow(), {
          'Content-Type': 'application/vnd.apache.arrow.file',
          'Content-Disposition': 'attachment; filename="runs.arrow"',
        });
      }
      case '/api/run':
        return sendJson(req, res, await data.run(experimentParam(q), runParam(q)));
      case '/api/metrics': {
        const runs = listParam(q, 'runs').map(runRef);
        const names = q.has('names') ? listParam(q, 'names').map(decodeName) : undefined;
        return sendJson(req, res, await data.metrics(runs, names));
      }
      case '/api/attachment': {
        const name = q.get('name');
        if (name === null || name === '') throw badRequest('name');
        const a = await data.attachment(experimentParam(q), runParam(q), name);
        const type = (a.mediaType.split(';')[0] ?? '').trim().toLowerCase();
        const inline = INLINE_TYPES.has(type);
        const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, '_');
        return send(req, res, 200, a.bytes, {
          'Content-Type': a.mediaType,
          'Content-Disposition': `${inline ? 'inline' : 'attachment'}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`,
          // Even an inline preview runs nothing: no script, no plugin, no frame.
          'Content-Security-Policy': "default-src 'none'; sandbox",
        });
      }
      default:
        throw new HttpError(404, 'NOT_FOUND', `There is nothing at ${url.pathname}.`);
    }
  };

  await new Promise<void>((resolve, reject) => {
    const failed = (e: NodeJS.ErrnoException): void => {
      reject(
        new RunledgerError(
          'IO_ERROR',
          e.code === 'EADDRINUSE'
            ? `Port ${port} on ${HOST} is in use.`
            : `Could not listen on ${HOST}:${port}: ${e.message}.`,
          { data: { port, errno: e.code }, cause: e }
        )
      );
    };
    server.once('error', failed);
    server.listen(port, HOST, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://${HOST}:${bound}/?token=${token}`,
    port: bound,
    token,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** The header of `/api/study` naming the store state the study was read at. */
const STATE_HEADER = 'X-Runledger-State';

/** A short name of a store state ({@link UiData.stateKey}): what `/api/state` answers. */
function stateTag(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** Compares tokens in time independent of where they differ. */
function sameToken(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function badRequest(param: string): HttpError {
  return new HttpError(400, 'BAD_REQUEST', `The query parameter ${param} is missing or malformed.`);
}

/** `e`: an experiment id (12 hex digits). */
function experimentParam(q: URLSearchParams): string {
  const e = q.get('e');
  if (e === null || !/^[0-9a-f]{12}$/.test(e)) throw badRequest('e');
  return e;
}

/** `r`: a run id. */
function runParam(q: URLSearchParams): number {
  const r = q.get('r');
  if (r === null || !/^\d{1,15}$/.test(r)) throw badRequest('r');
  return Number(r);
}

/** A comma-separated list parameter, blank entries dropped. */
function listParam(q: URLSearchParams, name: string): string[] {
  const v = q.get(name);
  if (v === null) throw badRequest(name);
  return v.split(',').filter((s) => s !== '');
}

/** `<experiment id>:<run id>`. */
function runRef(text: string): { experiment: string; runId: number } {
  const m = /^([0-9a-f]{12}):(\d{1,15})$/.exec(text);
  if (m === null) throw badRequest('runs');
  return { experiment: m[1] as string, runId: Number(m[2]) };
}

/** A metric name as the page sends it (encodeURIComponent'd before joining with commas). */
function decodeName(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw badRequest('names');
  }
}

/** Headers every answer carries. */
const COMMON_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  // The token is in the page's URL: never send it on as a referrer.
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** A response body, with its gzip form made once, when first asked for. */
class Body {
  readonly bytes: Uint8Array;
  #gzip: Uint8Array | undefined;
  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }
  gzip(): Uint8Array {
    this.#gzip ??= gzipSync(this.bytes, { level: 1 });
    return this.#gzip;
  }
}

function send(
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: Body | Uint8Array,
  headers: Readonly<Record<string, string>>
): void {
  const whole = body instanceof Body ? body : new Body(body);
  let bytes = whole.bytes;
  const out: Record<string, string> = { ...COMMON_HEADERS, ...headers };
  if (bytes.length > 1024 && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))) {
    const type = headers['Content-Type'] ?? '';
    if (type.startsWith('application/json') || type.startsWith('text/html')) {
      bytes = whole.gzip();
      out['Content-Encoding'] = 'gzip';
      out['Vary'] = 'Accept-Encoding';
    }
  }
  out['Content-Length'] = String(bytes.length);
  res.writeHead(status, out);
  res.end(req.method === 'HEAD' ? undefined : bytes);
}

const JSON_TYPE = { 'Content-Type': 'application/json; charset=utf-8' };

function sendJson(req: IncomingMessage, res: ServerResponse, value: unknown, status = 200): void {
  send(req, res, status, Buffer.from(JSON.stringify(value)), JSON_TYPE);
}

/** An error as `{ "error": { "code", "message" } }` with its status. */
function sendError(req: IncomingMessage, res: ServerResponse, e: unknown): void {
  let status = 500;
  let code = 'INTERNAL';
  let message = 'The viewer could not answer this request.';
  if (e instanceof HttpError) {
    status = e.status;
    code = e.code;
    message = e.message;
  } else if (isRunledgerError(e)) {
    code = e.code;
    message = e.message;
    if (['REF_NOT_FOUND', 'ATTACHMENT_NOT_FOUND', 'ARGUMENT_INVALID'].includes(e.code))
      status = 404;
    else if (e.code === 'USAGE') status = 400;
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(req, res, { error: { code, message } }, status);
}
