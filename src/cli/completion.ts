/**
 * @module cli/completion
 * Shell completion: the bash, zsh and fish scripts `runledger completion <shell>` prints, and
 * what they ask for on every Tab, `runledger __complete <words…>`: the words of the command line
 * so far, the last one the word being completed. It answers one candidate a line — commands,
 * options, option values, the references of the local store — or `:file` / `:dir` for the shell
 * to complete a path itself. One answer for the three shells, computed from the help table.
 */
import { access } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { GLOBAL_HELP, type ArgKind, type CommandHelp, type OptionHelp } from './help.js';
import type { CliIo } from './types.js';

/** The shells `runledger completion` writes a script for. */
export const SHELLS: readonly string[] = ['bash', 'zsh', 'fish'];

/** What {@link candidates} and {@link complete} need to know of the CLI. */
export interface CompletionSource {
  /** The command names, as `runledger --help` lists them. */
  readonly commands: readonly string[];
  /** A command's help (its options and arguments), undefined for none. */
  help(name: string): Promise<CommandHelp | undefined>;
}

/** What to offer for the word being completed. */
export type Candidates =
  | { readonly kind: 'words'; readonly words: readonly string[] }
  | { readonly kind: 'file' | 'dir' };

/**
 * What to offer for the last of `words` (the command line after `runledger`, the last word the
 * one being completed, maybe empty).
 * @param words - the words so far
 * @param source - the commands and their help
 * @param refs - the references of the store `--root` names (or the default one)
 * @returns words to offer, or a path for the shell to complete
 * @example
 * ```ts
 * await candidates(['sh'], source, async () => []); // { kind: 'words', words: ['show'] }
 * ```
 */
export async function candidates(
  words: readonly string[],
  source: CompletionSource,
  refs: (root: string | undefined) => Promise<readonly string[]>
): Promise<Candidates> {
  const current = words.at(-1) ?? '';
  let command: string | undefined;
  let help: CommandHelp | undefined;
  let options: Readonly<Record<string, OptionHelp>> = GLOBAL_HELP;
  let pending: { name: string; option: OptionHelp } | undefined;
  let root: string | undefined;
  let positional = 0;
  let afterDashes = false;
  for (const w of words.slice(0, -1)) {
    if (pending !== undefined) {
      if (pending.name === 'root') root = w;
      pending = undefined;
    } else if (!afterDashes && w === '--') {
      afterDashes = true;
    } else if (!afterDashes && w.startsWith('-') && w.length > 1) {
      const found = findOption(options, w);
      if (found !== undefined && found.option.value !== undefined && !w.includes('=')) {
        pending = found;
        // `-ofile` carries its value.
        if (!w.startsWith('--') && w.length > 2) pending = undefined;
      }
      if (found?.name === 'root' && w.startsWith('--root=')) root = w.slice(7);
    } else if (command === undefined) {
      command = w;
      help = await source.help(w);
      options = { ...help?.options, ...GLOBAL_HELP };
    } else {
      positional++;
    }
  }
  const pick = (all: readonly string[]): Candidates => ({
    kind: 'words',
    words: all.filter((w) => w.startsWith(current)),
  });
  const of = async (kind: ArgKind | undefined): Promise<Candidates> => {
    if (kind === 'file' || kind === 'dir') return { kind };
    if (kind === 'ref') return pick(await refs(root));
    if (kind === 'command') return pick([...source.commands, 'help']);
    if (Array.isArray(kind)) return pick(kind as readonly string[]);
    return pick([]);
  };
  if (pending !== undefined) return of(pending.option.complete);
  if (!afterDashes && current.startsWith('-')) {
    return pick(Object.keys(options).map((n) => `--${n}`));
  }
  if (command === undefined) return pick([...source.commands, 'help']);
  return of(help?.args?.[positional] ?? help?.moreArgs);
}

function findOption(
  options: Readonly<Record<string, OptionHelp>>,
  word: string
): { name: string; option: OptionHelp } | undefined {
  if (word.startsWith('--')) {
    const name = word.slice(2).split('=')[0] as string;
    const option = options[name];
    return option === undefined ? undefined : { name, option };
  }
  // -abc: the last letter is the one that may take a value.
  const letter = word.at(-1);
  const entry = Object.entries(options).find(([, o]) => o.short === letter);
  return entry === undefined ? undefined : { name: entry[0], option: entry[1] };
}

