/**
 * Hash routes, so every view has a URL: `#/<view>[/<path>…]?key=value&…`. List values are
 * comma-joined with each item percent-encoded (`cols=run_id,metrics.a%2Cb`), like the API's.
 */

/** A parsed location hash. */
export interface Route {
  readonly view: string;
  readonly path: readonly string[];
  readonly params: ReadonlyMap<string, string>;
}

/** The views, in the header's order. */
export const VIEWS = ['experiments', 'runs', 'parallel', 'scatter', 'curves', 'diff'] as const;

/** Parses `#/runs?where=…` (an empty hash is the runs view). */
export function parseHash(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const q = text.indexOf('?');
  const path = (q < 0 ? text : text.slice(0, q)).split('/').filter((s) => s !== '');
  const params = new Map<string, string>();
  if (q >= 0) {
    for (const pair of text.slice(q + 1).split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const key = safeDecode(eq < 0 ? pair : pair.slice(0, eq));
      params.set(key, eq < 0 ? '' : pair.slice(eq + 1));
    }
  }
  return {
    view: path[0] !== undefined ? safeDecode(path[0]) : 'runs',
    path: path.slice(1).map(safeDecode),
    params,
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** A scalar parameter's value (decoded), or `fallback` when absent. */
export function param(route: Route, key: string, fallback = ''): string {
  const v = route.params.get(key);
  return v === undefined ? fallback : safeDecode(v);
}

/** A list parameter's items (decoded); empty when absent. */
export function listParam(route: Route, key: string): string[] {
  const v = route.params.get(key);
  if (v === undefined || v === '') return [];
  return v.split(',').map(safeDecode);
}

/** A parameter's value as the hash writes it. */
export type ParamValue = string | number | boolean | readonly string[] | null | undefined;

/** Formats a hash: empty strings, empty lists, null, undefined and false are left out. */
export function formatHash(
  view: string,
  path: readonly (string | number)[] = [],
  params: Readonly<Record<string, ParamValue>> = {}
): string {
  let out = `#/${[view, ...path].map((p) => encodeURIComponent(String(p))).join('/')}`;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === false || v === '') continue;
    if (Array.isArray(v)) {
      if (v.length > 0) parts.push(`${k}=${v.map((s) => encodeURIComponent(s)).join(',')}`);
    } else {
      parts.push(`${k}=${v === true ? '1' : encodeURIComponent(String(v))}`);
    }
  }
  if (parts.length > 0) out += `?${parts.join('&')}`;
  return out;
}
