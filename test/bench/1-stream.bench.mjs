// Case: stream one large file into the store, against dd with conv=fsync writing the same bytes.
// Both read the same page-cache-warm source file and must make the copy durable; trials alternate
// peer, ours, peer, ours and the best of each is kept. Ours runs in a child process so its peak
// RSS is its own.
//
// RUNLEDGER_BENCH_STREAM_MIB overrides the size (default 1024 MiB) for quick runs.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MB, fmt, run, syncAll } from './lib.mjs';

const MIB = 1 << 20;
const mib = Number(process.env['RUNLEDGER_BENCH_STREAM_MIB'] ?? 1024);
const sizeLabel = mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`;
const TRIALS = 2;
const RSS_LIMIT_MB = 100;
const childScript = join(dirname(fileURLToPath(import.meta.url)), 'stream-child.mjs');

/** Writes `mib` MiB: one random MiB, its first 8 bytes replaced by a counter in every MiB. */
function makeSource(file) {
  const buf = randomBytes(MIB);
  const hash = createHash('sha256');
  const fd = openSync(file, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      buf.writeBigUInt64LE(BigInt(i), 0);
      hash.update(buf);
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off);
    }
  } finally {
    closeSync(fd);
  }
  return `sha256:${hash.digest('hex')}`;
}

async function readOnce(file) {
  for await (const chunk of createReadStream(file, { highWaterMark: MIB })) void chunk;
}

export const cases = [
  {
    name: `stream ${sizeLabel} into the store`,
    unit: 'MB/s',
    higherIsBetter: true,
    targetRatio: 0.8,
    async run(ctx) {
      const bytes = mib * MIB;
      const source = join(ctx.scratch, 'source.bin');
      ctx.log(`writing ${sizeLabel} source file`);
      const expected = makeSource(source);
      await readOnce(source); // warm the page cache for both sides
      await syncAll(); // and flush the source's dirty pages so neither side pays for them

      const peerRuns = [];
      const ourRuns = [];
      for (let t = 0; t < TRIALS; t++) {
        const out = join(ctx.scratch, 'dd.out');
        const dd = await run('dd', [`if=${source}`, `of=${out}`, 'bs=1M', 'conv=fsync']);
        if (statSync(out).size !== bytes) throw new Error('dd wrote a short copy');
        peerRuns.push(dd.seconds);
        ctx.log(`dd   trial ${t + 1}: ${fmt(bytes / MB / dd.seconds)} MB/s`);
        rmSync(out, { force: true });
        await syncAll();

        const root = join(ctx.scratch, `store-${t}`);
        const child = await run(process.execPath, [childScript, source, root]);
        const r = JSON.parse(child.stdout);
        if (r.digest !== expected || r.size !== bytes) {
          throw new Error(`stored ${r.digest} (${r.size} B), expected ${expected} (${bytes} B)`);
        }
        ourRuns.push(r);
        ctx.log(
          `ours trial ${t + 1}: ${fmt(bytes / MB / r.seconds)} MB/s, peak RSS ${fmt((r.maxRssKiB * 1024) / MB)} MB`
        );
        rmSync(root, { recursive: true, force: true });
        await syncAll();
      }

      const peerBest = Math.min(...peerRuns);
      const oursBest = Math.min(...ourRuns.map((r) => r.seconds));
      // The worst peak RSS of our trials (maxRSS is KiB on Linux).
      const rssMB = (Math.max(...ourRuns.map((r) => r.maxRssKiB)) * 1024) / MB;
      const rssBeforeMB = (Math.max(...ourRuns.map((r) => r.maxRssBeforeKiB)) * 1024) / MB;
      return {
        ours: bytes / MB / oursBest,
        peer: bytes / MB / peerBest,
        peerName: 'dd conv=fsync',
        checks: [
          {
            label: `RSS <${RSS_LIMIT_MB} MB`,
            value: `peak RSS ${fmt(rssMB)} MB`,
            pass: rssMB < RSS_LIMIT_MB,
          },
        ],
        extra: {
          'RSS before call': `${fmt(rssBeforeMB)} MB`,
          'ours s': ourRuns.map((r) => Number(r.seconds.toFixed(3))),
          'dd s': peerRuns.map((s) => Number(s.toFixed(3))),
        },
      };
    },
  },
];
