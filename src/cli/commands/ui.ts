/**
 * @module cli/commands/ui
 * `runledger ui [ref | project | prefix/]… [--port N] [--open]`: the web viewer. Starts the
 * read-only server of `ui/server` on 127.0.0.1, prints the page's URL (with its token), opens a
 * browser only with `--open`, and serves until SIGINT or SIGTERM (exit 130 or 143, as a
 * recording stopped by them).
 */
import { spawn } from 'node:child_process';
import { RunledgerError } from '../../errors.js';
import { UiData } from '../../ui/data.js';
import { serveUi } from '../../ui/server.js';
import type { Command } from '../types.js';
import { resolveScope } from '../resolve.js';

export const ui: Command = {
  name: 'ui',
  usage: 'ui [ref | project | prefix/]… [--port N] [--open]',
  summary:
    'the web viewer: a read-only server on 127.0.0.1 (runs table, parallel coordinates, scatter, curves, run detail, diff); prints its URL with a token',
  options: {
    port: { type: 'string' },
    open: { type: 'boolean' },
  },
  arity: [0, Infinity],
  async run(ctx) {
    const portText = ctx.values['port'];
    let port = 0;
    if (typeof portText === 'string') {
      port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
      if (!(port >= 1 && port <= 65535)) {
        throw new RunledgerError('USAGE', `--port takes a port from 1 to 65535, not ${portText}.`);
      }
    }
    const registry = await ctx.openRegistry();
    const refs = await resolveScope(registry, ctx.positionals);
    const server = await serveUi({
      registry,
      port,
      ...(refs.length === 0 ? {} : { experiments: refs, title: ctx.positionals.join(', ') }),
    });
    if (refs.length > 0 && (await UiData.stateKey(registry, refs)) === '') {
      // A prefix is taken as written: say so rather than show an empty page.
      ctx.io.stderr.write(
        `runledger ui: no experiment matches ${ctx.positionals.join(' ')} yet ("runledger ls" lists them); the page shows them once they record a run.\n`
      );
    }
    if (ctx.json) ctx.printJson({ url: server.url, port: server.port });
    else ctx.print(`runledger ui: ${server.url}`);
    if (ctx.values['open'] === true) openBrowser(server.url, ctx.io.stderr);
    const signal = await new Promise<NodeJS.Signals>((resolve) => {
      const stop = (s: NodeJS.Signals): void => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve(s);
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
    await server.close();
    return signal === 'SIGINT' ? 130 : 143;
  },
};

/** Opens the URL in the desktop's browser; says so on stderr when there is none. */
function openBrowser(url: string, stderr: { write(text: string): unknown }): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]];
  const failed = (why: string): void => {
    stderr.write(`runledger ui: could not open a browser (${why}); open the URL above.\n`);
  };
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', (e: NodeJS.ErrnoException) =>
      failed(e.code === 'ENOENT' ? `${command} is not installed` : e.message)
    );
    child.on('exit', (code) => {
      if (code !== 0 && code !== null) failed(`${command} exited with ${code}`);
    });
    child.unref();
  } catch (e) {
    failed((e as Error).message);
  }
}
