/**
 * @module ui/cells
 * Small shapes shared by the viewer's data sources (the store's runs, and runs still open in a
 * live process): a value as a table cell, a column's kind, an attachment's preview.
 */
import type { UiCell, UiColumn, UiPreview } from './model.js';

/**
 * The attachment preview the page offers for a media type (and name): JSON, text, CSV, raster
 * images, npy arrays; `none` for anything else (SVG and HTML included: never rendered).
 * @param mediaType - the logical media type
 * @param name - the attachment's name (an `.npy` name is an array whatever the media type)
 * @returns the preview kind
 * @example
 * ```ts
 * previewOf('application/json', 'summary.json'); // 'json'
 * ```
 */
export function previewOf(mediaType: string, name: string): UiPreview {
  const type = (mediaType.split(';')[0] ?? '').trim().toLowerCase();
  if (type === 'application/x-npy' || name.toLowerCase().endsWith('.npy')) return 'npy';
  if (type === 'application/json' || type.endsWith('+json')) return 'json';
  if (type === 'text/csv') return 'csv';
  if (['image/png', 'image/jpeg', 'image/gif', 'image/webp'].includes(type)) return 'image';
  if (type === 'text/html') return 'none';
  if (type.startsWith('text/')) return 'text';
  if (['application/x-ndjson', 'application/yaml', 'application/x-yaml'].includes(type)) {
    return 'text';
  }
  return 'none';
}

/** A value as a table cell: bigints beyond 2^53 and non-finite numbers as text. */
export function cellOf(v: unknown): UiCell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'boolean' || typeof v === 'string') return v;
  return String(v);
}

/** The kind of a runs-table column, by its name. */
export function kindOf(name: string): UiColumn['kind'] {
  if (name.startsWith('params.')) return 'param';
  if (name.startsWith('metrics.')) return 'metric';
  if (name.startsWith('tags.') || name.startsWith('labels.')) return 'tag';
  if (name.startsWith('attributes.')) return 'attribute';
  return 'run';
}
