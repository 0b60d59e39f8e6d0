/**
 * @module cli/commands/inspect
 * `runledger inspect <file.ommx>`: what an archive holds, without importing it.
 */
import { resolve } from 'node:path';
import { inspectExperimentArchive } from '../../experiment/inspect.js';
import { formatBytes } from '../format.js';
import type { Command } from '../types.js';
import { snakeCaseKeys } from '../json-keys.js';

export const inspect: Command = {
  name: 'inspect',
  usage: 'inspect <file.ommx>',
  summary: "show an archive's reference, manifest and experiment summary without importing it",
  arity: [1, 1],
  async run(ctx) {
    const path = resolve(ctx.io.cwd ?? process.cwd(), ctx.positionals[0] as string);
    const s = await inspectExperimentArchive(path);
    const out = {
      reference: s.reference ?? null,
      digest: s.descriptor.digest,
      artifactType: s.manifest.artifactType ?? s.manifest.config.mediaType,
      layers: s.manifest.layers.length,
      blobs: s.blobs,
      size: s.size,
      annotations: s.manifest.annotations ?? {},
      ...(s.experiment === undefined ? {} : { experiment: s.experiment }),
    };
    if (ctx.json) {
      ctx.printJson(snakeCaseKeys(out));
      return 0;
    }
    ctx.print(`Archive     ${path}`);
    ctx.print(`Reference   ${out.reference ?? '(none: an anonymous name is given on import)'}`);
    ctx.print(`Digest      ${out.digest}`);
    ctx.print(`Type        ${out.artifactType}`);
    ctx.print(`Layers      ${out.layers} (${out.blobs} distinct blobs, ${formatBytes(out.size)})`);
    for (const [k, v] of Object.entries(out.annotations)) ctx.print(`Annotation  ${k}=${v}`);
    if (s.experiment !== undefined) {
      const e = s.experiment;
      ctx.print(
        `Experiment  ${e.status}, ${e.runCount} runs, ${e.solveCount} solves, ${e.samplingCount} samplings, ${e.attachmentCount} attachments`
      );
    }
    return 0;
  },
};
