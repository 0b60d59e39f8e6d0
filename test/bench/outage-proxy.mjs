// An HTTP proxy on 127.0.0.1 in front of a registry, for the resumed-pull case of
// 9-remote.bench.mjs (not a bench file itself): it counts the blob GETs it answers, and after
// `failAfter` of them have been answered in full it goes down: every later request gets 503 (a
// registry failing halfway through a pull). Both clients meet the same outage.
import http from 'node:http';

const BLOB_GET = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})$/;

/**
 * @param {string} target - 'host:port' of the registry
 * @returns {Promise<{
 *   host: string,
 *   fetched: Set<string>,
 *   refused: number,
 *   reset: (failAfter?: number) => void,
 *   stop: () => Promise<void>,
 * }>} `fetched` holds the digests of blobs answered in full since the last reset; `reset(n)`
 *   clears it, brings the proxy up, and makes it go down after n more (never when undefined)
 */
export async function startOutageProxy(target) {
  const [targetHost, targetPort] = target.split(':');
  const agent = new http.Agent({ keepAlive: true });
  const state = { fetched: new Set(), answered: 0, failAfter: undefined, refused: 0 };
  const down = () => state.failAfter !== undefined && state.answered >= state.failAfter;

  const server = http.createServer((req, res) => {
    if (down()) {
      state.refused++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json', connection: 'close' });
      res.end('{"errors":[{"code":"UNAVAILABLE","message":"the bench outage proxy is down"}]}');
      return;
    }
    const up = http.request(
      {
        host: targetHost,
        port: Number(targetPort),
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        const digest = req.method === 'GET' ? BLOB_GET.exec(req.url ?? '')?.[1] : undefined;
        if (digest !== undefined && answer.statusCode === 200) {
          res.once('finish', () => {
            state.fetched.add(digest);
            state.answered++;
          });
        }
      }
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    host: `127.0.0.1:${port}`,
    get fetched() {
      return state.fetched;
    },
    get refused() {
      return state.refused;
    },
    reset(failAfter) {
      state.fetched = new Set();
      state.answered = 0;
      state.refused = 0;
      state.failAfter = failAfter;
    },
    stop() {
      agent.destroy();
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
