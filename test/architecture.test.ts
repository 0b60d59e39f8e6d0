/**
 * Guards the layout the README's code map describes: the layers import downward only, no module
 * takes part in an import cycle, no module does anything when it is loaded (package.json says
 * `"sideEffects": false`), and no source file grows past 800 lines unless it is on the
 * commented allow-list below.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/**
 * The layers, top first. A module may import from its own layer and from any layer below it,
 * never from one above. `index` is the root entry (src/index.ts) and `entries` the subpath ones
 * (src/entries/oci.ts is `runledger/oci`), `errors` and `version` the two
 * files at the root of src/ every layer may use.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['index', 'entries'],
  ['cli', 'codecs', 'loggers', 'sql', 'ui'],
  ['experiment'],
  ['ommx', 'solve', 'tables'],
  ['store', 'archive', 'remote'],
  ['oci', 'formats'],
  ['errors', 'version'],
];

const MAX_LINES = 800;

/** Files allowed past {@link MAX_LINES}, each with the reason it stays whole. */
const LONG_FILES: Readonly<Record<string, string>> = {
  // Docker's credential chain (variables, config.json, credHelpers, credsStore, helpers) is one
  // protocol with one secrecy rule, tested as one.
  'src/remote/credentials.ts': 'one protocol',
  // The public facade of recording: Experiment carries the API users call (lifecycle, the logger
  // protocol, MLflow's and Strikes' habits), and half its lines are that API's TSDoc; what it does
  // stands in experiment-runs, experiment-attachments, manifest, autosave, restore and trace.
  'src/experiment/experiment.ts': 'the Experiment facade',
  // The ommx.v2 tables every root message shares: one wire-format definition, in the spec's order.
  'src/ommx/wire/tables.ts': 'one wire-format definition',
};

/**
 * Type-only imports allowed to close a cycle, each with its reason. Types vanish at run time, so
 * these cost nothing when loading; they are listed so that no new one slips in unseen.
 */
const TYPE_BACK_EDGES: Readonly<Record<string, string>> = {
  // An unsealed experiment commits to a sealed one, and a sealed one forks into an unsealed one:
  // the two public classes name each other. The fork function itself is passed in at load.
  'src/experiment/sealed.ts → src/experiment/experiment.ts': 'Experiment ⇄ SealedExperiment',
};

/** The programs: modules that run when loaded, on purpose (not imported by any other). */
const PROGRAMS: readonly string[] = [
  'src/cli/bin.ts',
  // What each thread of the solve pool runs: `new Worker(<its URL>)`, never an import.
  'src/solve/worker-thread.ts',
  // What the store's background blob writer runs, likewise.
  'src/store/blob-writer-thread.ts',
];

interface Edge {
  readonly from: string;
  readonly to: string;
  /** `value` imports run when the module loads; `type` ones vanish; `dynamic` ones run later. */
  readonly kind: 'value' | 'type' | 'dynamic';
}

interface Module {
  readonly path: string;
  readonly lines: number;
  readonly source: ts.SourceFile;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sourceFiles(p));
    else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

function loadModules(): Module[] {
  return [...sourceFiles('src'), ...sourceFiles('codecs')].map((path) => {
    const text = readFileSync(join(ROOT, path), 'utf8');
    return {
      path,
      lines: text.split('\n').length - (text.endsWith('\n') ? 1 : 0),
      source: ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true),
    };
  });
}

/** Every relative import of a module, resolved to the imported file's path. */
function importsOf(module: Module): Edge[] {
  const edges: Edge[] = [];
  const add = (specifier: string, kind: Edge['kind']): void => {
    if (!specifier.startsWith('.')) return;
    const to = normalize(join(dirname(module.path), specifier)).replace(/\.js$/, '.ts');
    edges.push({ from: module.path, to, kind });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      // With verbatimModuleSyntax, `import { type A }` still loads the module: only
      // `import type` is erased.
      add(node.moduleSpecifier.text, node.importClause?.isTypeOnly === true ? 'type' : 'value');
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier !== undefined &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      add(node.moduleSpecifier.text, node.isTypeOnly ? 'type' : 'value');
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] !== undefined &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, 'dynamic');
    }
    ts.forEachChild(node, visit);
  };
  visit(module.source);
  return edges;
}

/** The layer name of a file: its folder under src/ (or `codecs`), or the root file's name. */
function componentOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'codecs') return 'codecs';
  return parts.length > 2 ? parts[1]! : parts[1]!.replace(/\.ts$/, '');
}

function layerOf(component: string): number {
  const i = LAYERS.findIndex((l) => l.includes(component));
  if (i < 0) throw new Error(`${component} is on no layer: add it to LAYERS and the code map`);
  return i;
}

/** The cycles of a graph: its strongly connected components of more than one node (Tarjan). */
function cycles(nodes: readonly string[], edges: readonly Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const e of edges) next.set(e.from, [...(next.get(e.from) ?? []), e.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const connect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || next.get(v)?.includes(v) === true) found.push(component.sort());
    }
  };
  for (const n of nodes) if (!index.has(n)) connect(n);
  return found;
}

