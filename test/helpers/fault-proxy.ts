/**
 * A loopback TCP proxy in front of `127.0.0.1:<port>` that understands just enough HTTP/1.1 on the
 * way up (request line, headers, Content-Length framing; keep-alive and pipelining included) to
 * kill a connection in the middle of a request body.
 *
 * Rule semantics: while a rule is set, each request whose headers arrive is checked; it matches
 * when `match(method, path)` holds (default: every request) and its Content-Length is greater
 * than `killAfterUploadBytes`. For a match the proxy forwards the headers and exactly the first
 * `killAfterUploadBytes` body bytes, then closes the upstream connection (FIN, after those bytes
 * are flushed) and resets the client connection; `kills` counts this. A rule fires `times` times
 * (default 1), then is cleared. Requests framed with `Transfer-Encoding: chunked` (or with
 * unparseable headers) switch that connection to plain pass-through: no rule applies to them.
 * Responses are passed through untouched.
 *
 * Chaos mode ({@link FaultProxy.setChaos}): a share of requests fail, drawn from a seed, split
 * evenly between three kinds: a `503` and a `429` (with `Retry-After: 0` or `1`) answered by the
 * proxy itself (the request never reaches the registry; its body is read and dropped), and a reset
 * mid-body (a request with a body: half of it forwarded, then the connection killed as above; one
 * without: forwarded, and its response cut after half of its body, or dropped when it has none).
 * The draw for a request depends only on the seed, the request (method, path without the upload
 * session id and its state, the `digest` parameter kept) and how many such requests came before,
 * so the same requests meet the same faults in any interleaving of blobs. A `refuse` predicate
 * answers 503 to every matching request while set (a part of the registry that is down). A rule
 * takes precedence over chaos.
 *
 * The Host header is forwarded unchanged, so a registry behind the proxy builds its absolute upload
 * `Location`s on the proxy's address and later requests keep going through it.
 */
import { createConnection, createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';

export interface FaultRule {
  /** Body bytes forwarded before the connection is killed. */
  killAfterUploadBytes: number;
  /** Which requests the rule applies to; default all. `path` is the request target as sent. */
  match?: (method: string, path: string) => boolean;
  /** How many requests to kill before the rule clears itself; default 1 (Infinity: all). */
  times?: number;
}

/** What chaos mode did to a request. */
export type FaultKind = '503' | '429' | 'reset' | 'refused';

export interface ChaosRule {
  /** Seed of the draws: the same seed and requests give the same faults. */
  seed: number;
  /** Share of requests that fail, 0..1, split evenly between 503, 429 and reset mid-body. */
  rate: number;
  /** Requests answered 503 every time (before any draw), e.g. some blobs' paths. */
  refuse?: (method: string, path: string) => boolean;
}

/** A request seen on the way up, with the fault chaos mode gave it, if any. */
export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  readonly contentLength: number;
  fault?: FaultKind;
}

export interface FaultProxyOptions {
  /** 'host:port' of the upstream, e.g. registry.host. */
  target: string;
}

export interface FaultProxy {
  readonly host: string; // '127.0.0.1:<port>'
  readonly url: string; // 'http://127.0.0.1:<port>'
  /** Client connections accepted so far. */
  readonly connections: number;
  /** Bytes forwarded to the upstream so far. */
  readonly bytesUp: number;
  /** Connections killed by a rule so far. */
  readonly kills: number;
  /** Every request line seen on the way up, in order (with its chaos fault). */
  readonly requests: ReadonlyArray<ProxiedRequest>;
  setRule(rule: FaultRule | undefined): void;
  /** Starts (or with undefined stops) chaos mode; the draws' counters carry over a restart. */
  setChaos(rule: ChaosRule | undefined): void;
  stop(): Promise<void>;
}

const MAX_HEAD = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

/** A request's identity for the draws: the upload session id and state left out, `digest` kept. */
function drawKey(method: string, path: string): string {
  const q = path.indexOf('?');
  const pathname = q < 0 ? path : path.slice(0, q);
  const digest = q < 0 ? null : new URLSearchParams(path.slice(q + 1)).get('digest');
  const session = pathname.replace(/\/blobs\/uploads\/[^/]+$/, '/blobs/uploads/*');
  return `${method} ${session}${digest === null ? '' : ` digest=${digest}`}`;
}

