/**
 * Attachment previews: JSON pretty-printed, text, CSV as a table, images (PNG, JPEG, GIF, WebP
 * through a blob: URL; never SVG), `.npy` arrays as a small table and, for a vector, a line (the curves chart).
 * Bytes come from the data source; a report without them says so.
 */
import type { UiAttachment } from '../../src/ui/model.js';
import type { DataSource } from '../data.js';
import { formatBytes, formatCell, h } from '../dom.js';
import { parseNpy } from '../npy.js';
import { createCurves } from '../charts/curves.js';

const MAX_TEXT = 200_000;
const MAX_ROWS = 200;
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp']);

/** A vector's chart, drawn once its host is in the document (the chart sizes to its host). */
const pendingCharts = new WeakMap<Element, { name: string; values: Float64Array }>();

function drawPendingCharts(el: Element): void {
  for (const host of el.querySelectorAll('.npy-chart')) {
    const pending = pendingCharts.get(host);
    if (pending === undefined) continue;
    pendingCharts.delete(host);
    const n = pending.values.length;
    const steps = Float64Array.from({ length: n }, (_, i) => i);
    createCurves(host as HTMLElement, {
      series: [
        { label: pending.name, steps, timestamps: new Float64Array(n), values: pending.values },
      ],
      x: 'step',
      smoothing: 0,
      logY: false,
    });
  }
}

/** A row of the attachment list with a preview that opens on demand. */
export function attachmentItem(
  ds: DataSource,
  experiment: string,
  runId: number,
  a: UiAttachment
): HTMLElement {
  const body = h('div', { class: 'preview' });
  const url = ds.attachmentUrl(experiment, runId, a.name);
  const details = h(
    'details',
    { class: 'attachment', 'data-name': a.name, 'data-preview': a.preview },
    h(
      'summary',
      null,
      h('span', { class: 'mono' }, a.name),
      ' ',
      h('span', { class: 'muted' }, `${a.mediaType}, ${formatBytes(a.size)}`),
      url !== undefined
        ? h('a', { href: url, class: 'download', download: a.name }, 'download')
        : null
    ),
    body
  );
  let loaded = false;
  details.addEventListener('toggle', () => {
    if (!details.open || loaded) return;
    loaded = true;
    body.textContent = 'loading…';
    ds.attachment(experiment, runId, a.name).then(
      (bytes) => {
        body.replaceChildren(
          bytes === undefined
            ? h('p', { class: 'muted' }, 'Not in this report (too large to inline).')
            : preview(a, bytes)
        );
        drawPendingCharts(body);
      },
      (e: unknown) => {
        body.replaceChildren(
          h('p', { class: 'error' }, e instanceof Error ? e.message : String(e))
        );
      }
    );
  });
  return details;
}

/** The preview of an attachment's bytes. */
export function preview(a: UiAttachment, bytes: Uint8Array): HTMLElement {
  try {
    switch (a.preview) {
      case 'json': {
        const text = decode(bytes);
        return h(
          'pre',
          { class: 'json' },
          JSON.stringify(JSON.parse(text), null, 2).slice(0, MAX_TEXT)
        );
      }
      case 'text':
        return h('pre', { class: 'text' }, decode(bytes).slice(0, MAX_TEXT));
      case 'csv':
        return csvTable(decode(bytes));
      case 'image': {
        if (!IMAGE_TYPES.has(a.mediaType))
          return h('p', { class: 'muted' }, 'No preview for this image type.');
        const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: a.mediaType }));
        return h('img', { src: url, alt: a.name, class: 'image-preview' });
      }
      case 'npy':
        return npyPreview(a.name, bytes);
      default:
        return h('p', { class: 'muted' }, 'No preview for this media type.');
    }
  } catch (e) {
    return h('p', { class: 'error' }, e instanceof Error ? e.message : String(e));
  }
}

function decode(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes.subarray(0, MAX_TEXT * 4));
}

/** Splits CSV text (RFC 4180 quotes) into rows of fields. */
export function parseCsv(text: string, maxRows = MAX_ROWS + 1): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length && rows.length < maxRows; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

function csvTable(text: string): HTMLElement {
  const [header = [], ...rows] = parseCsv(text);
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'csv' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          header.map((c) => h('th', null, c))
        )
      ),
      h(
        'tbody',
        null,
        rows.slice(0, MAX_ROWS).map((r) =>
          h(
            'tr',
            null,
            r.map((c) => h('td', null, c))
          )
        )
      )
    ),
    rows.length > MAX_ROWS ? h('p', { class: 'muted' }, `first ${MAX_ROWS} rows`) : null
  );
}

function npyPreview(name: string, bytes: Uint8Array): HTMLElement {
  const a = parseNpy(bytes);
  // A vector is also drawn as a line (H-C's curves chart), once in the document.
  const chart =
    a.shape.length <= 1 && a.values.length > 1 ? h('div', { class: 'npy-chart' }) : null;
  if (chart !== null) pendingCharts.set(chart, { name, values: a.values });
  const [rows, cols] = a.shape.length === 2 ? [a.shape[0]!, a.shape[1]!] : [a.values.length, 1];
  const shown = Math.min(rows, 50);
  const body: HTMLElement[] = [];
  for (let r = 0; r < shown; r++) {
    const cells: HTMLElement[] = [h('th', null, r)];
    for (let c = 0; c < Math.min(cols, 12); c++)
      cells.push(h('td', { class: 'num' }, formatCell(a.values[r * cols + c]!)));
    body.push(h('tr', null, cells));
  }
  return h(
    'div',
    { class: 'npy', 'data-values': a.values.length },
    h(
      'p',
      { class: 'muted' },
      `${a.dtype}, shape (${a.shape.join(', ')}${a.shape.length === 1 ? ',' : ''})`
    ),
    chart,
    h('div', { class: 'table-wrap' }, h('table', { class: 'csv' }, h('tbody', null, body))),
    rows > shown ? h('p', { class: 'muted' }, `first ${shown} of ${rows} rows`) : null
  );
}
