// Cases: push and pull of artifacts between the local store and a real registry (Debian's
// docker-registry 2.8.2 on 127.0.0.1, storage on the scratch file system, started by
// registry-server.mjs), against skopeo 1.9 copying the same artifact in the same run.
//
// The artifact is built once per case in a LocalRegistry (not timed). Its root is an OCI image
// layout, so skopeo reads it directly as `oci:<root>:<reference>` (it picks the entry whose
// ref.name annotation is that reference, even with several entries in index.json).
//
// push:    ours = pushArtifact in a child process (remote-child.mjs); peer =
//          `skopeo copy --insecure-policy --dest-tls-verify=false oci:<root>:<ref> docker://…`.
//          Every trial pushes into a freshly started registry with empty storage, so nothing
//          exists there and no earlier trial can be mounted from (skopeo's blob-info cache,
//          /var/lib/containers/cache as root, would otherwise offer cross-repository mounts).
// re-push: the artifact is pushed once (not timed); then both push it again to that same
//          repository, where every blob and the manifest exist.
// pull:    the artifact is pushed once (not timed); ours = pullArtifact into a fresh
//          LocalRegistry (every blob verified, made durable, then the reference published);
//          peer = `skopeo copy --insecure-policy --src-tls-verify=false docker://… oci:<fresh
//          dir>:<tag>` followed by `sync -f <dir>`, since skopeo does not make its output durable
//          and ours does.
// peak RSS: a 2 GiB artifact (one 1.5 GiB layer + 512 layers of 1 MiB) pushed and pulled once
//          by each side; ours from peakRssKiB() in the child, skopeo's from
//          `/usr/bin/time -f %M` (or VmHWM polled in /proc when time is missing).
// resumed pull: the 1,000-blob artifact pulled through outage-proxy.mjs, which answers 503 to
//          everything once it has served half of the blobs; then pulled again with the proxy
//          up, into the same store / layout. The figure is the blobs fetched by that second
//          invocation (target: only those the first did not keep). Ours is pullArtifact in this
//          process, its first invocation with maxRetries: 0 so it gives up at once instead of
//          spending every blob's retry budget against the outage; skopeo is
//          `skopeo copy docker://… oci:<dir>:v1` both times.
//
// Ours is timed inside the child around the one call (as in the other benches); the child's
// wall time, node start-up and module loading included, is reported too ("ours incl. node
// start"), since skopeo's figure includes its own process start. Trials alternate peer, ours,
// and the best of each is kept; outputs are deleted and everything flushed between trials.
// The checks after every trial compare digests: the registry's Docker-Content-Digest for the
// pushed tag, our report, and the index.json skopeo writes.
//
// Environment: RUNLEDGER_BENCH_REMOTE_BLOBS (default 1000), RUNLEDGER_BENCH_REMOTE_MIB (the big
// blob, default 512), RUNLEDGER_BENCH_REMOTE_RSS_MIB (the RSS artifact, default 2048),
// RUNLEDGER_BENCH_TRIALS (default 2).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalRegistry, pullArtifact } from '../../dist/src/index.js';
import { children, commandLine, fmt, MB, peakRssKiB, run, syncAll } from './lib.mjs';
import { startOutageProxy } from './outage-proxy.mjs';
import { checkRegistry, startRegistry } from './registry-server.mjs';

const MIB = 1 << 20;
const SMALL_COUNT = Number(process.env['RUNLEDGER_BENCH_REMOTE_BLOBS'] ?? 1000);
const SMALL_SIZE = 64 * 1024;
const BIG_MIB = Number(process.env['RUNLEDGER_BENCH_REMOTE_MIB'] ?? 512);
const RSS_MIB = Number(process.env['RUNLEDGER_BENCH_REMOTE_RSS_MIB'] ?? 2048);
const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 2));
const RSS_LIMIT_MB = 150;
if (!(SMALL_COUNT >= 1)) throw new Error('RUNLEDGER_BENCH_REMOTE_BLOBS must be ≥ 1');
if (!(BIG_MIB >= 1)) throw new Error('RUNLEDGER_BENCH_REMOTE_MIB must be ≥ 1');
if (!(RSS_MIB >= 8)) throw new Error('RUNLEDGER_BENCH_REMOTE_RSS_MIB must be ≥ 8');

