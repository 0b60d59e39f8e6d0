/**
 * @module cli/commands/logout
 * `runledger logout <registry>`: erase a registry's stored credentials (credential helper and
 * `config.json`).
 */
import { dockerConfigPath, envCredentialName, eraseCredential } from '../../remote/credentials.js';
import { parseRegistryHost, warn } from '../remote.js';
import type { Command } from '../types.js';

export const logout: Command = {
  name: 'logout',
  usage: 'logout <registry> [--quiet]',
  summary: 'erase the credentials stored for a registry (credential helper and config.json)',
  options: { quiet: { type: 'boolean', short: 'q' } },
  arity: [1, 1],
  async run(ctx) {
    const registry = parseRegistryHost(ctx.positionals[0] as string);
    const result = await eraseCredential(registry, { env: ctx.io.env });
    const variable = envCredentialName(registry);
    if ((ctx.io.env[variable] ?? '') !== '') {
      warn(ctx.io, `${variable} is set and still supplies credentials for ${registry}.`);
    }
    if (ctx.json) ctx.printJson({ registry, ...result });
    else if (ctx.values['quiet'] !== true) {
      ctx.print(
        result.erased
          ? `Logged out of ${registry}: credentials removed from ${result.source}`
          : `No credentials were stored for ${registry} (${dockerConfigPath(ctx.io.env)})`
      );
    }
    return 0;
  },
};
