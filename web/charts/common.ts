/**
 * @module web/charts/common
 * The shapes every chart of the viewer shares: a cell, an axis (a named column of cells) and the
 * handle a chart returns. Types only, no DOM: the pure modules beside it (scale, ticks, brush,
 * smooth, color) and the unit tests in node import it too.
 */

/** One value of a column: what `UiColumn.values` holds. */
export type Cell = number | string | boolean | null;

/** A named column drawn along one axis; `log` asks for a logarithmic scale (numbers only). */
export interface Axis {
  readonly name: string;
  readonly values: readonly Cell[];
  readonly log?: boolean;
}

/** What a chart's `create…` returns: change some options (the rest kept), or take it down. */
export interface ChartHandle<O> {
  update(options: Partial<O>): void;
  destroy(): void;
}
