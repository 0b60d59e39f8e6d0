/**
 * @module cli/commands/show
 * `runledger show <ref>`: an experiment's identity, status, annotations, attachments and runs
 * (names, parents, tags, metric names, solves).
 */
import { Experiment } from '../../experiment/experiment.js';
import { formatBytes, formatTable } from '../format.js';
import type { Command } from '../types.js';

export const show: Command = {
  name: 'show',
  usage: 'show <ref>',
  summary:
    'describe an experiment: digest, status, annotations, attachments, runs (names, parents, tags, metrics)',
  arity: [1, 1],
  async run(ctx) {
    const registry = await ctx.openRegistry();
    const sealed = await Experiment.load(ctx.positionals[0] as string, { registry, pull: false });
    const attachments = (scope: {
      attachmentNames: string[];
      attachmentMediaType(n: string): string;
      attachmentSize(n: string): number;
    }) =>
      scope.attachmentNames.map((name) => ({
        name,
        mediaType: scope.attachmentMediaType(name),
        size: scope.attachmentSize(name),
      }));
    const metricNames = await Promise.all(sealed.runs.map((r) => r.metricNames()));
    const infos = await Promise.all(sealed.runs.map((r) => r.getInfo()));
    const summary = {
      reference: sealed.reference,
      manifestDigest: sealed.manifestDigest,
      configDigest: sealed.configDigest,
      status: sealed.status,
      annotations: sealed.annotations,
      attachments: attachments(sealed),
      runs: sealed.runs.map((r, i) => ({
        runId: r.runId,
        // Absent for runs recorded without runledger (OMMX has no run records).
        ...(infos[i]?.name === undefined ? {} : { name: infos[i].name }),
        ...(infos[i]?.parentRunId === undefined ? {} : { parentRunId: infos[i].parentRunId }),
        tags: infos[i]?.tags ?? {},
        status: r.status,
        ...(r.reason === undefined ? {} : { reason: r.reason }),
        parameters: Object.fromEntries(
          Object.entries(r.parameters).map(([k, v]) => [
            k,
            typeof v === 'bigint'
              ? Number.isSafeInteger(Number(v))
                ? Number(v)
                : String(v)
              : typeof v === 'number' && !Number.isFinite(v)
                ? String(v)
                : v,
          ])
        ),
        attachments: attachments(r),
        solves: r.solves.map((c) => ({ solveId: c.id, status: c.status, adapter: c.adapter })),
        samplings: r.samplings.map((c) => ({
          samplingId: c.id,
          status: c.status,
          adapter: c.adapter,
        })),
        metrics: metricNames[i] ?? [],
      })),
    };
    if (ctx.json) {
      ctx.printJson(summary);
      return 0;
    }
    ctx.print(`Experiment  ${summary.reference}`);
    ctx.print(`Digest      ${summary.manifestDigest}`);
    ctx.print(
      `Status      ${summary.status}${sealed.reason === undefined ? '' : ` (${sealed.reason})`}`
    );
    for (const [k, v] of Object.entries(summary.annotations)) ctx.print(`Annotation  ${k}=${v}`);
    const counts = new Map<string, number>();
    for (const r of summary.runs) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
    ctx.print(
      `Runs        ${summary.runs.length}${summary.runs.length === 0 ? '' : ` (${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')})`}`
    );
    if (summary.attachments.length > 0) {
      ctx.print('');
      for (const line of formatTable(
        ['ATTACHMENT', 'MEDIA TYPE', 'SIZE'],
        summary.attachments.map((a) => [a.name, a.mediaType, formatBytes(a.size)])
      ))
        ctx.print(line);
    }
    if (summary.runs.length > 0) {
      ctx.print('');
      const calls = (list: readonly { status: string }[]): string => {
        if (list.length === 0) return '';
        const failed = list.filter((c) => c.status !== 'finished').length;
        return failed === 0 ? String(list.length) : `${list.length} (${failed} not finished)`;
      };
      const withCalls = summary.runs.some((r) => r.solves.length + r.samplings.length > 0);
      const withMetrics = summary.runs.some((r) => r.metrics.length > 0);
      const withParents = summary.runs.some((r) => r.parentRunId !== undefined);
      const withTags = summary.runs.some((r) => Object.keys(r.tags).length > 0);
      const rows = summary.runs.map((r) => [
        String(r.runId),
        r.name ?? '',
        ...(withParents ? [r.parentRunId === undefined ? '' : String(r.parentRunId)] : []),
        r.status,
        String(Object.keys(r.parameters).length),
        ...(withCalls ? [calls(r.solves), calls(r.samplings)] : []),
        ...(withMetrics ? [r.metrics.join(', ')] : []),
        ...(withTags
          ? [
              Object.entries(r.tags)
                .map(([k, v]) => `${k}=${v}`)
                .join(', '),
            ]
          : []),
        r.attachments.map((a) => a.name).join(', '),
        r.reason ?? '',
      ]);
      const header = [
        'RUN',
        'NAME',
        ...(withParents ? ['PARENT'] : []),
        'STATUS',
        'PARAMS',
        ...(withCalls ? ['SOLVES', 'SAMPLINGS'] : []),
        ...(withMetrics ? ['METRICS'] : []),
        ...(withTags ? ['TAGS'] : []),
        'ATTACHMENTS',
        'REASON',
      ];
      for (const line of formatTable(header, rows)) ctx.print(line);
    }
    return 0;
  },
};
