/**
 * One run in full: status, error and stack, parameters, labels, tags, attributes, the record,
 * lineage (parent run, resumed from, the experiment's parent), metrics with sparklines,
 * attachments with previews, and solves with their variable values. Escape goes back.
 */
import type { UiRunDetail, UiSolve } from '../../src/ui/model.js';
import { runsHash, type Context, type View } from '../context.js';
import { formatCell, formatDuration, h, type Child } from '../dom.js';
import { formatHash, param, type Route } from '../router.js';
import { sparkline } from '../sparkline.js';
import { attachmentItem } from './attachment.js';

/** A two-column table of names and values. */
export function kvTable(entries: readonly (readonly [string, Child])[], cls = 'kv'): HTMLElement {
  return h(
    'table',
    { class: cls },
    h(
      'tbody',
      null,
      entries.map(([k, v]) => h('tr', null, h('th', { scope: 'row' }, k), h('td', null, v)))
    )
  );
}

function json(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v, null, 2);
}

/** The run detail view (`#/run/<experiment>/<run id>`). */
export function runView(ctx: Context, route: Route): View {
  const { state, ds } = ctx;
  const experiment = route.path[0] ?? '';
  const runId = Number(route.path[1]);
  const back = param(route, 'back', '');
  const el = h('section', { class: 'view run-view' }, h('p', { class: 'muted' }, 'loading…'));
  const expIndex = state.study.experiments.findIndex((e) => e.id === experiment);
  const exp = state.study.experiments[expIndex];

  ds.run(experiment, runId).then(
    (run) => el.replaceChildren(...render(run)),
    (e: unknown) =>
      el.replaceChildren(h('p', { class: 'error' }, e instanceof Error ? e.message : String(e)))
  );

  function runLink(id: number | null): Child {
    if (id === null) return null;
    return h('a', { href: formatHash('run', [experiment, id]) }, `run ${id}`);
  }

  function render(run: UiRunDetail): HTMLElement[] {
    const row = state.rowOf(`${experiment}:${runId}`);
    const selected = row !== undefined && state.selection.has(row);
    const selectButton = h(
      'button',
      { type: 'button', class: 'select-run' },
      selected ? 'Deselect' : 'Select'
    );
    selectButton.addEventListener('click', () => {
      if (row === undefined) return;
      state.toggle(row);
      selectButton.textContent = state.selection.has(row) ? 'Deselect' : 'Select';
      ctx.refreshHash();
    });
    // A run still open: how long it has run so far.
    const duration =
      run.startedAt === null
        ? null
        : run.endedAt !== null
          ? Date.parse(run.endedAt) - Date.parse(run.startedAt)
          : run.status === 'running'
            ? Date.now() - Date.parse(run.startedAt)
            : null;
    const out: HTMLElement[] = [
      h(
        'header',
        { class: 'run-head' },
        h('a', { href: back !== '' ? back : runsHash(state), class: 'button' }, '← runs'),
        h(
          'h2',
          null,
          run.name ?? `run ${run.runId}`,
          ' ',
          h('span', { class: `badge status-${run.status}` }, run.status)
        ),
        h('span', { class: 'muted mono' }, `${exp?.reference ?? experiment} · run ${run.runId}`),
        selectButton
      ),
    ];
    if (run.description !== null) out.push(h('p', { class: 'description' }, run.description));
    if (run.error !== null || run.reason !== null) {
      out.push(
        h(
          'div',
          { class: 'error-box' },
          h(
            'strong',
            null,
            run.error !== null
              ? `${run.error.type}: ${run.error.message}`
              : `${run.status}: ${run.reason}`
          ),
          run.error?.stack !== null && run.error !== null ? h('pre', null, run.error.stack) : null
        )
      );
    }
    const grid = h('div', { class: 'detail-grid' });
    out.push(grid);
    const card = (title: string, ...body: Child[]): void => {
      grid.append(h('section', { class: 'card' }, h('h3', null, title), ...body));
    };
    card(
      'Record',
      kvTable([
        ['started', run.startedAt ?? ''],
        ['ended', run.endedAt ?? (run.status === 'running' ? 'still running' : '')],
        ['duration', formatDuration(duration)],
        ['host', run.host ?? ''],
        ['runledger', run.runledgerVersion ?? ''],
        ['experiment', exp?.reference ?? experiment],
      ])
    );
    card(
      'Lineage',
      kvTable([
        ['parent run', runLink(run.parentRunId) ?? '—'],
        ['resumed from', runLink(run.resumedFrom) ?? '—'],
        ['experiment parent', exp?.parent ?? '—'],
      ])
    );
    const params = Object.entries(run.parameters);
    card(
      'Parameters',
      params.length === 0
        ? h('p', { class: 'muted' }, 'none')
        : kvTable(params.map(([k, v]) => [k, formatCell(v)]))
    );
    const tags = Object.entries(run.tags);
    card(
      'Labels and tags',
      run.labels.length === 0 && tags.length === 0 ? h('p', { class: 'muted' }, 'none') : null,
      run.labels.length > 0
        ? h(
            'p',
            null,
            run.labels.map((l) => h('span', { class: 'chip' }, l))
          )
        : null,
      tags.length > 0 ? kvTable(tags) : null
    );
    const attrs = Object.entries(run.attributes);
    if (attrs.length > 0)
      card(
        'Attributes',
        kvTable(attrs.map(([k, v]) => [k, h('pre', { class: 'inline' }, json(v))]))
      );

    if (run.metrics.length > 0) {
      const spark = new Map<string, HTMLElement>();
      const list = kvTable(
        run.metrics.map((m) => {
          const cell = h('span', { class: 'spark' });
          spark.set(m.name, cell);
          return [
            m.name,
            h(
              'span',
              { class: 'metric-row' },
              h('span', { class: 'num' }, formatCell(m.last)),
              h('span', { class: 'muted' }, `${m.points} pts`),
              cell
            ),
          ];
        }),
        'kv metrics'
      );
      card('Metrics', list, h('a', { href: curvesLink(), class: 'button' }, 'Open in curves'));
      ds.metrics([{ experiment, runId }]).then(
        (series) => {
          for (const s of series) spark.get(s.name)?.append(sparkline(s.values));
        },
        () => undefined
      );
    }
    if (run.attachments.length > 0) {
      card('Attachments', ...run.attachments.map((a) => attachmentItem(ds, experiment, runId, a)));
    }
    if (run.solves.length > 0) {
      out.push(
        h(
          'section',
          { class: 'card wide' },
          h('h3', null, `Solves (${run.solves.length})`),
          ...run.solves.map(solveBlock)
        )
      );
    }
    return out;
  }

  function curvesLink(): string {
    const key = `${experiment}:${runId}`;
    return formatHash('curves', [], { sel: [key] });
  }

  return {
    el,
    hash: () =>
      formatHash('run', [experiment, runId], {
        sel: state.selectedKeys(),
        back: back === '' ? null : back,
      }),
    dispose: () => undefined,
    key: (e) => {
      if (e.key !== 'Escape') return false;
      ctx.go(back !== '' ? back : runsHash(state));
      return true;
    },
  };
}

