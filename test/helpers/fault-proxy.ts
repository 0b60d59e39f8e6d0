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
  /** Every request line seen on the way up, in order. */
  readonly requests: ReadonlyArray<{ method: string; path: string; contentLength: number }>;
  setRule(rule: FaultRule | undefined): void;
  stop(): Promise<void>;
}

const MAX_HEAD = 64 * 1024;
const HEAD_END = Buffer.from('\r\n\r\n');

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
  const requests: Array<{ method: string; path: string; contentLength: number }> = [];
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
    upstream.pipe(client);
    client.on('end', () => upstream.end());

    let state: 'head' | 'body' | 'raw' | 'dead' = 'head';
    let head: Buffer = Buffer.alloc(0);
    let remaining = 0;
    let budget: number | undefined; // body bytes still forwarded before the kill

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
          requests.push({ method, path, contentLength: length });
          budget = armed(method, path, length);
          forward(headBytes);
          if (budget === 0) {
            kill(Buffer.alloc(0));
            return;
          }
          remaining = length;
          if (remaining > 0) state = 'body';
          continue;
        }
        // state === 'body'
        const part = chunk.subarray(0, Math.min(remaining, chunk.length));
        chunk = chunk.subarray(part.length);
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
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      return stopped;
    },
  };
}
