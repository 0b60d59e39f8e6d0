/**
 * Pins the public surface and checks package.json's exports map against what `tsc` built.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import * as oci from '../src/entries/oci.js';
import * as api from '../src/index.js';
import { requireBuilt } from './helpers/built.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
  engines: { node: string };
  type: string;
};

const PUBLIC_NAMES = [
  'Artifact',
  'AutosavePolicy',
  'BlobBatch',
  'CompositeLogger',
  'CompositeRun',
  'ConsoleLogger',
  'Experiment',
  'Expr',
  'Instance',
  'InstanceBuilder',
  'JsonlLogger',
  'LocalRegistry',
  'METRICS_ATTACHMENT',
  'OpenSolve',
  'ParametricInstance',
  'RUNS_ATTACHMENT',
  'RUN_ATTACHMENT',
  'RemoteClient',
  'RemoteError',
  'Repository',
  'Run',
  'RunledgerError',
  'SampleSet',
  'SealedExperiment',
  'SealedRun',
  'Solution',
  'SolveView',
  'Variable',
  'activeRun',
  'asLogger',
  'checkpointReference',
  'constant',
  'copyArtifact',
  'currentExperiment',
  'currentRun',
  'decodeTraceSpans',
  'dockerConfigPath',
  'endRun',
  'envCredentialName',
  'eraseCredential',
  'exportArchive',
  'failureReason',
  'grid',
  'importArchive',
  'inspectArchive',
  'inspectExperimentArchive',
  'isRunledgerError',
  'lastActiveRun',
  'lastRun',
  'linear',
  'listCrashJournals',
  'listExperimentCheckpoints',
  'listExperiments',
  'listProjects',
  'listRemoteTags',
  'mergeExperiments',
  'parseDuration',
  'parseShard',
  'parseSort',
  'parseWhere',
  'pullArtifact',
  'pullProject',
  'pushArtifact',
  'query',
  'queryTable',
  'queryToParquet',
  'random',
  'resolveCredential',
  'sampleInWorker',
  'searchRuns',
  'serveUi',
  'shardFromEnv',
  'shardReference',
  'solveInWorker',
  'storeCredential',
  'sum',
  'writeParquet',
  'writeReport',
];

/**
 * `runledger/oci`: the format's building blocks, moved off the root entry (digests, canonical
 * JSON, manifest and index parsing, references, the layout, every media type and annotation key).
 */
const OCI_NAMES = [
  'ANNOTATION_CREATED',
  'ANNOTATION_REF_NAME',
  'ANNOTATION_TITLE',
  'Digester',
  'MAX_MANIFEST_SIZE',
  'MEDIA_TYPE_ARTIFACT',
  'MEDIA_TYPE_DOCKER_MANIFEST',
  'MEDIA_TYPE_DOCKER_MANIFEST_LIST',
  'MEDIA_TYPE_EMPTY',
  'MEDIA_TYPE_EXPERIMENT',
  'MEDIA_TYPE_EXPERIMENT_CONFIG',
  'MEDIA_TYPE_IMAGE_INDEX',
  'MEDIA_TYPE_INSTANCE',
  'MEDIA_TYPE_INSTANCE_V1',
  'MEDIA_TYPE_LAYOUT_HEADER',
  'MEDIA_TYPE_MANIFEST',
  'MEDIA_TYPE_METRICS',
  'MEDIA_TYPE_PARAMETRIC_INSTANCE',
  'MEDIA_TYPE_PARAMETRIC_INSTANCE_V1',
  'MEDIA_TYPE_RUN',
  'MEDIA_TYPE_RUNS',
  'MEDIA_TYPE_RUN_PARAMETERS',
  'MEDIA_TYPE_SAMPLE_SET',
  'MEDIA_TYPE_SAMPLE_SET_V1',
  'MEDIA_TYPE_SOLUTION',
  'MEDIA_TYPE_SOLUTION_V1',
  'OCI_LAYOUT_VERSION',
  'blobPath',
  'canonicalJson',
  'canonicalJsonBytes',
  'digestHex',
  'digestOf',
  'digestOfStream',
  'formatReference',
  'isDigest',
  'isMediaType',
  'normalizeReference',
  'parseDescriptor',
  'parseDigest',
  'parseImageIndex',
  'parseManifest',
  'parseReference',
  'serializeImageIndex',
  'serializeManifest',
];

beforeAll(() => requireBuilt());

describe('public surface', () => {
  it('src/index.ts exports exactly the pinned names', () => {
    expect(Object.keys(api).sort()).toEqual(PUBLIC_NAMES);
  });

  it('runledger/oci exports exactly its pinned names, none of them also at the root', () => {
    expect(Object.keys(oci).sort()).toEqual(OCI_NAMES);
    expect(OCI_NAMES.filter((n) => PUBLIC_NAMES.includes(n))).toEqual([]);
    expect(pkg.exports['./oci']).toEqual({
      types: './dist/src/entries/oci.d.ts',
      default: './dist/src/entries/oci.js',
    });
  });

  it('the package is ESM only for Node >= 20.19 with a runledger bin', () => {
    expect(pkg.type).toBe('module');
    expect(pkg.engines.node).toBe('>=20.19');
    const bin = `${ROOT}${pkg.bin['runledger']}`;
    expect(existsSync(bin)).toBe(true);
    expect(readFileSync(bin, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('every exports target is built, with types first', () => {
    for (const [key, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') {
        expect(existsSync(`${ROOT}${target}`), key).toBe(true);
        continue;
      }
      expect(Object.keys(target)).toEqual(['types', 'default']);
      if (key.includes('*')) {
        // Every built codec is reachable through the pattern, with its declarations.
        const dir = `${ROOT}${target.default.slice(0, target.default.indexOf('*'))}`;
        const built = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.js')) : [];
        for (const f of built) {
          expect(existsSync(`${dir}${f.replace(/\.js$/, '.d.ts')}`), f).toBe(true);
        }
        // …and the pattern's source folder is exactly what was built there.
        const source = key === './codecs/*' ? 'codecs' : 'src/solve/adapters';
        const sources = readdirSync(`${ROOT}${source}`).filter((f) => f.endsWith('.ts'));
        expect(sources.length, key).toBeGreaterThan(0);
        expect(built.map((f) => f.replace(/\.js$/, '.ts')).sort()).toEqual(sources.sort());
      } else {
        expect(existsSync(`${ROOT}${target.types}`), `${key} types`).toBe(true);
        expect(existsSync(`${ROOT}${target.default}`), `${key} default`).toBe(true);
      }
    }
  });

  it.each([
    ['runledger', PUBLIC_NAMES],
    ['runledger/oci', OCI_NAMES],
  ] as const)('the built package resolves %s by name, with the same names', (specifier, names) => {
    const out = execFileSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import('${specifier}'); console.log(JSON.stringify(Object.keys(m).sort()))`,
      ],
      { cwd: ROOT, encoding: 'utf8' }
    );
    expect(JSON.parse(out)).toEqual(names);
  });
});
