/**
 * The viewer's server (src/ui/server.ts) over the small study of ./study.ts, with raw node:http
 * requests (so the Host header can be forged): the token, the Host check, read-only methods,
 * loopback only, attachment routes (bytes as logged, inline only for safe preview types, no path
 * reaching outside the study), the JSON API against UiData, gzip, and a re-read study.
 */
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { connect } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { Experiment } from '../../src/experiment/experiment.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { searchRuns } from '../../src/experiment/search.js';
import { tableFromArrowFile } from '../../src/tables/arrow.js';
import { UiData } from '../../src/ui/data.js';
import type { UiStudy } from '../../src/ui/model.js';
import { serveUi, type UiServer } from '../../src/ui/server.js';
import { tempDir } from '../helpers/temp.js';
import { HTML_TEXT, PNG_BYTES, PROJECT, recordSmallStudy, SMALL_V1, npyBytes } from './study.js';

const PAGE =
  '<!doctype html><html><head><title>runledger</title></head><body><script>1</script></body></html>';

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

const started: UiServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.close()));
});

async function start(): Promise<{ ui: UiServer; root: string; registry: LocalRegistry }> {
  const root = await recordSmallStudy();
  const page = join(await tempDir(), 'index.html');
  await writeFile(page, PAGE);
  const registry = await LocalRegistry.open(root);
  const ui = await serveUi({ registry, experiments: PROJECT, page });
  started.push(ui);
  return { ui, root, registry };
}

/** One request as a browser (or an attacker) would send it; `host` overrides the Host header. */
function get(
  ui: UiServer,
  path: string,
  options: { method?: string; headers?: Record<string, string>; token?: boolean } = {}
): Promise<Answer> {
  const headers: Record<string, string> = {
    host: `127.0.0.1:${ui.port}`,
    ...(options.token === false ? {} : { 'x-runledger-token': ui.token }),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: ui.port, path, method: options.method ?? 'GET', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          })
        );
        res.on('error', reject);
      }
    );
    req.on('error', reject);
    req.end();
  });
}

function json(a: Answer): unknown {
  return JSON.parse(a.body.toString('utf8'));
}

