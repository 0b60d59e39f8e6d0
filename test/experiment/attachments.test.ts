/**
 * Attachment media types: checked when logged with the grammar the manifest reader enforces, so
 * nothing logged can make a checkpoint or commit fail; a manifest that does not validate is
 * reported as such; a crash journal record an older version accepted is left out on restore.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { AttachmentCodec } from '../../src/experiment/codec.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { journalDir } from '../../src/experiment/journal-format.js';
import { LocalRegistry } from '../../src/store/local-registry.js';
import { expectCode, expectError } from '../helpers/expect-code.js';
import { tempDir } from '../helpers/temp.js';

const NAME = 'ghcr.io/acme/media:v1';

async function newExperiment() {
  const registry = await LocalRegistry.open(await tempDir());
  const exp = await Experiment.create(NAME, { registry, handleSignals: false });
  return { registry, exp };
}

/** Media types the manifest reader refuses (RFC 6838 names, RFC 9110 parameters). */
const INVALID = [
  'not a media type',
  'json',
  'text/plain\r\n',
  'text/plain\nX-Injected: 1',
  'text/plain;\r\ncharset=utf-8',
  'text/plain; charset="a\nb"',
  'text/plain; charset=utf-8 ',
  '/plain',
  'text/',
];

describe('media types are checked when logged', () => {
  it.each(INVALID)(
    'refuses %j on a run and on the experiment (ARGUMENT_INVALID naming it); the runs still commit',
    async (mediaType) => {
      const { registry, exp } = await newExperiment();
      const bytes = new TextEncoder().encode('x');
      const run = exp.startRun();
      run.logParameter('kept', 1);
      const err = await expectCode(run.logAttachment('a', mediaType, bytes), 'ARGUMENT_INVALID');
      expect(err.message).toContain(JSON.stringify(mediaType));
      expect(err.data['mediaType']).toBe(mediaType);
      await expectCode(exp.logAttachment('e', mediaType, bytes), 'ARGUMENT_INVALID');
      // The name is free again and everything else is kept.
      await run.logAttachment('a', 'text/plain', bytes);
      await run.finish();
      await exp.checkpoint();
      const sealed = await exp.commit();
      expect(sealed.runs[0]!.parameters).toEqual({ kept: 1n });
      expect(sealed.runs[0]!.attachmentNames).toEqual(['a']);
      expect(sealed.attachmentNames).toEqual([]);
      expect((await registry.fsck()).ok).toBe(true);
    }
  );

  it('refuses an invalid mediaType option of logFile, before reading the file', async () => {
    const { exp } = await newExperiment();
    const file = join(await tempDir(), 'data.csv');
    await writeFile(file, 'a,b\n1,2\n');
    const run = exp.startRun();
    const err = await expectCode(
      run.logFile('data', file, { mediaType: 'text/csv\r\n' }),
      'ARGUMENT_INVALID'
    );
    expect(err.message).toContain(JSON.stringify('text/csv\r\n'));
    await expectCode(exp.logFile('data', file, { mediaType: 'csv' }), 'ARGUMENT_INVALID');
    await run.logFile('data', file);
    await run.finish();
    const sealed = await exp.commit();
    expect(sealed.runs[0]!.attachmentMediaType('data')).toBe('text/csv');
  });

  it('refuses a codec whose media type the reader would refuse (CODEC_INVALID naming it)', async () => {
    const { exp } = await newExperiment();
    const codec: AttachmentCodec<string> = {
      mediaType: 'text/x-mine;\r\nX-Injected=1',
      encode: (s) => new TextEncoder().encode(s),
      decode: (b) => new TextDecoder().decode(b),
    };
    const run = exp.startRun();
    const err = await expectCode(run.logWithCodec(codec, 'v', 'hello'), 'CODEC_INVALID');
    expect(err.message).toContain(JSON.stringify(codec.mediaType));
    await expectCode(exp.logWithCodec(codec, 'v', 'hello'), 'CODEC_INVALID');
    await run.finish();
    expect((await exp.commit()).runs[0]!.attachmentNames).toEqual([]);
  });

  it('refuses a media type that is valid but not once OMMX appends +zstd to it', async () => {
    const { exp } = await newExperiment();
    const bytes = new TextEncoder().encode('x');
    const quoted = 'text/plain; title="a b"';
    await exp.logAttachment('plain', quoted, bytes); // valid uncompressed
    const err = await expectCode(
      exp.logAttachment('zipped', quoted, bytes, { compression: 'zstd' }),
      'ARGUMENT_INVALID'
    );
    expect(err.message).toContain('+zstd');
    await exp.logAttachment('zipped', 'text/plain; charset=utf-8', bytes, { compression: 'zstd' });
    const sealed = await exp.commit();
    expect(sealed.attachmentMediaType('plain')).toBe(quoted);
    expect(sealed.attachmentMediaType('zipped')).toBe('text/plain; charset=utf-8');
  });

  it('tells the stored size of an attachment (its layer size) without reading it', async () => {
    const { exp } = await newExperiment();
    const text = 'abc'.repeat(10_000);
    await exp.logText('plain', text);
    await exp.logText('zipped', text, { compression: 'zstd' });
    await exp.run((run) => run.logJson('cfg', { a: 1 }));
    expect(exp.attachmentSize('plain')).toBe(30_000);
    const sealed = await exp.commit();
    const layerSize = (digest: string): number =>
      sealed.manifest.layers.find((l) => l.digest === digest)!.size;
    expect(sealed.attachmentSize('plain')).toBe(30_000);
    const zipped = sealed.manifest.layers.find((l) => l.mediaType.endsWith('+zstd'))!;
    expect(sealed.attachmentSize('zipped')).toBe(zipped.size);
    expect(zipped.size).toBeLessThan(1_000);
    const run = sealed.runs[0]!;
    expect(run.attachmentSize('cfg')).toBe(7); // {"a":1}
    expect(layerSize(run.records.get('cfg')!.descriptor.digest)).toBe(7);
    expectError(() => sealed.attachmentSize('missing'), 'ATTACHMENT_NOT_FOUND');
  });
});

