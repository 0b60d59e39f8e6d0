/**
 * A report's inline data, decoded in the page: base64(gzip(frame)), the frame of src/ui/pack.ts
 * (the bundle's JSON, its metric series as binary float64 columns), through the browser's
 * `DecompressionStream`. Apart from web/data.ts so that Node tests run it as the page does.
 */
import { UI_DATA_VERSION, type UiBundle, type UiStudy } from '../src/ui/model.js';
import { PACK_VERSION, packVersion, unpackBundle } from '../src/ui/pack.js';

/** An error the page shows as is (a message naming its subject). */
export class PageError extends Error {
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Decodes base64(gzip(frame)) into a bundle, checking the frame's and the data's versions. Metric
 * values come back as the float64 numbers logged, NaN and ±Infinity included.
 */
export async function decodeBundle(base64: string): Promise<UiBundle> {
  let frame: Uint8Array;
  try {
    const binary = atob(base64.trim());
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
    frame = new Uint8Array(await new Response(stream).arrayBuffer());
  } catch {
    throw new PageError("This report's data is damaged: it is not gzip-compressed base64.", 'DATA');
  }
  const version = packVersion(frame);
  if (version !== PACK_VERSION) {
    throw new PageError(
      version === undefined
        ? "This report's data is of an older format than this page reads: make the report again with this runledger."
        : `This report's data is of frame version ${version}, and this page reads version ${PACK_VERSION}: open it with the runledger that wrote it.`,
      'VERSION'
    );
  }
  let bundle: UiBundle;
  try {
    bundle = unpackBundle(frame);
  } catch (e) {
    throw new PageError(e instanceof Error ? e.message : String(e), 'DATA');
  }
  checkVersion(bundle.study);
  return bundle;
}

/** Refuses data of another viewer format, saying which. */
export function checkVersion(study: UiStudy): void {
  if (study.version !== UI_DATA_VERSION) {
    throw new PageError(
      `This data is of viewer format ${String(study.version)}, and this page reads format ${UI_DATA_VERSION}: open it with the runledger that wrote it.`,
      'VERSION'
    );
  }
}