describe('runledger ui server: who may ask', () => {
  it('refuses a request without the token, or with a wrong one, with 403', async () => {
    const { ui } = await start();
    for (const path of ['/', '/api/study', `/api/attachment?e=x&r=0&name=a`]) {
      const none = await get(ui, path, { token: false });
      expect(none.status, path).toBe(403);
      expect(json(none)).toMatchObject({ error: { code: 'FORBIDDEN' } });
      expect(none.body.toString()).not.toContain('runledger.local');
    }
    const wrong = ui.token.slice(0, -1) + (ui.token.endsWith('0') ? '1' : '0');
    expect(
      (await get(ui, '/api/study', { token: false, headers: { 'x-runledger-token': wrong } }))
        .status
    ).toBe(403);
    expect((await get(ui, `/api/study?token=${wrong}`, { token: false })).status).toBe(403);
    expect((await get(ui, `/api/study?token=`, { token: false })).status).toBe(403);
    // The right one, as a header or in the query.
    expect((await get(ui, '/api/study')).status).toBe(200);
    expect((await get(ui, `/api/study?token=${ui.token}`, { token: false })).status).toBe(200);
    expect(ui.url).toBe(`http://127.0.0.1:${ui.port}/?token=${ui.token}`);
    expect(ui.token).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses a Host other than 127.0.0.1:<port> or localhost:<port> with 403 (DNS rebinding)', async () => {
    const { ui } = await start();
    for (const host of [
      `evil.example:${ui.port}`,
      'evil.example',
      `127.0.0.1:${ui.port + 1}`,
      '127.0.0.1',
      `127.0.0.1.nip.io:${ui.port}`,
      `[::1]:${ui.port}`,
    ]) {
      const a = await get(ui, '/api/study', { headers: { host } });
      expect(a.status, host).toBe(403);
    }
    expect(
      (await get(ui, '/api/study', { headers: { host: `localhost:${ui.port}` } })).status
    ).toBe(200);
  });

  it('on port 80, takes the Host a browser sends there (no port), when this process may bind it', async () => {
    const root = await recordSmallStudy();
    const page = join(await tempDir(), 'index.html');
    await writeFile(page, PAGE);
    const registry = await LocalRegistry.open(root);
    let ui: UiServer;
    try {
      ui = await serveUi({ registry, page, port: 80 });
    } catch (e) {
      console.log(
        `port 80 not available here (${(e as Error).message}): its Host rule is not checked`
      );
      return;
    }
    started.push(ui);
    expect((await get(ui, '/api/study', { headers: { host: '127.0.0.1' } })).status).toBe(200);
    expect((await get(ui, '/api/study', { headers: { host: 'localhost' } })).status).toBe(200);
    expect((await get(ui, '/api/study', { headers: { host: 'evil.example' } })).status).toBe(403);
  });

  it('answers GET and HEAD only: POST, PUT, DELETE, PATCH are 405', async () => {
    const { ui } = await start();
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      const a = await get(ui, '/api/study', { method });
      expect(a.status, method).toBe(405);
      expect(a.headers['allow']).toBe('GET, HEAD');
    }
    const head = await get(ui, '/api/study', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
  });

  it('listens on 127.0.0.1 only: no other address of this machine reaches it', async () => {
    const { ui } = await start();
    expect(ui.server.address()).toMatchObject({
      address: '127.0.0.1',
      family: 'IPv4',
      port: ui.port,
    });
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((i) => i !== undefined && i.address !== '127.0.0.1' && !i.address.startsWith('fe80'))
      .map((i) => i!.address);
    if (others.length === 0)
      console.log('no non-loopback interface on this machine: only the bound address is checked');
    for (const address of [...others, '::1']) {
      const outcome = await new Promise<string>((resolve) => {
        const socket = connect({ host: address, port: ui.port });
        socket.on('connect', () => {
          socket.destroy();
          resolve('connected');
        });
        socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
      });
      expect(outcome, address).not.toBe('connected');
    }
  });

  it('says a port in use is taken, naming it', async () => {
    const { ui, registry } = await start();
    const page = join(await tempDir(), 'index.html');
    await writeFile(page, PAGE);
    await expect(serveUi({ registry, port: ui.port, page })).rejects.toMatchObject({
      code: 'IO_ERROR',
      data: { errno: 'EADDRINUSE', port: ui.port },
      message: `Port ${ui.port} on 127.0.0.1 is in use.`,
    });
  });

  it('says an unbuilt page is missing, before listening', async () => {
    const registry = await LocalRegistry.open(await recordSmallStudy());
    const page = join(await tempDir(), 'no-such', 'index.html');
    await expect(serveUi({ registry, page })).rejects.toMatchObject({
      code: 'DEPENDENCY_MISSING',
      data: { path: page, build: 'npm run build' },
    });
  });
});

