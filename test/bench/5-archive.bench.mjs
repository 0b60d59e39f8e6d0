// Cases: export a 2 GiB artifact as an .ommx archive, and import that archive into a fresh
// registry, each against GNU tar doing the same work on the same files.
//
// Set-up (not timed, once per case): a registry holding one artifact of ~2 GiB: one 1.5 GiB layer
// (one random MiB with a counter in its first 8 bytes, as in 1-stream.bench.mjs) and 2,000 small
// layers of ~256 KiB (unique content; sizes vary by up to 511 bytes so most entries need tar
// padding), a small config and one manifest, published under a reference.
//
// export: ours = exportArchive in a child process (streams every blob, verifying its digest,
//   and fsyncs the archive). peer = `tar cf <out> -C <registry root> oci-layout
//   blobs/sha256/<each blob> index.json && sync -f <out>`: the same blob files, in the same
//   order, made durable.
// import: ours = importArchive of the exported archive into a fresh registry, in a child process
//   (hashes every blob against its name, makes the batch durable, publishes the reference).
//   peer = `tar xf <archive> -C <dir> && sha256sum -c` of every extracted blob (so the peer
//   verifies too) `&& sync -f <dir>`.
// Both sides read page-cache-warm input; figures are MB/s over each side's archive bytes. One
// untimed peer run warms the disk blocks up first (see 1-stream.bench.mjs on freshly freed
// blocks); trials then alternate peer, ours, and the best of each is kept. Every output is
// deleted, and everything flushed, before the next trial.
//
// RUNLEDGER_BENCH_ARCHIVE_MIB overrides the artifact size (default 2048 MiB: the big layer is 3/4
// of it, the 2,000 small layers share the rest) for quick runs; RUNLEDGER_BENCH_TRIALS the number
// of trials per side (default 2).
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { exportArchive, LocalRegistry } from '../../dist/src/index.js';
import { MB, fmt, run, syncAll } from './lib.mjs';

