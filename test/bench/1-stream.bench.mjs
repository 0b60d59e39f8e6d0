// Case: stream one large file into the store, against dd with conv=fsync writing the same bytes.
// Both read the same page-cache-warm source file and must make the copy durable; trials alternate
// peer, ours, peer, ours and the best of each is kept. Ours runs in a child process so its peak
// RSS is its own.
//
// Write speed depends a lot on which disk blocks the file system picks (measured on ext4 with
// `discard` in a VM: ~1.3 GB/s into recently freed blocks, ~0.4 GB/s elsewhere), so dd writes into
// the registry's own temp directory, where our temp file goes, every output is deleted before the
// next trial, and one untimed dd warms the blocks up first.
//
// RUNLEDGER_BENCH_STREAM_MIB overrides the size (default 1024 MiB) for quick runs;
// RUNLEDGER_BENCH_TRIALS the number of trials per side (default 3: the first write into freshly freed blocks is often slow).
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalRegistry } from '../../dist/src/index.js';
import { MB, fmt, run, syncAll } from './lib.mjs';

const MIB = 1 << 20;
const mib = Number(process.env['RUNLEDGER_BENCH_STREAM_MIB'] ?? 1024);
const sizeLabel = mib % 1024 === 0 ? `${mib / 1024} GiB` : `${mib} MiB`;
const TRIALS = Math.max(1, Number(process.env['RUNLEDGER_BENCH_TRIALS'] ?? 3));
const RSS_LIMIT_MB = 100;
if (!(mib >= 1)) throw new Error('RUNLEDGER_BENCH_STREAM_MIB must be a positive number');
const here = dirname(fileURLToPath(import.meta.url));

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

/**
 * A large-file case: `child` is a script that stores <file> in a registry at <root> and prints
 * { seconds, size, digest, maxRssKiB, maxRssBeforeKiB } (see stream-child.mjs). Shared with the
 * logFile case (4-logfile.bench.mjs).
 */
export function largeFileCase({ name, child, verb, rssLabel }) {
  const childScript = join(here, child);
  return {
    name: `${name} ${sizeLabel}${name.startsWith('stream') ? ' into the store' : ' in a run'}`,
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

      const root = join(ctx.scratch, 'store');
      await LocalRegistry.open(root); // creates the layout; the child opens it again
      const out = join(root, '.runledger', 'tmp', 'dd.out');
      const blob = join(root, 'blobs', 'sha256', expected.slice('sha256:'.length));
      const dd = async () => {
        const r = await run('dd', [`if=${source}`, `of=${out}`, 'bs=1M', 'conv=fsync']);
        if (statSync(out).size !== bytes) throw new Error('dd wrote a short copy');
        rmSync(out, { force: true });
        await syncAll();
        return r.seconds;
      };
      await dd(); // untimed warm-up

      const peerRuns = [];
      const ourRuns = [];
      for (let t = 0; t < TRIALS; t++) {
        peerRuns.push(await dd());
        ctx.log(`dd   trial ${t + 1}: ${fmt(bytes / MB / (peerRuns.at(-1) ?? NaN))} MB/s`);

        const child = await run(process.execPath, [childScript, source, root]);
        const r = JSON.parse(child.stdout);
        if (r.digest !== expected || r.size !== bytes || statSync(blob).size !== bytes) {
          throw new Error(`${verb} ${r.digest} (${r.size} B), expected ${expected} (${bytes} B)`);
        }
        ourRuns.push(r);
        ctx.log(
          `ours trial ${t + 1}: ${fmt(bytes / MB / r.seconds)} MB/s, peak RSS ${fmt((r.maxRssKiB * 1024) / MB)} MB`
        );
        rmSync(blob); // so the next trial stores it anew
        await syncAll();
      }

      const peerBest = Math.min(...peerRuns);
      const oursBest = Math.min(...ourRuns.map((r) => r.seconds));
      // The worst peak RSS of our trials (KiB).
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
          [rssLabel]: `${fmt(rssBeforeMB)} MB`,
          'ours s': ourRuns.map((r) => Number(r.seconds.toFixed(3))),
          'dd s': peerRuns.map((s) => Number(s.toFixed(3))),
        },
      };
    },
  };
}

export const cases = [
  largeFileCase({
    name: 'stream',
    child: 'stream-child.mjs',
    verb: 'stored',
    rssLabel: 'RSS before call',
  }),
];