describe('runledger ui server: what it serves', () => {
  it('serves the page with headers that keep the token and the frame to itself', async () => {
    const { ui } = await start();
    const a = await get(ui, `/?token=${ui.token}`, { token: false });
    expect(a.status).toBe(200);
    expect(a.body.toString()).toBe(PAGE);
    expect(a.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(a.headers['referrer-policy']).toBe('no-referrer');
    expect(a.headers['x-frame-options']).toBe('DENY');
    expect(a.headers['content-security-policy']).toBe("frame-ancestors 'none'");
    expect(a.headers['cache-control']).toBe('no-store');
  });

  it('serves the study, runs and metrics as UiData reads them, gzipped when asked', async () => {
    const { ui, registry } = await start();
    const data = await UiData.open({ registry, experiments: PROJECT });
    const plain = json(await get(ui, '/api/study')) as UiStudy;
    expect({ ...plain, readAt: '' }).toEqual(
      JSON.parse(JSON.stringify({ ...data.study, readAt: '' }))
    );
    const zipped = await get(ui, '/api/study', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(zipped.body).toString())).toMatchObject({ title: PROJECT });
    const id = data.study.experiments[0]?.id as string;
    expect(json(await get(ui, `/api/run?e=${id}&r=2`))).toEqual(
      JSON.parse(JSON.stringify(await data.run(id, 2)))
    );
    const series = json(
      await get(ui, `/api/metrics?runs=${id}:0,${id}:1&names=${encodeURIComponent('loss')}`)
    );
    expect(series).toEqual(
      await data.metrics(
        [
          { experiment: id, runId: 0 },
          { experiment: id, runId: 1 },
        ],
        ['loss']
      )
    );
    expect((json(await get(ui, `/api/metrics?runs=${id}:0`)) as unknown[]).length).toBe(2);
    // Many runs in one URL (here 5,000 times the same, about 80 KB): beyond Node's default head.
    const many = Array.from({ length: 5000 }, () => `${id}:0`).join(',');
    const long = await get(ui, `/api/metrics?runs=${many}&names=loss`);
    expect(long.status).toBe(200);
    expect((json(long) as unknown[]).length).toBe(5000);
  });

  it('serves the runs table as an Arrow IPC file: the columns and typed values of searchRuns, and a re-read study', async () => {
    const { ui, registry } = await start();
    const answer = await get(ui, '/api/runs.arrow', { headers: { 'accept-encoding': 'gzip' } });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/vnd.apache.arrow.file');
    expect(answer.headers['content-disposition']).toBe('attachment; filename="runs.arrow"');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    // An Arrow file starts and ends with its magic.
    expect(answer.body.subarray(0, 6).toString('latin1')).toBe('ARROW1');
    const served = tableFromArrowFile(answer.body);
    const expected = await searchRuns({ registry, experiments: [PROJECT] });
    expect(served.schema.fields.map((f) => `${f.name}:${String(f.type)}`)).toEqual(
      expected.schema.fields.map((f) => `${f.name}:${String(f.type)}`)
    );
    expect(served.numRows).toBe(4);
    expect(served.toArray().map((r) => ({ ...r.toJSON() }))).toEqual(
      expected.toArray().map((r) => ({ ...r.toJSON() }))
    );
    // Typed as stored: run ids are int64 (bigint), not JSON numbers.
    expect(typeof served.getChild('run_id')?.get(0)).toBe('bigint');
    const study = json(await get(ui, '/api/study')) as UiStudy;
    expect(served.numRows).toBe(study.runs.runId.length);
    // HEAD: the headers alone.
    const head = await get(ui, '/api/runs.arrow', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    expect(Number(head.headers['content-length'])).toBe(answer.body.length);
    // Without the token, nothing.
    expect((await get(ui, '/api/runs.arrow', { token: false })).status).toBe(403);
    // A later commit is in the next answer, as in /api/study.
    const v3 = await Experiment.create(`${PROJECT}:v3`, { registry });
    await v3.run((run) => run.logParameter('lr', 0.5), { name: 'late' });
    await v3.commit();
    const later = tableFromArrowFile((await get(ui, '/api/runs.arrow')).body);
    expect(later.numRows).toBe(5);
    expect(later.getChild('experiment')?.get(4)).toBe(`${PROJECT}:v3`);
  });

  it('serves attachment bytes as logged: inline for safe preview types, else as a download; nosniff always', async () => {
    const { ui } = await start();
    const id = (json(await get(ui, '/api/study')) as UiStudy).experiments[0]?.id as string;
    const cases: [string, string, string, Uint8Array][] = [
      ['pixel.png', 'image/png', 'inline', PNG_BYTES],
      ['summary.json', 'application/json', 'inline', new TextEncoder().encode('{"ok":true}')],
      ['notes.txt', 'text/plain; charset=utf-8', 'inline', new TextEncoder().encode('hello')],
      ['preds.csv', 'text/csv', 'inline', new TextEncoder().encode('a,b\n1,2\n')],
      ['page.html', 'text/html', 'attachment', new TextEncoder().encode(HTML_TEXT)],
      ['weights.npy', 'application/x-npy', 'attachment', npyBytes()],
    ];
    for (const [name, type, disposition, bytes] of cases) {
      const a = await get(
        ui,
        `/api/attachment?e=${id}&r=0&name=${encodeURIComponent(name)}&token=${ui.token}`,
        { token: false }
      );
      expect(a.status, name).toBe(200);
      expect(a.headers['content-type'], name).toBe(type);
      expect(a.headers['content-disposition'], name).toBe(
        `${disposition}; filename="${name}"; filename*=UTF-8''${name}`
      );
      expect(a.headers['x-content-type-options'], name).toBe('nosniff');
      expect(a.headers['content-security-policy'], name).toBe("default-src 'none'; sandbox");
      expect(new Uint8Array(a.body), name).toEqual(bytes);
    }
  });

  it('refuses path traversal, unknown runs and malformed ids in attachment routes, reading nothing outside the study', async () => {
    const { ui, root } = await start();
    // A secret beside the store, and the store's own files: none may come out.
    await writeFile(join(root, '..', 'secret.txt'), 'SECRET');
    const id = (json(await get(ui, '/api/study')) as UiStudy).experiments[0]?.id as string;
    const attempts: [string, number][] = [
      [`/api/attachment?e=${id}&r=0&name=../../secret.txt`, 404],
      [`/api/attachment?e=${id}&r=0&name=..%2F..%2Fsecret.txt`, 404],
      [`/api/attachment?e=${id}&r=0&name=%2e%2e%2f%2e%2e%2findex.json`, 404],
      [`/api/attachment?e=${id}&r=0&name=..%5C..%5Csecret.txt`, 404],
      [`/api/attachment?e=${id}&r=0&name=%2Fetc%2Fpasswd`, 404],
      [`/api/attachment?e=${id}&r=0&name=runledger.run`, 404],
      [`/api/attachment?e=${id}&r=0&name=runledger.metrics`, 404],
      [`/api/attachment?e=${id}&r=0&name=blobs%2Fsha256`, 404],
      [`/api/attachment?e=${id}&r=7&name=pixel.png`, 404],
      [`/api/attachment?e=000000000000&r=0&name=pixel.png`, 404],
      [`/api/attachment?e=../../x&r=0&name=pixel.png`, 400],
      [`/api/attachment?e=${id}&r=-1&name=pixel.png`, 400],
      [`/api/attachment?e=${id}&r=0`, 400],
      ['/api/attachment/../../secret.txt', 404],
      ['/%2e%2e/%2e%2e/secret.txt', 404],
      ['/../index.json', 404],
      ['/index.json', 404],
      ['/api/run?e=000000000000&r=0', 404],
      [`/api/run?e=${id}&r=99`, 404],
      [`/api/metrics?runs=${id}:x`, 400],
    ];
    for (const [path, status] of attempts) {
      const a = await get(ui, path);
      expect(a.status, path).toBe(status);
      const body = a.body.toString();
      expect(body, path).not.toContain('SECRET');
      expect(body, path).not.toContain('schemaVersion');
      expect(json(a), path).toMatchObject({
        error: { code: expect.any(String), message: expect.any(String) },
      });
    }
  });

  it('re-reads the study when the store names other manifests, not before', async () => {
    const { ui, registry } = await start();
    const firstAnswer = await get(ui, '/api/study');
    const first = json(firstAnswer) as UiStudy;
    expect(first.experiments).toHaveLength(2);
    // /api/state names the store state; the study says which one it was read at.
    const state = (): Promise<string> =>
      get(ui, '/api/state').then((a) => (json(a) as { state: string }).state);
    const readAt = firstAnswer.headers['x-runledger-state'];
    expect(readAt).toMatch(/^[0-9a-f]{16}$/);
    expect(await state()).toBe(readAt);
    const again = json(await get(ui, '/api/study')) as UiStudy;
    expect(again.readAt).toBe(first.readAt);
    expect(await state()).toBe(readAt);
    const v3 = await Experiment.create(`${PROJECT}:v3`, { registry });
    await v3.run((run) => run.logParameter('lr', 0.5), { name: 'late' });
    await v3.commit();
    const changed = await state();
    expect(changed).not.toBe(readAt);
    const laterAnswer = await get(ui, '/api/study');
    expect(laterAnswer.headers['x-runledger-state']).toBe(changed);
    const later = json(laterAnswer) as UiStudy;
    expect(later.experiments.map((e) => e.tag)).toEqual(['v1', 'v2', 'v3']);
    expect(later.runs.runId).toEqual([0, 1, 2, 0, 0]);
    const id = later.experiments[2]?.id as string;
    expect(json(await get(ui, `/api/run?e=${id}&r=0`))).toMatchObject({ name: 'late' });
    expect(SMALL_V1).toBe(later.experiments[0]?.reference);
  });
});