const MIB = 1 << 20;
const mib = Number(process.env['RUNLEDGER_BENCH_ARCHIVE_MIB'] ?? 2048);
if (!(mib >= 16)) throw new Error('RUNLEDGER_BENCH_ARCHIVE_MIB must be a number ≥ 16');
const sizeLabel = mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`;
const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 2));
const RSS_LIMIT_MB = 100;
const SMALL_LAYERS = 2000;
/** The big layer: 3/4 of the artifact (1.5 GiB of 2 GiB). */
const BIG_MIB = Math.round((mib * 3) / 4);
/** The small layers' nominal size: 256 KiB at 2 GiB, so 2,000 of them fill the last quarter. */
const SMALL_SIZE = Math.floor((mib * MIB) / 4 / 2048);
const REF = 'localhost/bench/archive:v1';
const here = dirname(fileURLToPath(import.meta.url));

/** The big layer's content: one random MiB, its first 8 bytes a counter, a fresh copy a MiB. */
async function* bigLayer() {
  const base = randomBytes(MIB);
  for (let i = 0; i < BIG_MIB; i++) {
    const buf = Buffer.from(base); // batch writes stay in flight: never reuse a chunk
    buf.writeBigUInt64LE(BigInt(i), 0);
    yield buf;
  }
}

/**
 * Creates the registry at `root` holding the artifact, published under REF (not timed).
 * @returns the manifest descriptor, the blob descriptors in export order, and their total size
 */
async function buildRegistry(root, log) {
  log(
    `building a ${sizeLabel} artifact: 1 layer of ${BIG_MIB} MiB + ${SMALL_LAYERS} of ~${fmt(SMALL_SIZE / 1024)} KiB`
  );
  const registry = await LocalRegistry.open(root);
  const batch = registry.batch();
  const big = await batch.putBlobStream(bigLayer());
  const pool = randomBytes(MIB + SMALL_SIZE);
  const small = [];
  for (let i = 0; i < SMALL_LAYERS; i++) {
    const size = SMALL_SIZE - (i % 512);
    const at = (i * 4099) % MIB;
    const buf = Buffer.from(pool.subarray(at, at + size));
    buf.writeBigUInt64LE(BigInt(i), 0);
    small.push(await batch.putBlob(buf));
  }
  const config = await batch.putBlob(
    new TextEncoder().encode(JSON.stringify({ bench: 'archive', mib }))
  );
  await batch.commit();
  const layers = [big, ...small].map((info) => ({
    mediaType: 'application/octet-stream',
    ...info,
  }));
  const descriptor = await registry.writeManifest({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    artifactType: 'application/vnd.example.v1',
    config: { mediaType: 'application/vnd.example.config.v1+json', ...config },
    layers,
  });
  await registry.publishRef(REF, descriptor);
  const blobs = [descriptor, config, ...layers];
  const bytes = blobs.reduce((n, b) => n + b.size, 0);
  return { registry, descriptor, blobs, bytes };
}

const blobName = (b) => `blobs/sha256/${b.digest.slice('sha256:'.length)}`;
const seconds = (runs) => runs.map((s) => Number(s.toFixed(3)));
const rssChecks = (ourRuns) => {
  // The worst peak RSS of our trials (KiB).
  const rssMB = (Math.max(...ourRuns.map((r) => r.maxRssKiB)) * 1024) / MB;
  return {
    rssBeforeMB: (Math.max(...ourRuns.map((r) => r.maxRssBeforeKiB)) * 1024) / MB,
    checks: [
      {
        label: `RSS <${RSS_LIMIT_MB} MB`,
        value: `peak RSS ${fmt(rssMB)} MB`,
        pass: rssMB < RSS_LIMIT_MB,
      },
    ],
  };
};

export const cases = [
  {
    name: `export ${sizeLabel} artifact as archive`,
    unit: 'MB/s',
    higherIsBetter: true,
    targetRatio: 0.8,
    async run(ctx) {
      const root = join(ctx.scratch, 'store');
      const { descriptor, blobs, bytes } = await buildRegistry(root, ctx.log);
      const outDir = join(ctx.scratch, 'out');
      mkdirSync(outDir);
      const ours = join(outDir, 'ours.ommx');
      const theirs = join(outDir, 'tar.tar');
      const files = ['oci-layout', ...blobs.map(blobName), 'index.json'];
      await syncAll();

      const tar = async () => {
        const r = await run('sh', [
          '-c',
          'out=$1; root=$2; shift 2; tar cf "$out" -C "$root" "$@" && sync -f "$out"',
          'sh',
          theirs,
          root,
          ...files,
        ]);
        const size = statSync(theirs).size;
        if (size < bytes)
          throw new Error(`tar wrote ${size} bytes, less than the ${bytes} of blobs`);
        rmSync(theirs);
        await syncAll();
        return { seconds: r.seconds, size };
      };
      await tar(); // untimed warm-up

      const peerRuns = [];
      const ourRuns = [];
      for (let t = 0; t < TRIALS; t++) {
        peerRuns.push(await tar());
        const p = peerRuns.at(-1);
        ctx.log(`tar  trial ${t + 1}: ${fmt(p.size / MB / p.seconds)} MB/s`);

        const child = await run(process.execPath, [
          join(here, 'archive-export-child.mjs'),
          root,
          REF,
          ours,
        ]);
        const r = JSON.parse(child.stdout);
        if (r.digest !== descriptor.digest || statSync(ours).size !== r.size || r.size < bytes) {
          throw new Error(
            `exported ${r.digest} (${r.size} B), expected ${descriptor.digest} (≥${bytes} B)`
          );
        }
        if (t === 0) {
          // Entry names, in order (tar skips through the bodies; not timed).
          const listed = (await run('tar', ['tf', ours])).stdout.trim().split('\n');
          if (listed.join('\n') !== files.join('\n'))
            throw new Error(
              `the archive lists ${listed.length} entries, not the expected ${files.length}`
            );
        }
        ourRuns.push(r);
        ctx.log(
          `ours trial ${t + 1}: ${fmt(r.size / MB / r.seconds)} MB/s, peak RSS ${fmt((r.maxRssKiB * 1024) / MB)} MB`
        );
        rmSync(ours);
        await syncAll();
      }

      const oursBest = ourRuns.reduce((a, b) => (b.seconds < a.seconds ? b : a));
      const peerBest = peerRuns.reduce((a, b) => (b.seconds < a.seconds ? b : a));
      const { rssBeforeMB, checks } = rssChecks(ourRuns);
      return {
        ours: oursBest.size / MB / oursBest.seconds,
        peer: peerBest.size / MB / peerBest.seconds,
        peerName: 'tar cf && sync -f',
        checks,
        extra: {
          'RSS before call': `${fmt(rssBeforeMB)} MB`,
          archive: `${fmt(oursBest.size / MB)} MB, ${blobs.length} blobs`,
          'ours s': seconds(ourRuns.map((r) => r.seconds)),
          'tar s': seconds(peerRuns.map((r) => r.seconds)),
        },
      };
    },
  },
  {
    name: `import ${sizeLabel} archive`,
    unit: 'MB/s',
    higherIsBetter: true,
    targetRatio: 0.8,
    async run(ctx) {
      const source = join(ctx.scratch, 'source');
      const { registry, descriptor, blobs } = await buildRegistry(source, ctx.log);
      const archive = join(ctx.scratch, 'artifact.ommx');
      const { size } = await exportArchive(registry, REF, archive);
      rmSync(source, { recursive: true, force: true }); // the archive stays page-cache warm
      // What the peer checks: every blob against the digest its name gives.
      const sums = join(ctx.scratch, 'sha256sums');
      writeFileSync(
        sums,
        blobs.map((b) => `${b.digest.slice('sha256:'.length)}  ${blobName(b)}\n`).join('')
      );
      await syncAll();

      let trial = 0;
      const tar = async () => {
        const dir = join(ctx.scratch, `tar-${trial++}`);
        mkdirSync(dir);
        const r = await run('sh', [
          '-c',
          'tar xf "$1" -C "$2" && cd "$2" && sha256sum --quiet --strict -c "$3" && sync -f .',
          'sh',
          archive,
          dir,
          sums,
        ]);
        if (statSync(join(dir, 'index.json')).size === 0) throw new Error('tar extracted no index');
        rmSync(dir, { recursive: true, force: true });
        await syncAll();
        return r.seconds;
      };
      await tar(); // untimed warm-up

      const peerRuns = [];
      const ourRuns = [];
      for (let t = 0; t < TRIALS; t++) {
        peerRuns.push(await tar());
        ctx.log(`tar  trial ${t + 1}: ${fmt(size / MB / (peerRuns.at(-1) ?? NaN))} MB/s`);

        const root = join(ctx.scratch, `store-${t}`);
        const child = await run(process.execPath, [
          join(here, 'archive-import-child.mjs'),
          archive,
          root,
        ]);
        const r = JSON.parse(child.stdout);
        if (
          r.reference !== REF ||
          r.digest !== descriptor.digest ||
          r.resolved !== descriptor.digest ||
          r.blobs !== blobs.length
        ) {
          throw new Error(
            `imported ${r.reference} → ${r.digest} (${r.blobs} blobs), expected ${REF} → ${descriptor.digest} (${blobs.length} blobs)`
          );
        }
        ourRuns.push(r);
        ctx.log(
          `ours trial ${t + 1}: ${fmt(size / MB / r.seconds)} MB/s, peak RSS ${fmt((r.maxRssKiB * 1024) / MB)} MB`
        );
        rmSync(root, { recursive: true, force: true });
        await syncAll();
      }

      const { rssBeforeMB, checks } = rssChecks(ourRuns);
      return {
        ours: size / MB / Math.min(...ourRuns.map((r) => r.seconds)),
        peer: size / MB / Math.min(...peerRuns),
        peerName: 'tar xf && sha256sum -c && sync -f',
        checks,
        extra: {
          'RSS before call': `${fmt(rssBeforeMB)} MB`,
          archive: `${fmt(size / MB)} MB, ${blobs.length} blobs`,
          'ours s': seconds(ourRuns.map((r) => r.seconds)),
          'tar s': seconds(peerRuns),
        },
      };
    },
  },
];