const LOCAL_REF = 'localhost/bench/remote:v1';
const here = dirname(fileURLToPath(import.meta.url));
const childScript = join(here, 'remote-child.mjs');
const sameSet = (a, b) => a.size === b.size && [...a].every((x) => b.has(x));
const label = (mib) => (mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`);
const smallLabel = SMALL_COUNT.toLocaleString('en-US');
const secs = (runs) => runs.map((s) => Number(s.toFixed(3)));
const mb = (kib) => (kib * 1024) / MB;

function checkSkopeo() {
  const v = commandLine('skopeo', ['--version']);
  if (v === undefined) throw new Error('skopeo is not installed (apt-get install -y skopeo)');
  return v.replace(/^skopeo version /, '');
}

// ---- the artifact ----------------------------------------------------------------------------

/** `mib` MiB: one random MiB, its first 8 bytes a counter, a fresh copy a MiB. */
async function* bigLayer(mib) {
  const base = randomBytes(MIB);
  for (let i = 0; i < mib; i++) {
    const buf = Buffer.from(base); // batch writes stay in flight: never reuse a chunk
    buf.writeBigUInt64LE(BigInt(i), 0);
    yield buf;
  }
}

/**
 * Builds a store at `root` holding one artifact under LOCAL_REF: `big` MiB as one layer (when
 * > 0) and `count` unique layers of `size` bytes (not timed).
 * @returns {Promise<{ descriptor: object, blobs: number, bytes: number }>} blobs and bytes count
 *   the config and layers (what travels as blobs; the manifest is not counted)
 */
async function buildArtifact(root, { big = 0, count = 0, size = 0 }, log) {
  log(
    `building the artifact: ${big > 0 ? `1 layer of ${label(big)}` : ''}${big > 0 && count > 0 ? ' + ' : ''}${count > 0 ? `${count} layers of ${fmt(size / 1024)} KiB` : ''}`
  );
  const registry = await LocalRegistry.open(root);
  const batch = registry.batch();
  const layers = [];
  if (big > 0) layers.push(await batch.putBlobStream(bigLayer(big)));
  const pool = randomBytes(MIB + size);
  for (let i = 0; i < count; i++) {
    const at = (i * 4099) % MIB;
    const buf = Buffer.from(pool.subarray(at, at + size));
    buf.writeBigUInt64LE(BigInt(i), 0);
    layers.push(await batch.putBlob(buf));
  }
  const config = await batch.putBlob(
    new TextEncoder().encode(JSON.stringify({ bench: 'remote', big, count, size }))
  );
  await batch.commit();
  const descriptor = await registry.writeManifest({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.example.bench.v1',
    config: { mediaType: 'application/vnd.example.bench.config.v1+json', ...config },
    layers: layers.map((info) => ({ mediaType: 'application/octet-stream', ...info })),
  });
  await registry.publishRef(LOCAL_REF, descriptor);
  const bytes = config.size + layers.reduce((n, l) => n + l.size, 0);
  return { descriptor, blobs: layers.length + 1, bytes };
}

// ---- the two sides -----------------------------------------------------------------------------

/** The digest the registry serves for host/repository:tag (its Docker-Content-Digest). */
async function remoteDigest(host, repository, tag) {
  const res = await fetch(`http://${host}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  if (res.status !== 200) throw new Error(`HEAD ${repository}:${tag} answered ${res.status}`);
  return res.headers.get('docker-content-digest');
}