/** Top-level statements that do something when the module loads. */
function loadTimeEffects(module: Module): string[] {
  const effects: string[] = [];
  for (const statement of module.source.statements) {
    if (ts.isExpressionStatement(statement)) {
      const line = module.source.getLineAndCharacterOfPosition(statement.getStart()).line + 1;
      effects.push(`${module.path}:${line} ${statement.getText().split('\n')[0]}`);
    }
  }
  return effects;
}

const modules = loadModules();
const edges = modules.flatMap(importsOf);
const paths = modules.map((m) => m.path);

describe('architecture', () => {
  it('reads the whole source tree', () => {
    expect(modules.length).toBeGreaterThan(100);
    expect(edges.filter((e) => e.kind === 'value').length).toBeGreaterThan(300);
    // Every import resolves to a file that exists, so no edge is silently left out.
    const known = new Set(paths);
    expect(edges.filter((e) => !known.has(e.to))).toEqual([]);
  });

  it('imports only downward through the layers', () => {
    const against = edges
      .filter((e) => layerOf(componentOf(e.to)) < layerOf(componentOf(e.from)))
      .map((e) => `${e.from} → ${e.to} (${e.kind})`);
    expect(against).toEqual([]);
  });

  it('has no cycle through value imports', () => {
    expect(
      cycles(
        paths,
        edges.filter((e) => e.kind === 'value')
      )
    ).toEqual([]);
  });

  it('has no cycle through type imports either, but for the commented ones', () => {
    const key = (e: Edge): string => `${e.from} → ${e.to}`;
    const allowed = edges.filter((e) => e.kind === 'type' && TYPE_BACK_EDGES[key(e)] !== undefined);
    expect(allowed.map(key).sort()).toEqual(Object.keys(TYPE_BACK_EDGES).sort());
    const rest = edges.filter((e) => e.kind !== 'dynamic' && !allowed.includes(e));
    expect(cycles(paths, rest)).toEqual([]);
    // Each allowed edge does close a cycle (else it is not needed on the list).
    for (const e of allowed) expect(cycles(paths, [...rest, e])).not.toEqual([]);
  });

  it('does nothing when a module loads (package.json says "sideEffects": false)', () => {
    const effects = modules.filter((m) => !PROGRAMS.includes(m.path)).flatMap(loadTimeEffects);
    expect(effects).toEqual([]);
    // No module imports a program.
    expect(edges.filter((e) => PROGRAMS.includes(e.to))).toEqual([]);
  });

  it('keeps every source file under 800 lines, or says why not', () => {
    const long = modules
      .filter((m) => m.lines > MAX_LINES && LONG_FILES[m.path] === undefined)
      .map((m) => `${m.path}: ${m.lines} lines`);
    expect(long).toEqual([]);
    // An allow-listed file that has shrunk comes off the list.
    const stale = Object.keys(LONG_FILES).filter(
      (p) => (modules.find((m) => m.path === p)?.lines ?? 0) <= MAX_LINES
    );
    expect(stale).toEqual([]);
  });

  it('knows the layer of every folder', () => {
    const components = [...new Set(paths.map(componentOf))];
    for (const c of components) expect(() => layerOf(c)).not.toThrow();
  });
});

describe('the command line', () => {
  it('uses no member or function marked @internal (it reads the public API only)', () => {
    const config = ts.getParsedCommandLineOfConfigFile(
      join(ROOT, 'tsconfig.json'),
      { noEmit: true },
      { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined }
    );
    if (config === undefined) throw new Error('tsconfig.json does not parse');
    const program = ts.createProgram(config.fileNames, config.options);
    const checker = program.getTypeChecker();
    const internal = (node: ts.Node): boolean => {
      let symbol = checker.getSymbolAtLocation(node);
      if (symbol === undefined) return false;
      if (symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
      return (symbol.declarations ?? []).some((d) =>
        ts.getJSDocTags(d).some((t) => t.tagName.text === 'internal')
      );
    };
    const uses: string[] = [];
    const cliFiles = program
      .getSourceFiles()
      .filter((f) => f.fileName.startsWith(join(ROOT, 'src/cli/')));
    expect(cliFiles.length).toBeGreaterThan(20);
    for (const file of cliFiles) {
      const visit = (node: ts.Node): void => {
        const name = ts.isPropertyAccessExpression(node)
          ? node.name
          : ts.isImportSpecifier(node)
            ? node.name
            : undefined;
        // Members the CLI defines for itself (its own modules) are its business.
        if (name !== undefined && internal(name)) {
          const declared = checker.getSymbolAtLocation(name)?.declarations?.[0];
          const home = declared?.getSourceFile().fileName ?? '';
          if (!home.startsWith(join(ROOT, 'src/cli/'))) {
            const line = file.getLineAndCharacterOfPosition(node.getStart()).line + 1;
            uses.push(`${file.fileName.slice(ROOT.length)}:${line} ${name.getText()}`);
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(file);
    }
    expect(uses).toEqual([]);
  });
});
