/**
 * @module experiment/inspect
 * An archive's summary with the experiment's status and counts when it holds an experiment.
 */
import { inspectArchive, type ArchiveSummary } from '../archive/inspect.js';
import { RESERVED_PREFIX } from './attachments.js';
import {
  MEDIA_TYPE_EXPERIMENT,
  MEDIA_TYPE_EXPERIMENT_CONFIG,
  parseExperimentConfig,
  type ExperimentStatus,
} from './config.js';

/** {@link inspectArchive}'s summary plus, for an experiment, its status and counts. */
export interface ExperimentArchiveSummary extends ArchiveSummary {
  readonly experiment?: {
    readonly status: ExperimentStatus;
    readonly runCount: number;
    readonly solveCount: number;
    readonly samplingCount: number;
    /** The experiment's own attachments (runledger's `runledger.runs` not counted). */
    readonly attachmentCount: number;
  };
}

/**
 * Reads an archive without importing it; experiments also get status and counts.
 * @param path - the archive
 * @returns the summary
 * @throws RunledgerError `ARCHIVE_INVALID`; `EXPERIMENT_INVALID` for a damaged experiment config
 * @example
 * ```ts
 * const { reference, experiment } = await inspectExperimentArchive('study.ommx');
 * ```
 */
export async function inspectExperimentArchive(path: string): Promise<ExperimentArchiveSummary> {
  const summary = await inspectArchive(path);
  const m = summary.manifest;
  if ((m.artifactType ?? m.config.mediaType) !== MEDIA_TYPE_EXPERIMENT) return summary;
  if (m.config.mediaType !== MEDIA_TYPE_EXPERIMENT_CONFIG || summary.config === undefined)
    return summary;
  const config = parseExperimentConfig(summary.config, m.layers, {
    allowDraft: true,
    subject: summary.reference ?? path,
  });
  return {
    ...summary,
    experiment: {
      status: config.status,
      runCount: config.runs.length,
      solveCount: config.runs.reduce((n, r) => n + r.solves.length, 0),
      samplingCount: config.runs.reduce((n, r) => n + r.samplings.length, 0),
      // The experiment's own attachments: runledger's (`runledger.runs`) are not counted.
      attachmentCount: [...config.attachments.entries.keys()].filter(
        (n) => !n.startsWith(RESERVED_PREFIX)
      ).length,
    },
  };
}