/**
 * Answers `runledger __complete <words…>` on stdout: one candidate a line, or `:file` / `:dir`.
 * Never fails: a store it cannot read offers no references.
 * @param words - the words after `runledger`, the last one being completed
 * @param source - the commands and their help
 * @param io - stdout and the environment (`RUNLEDGER_HOME`)
 * @example
 * ```ts
 * await complete(['show', 'ghcr.io/'], source, io);
 * ```
 */
export async function complete(
  words: readonly string[],
  source: CompletionSource,
  io: CliIo
): Promise<void> {
  const found = await candidates(words.length === 0 ? [''] : words, source, (root) =>
    localRefs(root, io)
  );
  const lines = found.kind === 'words' ? found.words : [`:${found.kind}`];
  io.stdout.write(lines.map((l) => `${l}\n`).join(''));
}

/** The references of a store that exists (a Tab never creates one), else none. */
async function localRefs(root: string | undefined, io: CliIo): Promise<string[]> {
  try {
    const { LocalRegistry } = await import('../store/local-registry.js');
    const dir =
      root === undefined
        ? LocalRegistry.defaultRoot(io.env)
        : resolve(io.cwd ?? process.cwd(), root);
    await access(join(dir, 'oci-layout'));
    const registry = await LocalRegistry.open(dir, { env: io.env });
    return (await registry.listRefs()).map((r) => r.reference);
  } catch {
    return [];
  }
}

/**
 * The completion script for a shell. Each asks `runledger __complete` on every Tab.
 * @param shell - bash, zsh or fish
 * @returns the script, or undefined for another shell
 * @example
 * ```ts
 * completionScript('bash'); // '# runledger completion for bash …'
 * ```
 */
export function completionScript(shell: string): string | undefined {
  if (shell === 'bash') return BASH;
  if (shell === 'zsh') return ZSH;
  if (shell === 'fish') return FISH;
  return undefined;
}

const BASH = `# runledger completion for bash. Load it with: source <(runledger completion bash)
_runledger() {
  local line="\${COMP_LINE:0:COMP_POINT}"
  local -a words
  read -ra words <<< "$line"
  # A blank after the last word: a new, empty word is being completed.
  [[ "$line" =~ [[:space:]]$ ]] && words+=("")
  local cur="\${words[\${#words[@]}-1]}"
  local out
  out=$(runledger __complete "\${words[@]:1}" 2>/dev/null) || return 0
  COMPREPLY=()
  case "$out" in
    :file) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur"); return 0 ;;
    :dir) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur"); return 0 ;;
  esac
  # bash splits words at the characters of COMP_WORDBREAKS (: and = among them), and replaces
  # only what follows the last one: offer each candidate without what comes before it.
  local prefix="" i
  for ((i = \${#cur} - 1; i >= 0; i--)); do
    if [[ "$COMP_WORDBREAKS" == *"\${cur:i:1}"* ]]; then prefix="\${cur:0:i+1}"; break; fi
  done
  local c
  while IFS= read -r c; do
    [[ -n "$c" ]] && COMPREPLY+=("\${c#"$prefix"}")
  done <<< "$out"
  return 0
}
complete -F _runledger runledger
`;

const ZSH = `#compdef runledger
# runledger completion for zsh. Load it with: source <(runledger completion zsh)
# (after compinit), or save it as _runledger in a directory of $fpath.
_runledger() {
  local out
  out="$(runledger __complete "\${(@)words[2,CURRENT]}" 2>/dev/null)" || return 1
  case "$out" in
    :file) _files; return ;;
    :dir) _files -/; return ;;
  esac
  local -a found
  found=("\${(@f)out}")
  found=("\${(@)found:#}")
  (( \${#found} )) && compadd -- "\${found[@]}"
}
if [[ "\${funcstack[1]}" == _runledger ]]; then
  _runledger "$@"
else
  compdef _runledger runledger
fi
`;

const FISH = `# runledger completion for fish. Install it with:
#   runledger completion fish > ~/.config/fish/completions/runledger.fish
function __runledger_complete
    set -l words (commandline -opc) (commandline -ct)
    set -l out (runledger __complete $words[2..-1] 2>/dev/null)
    switch "$out[1]"
        case :file
            __fish_complete_path (commandline -ct)
        case :dir
            __fish_complete_directories (commandline -ct)
        case '*'
            printf '%s\\n' $out
    end
end
complete -c runledger -f -a '(__runledger_complete)'
`;