/** The manifest digest skopeo wrote into the layout at `dir` under `tag`. */
function layoutDigest(dir, tag) {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
  const entry = index.manifests.find(
    (m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag
  );
  return entry?.digest;
}

/** /usr/bin/time measures skopeo's peak RSS; without it, VmHWM is polled in /proc. */
const HAS_TIME = existsSync('/usr/bin/time');

/** Runs remote-child.mjs; returns its JSON line plus the child's wall time. */
async function ours(args) {
  const child = await run(process.execPath, [childScript, ...args]);
  return { ...JSON.parse(child.stdout), wall: child.seconds };
}

/**
 * Runs skopeo with the given arguments; with `rss`, also measures its peak RSS (KiB) with
 * /usr/bin/time, or by polling VmHWM in /proc when that is missing.
 */
async function skopeo(args, { rss = false, scratch } = {}) {
  if (!rss) return run('skopeo', args);
  if (HAS_TIME) {
    const out = join(scratch, 'time.out');
    const r = await run('/usr/bin/time', ['-f', '%M', '-o', out, 'skopeo', ...args]);
    const kib = Number(readFileSync(out, 'utf8').trim().split('\n').at(-1));
    rmSync(out);
    return { ...r, maxRssKiB: kib };
  }
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('skopeo', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    let hwm = 0;
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m !== null) hwm = Math.max(hwm, Number(m[1]));
      } catch {
        // exited between polls
      }
    }, 20);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      children.delete(child);
      if (code !== 0) reject(new Error(`skopeo ${args.join(' ')} failed: ${err.trim()}`));
      else resolve({ seconds: (performance.now() - t0) / 1000, maxRssKiB: hwm });
    });
  });
}

const skopeoPushArgs = (root, target) => [
  'copy',
  '--quiet',
  '--insecure-policy',
  '--dest-tls-verify=false',
  `oci:${root}:${LOCAL_REF}`,
  `docker://${target}`,
];
const skopeoPullArgs = (source, dir, tag) => [
  'copy',
  '--quiet',
  '--insecure-policy',
  '--src-tls-verify=false',
  `docker://${source}`,
  `oci:${dir}:${tag}`,
];

/** Starts a registry with fresh storage in `dir`, runs fn(registry), stops it, deletes `dir`. */
async function withRegistry(dir, fn) {
  const registry = await startRegistry(dir);
  try {
    return await fn(registry);
  } finally {
    await registry.stop();
    rmSync(dir, { recursive: true, force: true });
    await syncAll();
  }
}

function expectDigest(what, got, want) {
  if (got !== want) throw new Error(`${what}: digest ${got}, expected ${want}`);
}

const requestText = (r) =>
  Object.entries(r)
    .map(([m, n]) => `${m} ${n}`)
    .join(', ');

// ---- case bodies -------------------------------------------------------------------------------

/** Push into an empty registry, per trial; figures are `per(seconds)`. */
async function pushCase(ctx, shape, per) {
  const skopeoVersion = checkSkopeo();
  checkRegistry();
  const root = join(ctx.scratch, 'store');
  const art = await buildArtifact(root, shape, ctx.log);
  await syncAll();
  const peerRuns = [];
  const ourRuns = [];
  for (let t = 0; t < TRIALS; t++) {
    await withRegistry(join(ctx.scratch, `registry-peer-${t}`), async (reg) => {
      const s = await skopeo(skopeoPushArgs(root, `${reg.host}/peer/push:v1`));
      expectDigest(
        'skopeo push',
        await remoteDigest(reg.host, 'peer/push', 'v1'),
        art.descriptor.digest
      );
      peerRuns.push(s.seconds);
      ctx.log(`skopeo trial ${t + 1}: ${fmt(s.seconds)} s`);
    });
    await withRegistry(join(ctx.scratch, `registry-ours-${t}`), async (reg) => {
      const r = await ours(['push', root, LOCAL_REF, `${reg.host}/ours/push:v1`]);
      expectDigest('push', r.digest, art.descriptor.digest);
      expectDigest(
        'pushed',
        await remoteDigest(reg.host, 'ours/push', 'v1'),
        art.descriptor.digest
      );
      if (r.blobs.transferred !== art.blobs) {
        throw new Error(`pushed ${r.blobs.transferred} blobs, expected ${art.blobs}`);
      }
      ourRuns.push(r);
      ctx.log(
        `ours   trial ${t + 1}: ${fmt(r.seconds)} s (${fmt(r.wall)} s with node start), ${requestText(r.requests)}, peak RSS ${fmt(mb(r.maxRssKiB))} MB`
      );
    });
  }
  const best = ourRuns.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const peerBest = Math.min(...peerRuns);
  return {
    ours: per(best.seconds, art),
    peer: per(peerBest, art),
    peerName: `skopeo ${skopeoVersion} copy oci:… docker://…`,
    extra: {
      'ours incl. node start': `${fmt(per(Math.min(...ourRuns.map((r) => r.wall)), art))} (${fmt(peerBest / Math.min(...ourRuns.map((r) => r.wall)))}×)`,
      'ours s': secs(ourRuns.map((r) => r.seconds)),
      'skopeo s': secs(peerRuns),
      requests: requestText(best.requests),
      'peak RSS': `${fmt(mb(Math.max(...ourRuns.map((r) => r.maxRssKiB))))} MB`,
    },
  };
}

