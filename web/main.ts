/**
 * The viewer's page: reads the study from its data source (the server, or the data a report
 * inlined), then shows the view the URL's hash names. The header holds what every view shares:
 * the navigation, the filter box (the CLI's `--where` language), the brush and the selection.
 */
import './style.css';
import { type Context, type View, runsHash, sharedParams } from './context.js';
import { openDataSource, type DataSource } from './data.js';
import { fill, h } from './dom.js';
import { formatHash, listParam, param, parseHash, VIEWS, type Route } from './router.js';
import { parseSortSpec } from './query.js';
import { ViewState } from './state.js';
import { curvesView, parallelView, scatterView } from './views/charts.js';
import { diffView } from './views/diff.js';
import { experimentsView } from './views/experiments.js';
import { runView } from './views/run.js';
import { columnsKey, runsView } from './views/runs.js';

const TITLES: Readonly<Record<string, string>> = {
  experiments: 'Experiments',
  runs: 'Runs',
  parallel: 'Parallel',
  scatter: 'Scatter',
  curves: 'Curves',
  diff: 'Diff',
};

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

async function main(): Promise<void> {
  const app = document.getElementById('app')!;
  app.replaceChildren(h('p', { class: 'loading' }, 'Loading the study…'));
  let ds: DataSource;
  let state: ViewState;
  try {
    ds = await openDataSource(document, location);
    state = new ViewState(await ds.study());
  } catch (e) {
    app.replaceChildren(
      h(
        'div',
        { class: 'error-box fatal' },
        h('strong', null, 'The viewer cannot show this study. '),
        message(e)
      )
    );
    return;
  }
  const stored = localStorage.getItem(columnsKey(state.study.runs.columns.map((c) => c.name)));
  if (stored !== null) {
    try {
      state.setColumns(JSON.parse(stored) as string[]);
    } catch {
      // A damaged entry: keep the default columns.
    }
  }

  const nav = h('nav', { 'aria-label': 'Views' });
  const filter = h('input', {
    id: 'filter',
    type: 'search',
    spellcheck: 'false',
    autocomplete: 'off',
    placeholder: "filter: metrics.loss < 0.1 and status = 'finished'   ( / )",
    'aria-label': 'Filter runs (the CLI query language)',
  });
  const filterError = h('div', { class: 'filter-error', role: 'status', 'aria-live': 'polite' });
  const chips = h('span', { class: 'header-chips' });
  // Served: the page asks every few seconds whether the store names other experiments now (a
  // commit, a pulled shard, a moved tag) and says so, or reloads itself when following.
  const followBox = h('input', {
    type: 'checkbox',
    'data-testid': 'follow',
    checked: localStorage.getItem(FOLLOW_KEY) === '1',
  });
  const follow = h(
    'label',
    { class: 'follow', title: 'Reload the page whenever the store changes' },
    ' · ',
    followBox,
    ' follow'
  );
  const notice = h('div', {
    class: 'store-notice',
    role: 'status',
    'aria-live': 'polite',
    'data-testid': 'store-notice',
  });
  const main = h('main', { id: 'main' });
  app.replaceChildren(
    h(
      'header',
      { class: 'top' },
      h(
        'h1',
        null,
        h('span', { class: 'logo' }, 'runledger'),
        ' ',
        h('span', { class: 'title' }, state.study.title)
      ),
      nav,
      h(
        'span',
        { class: `source muted` },
        ds.kind === 'report'
          ? `report · read ${state.study.readAt.slice(0, 16).replace('T', ' ')}`
          : 'live',
        ds.changed === undefined ? null : follow
      ),
      h('div', { class: 'filter-line' }, filter, chips),
      filterError,
      notice
    ),
    main
  );
  document.title = `${state.study.title} · runledger`;
  const header = app.querySelector('header')!;
  const headerHeight = (): void =>
    document.documentElement.style.setProperty('--header-h', `${header.offsetHeight}px`);
  new ResizeObserver(headerHeight).observe(header);
  headerHeight();

  let current: View | null = null;
  let currentRoute: Route = parseHash(location.hash);

  const ctx: Context = {
    ds,
    state,
    go: (hash) => {
      clearTimeout(hashTimer);
      location.hash = hash;
    },
    refreshHash: () => {
      renderHeader();
      // The address bar follows a moment later: history.replaceState costs milliseconds a call
      // (more from file://), and a sort or a filter should not wait for it.
      clearTimeout(hashTimer);
      hashTimer = window.setTimeout(writeHash, 120);
    },
  };
  let hashTimer = 0;
  /** The address the shown view stands at (what show() read, or what writeHash last wrote). */
  let shownHash = '';
  function writeHash(): void {
    // Another address not yet shown: a navigation (a link, go()) whose hashchange is on its
    // way; writing now would undo it.
    if (current === null || location.hash !== shownHash) return;
    const hash = current.hash();
    if (hash !== location.hash) {
      history.replaceState(null, '', hash);
      shownHash = location.hash;
    }
  }

  function renderHeader(): void {
    const shared = sharedParams(state);
    nav.replaceChildren(
      ...VIEWS.map((v) =>
        h(
          'a',
          {
            href:
              v === 'diff'
                ? formatHash('diff', [], { runs: shared['sel'], sel: shared['sel'] })
                : v === 'runs'
                  ? runsHash(state)
                  : formatHash(v, [], shared),
            class: currentRoute.view === v ? 'active' : '',
            'aria-current': currentRoute.view === v ? 'page' : null,
            'data-view': v,
          },
          TITLES[v] ?? v
        )
      )
    );
    if (document.activeElement !== filter) filter.value = state.where;
    filterError.textContent = state.whereError ?? '';
    filter.classList.toggle('invalid', state.whereError !== null);
    fill(
      chips,
      state.shown.size > 0
        ? h(
            'button',
            {
              type: 'button',
              class: 'chip',
              title: 'Show every experiment',
              onclick: () => state.setRows({ shown: new Set() }),
            },
            `${state.shown.size} of ${state.study.experiments.length} experiments ×`
          )
        : null,
      state.brush !== null
        ? h(
            'button',
            {
              type: 'button',
              class: 'chip',
              title: 'Clear the brush',
              onclick: () => state.setRows({ brush: null }),
            },
            'brushed ×'
          )
        : null,
      state.selection.size > 0
        ? h(
            'button',
            {
              type: 'button',
              class: 'chip',
              title: 'Clear the selection',
              onclick: () => state.setSelection(new Set()),
            },
            `${state.selection.size} selected ×`
          )
        : null
    );
  }

  /** Takes what the URL says about the shared state (shown experiments, filter, selection…). */
  function applyRoute(route: Route): void {
    const ids = new Map(state.study.experiments.map((e, i) => [e.id, i]));
    const named = listParam(route, 'exp').flatMap((id) => (ids.has(id) ? [ids.get(id)!] : []));
    // Every experiment named is the same as none: all shown.
    const shown = new Set(named.length === ids.size ? [] : named);
    const where = param(route, 'where');
    const sameRows =
      where === state.where &&
      shown.size === state.shown.size &&
      [...shown].every((i) => state.shown.has(i));
    if (!sameRows) state.setRows({ shown, where, brush: null });
    state.setSelection(state.rowsOf(listParam(route, 'sel')));
    if (route.view === 'runs') {
      const cols = listParam(route, 'cols');
      if (cols.length > 0 || route.params.has('differ')) {
        state.setColumns(cols.length > 0 ? cols : state.columns, param(route, 'differ') === '1');
      }
      state.setSort(parseSortSpec(param(route, 'sort')));
    }
  }

  function show(): void {
    // A pending rewrite belongs to the view being left.
    clearTimeout(hashTimer);
    shownHash = location.hash;
    const route = parseHash(location.hash);
    current?.dispose();
    current = null;
    currentRoute = route;
    applyRoute(route);
    let view: View;
    switch (route.view) {
      case 'experiments':
        view = experimentsView(ctx);
        break;
      case 'run':
        view = runView(ctx, route);
        break;
      case 'diff':
        view = diffView(ctx, route);
        break;
      case 'parallel':
        view = parallelView(ctx, route);
        break;
      case 'scatter':
        view = scatterView(ctx, route);
        break;
      case 'curves':
        view = curvesView(ctx, route);
        break;
      default:
        view = runsView(ctx);
    }
    current = view;
    main.replaceChildren(view.el);
    window.scrollTo(0, 0);
    view.mounted?.();
    main.dataset['view'] = route.view;
    ctx.refreshHash();
    performance.mark(`runledger:view:${route.view}`);
  }

  let typing = 0;
  const applyFilter = (): void => {
    clearTimeout(typing);
    if (filter.value !== state.where) state.setRows({ where: filter.value });
    renderHeader();
  };
  filter.addEventListener('input', () => {
    clearTimeout(typing);
    typing = window.setTimeout(applyFilter, 250);
  });
  filter.addEventListener('keydown', (e) => {
    if (e.key === 'Enter') applyFilter();
    if (e.key === 'Escape') {
      filter.value = '';
      applyFilter();
      filter.blur();
    }
  });
  state.on(() => {
    if (current !== null) ctx.refreshHash();
  });
  document.addEventListener('keydown', (e) => {
    const target = e.target as HTMLElement;
    const editing =
      target.tagName === 'INPUT' || target.tagName === 'SELECT' || target.tagName === 'TEXTAREA';
    if (e.key === '/' && !editing) {
      e.preventDefault();
      filter.focus();
    } else if (e.key === 'Escape' && !editing && current?.key?.(e) === true) {
      e.preventDefault();
    }
  });
  window.addEventListener('hashchange', show);
  show();
  restoreScroll();
  if (ds.changed !== undefined) watchStore(() => ds.changed!());
  document.body.dataset['ready'] = '1';

  /**
   * Reloads the page where it stands: the view's state is in the address; the scroll positions
   * (the window's, the runs table's) are kept for the page that loads next.
   */
  function reload(): void {
    clearTimeout(hashTimer);
    writeHash();
    const kept: KeptScroll = {
      hash: location.hash,
      window: window.scrollY,
      grids: [...main.querySelectorAll<HTMLElement>('.grid')].map((g) => g.scrollTop),
    };
    sessionStorage.setItem(SCROLL_KEY, JSON.stringify(kept));
    location.reload();
  }

  /** Puts back the scroll positions a reload kept, when it shows the same address. */
  function restoreScroll(): void {
    const text = sessionStorage.getItem(SCROLL_KEY);
    if (text === null) return;
    sessionStorage.removeItem(SCROLL_KEY);
    let kept: KeptScroll;
    try {
      kept = JSON.parse(text) as KeptScroll;
    } catch {
      return;
    }
    if (kept.hash !== location.hash) return;
    window.scrollTo(0, kept.window);
    const grids = main.querySelectorAll<HTMLElement>('.grid');
    kept.grids.forEach((top, i) => {
      const g = grids[i];
      if (g !== undefined) g.scrollTop = top;
    });
  }

  function watchStore(changed: () => Promise<boolean>): void {
    const every = pollInterval(location.search);
    let seen = false;
    followBox.addEventListener('change', () => {
      localStorage.setItem(FOLLOW_KEY, followBox.checked ? '1' : '0');
      if (followBox.checked && seen) reload();
    });
    const tick = async (): Promise<void> => {
      if (!document.hidden) {
        try {
          seen = await changed();
        } catch (e) {
          // Stopped, restarted (a new token) or failing: the study shown stays as it was read.
          fill(
            notice,
            `The viewer's server did not answer (${message(e)}): this is the study as it was read.`
          );
          return;
        }
        if (seen) {
          if (followBox.checked) return reload();
          fill(
            notice,
            'The store changed since this page read it (runs recorded, a commit, a pull, a moved tag). ',
            h('button', { type: 'button', 'data-testid': 'reload', onclick: reload }, 'Reload')
          );
          return;
        }
      }
      window.setTimeout(() => void tick(), every);
    };
    window.setTimeout(() => void tick(), every);
  }
}

/** Where the page remembers the follow box. */
const FOLLOW_KEY = 'runledger.follow';
/** Where a reload leaves the scroll positions for the page that loads next. */
const SCROLL_KEY = 'runledger.reload-scroll';

interface KeptScroll {
  readonly hash: string;
  readonly window: number;
  readonly grids: readonly number[];
}

/** How often the page asks whether the store changed: 5 s, or `?poll=<ms>` (100 ms at least). */
function pollInterval(search: string): number {
  const ms = Number(new URLSearchParams(search).get('poll'));
  return Number.isFinite(ms) && ms >= 100 ? ms : 5000;
}

void main();