/** A uniform draw in [0, 1) from a seed and a text (FNV-1a, then a murmur3 finaliser). */
function draw(seed: number, text: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return (h >>> 0) / 2 ** 32;
}

/** A complete response the proxy answers by itself. */
function answer(method: string, status: 503 | 429, retryAfter: number): Buffer {
  const body =
    status === 503
      ? '{"errors":[{"code":"UNAVAILABLE","message":"injected by the fault proxy"}]}'
      : '{"errors":[{"code":"TOOMANYREQUESTS","message":"injected by the fault proxy"}]}';
  const head = [
    status === 503 ? 'HTTP/1.1 503 Service Unavailable' : 'HTTP/1.1 429 Too Many Requests',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...(status === 429 ? [`Retry-After: ${retryAfter}`] : []),
    '',
    '',
  ].join('\r\n');
  // A response to HEAD has no body, whatever its Content-Length says.
  return Buffer.from(method === 'HEAD' ? head : head + body, 'latin1');
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const colon = options.target.lastIndexOf(':');
  const targetHost = options.target.slice(0, colon);
  const targetPort = Number(options.target.slice(colon + 1));
  if (colon < 0 || !Number.isInteger(targetPort)) {
    throw new Error(`fault proxy: target must be host:port, got ${options.target}`);
  }

  let rule: { rule: FaultRule; left: number } | undefined;
  let connections = 0;
  let bytesUp = 0;
  let kills = 0;
  const requests: ProxiedRequest[] = [];
  let chaos: ChaosRule | undefined;
  const drawn = new Map<string, number>();

  /** The chaos fault of a request, if any (consumes one draw of its key). */
  function fate(method: string, path: string): FaultKind | undefined {
    if (chaos === undefined) return undefined;
    if (chaos.refuse?.(method, path) === true) return 'refused';
    const key = drawKey(method, path);
    const n = drawn.get(key) ?? 0;
    drawn.set(key, n + 1);
    const u = draw(chaos.seed, `${key}#${n}`);
    if (u >= chaos.rate) return undefined;
    return u < chaos.rate / 3 ? '503' : u < (2 * chaos.rate) / 3 ? '429' : 'reset';
  }
  const sockets = new Set<Socket>();

  function track(s: Socket): void {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  }

  /** Whether the active rule fires for this request; consumes one of its `times`. */
  function armed(method: string, path: string, length: number): number | undefined {
    if (rule === undefined) return undefined;
    const r = rule.rule;
    if (length <= r.killAfterUploadBytes) return undefined;
    if (r.match !== undefined && !r.match(method, path)) return undefined;
    rule.left--;
    if (rule.left <= 0) rule = undefined;
    return r.killAfterUploadBytes;
  }

  const server = createServer((client) => {
    connections++;
    track(client);
    const upstream = createConnection({ host: targetHost, port: targetPort });
    track(upstream);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());

    // The response to the request in flight is cut mid-body (chaos 'reset' of a bodiless request).
    let cut: { method: string; head: Buffer } | undefined;
    upstream.on('data', (data: Buffer) => {
      if (cut === undefined) {
        if (!client.write(data)) {
          upstream.pause();
          client.once('drain', () => upstream.resume());
        }
        return;
      }
      cut.head = Buffer.concat([cut.head, data]);
      const end = cut.head.indexOf(HEAD_END);
      if (end < 0 && cut.head.length <= MAX_HEAD) return;
      const headLength = end < 0 ? cut.head.length : end + HEAD_END.length;
      const text = cut.head.subarray(0, headLength).toString('latin1');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(text)?.[1] ?? 0);
      const bodyless = cut.method === 'HEAD' || status === 204 || status === 304 || status < 200;
      const body = bodyless ? 0 : length;
      const half = Math.floor(body / 2);
      if (body > 0 && cut.head.length < headLength + half) return; // wait for half the body
      state = 'dead';
      kills++;
      upstream.destroy();
      if (body === 0) {
        client.resetAndDestroy(); // the answer is lost: the client never learns what happened
        return;
      }
      client.write(cut.head.subarray(0, headLength + half), () => client.resetAndDestroy());
    });

    let state: 'head' | 'body' | 'swallow' | 'raw' | 'dead' = 'head';
    let head: Buffer = Buffer.alloc(0);
    let remaining = 0;
    let budget: number | undefined; // body bytes still forwarded before the kill
    let reply: Buffer | undefined; // chaos: the answer sent once the request body is swallowed

    const forward = (b: Buffer): void => {
      if (b.length === 0) return;
      bytesUp += b.length;
      if (!upstream.write(b)) {
        client.pause();
        upstream.once('drain', () => client.resume());
      }
    };
    const kill = (last: Buffer): void => {
      state = 'dead';
      kills++;
      bytesUp += last.length;
      upstream.end(last, () => upstream.destroy());
      client.resetAndDestroy();
    };

    client.on('data', (data: Buffer) => {
      let chunk: Buffer = data;
      while (chunk.length > 0) {
        if (state === 'dead') return;
        if (state === 'raw') {
          forward(chunk);
          return;
        }
        if (state === 'head') {
          head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
          chunk = Buffer.alloc(0);
          const end = head.indexOf(HEAD_END);
          if (end < 0) {
            if (head.length > MAX_HEAD) {
              state = 'raw';
              forward(head);
            }
            return;
          }
          const headBytes = head.subarray(0, end + HEAD_END.length);
          chunk = head.subarray(end + HEAD_END.length);
          head = Buffer.alloc(0);
          const lines = headBytes.toString('latin1').split('\r\n');
          const [method = '', path = ''] = (lines[0] ?? '').split(' ');
          let length = 0;
          let framed = true;
          for (const line of lines.slice(1)) {
            const i = line.indexOf(':');
            if (i < 0) continue;
            const name = line.slice(0, i).trim().toLowerCase();
            const value = line.slice(i + 1).trim();
            if (name === 'content-length') {
              length = /^\d+$/.test(value) ? Number(value) : NaN;
            } else if (name === 'transfer-encoding' && value.toLowerCase() !== 'identity') {
              framed = false;
            }
          }
          if (!framed || !Number.isSafeInteger(length)) {
            state = 'raw';
            forward(headBytes);
            continue;
          }
          const entry: ProxiedRequest = { method, path, contentLength: length };
          requests.push(entry);
          budget = armed(method, path, length);
          const fault = budget === undefined ? fate(method, path) : undefined;
          if (fault !== undefined) entry.fault = fault;
          if (fault === '503' || fault === '429' || fault === 'refused') {
            const retryAfter = draw(chaos?.seed ?? 0, `retry-after ${requests.length}`) < 0.5;
            reply = answer(method, fault === '429' ? 429 : 503, retryAfter ? 1 : 0);
            remaining = length;
            if (remaining > 0) {
              state = 'swallow';
              continue;
            }
            client.write(reply);
            reply = undefined;
            continue;
          }
          if (fault === 'reset') {
            if (length > 0) budget = Math.floor(length / 2);
            else cut = { method, head: Buffer.alloc(0) };
          }
          forward(headBytes);
          if (budget === 0) {
            kill(Buffer.alloc(0));
            return;
          }
          remaining = length;
          if (remaining > 0) state = 'body';
          continue;
        }
        const part = chunk.subarray(0, Math.min(remaining, chunk.length));
        chunk = chunk.subarray(part.length);
        if (state === 'swallow') {
          remaining -= part.length;
          if (remaining === 0) {
            state = 'head';
            client.write(reply as Buffer);
            reply = undefined;
          }
          continue;
        }
        // state === 'body'
        if (budget !== undefined) {
          if (part.length >= budget) {
            kill(part.subarray(0, budget));
            return;
          }
          budget -= part.length;
        }
        forward(part);
        remaining -= part.length;
        if (remaining === 0) {
          state = 'head';
          budget = undefined;
        }
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = `127.0.0.1:${port}`;
  let stopped: Promise<void> | undefined;

  return {
    host,
    url: `http://${host}`,
    get connections() {
      return connections;
    },
    get bytesUp() {
      return bytesUp;
    },
    get kills() {
      return kills;
    },
    requests,
    setRule(r) {
      if (
        r !== undefined &&
        !(Number.isInteger(r.killAfterUploadBytes) && r.killAfterUploadBytes >= 0)
      ) {
        throw new Error('fault proxy: killAfterUploadBytes must be a non-negative integer');
      }
      rule = r === undefined ? undefined : { rule: r, left: r.times ?? 1 };
    },
    setChaos(r) {
      if (r !== undefined && !(r.rate >= 0 && r.rate < 1 && Number.isInteger(r.seed))) {
        throw new Error('fault proxy: chaos needs an integer seed and a rate in [0, 1)');
      }
      chaos = r;
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return stopped;
    },
  };
}
