/**
 * @module cli/commands/pull
 * `runledger pull <ref> [--as NAME]`: fetch an artifact from a registry into the local store.
 */
import { isRunledgerError, RunledgerError } from '../../errors.js';
import { normalizeReference } from '../../oci/reference.js';
import { pullArtifact } from '../../remote/transfer.js';
import { TRANSFER_FLAGS, TRANSFER_OPTIONS, remoteRegistryOf, runTransfer } from '../remote.js';
import type { Command } from '../types.js';

export const pull: Command = {
  name: 'pull',
  usage: `pull <ref> [--as NAME] ${TRANSFER_FLAGS}`,
  summary:
    'fetch an artifact from an OCI registry into the local store, every blob verified (--as: under another local name)',
  options: { ...TRANSFER_OPTIONS, as: { type: 'string' } },
  arity: [1, 1],
  async run(ctx) {
    const reference = ctx.positionals[0] as string;
    const host = remoteRegistryOf(reference, 'reference');
    const as = ctx.values['as'];
    const localName = typeof as === 'string' ? normalizeReference(as) : undefined;
    const remote = normalizeReference(reference);
    return runTransfer(
      ctx,
      { hosts: [host], local: true, verb: 'pulled', moved: 'fetched' },
      (options) =>
        pullArtifact(remote, {
          ...options,
          ...(localName === undefined ? {} : { as: localName }),
        }).catch((e: unknown) => {
          if (!isRunledgerError(e, 'REF_CONFLICT')) throw e;
          const name = String(e.data['reference'] ?? localName ?? reference);
          throw new RunledgerError(
            'REF_CONFLICT',
            `The local reference ${name} already points at ${String(e.data['current'])}, not at the pulled ${String(e.data['wanted'])}: remove it with "runledger rm ${name}", or pull under another local name with --as NAME.`,
            { data: e.data, cause: e }
          );
        })
    );
  },
};
