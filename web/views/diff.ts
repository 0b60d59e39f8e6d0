/**
 * A side-by-side diff of two or more runs (`#/diff?runs=<e>:<r>,…`): one column per run, one row
 * per field (record, parameters, metrics' last values, tags, labels, attributes, solves), only
 * the fields whose values differ unless "show all" is on.
 */
import type { UiRunDetail } from '../../src/ui/model.js';
import { runsHash, type Context, type View } from '../context.js';
import { fill, formatCell, formatDuration, h } from '../dom.js';
import { formatHash, listParam, param, type Route } from '../router.js';

/** One row of the diff: a field and each run's value as text (undefined: the run has none). */
export interface DiffRow {
  readonly group: string;
  readonly field: string;
  readonly values: readonly (string | undefined)[];
  readonly differs: boolean;
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? formatCell(v) : JSON.stringify(v);
}

/** The fields of runs side by side, each marked whether its values differ. */
export function diffRows(runs: readonly UiRunDetail[]): DiffRow[] {
  const groups: [string, (r: UiRunDetail) => Record<string, unknown>][] = [
    [
      'run',
      (r) => ({
        name: r.name,
        status: r.status,
        reason: r.reason,
        error: r.error === null ? null : `${r.error.type}: ${r.error.message}`,
        duration:
          r.startedAt !== null && r.endedAt !== null
            ? formatDuration(Date.parse(r.endedAt) - Date.parse(r.startedAt))
            : null,
        host: r.host,
        parent_run_id: r.parentRunId,
        resumed_from: r.resumedFrom,
        labels: r.labels.length === 0 ? null : r.labels.join(', '),
      }),
    ],
    ['params', (r) => r.parameters],
    ['metrics', (r) => Object.fromEntries(r.metrics.map((m) => [m.name, m.last]))],
    ['tags', (r) => r.tags],
    ['attributes', (r) => r.attributes],
    [
      'solves',
      (r) =>
        Object.fromEntries(
          r.solves.flatMap((s) => [
            [`${s.id}.adapter`, s.adapter],
            [`${s.id}.status`, s.status],
            [`${s.id}.objective`, s.objective],
            [`${s.id}.duration_ms`, s.durationMs],
          ])
        ),
    ],
  ];
  const out: DiffRow[] = [];
  for (const [group, pick] of groups) {
    const records = runs.map(pick);
    const fields: string[] = [];
    const seen = new Set<string>();
    for (const rec of records) {
      for (const k of Object.keys(rec)) {
        if (!seen.has(k)) {
          seen.add(k);
          fields.push(k);
        }
      }
    }
    for (const field of fields) {
      const values = records.map((rec) => {
        const v = rec[field];
        return v === undefined || v === null ? undefined : text(v);
      });
      const differs = values.some((v) => v !== values[0]);
      if (values.every((v) => v === undefined)) continue;
      out.push({ group, field, values, differs });
    }
  }
  return out;
}

/** The diff view. */
export function diffView(ctx: Context, route: Route): View {
  const { state, ds } = ctx;
  let keys = listParam(route, 'runs');
  if (keys.length === 0) keys = state.selectedKeys();
  let showAll = param(route, 'all') === '1';
  const el = h('section', { class: 'view diff-view' });
  const toggle = h('input', { type: 'checkbox', id: 'diff-all' });
  toggle.checked = showAll;
  const body = h('div', { class: 'diff-body' }, h('p', { class: 'muted' }, 'loading…'));
  el.append(
    h(
      'div',
      { class: 'toolbar' },
      h('strong', null, `Comparing ${keys.length} runs`),
      h('label', { class: 'toggle' }, toggle, ' show all fields'),
      h('a', { href: runsHash(state), class: 'button' }, '← runs')
    ),
    body
  );
  if (keys.length < 2) {
    body.replaceChildren(
      h(
        'p',
        { class: 'muted' },
        'Select two or more runs in the table (Ctrl/⌘-click or Space), then Compare.'
      )
    );
  }
  let runs: UiRunDetail[] = [];
  const parsed = keys.map((k) => {
    const i = k.lastIndexOf(':');
    return { experiment: k.slice(0, i), runId: Number(k.slice(i + 1)) };
  });
  if (keys.length >= 2) {
    Promise.all(parsed.map((k) => ds.run(k.experiment, k.runId))).then(
      (r) => {
        runs = r;
        render();
      },
      (e: unknown) =>
        body.replaceChildren(h('p', { class: 'error' }, e instanceof Error ? e.message : String(e)))
    );
  }
  toggle.addEventListener('change', () => {
    showAll = toggle.checked;
    render();
    ctx.refreshHash();
  });

  function render(): void {
    const rows = diffRows(runs);
    const shown = showAll ? rows : rows.filter((r) => r.differs);
    const exps = new Map(state.study.experiments.map((e) => [e.id, e]));
    const head = h(
      'tr',
      null,
      h('th', null, 'field'),
      runs.map((r) =>
        h(
          'th',
          null,
          h('a', { href: formatHash('run', [r.experiment, r.runId]) }, r.name ?? `run ${r.runId}`),
          h(
            'div',
            { class: 'muted small' },
            `${exps.get(r.experiment)?.project ?? r.experiment} #${r.runId}`
          )
        )
      )
    );
    let group = '';
    const lines: HTMLElement[] = [];
    for (const row of shown) {
      if (row.group !== group) {
        group = row.group;
        lines.push(h('tr', { class: 'group' }, h('th', { colspan: runs.length + 1 }, group)));
      }
      lines.push(
        h(
          'tr',
          { class: row.differs ? 'differs' : 'same', 'data-field': `${row.group}.${row.field}` },
          h('th', { scope: 'row', class: 'mono' }, row.field),
          row.values.map((v) => h('td', { class: v === undefined ? 'missing' : '' }, v ?? '—'))
        )
      );
    }
    const same = rows.length - rows.filter((r) => r.differs).length;
    fill(
      body,
      h(
        'div',
        { class: 'table-wrap' },
        h('table', { class: 'diff' }, h('thead', null, head), h('tbody', null, lines))
      ),
      !showAll && same > 0
        ? h('p', { class: 'muted' }, `${same} fields equal in every run are hidden.`)
        : null
    );
  }

  return {
    el,
    hash: () => formatHash('diff', [], { runs: keys, all: showAll, sel: state.selectedKeys() }),
    dispose: () => undefined,
    key: (e) => {
      if (e.key !== 'Escape') return false;
      ctx.go(runsHash(state));
      return true;
    },
  };
}
