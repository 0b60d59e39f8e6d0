/**
 * @module cli/commands/login
 * `runledger login <registry> [-u USER] [--password-stdin] [--allow-plaintext]`: check a user
 * name and password against a registry, then store them with the configured Docker credential
 * helper (or, on request only, in `config.json`).
 */
import { RunledgerError } from '../../errors.js';
import { RemoteClient } from '../../remote/client.js';
import {
  dockerConfigPath,
  envCredentialName,
  storeCredential,
  type Credential,
} from '../../remote/credentials.js';
import { readSecret, TerminalPrompt } from '../prompt.js';
import { NETWORK_OPTIONS, parseRegistryHost, remoteOptions, warn } from '../remote.js';
import type { Command, CommandContext } from '../types.js';

export const login: Command = {
  name: 'login',
  usage: 'login <registry> [-u USER] [--password-stdin] [--allow-plaintext]',
  summary:
    'check a user name and password with a registry, then store them (credential helper; config.json only with --allow-plaintext)',
  options: {
    ...NETWORK_OPTIONS,
    username: { type: 'string', short: 'u' },
    'password-stdin': { type: 'boolean' },
    'allow-plaintext': { type: 'boolean' },
  },
  arity: [1, 1],
  async run(ctx) {
    const registry = parseRegistryHost(ctx.positionals[0] as string);
    const { username, password } = await askCredential(ctx, registry);
    const credential: Credential = { kind: 'basic', username, password };

    // Checked before anything is stored: a wrong password is never saved.
    const client = new RemoteClient({
      ...remoteOptions(ctx, [registry]),
      credentials: () =>
        Promise.resolve({ credential, source: `runledger login (user ${username})` }),
    });
    await client.ping(registry);

    const allowPlaintext = ctx.values['allow-plaintext'] === true;
    const { source } = await storeCredential(registry, credential, {
      env: ctx.io.env,
      allowPlaintext,
    });
    if (allowPlaintext && source === `${dockerConfigPath(ctx.io.env)} auths`) {
      warn(
        ctx.io,
        `the password for ${registry} is stored unencrypted in ${dockerConfigPath(ctx.io.env)} (mode 0600); configure a credential helper ("credsStore") to keep it in a keychain.`
      );
    }
    const variable = envCredentialName(registry);
    const shadowed = (ctx.io.env[variable] ?? '') !== '';
    if (shadowed) {
      warn(
        ctx.io,
        `${variable} is set and is used before the stored credentials; unset it to use them.`
      );
    }
    if (ctx.json) ctx.printJson({ registry, stored: source });
    else if (ctx.values['quiet'] !== true) {
      ctx.print(`Logged in to ${registry} as ${username}; credentials stored in ${source}`);
    }
    return 0;
  },
};

/** The user name and password: from the flags and stdin, or asked on the terminal. */
async function askCredential(
  ctx: CommandContext,
  registry: string
): Promise<{ username: string; password: string }> {
  const given = ctx.values['username'];
  let username = typeof given === 'string' ? given : undefined;
  if (username !== undefined && (username === '' || username.includes(':'))) {
    throw new RunledgerError('USAGE', 'The user name (-u) must be non-empty and without a colon.');
  }
  if (ctx.values['password-stdin'] === true) {
    if (username === undefined) {
      throw new RunledgerError(
        'USAGE',
        '--password-stdin needs the user name as well: pass -u USER (the password comes from stdin).'
      );
    }
    if (ctx.io.stdin === undefined) {
      throw new RunledgerError('USAGE', '--password-stdin was given, but there is no stdin.');
    }
    return { username, password: await readSecret(ctx.io.stdin) };
  }
  if (ctx.io.stdin?.isTTY !== true) {
    throw new RunledgerError(
      'USAGE',
      `No terminal to ask for the password of ${registry}: pass -u USER --password-stdin and write the password to stdin.`
    );
  }
  const prompt = new TerminalPrompt(ctx.io);
  try {
    if (username === undefined) {
      username = await prompt.ask(`Username for ${registry}: `, { echo: true });
      if (username === '' || username.includes(':')) {
        throw new RunledgerError('USAGE', 'The user name must be non-empty and without a colon.');
      }
    }
    const password = await prompt.ask(`Password for ${username}@${registry}: `, { echo: false });
    if (password === '') throw new RunledgerError('USAGE', 'The password must not be empty.');
    return { username, password };
  } finally {
    await prompt.close();
  }
}
