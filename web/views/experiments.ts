/**
 * Projects and their experiments: status, run counts (failed and interrupted), when, size, the
 * parent. Checkboxes choose whose runs the other views show; a row's name opens its runs alone.
 */
import { runsHash, viewHash, type Context, type View } from '../context.js';
import { formatBytes, h } from '../dom.js';
import { formatHash } from '../router.js';

/** The experiments view (`#/experiments`). */
export function experimentsView(ctx: Context): View {
  const { state } = ctx;
  const exps = state.study.experiments;
  const el = h('section', { class: 'view experiments-view' });
  const byProject = new Map<string, number[]>();
  exps.forEach((e, i) => {
    const list = byProject.get(e.project);
    if (list === undefined) byProject.set(e.project, [i]);
    else list.push(i);
  });

  function render(): void {
    const all = state.shown.size === 0;
    const rows: HTMLElement[] = [];
    for (const [project, indices] of [...byProject].sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0
    )) {
      const runs = indices.reduce((n, i) => n + exps[i]!.runCount, 0);
      rows.push(
        h(
          'tr',
          { class: 'group' },
          h(
            'th',
            { colspan: 9 },
            project,
            h(
              'span',
              { class: 'muted' },
              ` · ${indices.length} experiment${indices.length === 1 ? '' : 's'}, ${runs} runs`
            )
          )
        )
      );
      for (const i of indices) {
        const e = exps[i]!;
        const box = h('input', {
          type: 'checkbox',
          'aria-label': `Show the runs of ${e.reference}`,
          'data-experiment': e.id,
        });
        box.checked = all || state.shown.has(i);
        box.addEventListener('change', () => {
          const next = new Set(all ? exps.map((_, j) => j) : state.shown);
          if (box.checked) next.add(i);
          else next.delete(i);
          state.setRows({ shown: next.size === exps.length ? new Set() : next });
        });
        rows.push(
          h(
            'tr',
            { 'data-experiment': e.id },
            h('td', null, box),
            h(
              'td',
              { class: 'mono' },
              h('a', { href: formatHash('runs', [], { exp: [e.id] }) }, e.tag)
            ),
            h('td', null, h('span', { class: `badge status-${e.status}` }, e.status)),
            h('td', { class: 'num' }, e.runCount),
            h(
              'td',
              { class: 'num' },
              e.failedCount > 0 ? h('span', { class: 'status-failed-text' }, e.failedCount) : '0'
            ),
            h(
              'td',
              { class: 'num' },
              e.interruptedCount > 0
                ? h('span', { class: 'status-interrupted-text' }, e.interruptedCount)
                : '0'
            ),
            h('td', null, e.createdAt === null ? '' : e.createdAt.replace('T', ' ').slice(0, 19)),
            // A live experiment no checkpoint holds yet has no artifact to measure.
            h('td', { class: 'num' }, e.digest === '' ? '—' : formatBytes(e.size)),
            h('td', { class: 'mono small' }, e.parent ?? '')
          )
        );
      }
    }
    const shownRuns = all
      ? exps.reduce((n, e) => n + e.runCount, 0)
      : [...state.shown].reduce((n, i) => n + exps[i]!.runCount, 0);
    el.replaceChildren(
      h(
        'div',
        { class: 'toolbar' },
        h(
          'strong',
          null,
          `${count(byProject.size, 'project')}, ${count(exps.length, 'experiment')}`
        ),
        h('span', { class: 'muted' }, `${shownRuns} runs shown`),
        h(
          'button',
          { type: 'button', onclick: () => state.setRows({ shown: new Set() }) },
          'Show all'
        ),
        h('a', { href: runsHash(state), class: 'button' }, 'Open runs →')
      ),
      h(
        'div',
        { class: 'table-wrap' },
        h(
          'table',
          { class: 'experiments' },
          h(
            'thead',
            null,
            h(
              'tr',
              null,
              [
                'show',
                'tag',
                'status',
                'runs',
                'failed',
                'interrupted',
                'created',
                'size',
                'parent',
              ].map((t) => h('th', null, t))
            )
          ),
          h('tbody', null, rows)
        )
      )
    );
  }
  render();
  const off = state.on((c) => {
    if (c === 'rows') render();
    ctx.refreshHash();
  });
  return { el, hash: () => viewHash(state, 'experiments'), dispose: off };
}

/** `1 project`, `2 projects`. */
function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
