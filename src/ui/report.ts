/**
 * @module ui/report
 * `runledger report`: the viewer's page as one self-contained HTML file. The built page gets the
 * study's `UiBundle` (every run, every metric series, previewable attachments up to a size)
 * inlined as base64(gzip(frame)) — the frame of src/ui/pack.ts: JSON for the study, binary
 * float64 columns for the metric series — in a `<script type="application/octet-stream"
 * id="runledger-data">` before the page's own script, which then reads nothing from a network.
 */
import { randomBytes } from 'node:crypto';
import { link, rename, unlink, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ioError, RunledgerError } from '../errors.js';
import { LocalRegistry } from '../store/local-registry.js';
import { UiData, type UiBundleOmitted } from './data.js';
import type { UiBundle } from './model.js';
import { packBundle, unpackBundle } from './pack.js';
import { readPage } from './page.js';

/** The id of the script element that carries a report's data. */
export const REPORT_DATA_ID = 'runledger-data';

/** Options of {@link reportHtml} and {@link writeReport}. */
export interface ReportOptions {
  /** @default LocalRegistry.open() */
  readonly registry?: LocalRegistry;
  /** The title the page shows (default: the experiments named). */
  readonly title?: string;
  /** The built page (default: `dist/web/index.html` of this package). */
  readonly page?: string;
  /** Largest attachment inlined, in bytes. @default 262144 (256 KiB) */
  readonly maxAttachmentBytes?: number;
  /** Most attachment bytes inlined in all. @default 16777216 (16 MiB) */
  readonly maxTotalAttachmentBytes?: number;
}

/** What a report holds. */
export interface ReportSummary {
  /** The HTML file's size in bytes. */
  readonly size: number;
  readonly experiments: number;
  readonly runs: number;
  /** Attachments inlined. */
  readonly attachments: number;
  /** Attachments left out, and why. */
  readonly omitted: UiBundleOmitted;
}

/**
 * A bundle as a report carries it: packed (src/ui/pack.ts: metric series as binary float64
 * columns), gzip-compressed, base64.
 * @param bundle - the bundle
 * @returns the base64 text
 * @example
 * ```ts
 * const text = encodeBundle(bundle); // what <script id="runledger-data"> holds
 * ```
 */
export function encodeBundle(bundle: UiBundle): string {
  return gzipSync(packBundle(bundle), { level: 9 }).toString('base64');
}

/**
 * The bundle a report's data text holds (what {@link encodeBundle} wrote), read back in Node.
 * @param text - the base64 text of `<script id="runledger-data">`
 * @returns the bundle, every metric value the float64 it was
 * @throws RunledgerError `PAYLOAD_INVALID` when the text is not a report's data of this version
 * @example
 * ```ts
 * const bundle = decodeBundle(encodeBundle(original));
 * ```
 */
export function decodeBundle(text: string): UiBundle {
  let bytes: Buffer;
  try {
    bytes = gunzipSync(Buffer.from(text, 'base64'));
  } catch (e) {
    throw new RunledgerError(
      'PAYLOAD_INVALID',
      "The report's data is not gzip-compressed base64.",
      {
        cause: e,
      }
    );
  }
  return unpackBundle(bytes);
}

/**
 * Inlines a bundle into the built page, before the page's own (last) script.
 * @param page - the built page's HTML
 * @param bundle - the data
 * @returns the report's HTML
 * @throws RunledgerError `PAYLOAD_INVALID` when the page has no script to put the data before
 */
export function inlineBundle(page: string, bundle: UiBundle): string {
  const at = page.lastIndexOf('<script>');
  if (at < 0) {
    throw new RunledgerError('PAYLOAD_INVALID', "The viewer's page has no script to give data to.");
  }
  const data = `<script type="application/octet-stream" id="${REPORT_DATA_ID}">${encodeBundle(bundle)}</script>`;
  const title = bundle.study.title.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const titled = page.replace('<title>runledger</title>', `<title>runledger — ${title}</title>`);
  const shift = titled.length - page.length;
  return titled.slice(0, at + shift) + data + titled.slice(at + shift);
}

/**
 * A report of experiments as HTML: the built page with their bundle inlined.
 * @param experiments - references, projects or prefixes ending in `/` (as `searchRuns` takes)
 * @param options - registry, title, page, attachment limits
 * @returns the HTML and what it holds
 * @throws RunledgerError `DEPENDENCY_MISSING` when the page is not built; `REF_NOT_FOUND` when
 *   nothing matches
 * @example
 * ```ts
 * const { html } = await reportHtml('runledger.local/demo/ml:latest');
 * ```
 */
export async function reportHtml(
  experiments: string | readonly string[],
  options: ReportOptions = {}
): Promise<{ html: string; summary: ReportSummary }> {
  const page = await readPage(options.page);
  const registry = options.registry ?? (await LocalRegistry.open());
  const data = await UiData.open({
    registry,
    experiments,
    ...(options.title === undefined ? {} : { title: options.title }),
  });
  if (data.study.experiments.length === 0) {
    const named = typeof experiments === 'string' ? experiments : experiments.join(' ');
    throw new RunledgerError(
      'REF_NOT_FOUND',
      `No experiment in the store ${registry.root} matches ${named}; a report needs one.`,
      { data: { experiments } }
    );
  }
  const { bundle, omitted } = await data.bundle({
    ...(options.maxAttachmentBytes === undefined
      ? {}
      : { maxAttachmentBytes: options.maxAttachmentBytes }),
    ...(options.maxTotalAttachmentBytes === undefined
      ? {}
      : { maxTotalAttachmentBytes: options.maxTotalAttachmentBytes }),
  });
  const html = inlineBundle(page, bundle);
  return {
    html,
    summary: {
      size: Buffer.byteLength(html),
      experiments: bundle.study.experiments.length,
      runs: bundle.runs.length,
      attachments: Object.keys(bundle.attachments).length,
      omitted,
    },
  };
}

/**
 * Writes a self-contained HTML report of experiments: every view of the viewer, offline (no
 * server, no network), the data inlined.
 * @param experiments - references, projects or prefixes ending in `/`
 * @param path - the file to write
 * @param options - registry, title, page, attachment limits, `overwrite`
 * @returns what the report holds
 * @throws RunledgerError `FILE_EXISTS` without `overwrite`, `DEPENDENCY_MISSING` when the page
 *   is not built, `REF_NOT_FOUND`, `IO_ERROR`
 * @example
 * ```ts
 * const { size, runs } = await writeReport('runledger.local/demo/ml:latest', 'report.html');
 * ```
 */
export async function writeReport(
  experiments: string | readonly string[],
  path: string,
  options: ReportOptions & { readonly overwrite?: boolean } = {}
): Promise<ReportSummary> {
  const { html, summary } = await reportHtml(experiments, options);
  const target = resolve(path);
  const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await writeFile(temp, html, { flag: 'wx' });
    if (options.overwrite === true) await rename(temp, target);
    else {
      try {
        await link(temp, target);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new RunledgerError(
            'FILE_EXISTS',
            `${target} already exists; pass overwrite to replace it.`,
            { data: { path: target } }
          );
        }
        throw e;
      }
      await unlink(temp);
    }
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw ioError(e, 'write the report', target);
  }
  return summary;
}