describe('a manifest that does not validate', () => {
  it('fails the checkpoint and the commit with MANIFEST_INVALID naming the experiment, not CLOSURE_INCOMPLETE', async () => {
    const { registry, exp } = await newExperiment();
    await exp.run((run) => run.logText('log', 'hello'));
    // A record damaged in memory (nothing logged through the API can do this any more), in the
    // state an experiment is built from: a closed run's layers are serialized once, as it joins.
    const seed = await (await exp.commit()).seed();
    const run = seed.runs[0]!;
    const log = run.attachments.get('log')!;
    const descriptor = { ...log.descriptor, mediaType: 'not a media type' };
    const attachments = new Map(run.attachments).set('log', { ...log, descriptor });
    const name = `${NAME}-damaged`;
    const damaged = await Experiment.fromSeed(
      name,
      { ...seed, runs: [{ ...run, attachments }] },
      registry
    );
    for (const attempt of [() => damaged.checkpoint(), () => damaged.commit()]) {
      const err = await expectCode(attempt, 'MANIFEST_INVALID');
      expect(err.message).toContain(name);
      expect(err.message).toMatch(/mediaType/);
      expect(err.message).not.toMatch(/missing or damaged/);
    }
    expect(damaged.state).toBe('unsealed');
  });
});

/** One journal frame: payload length, CRC-32 of the payload, the JSON payload. */
function frame(record: unknown): Buffer {
  const payload = Buffer.from(JSON.stringify(record), 'utf8');
  const head = Buffer.alloc(8);
  head.writeUInt32LE(payload.length, 0);
  head.writeUInt32LE(crc32(payload), 4);
  return Buffer.concat([head, payload]);
}

describe('a crash journal written by an older version', () => {
  it('restores everything but attachment records with an invalid media type (left out with a warning), and commits', async () => {
    const registry = await LocalRegistry.open(await tempDir());
    const put = async (text: string) => registry.putBlob(new TextEncoder().encode(text));
    const att = async (name: string, mediaType: string) => {
      const { digest, size } = await put(name);
      return {
        name,
        descriptor: { mediaType, digest, size, annotations: {} },
        mediaType,
        compression: 'none',
      };
    };
    const at = Date.now() - 10_000;
    const records = [
      { t: 'header', v: 1, reference: NAME, pid: 1, host: `${hostname()}-gone`, at },
      { t: 'eatt', record: await att('bad-exp', 'not a media type'), at },
      { t: 'eatt', record: await att('good-exp', 'text/plain'), at },
      // A run closed before the crash, one of whose attachments is invalid.
      { t: 'open', run: 0, name: 'closed', tags: {}, at },
      { t: 'param', run: 0, name: 'seed', value: 1, at },
      {
        t: 'close',
        run: 0,
        status: 'finished',
        attachments: [await att('bad', 'text/plain\r\n'), await att('good', 'application/json')],
        solves: [],
        samplings: [],
        at,
      },
      // A run still open at the crash.
      { t: 'open', run: 1, name: 'open', tags: {}, at },
      { t: 'param', run: 1, name: 'seed', value: 2, at },
      { t: 'att', run: 1, record: await att('bad', 'json'), at },
      { t: 'att', run: 1, record: await att('good', 'text/csv'), at },
    ];
    await mkdir(journalDir(registry), { recursive: true });
    await writeFile(
      join(journalDir(registry), 'old.journal'),
      Buffer.concat(records.map((r) => frame(r)))
    );
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    let exp: Experiment;
    try {
      exp = await Experiment.restoreFromCheckpoint(NAME, { registry, handleSignals: false });
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    expect(exp.attachmentNames).toEqual(['good-exp']);
    expect(exp.runs.map((r) => [r.runId, r.status, r.parameters, r.attachmentNames])).toEqual([
      [0, 'finished', { seed: 1n }, ['good']],
      [1, 'interrupted', { seed: 2n }, ['good']],
    ]);
    const quarantined = warnings.filter((w) => w.includes('media type'));
    expect(quarantined).toHaveLength(3);
    expect(quarantined.join('\n')).toContain('"bad-exp"');
    expect(quarantined.join('\n')).toContain(JSON.stringify('text/plain\r\n'));
    const sealed = await exp.commit();
    expect(sealed.runs.map((r) => r.attachmentNames)).toEqual([['good'], ['good']]);
    expect((await registry.fsck()).ok).toBe(true);
  });
});