/** Pull into a fresh store / layout, per trial, from one registry; figures are `per(seconds)`. */
async function pullCase(ctx, shape, per) {
  const skopeoVersion = checkSkopeo();
  checkRegistry();
  const root = join(ctx.scratch, 'store');
  const art = await buildArtifact(root, shape, ctx.log);
  return withRegistry(join(ctx.scratch, 'registry'), async (reg) => {
    const source = `${reg.host}/bench/pull:v1`;
    await ours(['push', root, LOCAL_REF, source]); // not timed
    rmSync(root, { recursive: true, force: true }); // the registry's copy is all that is left
    await syncAll();
    const peerRuns = [];
    const ourRuns = [];
    for (let t = 0; t < TRIALS; t++) {
      const dir = join(ctx.scratch, `skopeo-${t}`);
      const s = await skopeo(skopeoPullArgs(source, dir, 'v1'));
      const sync = await run('sync', ['-f', join(dir, 'index.json')]);
      expectDigest('skopeo pull', layoutDigest(dir, 'v1'), art.descriptor.digest);
      peerRuns.push(s.seconds + sync.seconds);
      ctx.log(`skopeo trial ${t + 1}: ${fmt(s.seconds)} s + sync -f ${fmt(sync.seconds)} s`);
      rmSync(dir, { recursive: true, force: true });
      await syncAll();

      const store = join(ctx.scratch, `pull-${t}`);
      const r = await ours(['pull', store, source]);
      expectDigest('pull', r.digest, art.descriptor.digest);
      const pulled = await LocalRegistry.open(store);
      expectDigest('pulled', (await pulled.resolve(source)).digest, art.descriptor.digest);
      if (r.blobs.transferred !== art.blobs) {
        throw new Error(`pulled ${r.blobs.transferred} blobs, expected ${art.blobs}`);
      }
      ourRuns.push(r);
      ctx.log(
        `ours   trial ${t + 1}: ${fmt(r.seconds)} s (${fmt(r.wall)} s with node start), ${requestText(r.requests)}, peak RSS ${fmt(mb(r.maxRssKiB))} MB`
      );
      rmSync(store, { recursive: true, force: true });
      await syncAll();
    }
    const best = ourRuns.reduce((a, b) => (b.seconds < a.seconds ? b : a));
    const peerBest = Math.min(...peerRuns);
    return {
      ours: per(best.seconds, art),
      peer: per(peerBest, art),
      peerName: `skopeo ${skopeoVersion} copy docker://… oci:… + sync -f`,
      extra: {
        'ours incl. node start': `${fmt(per(Math.min(...ourRuns.map((r) => r.wall)), art))} (${fmt(peerBest / Math.min(...ourRuns.map((r) => r.wall)))}×)`,
        'ours s': secs(ourRuns.map((r) => r.seconds)),
        'skopeo s': secs(peerRuns),
        requests: requestText(best.requests),
        'peak RSS': `${fmt(mb(Math.max(...ourRuns.map((r) => r.maxRssKiB))))} MB`,
      },
    };
  });
}

