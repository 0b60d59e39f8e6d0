/**
 * Experiments laid out as runledger wrote them before the run records moved into the
 * experiment's `runledger.runs`: each run holds its record as the run attachment `runledger.run`
 * (`application/vnd.runledger.run.v1+json`, canonical JSON). Built through the experiment's own
 * seed path with states that carry no record, so the layout is exactly the earlier one.
 */
import type { AttachmentRecord } from '../../src/experiment/attachments.js';
import { Experiment } from '../../src/experiment/experiment.js';
import { ParameterTable, type ParameterValue } from '../../src/experiment/parameters.js';
import { MEDIA_TYPE_RUN, RUN_ATTACHMENT } from '../../src/experiment/run-record.js';
import type { ClosedRunState } from '../../src/experiment/run.js';
import type { SealedExperiment } from '../../src/experiment/sealed.js';
import { canonicalJsonBytes, type JsonValue } from '../../src/oci/canonical-json.js';
import type { LocalRegistry } from '../../src/store/local-registry.js';

/** One run of an earlier artifact. */
export interface LegacyRun {
  readonly name: string;
  readonly tags?: Record<string, string>;
  readonly parent?: number;
  readonly params?: Record<string, ParameterValue>;
  /** A JSON attachment `result`. */
  readonly result?: JsonValue;
}

async function attachment(
  registry: LocalRegistry,
  name: string,
  mediaType: string,
  value: JsonValue
): Promise<AttachmentRecord> {
  const put = await registry.putBlob(canonicalJsonBytes(value));
  return {
    name,
    descriptor: { mediaType, digest: put.digest, size: put.size, annotations: {} },
    mediaType,
    compression: 'none',
  };
}

/**
 * Commits an experiment whose runs hold their records as `runledger.run` attachments.
 * @param registry - where
 * @param reference - its name
 * @param runs - the runs, ids 0, 1, …
 * @returns the committed experiment
 */
export async function legacyExperiment(
  registry: LocalRegistry,
  reference: string,
  runs: readonly LegacyRun[]
): Promise<SealedExperiment> {
  const parameters = new ParameterTable();
  const states: ClosedRunState[] = [];
  for (const [runId, r] of runs.entries()) {
    const record: Record<string, JsonValue> = {
      name: r.name,
      tags: { ...r.tags },
      runledger: '0.1.0',
      started_at: '2026-11-01T10:00:00.000Z',
      ended_at: '2026-11-01T10:00:01.000Z',
      host: 'earlier-host',
    };
    if (r.parent !== undefined) record['parent_run_id'] = r.parent;
    const attachments = new Map<string, AttachmentRecord>([
      [RUN_ATTACHMENT, await attachment(registry, RUN_ATTACHMENT, MEDIA_TYPE_RUN, record)],
    ]);
    if (r.result !== undefined) {
      attachments.set('result', await attachment(registry, 'result', 'application/json', r.result));
    }
    states.push({
      runId,
      status: 'finished',
      reason: undefined,
      attachments,
      solves: [],
      samplings: [],
    });
    for (const [n, v] of Object.entries(r.params ?? {})) parameters.set(runId, n, v);
  }
  const exp = await Experiment.fromSeed(
    reference,
    {
      attachments: [],
      runs: states,
      parameters,
      runNames: runs.map((r) => r.name),
      annotations: {},
      subject: undefined,
    },
    registry
  );
  return exp.commit();
}