function solveBlock(s: UiSolve): HTMLElement {
  return h(
    'details',
    { class: 'solve', open: true },
    h(
      'summary',
      null,
      `${s.kind} ${s.id}: ${s.adapter} `,
      h('span', { class: `badge status-${s.status}` }, s.status),
      s.objective !== null ? ` objective ${formatCell(s.objective)}` : ''
    ),
    h(
      'div',
      { class: 'solve-body' },
      kvTable([
        ['adapter', s.adapter],
        ['status', s.status],
        ['objective', formatCell(s.objective)],
        ['feasible', s.feasible === null ? '' : String(s.feasible)],
        ['optimality', s.optimality ?? ''],
        ['time', formatDuration(s.durationMs)],
        [
          'instance',
          s.variables === null
            ? ''
            : `${s.variables} variables, ${s.constraints ?? '?'} constraints`,
        ],
        ['options', h('pre', { class: 'inline' }, JSON.stringify(s.options, null, 2))],
      ]),
      s.values.length > 0
        ? h(
            'div',
            { class: 'table-wrap values' },
            h(
              'table',
              { class: 'csv' },
              h(
                'thead',
                null,
                h('tr', null, h('th', null, 'id'), h('th', null, 'name'), h('th', null, 'value'))
              ),
              h(
                'tbody',
                null,
                s.values.map((v) =>
                  h(
                    'tr',
                    null,
                    h('td', { class: 'num' }, v.id),
                    h('td', { class: 'mono' }, v.name ?? ''),
                    h('td', { class: 'num' }, formatCell(v.value))
                  )
                )
              )
            ),
            s.truncated ? h('p', { class: 'muted' }, `first ${s.values.length} values`) : null
          )
        : null
    )
  );
}