const blobsPerSecond = (s, art) => art.blobs / s;
const mbPerSecond = (s, art) => art.bytes / MB / s;
const SMALL = { count: SMALL_COUNT, size: SMALL_SIZE };
const BIG = { big: BIG_MIB };

export const cases = [
  {
    name: `remote push ${smallLabel} blobs of 64 KiB`,
    unit: 'blobs/s',
    higherIsBetter: true,
    targetRatio: 5,
    run: (ctx) => pushCase(ctx, SMALL, blobsPerSecond),
  },
  {
    name: `remote push a ${label(BIG_MIB)} blob`,
    unit: 'MB/s',
    higherIsBetter: true,
    targetRatio: 1,
    run: (ctx) => pushCase(ctx, BIG, mbPerSecond),
  },
  {
    name: `remote re-push ${smallLabel} blobs, all present`,
    unit: 's',
    higherIsBetter: false,
    targetRatio: 20,
    async run(ctx) {
      const skopeoVersion = checkSkopeo();
      checkRegistry();
      const root = join(ctx.scratch, 'store');
      const art = await buildArtifact(root, SMALL, ctx.log);
      return withRegistry(join(ctx.scratch, 'registry'), async (reg) => {
        const target = `${reg.host}/bench/repush:v1`;
        const first = await ours(['push', root, LOCAL_REF, target]); // not timed
        expectDigest('push', first.digest, art.descriptor.digest);
        await syncAll();
        const peerRuns = [];
        const ourRuns = [];
        for (let t = 0; t < TRIALS; t++) {
          const s = await skopeo(skopeoPushArgs(root, target));
          expectDigest(
            'skopeo re-push',
            await remoteDigest(reg.host, 'bench/repush', 'v1'),
            art.descriptor.digest
          );
          peerRuns.push(s.seconds);
          ctx.log(`skopeo trial ${t + 1}: ${fmt(s.seconds)} s`);
          await syncAll();
          const r = await ours(['push', root, LOCAL_REF, target]);
          expectDigest('re-push', r.digest, art.descriptor.digest);
          if (!r.upToDate || r.blobs.transferred !== 0) {
            throw new Error(`the re-push sent ${r.blobs.transferred} blobs`);
          }
          ourRuns.push(r);
          ctx.log(
            `ours   trial ${t + 1}: ${fmt(r.seconds)} s (${fmt(r.wall)} s with node start), ${requestText(r.requests)}`
          );
          await syncAll();
        }
        const best = ourRuns.reduce((a, b) => (b.seconds < a.seconds ? b : a));
        const peerBest = Math.min(...peerRuns);
        const wall = Math.min(...ourRuns.map((r) => r.wall));
        return {
          ours: best.seconds,
          peer: peerBest,
          peerName: `skopeo ${skopeoVersion} copy oci:… docker://…`,
          extra: {
            'ours incl. node start': `${fmt(wall)} s (${fmt(peerBest / wall)}×)`,
            'ours s': secs(ourRuns.map((r) => r.seconds)),
            'skopeo s': secs(peerRuns),
            requests: requestText(best.requests),
          },
        };
      });
    },
  },
  {
    name: `remote pull ${smallLabel} blobs of 64 KiB`,
    unit: 'blobs/s',
    higherIsBetter: true,
    targetRatio: 2,
    run: (ctx) => pullCase(ctx, SMALL, blobsPerSecond),
  },
  {
    name: `remote pull a ${label(BIG_MIB)} blob`,
    unit: 'MB/s',
    higherIsBetter: true,
    targetRatio: 1,
    run: (ctx) => pullCase(ctx, BIG, mbPerSecond),
  },
  {
    name: `remote push + pull ${label(RSS_MIB)} artifact, peak RSS`,
    unit: 'MB',
    higherIsBetter: false,
    async run(ctx) {
      const skopeoVersion = checkSkopeo();
      checkRegistry();
      const root = join(ctx.scratch, 'store');
      // 3/4 in one layer, the rest in 1 MiB layers (the largest size read whole into memory).
      const big = Math.round((RSS_MIB * 3) / 4);
      const art = await buildArtifact(root, { big, count: RSS_MIB - big, size: MIB }, ctx.log);
      await syncAll();
      return withRegistry(join(ctx.scratch, 'registry'), async (reg) => {
        const rate = (s) => `${fmt(art.bytes / MB / s)} MB/s`;
        const pushOurs = await ours(['push', root, LOCAL_REF, `${reg.host}/ours/rss:v1`]);
        expectDigest('push', pushOurs.digest, art.descriptor.digest);
        ctx.log(
          `ours   push: ${rate(pushOurs.seconds)}, peak RSS ${fmt(mb(pushOurs.maxRssKiB))} MB`
        );
        await syncAll();
        const pushPeer = await skopeo(skopeoPushArgs(root, `${reg.host}/peer/rss:v1`), {
          rss: true,
          scratch: ctx.scratch,
        });
        expectDigest(
          'skopeo push',
          await remoteDigest(reg.host, 'peer/rss', 'v1'),
          art.descriptor.digest
        );
        ctx.log(
          `skopeo push: ${rate(pushPeer.seconds)}, peak RSS ${fmt(mb(pushPeer.maxRssKiB))} MB`
        );
        rmSync(root, { recursive: true, force: true });
        await syncAll();

        const store = join(ctx.scratch, 'pull');
        const pullOurs = await ours(['pull', store, `${reg.host}/ours/rss:v1`]);
        expectDigest('pull', pullOurs.digest, art.descriptor.digest);
        ctx.log(
          `ours   pull: ${rate(pullOurs.seconds)}, peak RSS ${fmt(mb(pullOurs.maxRssKiB))} MB`
        );
        rmSync(store, { recursive: true, force: true });
        await syncAll();
        const dir = join(ctx.scratch, 'skopeo');
        const pullPeer = await skopeo(skopeoPullArgs(`${reg.host}/peer/rss:v1`, dir, 'v1'), {
          rss: true,
          scratch: ctx.scratch,
        });
        expectDigest('skopeo pull', layoutDigest(dir, 'v1'), art.descriptor.digest);
        ctx.log(
          `skopeo pull: ${rate(pullPeer.seconds)}, peak RSS ${fmt(mb(pullPeer.maxRssKiB))} MB`
        );
        rmSync(dir, { recursive: true, force: true });

        const oursMB = mb(Math.max(pushOurs.maxRssKiB, pullOurs.maxRssKiB));
        return {
          ours: oursMB,
          peer: mb(Math.max(pushPeer.maxRssKiB, pullPeer.maxRssKiB)),
          peerName: `skopeo ${skopeoVersion} copy, ${HAS_TIME ? '/usr/bin/time %M' : 'VmHWM polled'}`,
          checks: [
            {
              label: `push RSS <${RSS_LIMIT_MB} MB`,
              value: `${fmt(mb(pushOurs.maxRssKiB))} MB`,
              pass: mb(pushOurs.maxRssKiB) < RSS_LIMIT_MB,
            },
            {
              label: `pull RSS <${RSS_LIMIT_MB} MB`,
              value: `${fmt(mb(pullOurs.maxRssKiB))} MB`,
              pass: mb(pullOurs.maxRssKiB) < RSS_LIMIT_MB,
            },
          ],
          extra: {
            artifact: `${fmt(art.bytes / MB)} MB, ${art.blobs} blobs`,
            'RSS before call': `${fmt(mb(Math.max(pushOurs.maxRssBeforeKiB, pullOurs.maxRssBeforeKiB)))} MB`,
            'skopeo push/pull RSS': `${fmt(mb(pushPeer.maxRssKiB))}/${fmt(mb(pullPeer.maxRssKiB))} MB`,
            'push ours/skopeo': `${rate(pushOurs.seconds)} / ${rate(pushPeer.seconds)}`,
            'pull ours/skopeo': `${rate(pullOurs.seconds)} / ${rate(pullPeer.seconds)}`,
          },
        };
      });
    },
  },
  {
    name: `remote pull ${smallLabel} blobs of 64 KiB resumed after a failure at 50%`,
    unit: 'blobs fetched again',
    higherIsBetter: false,
    async run(ctx) {
      const skopeoVersion = checkSkopeo();
      checkRegistry();
      const root = join(ctx.scratch, 'store');
      const art = await buildArtifact(root, SMALL, ctx.log);
      const { manifest } = await (
        await LocalRegistry.open(root)
      ).readManifest(art.descriptor.digest);
      const digests = [manifest.config, ...manifest.layers].map((d) => d.digest);
      const half = Math.floor(art.blobs / 2);
      return withRegistry(join(ctx.scratch, 'registry'), async (reg) => {
        await ours(['push', root, LOCAL_REF, `${reg.host}/bench/resume:v1`]); // not measured
        rmSync(root, { recursive: true, force: true });
        const proxy = await startOutageProxy(reg.host);
        try {
          const source = `${proxy.host}/bench/resume:v1`;

          // skopeo: the first copy fails at the outage; the second goes into the same layout.
          const dir = join(ctx.scratch, 'skopeo');
          proxy.reset(half);
          const s1 = await run('skopeo', skopeoPullArgs(source, dir, 'v1'), { allowFail: true });
          if (s1.code === 0) throw new Error('skopeo’s first pull did not fail at the outage');
          const inLayout = (d) => existsSync(join(dir, 'blobs', 'sha256', d.slice(7)));
          const skopeoMissing = new Set(digests.filter((d) => !inLayout(d)));
          ctx.log(
            `skopeo first: failed after ${fmt(s1.seconds)} s (${s1.stderr.trim().split('\n').at(-1)?.slice(0, 160)}), ${art.blobs - skopeoMissing.size} blobs kept`
          );
          proxy.reset(undefined);
          const s2 = await run('skopeo', skopeoPullArgs(source, dir, 'v1'));
          const skopeoFetched = new Set(proxy.fetched);
          expectDigest('skopeo pull', layoutDigest(dir, 'v1'), art.descriptor.digest);
          ctx.log(`skopeo again: ${skopeoFetched.size} blobs fetched in ${fmt(s2.seconds)} s`);

          // Ours: the same, into one store.
          const registry = await LocalRegistry.open(join(ctx.scratch, 'pull'));
          proxy.reset(half);
          const t1 = performance.now();
          const first = await pullArtifact(source, { registry, maxRetries: 0 }).then(
            () => undefined,
            (e) => e
          );
          if (first === undefined) throw new Error('our first pull did not fail at the outage');
          const kept = await Promise.all(digests.map((d) => registry.hasBlob(d)));
          const oursMissing = new Set(digests.filter((_, i) => !kept[i]));
          ctx.log(
            `ours   first: failed after ${fmt((performance.now() - t1) / 1000)} s (${first.code}: ${first.message.slice(0, 160)}…), ${art.blobs - oursMissing.size} blobs kept`
          );
          proxy.reset(undefined);
          const r = await pullArtifact(source, { registry });
          const oursFetched = new Set(proxy.fetched);
          expectDigest('pull', r.digest, art.descriptor.digest);
          expectDigest('pulled', (await registry.resolve(source)).digest, art.descriptor.digest);
          ctx.log(`ours   again: ${oursFetched.size} blobs fetched in ${fmt(r.seconds)} s`);

          return {
            ours: oursFetched.size,
            peer: skopeoFetched.size,
            peerName: `skopeo ${skopeoVersion} copy docker://… oci:… (same layout again)`,
            checks: [
              {
                label: `ours fetched only the ${oursMissing.size} it lacked`,
                value: `${oursFetched.size}`,
                pass: sameSet(oursFetched, oursMissing),
              },
            ],
            extra: {
              'failure at': `${half} of ${art.blobs} blobs served`,
              'kept after the failure ours/skopeo': `${art.blobs - oursMissing.size}/${art.blobs - skopeoMissing.size}`,
              'skopeo fetched only what it lacked': sameSet(skopeoFetched, skopeoMissing),
              'second pull s ours/skopeo': `${fmt(r.seconds)}/${fmt(s2.seconds)}`,
            },
          };
        } finally {
          await proxy.stop();
        }
      });
    },
  },
];
