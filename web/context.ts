/**
 * What every view is given (the data source, the shared state, navigation) and what it gives
 * back (its element, its current URL, a way to stop listening).
 */
import type { DataSource } from './data.js';
import { formatHash, type ParamValue } from './router.js';
import { formatSort } from './query.js';
import type { ViewState } from './state.js';

/** A view's handles. */
export interface Context {
  readonly ds: DataSource;
  readonly state: ViewState;
  /** Goes to another view (a new history entry). */
  go(hash: string): void;
  /** Rewrites the current URL from the shown view's state (no new history entry). */
  refreshHash(): void;
}

/** A view on the page. */
export interface View {
  readonly el: HTMLElement;
  /** The URL that restores the view as it stands. */
  hash(): string;
  /** Called once the element is in the document (charts size themselves to it). */
  mounted?(): void;
  /** Stops listening to the state; the element is then dropped. */
  dispose(): void;
  /** Handles a key the page did not (Escape…); true when handled. */
  key?(e: KeyboardEvent): boolean;
}

/** The shared parameters every view's URL carries: shown experiments, filter, selection. */
export function sharedParams(state: ViewState): Record<string, ParamValue> {
  return {
    exp: [...state.shown].sort((a, b) => a - b).map((i) => state.study.experiments[i]!.id),
    where: state.where,
    sel: state.selectedKeys(),
  };
}

/** A hash of `view` with the shared parameters and the view's own. */
export function viewHash(
  state: ViewState,
  view: string,
  own: Readonly<Record<string, ParamValue>> = {}
): string {
  return formatHash(view, [], { ...sharedParams(state), ...own });
}

/** The runs table's hash as the state stands: shared parameters, its sort and its toggle. */
export function runsHash(state: ViewState): string {
  return viewHash(state, 'runs', {
    sort: formatSort(state.sort),
    differ: state.onlyDiffering,
  });
}
