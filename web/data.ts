/**
 * Where the page's data comes from: one interface, two sources. `runledger ui` serves it over
 * HTTP (every request carries the token); `runledger report` inlines it in the page as
 * base64(gzip(frame)) in `<script type="application/octet-stream" id="runledger-data">` — the
 * frame of src/ui/pack.ts: the bundle's JSON, its metric series as binary float64 columns —
 * decoded by web/report-data.ts with `DecompressionStream`, after which the page makes no request at all.
 */
import type { UiBundle, UiMetricSeries, UiRunDetail, UiStudy } from '../src/ui/model.js';
import { checkVersion, decodeBundle, PageError } from './report-data.js';

export { decodeBundle, PageError };

/** A run as the API names it. */
export interface RunKey {
  readonly experiment: string;
  readonly runId: number;
}

/** The page's view of the data. */
export interface DataSource {
  /** `'server'` or `'report'`, shown in the header. */
  readonly kind: 'server' | 'report';
  study(): Promise<UiStudy>;
  run(experiment: string, runId: number): Promise<UiRunDetail>;
  metrics(runs: readonly RunKey[], names?: readonly string[]): Promise<UiMetricSeries[]>;
  /** The attachment's bytes; undefined when this report does not carry them. */
  attachment(experiment: string, runId: number, name: string): Promise<Uint8Array | undefined>;
  /** A URL to download the attachment from, when the source has one. */
  attachmentUrl(experiment: string, runId: number, name: string): string | undefined;
  /**
   * Whether the store names other experiments than when the study was read (a server only: a
   * report never changes).
   */
  changed?(): Promise<boolean>;
}

/** The inline data's element id. */
export const DATA_ELEMENT_ID = 'runledger-data';

/**
 * The data source of this page: the inline bundle when there is one, else the server. (`doc` and
 * `location` typed by what is read of them, so Node tests can import this module.)
 */
export async function openDataSource(
  doc: { getElementById(id: string): { readonly textContent: string | null } | null },
  location: { readonly search: string }
): Promise<DataSource> {
  const el = doc.getElementById(DATA_ELEMENT_ID);
  if (el !== null) return new InlineSource(await decodeBundle(el.textContent ?? ''));
  const token = new URLSearchParams(location.search).get('token') ?? '';
  return new ServerSource(token);
}

const runKey = (e: string, r: number): string => `${e}/${r}`;

/** Serves every call from a report's bundle, with no network. */
export class InlineSource implements DataSource {
  readonly kind = 'report';
  readonly #runs = new Map<string, UiRunDetail>();
  readonly #metrics = new Map<string, UiMetricSeries[]>();

  readonly bundle: UiBundle;

  constructor(bundle: UiBundle) {
    this.bundle = bundle;
    for (const r of bundle.runs) this.#runs.set(runKey(r.experiment, r.runId), r);
    for (const m of bundle.metrics) {
      const k = runKey(m.experiment, m.runId);
      const list = this.#metrics.get(k);
      if (list === undefined) this.#metrics.set(k, [m]);
      else list.push(m);
    }
  }

  study(): Promise<UiStudy> {
    return Promise.resolve(this.bundle.study);
  }

  run(experiment: string, runId: number): Promise<UiRunDetail> {
    const r = this.#runs.get(runKey(experiment, runId));
    if (r === undefined) {
      return Promise.reject(
        new PageError(
          `Run ${runId} of experiment ${experiment} is not in this report.`,
          'NOT_FOUND'
        )
      );
    }
    return Promise.resolve(r);
  }

  metrics(runs: readonly RunKey[], names?: readonly string[]): Promise<UiMetricSeries[]> {
    const wanted = names === undefined ? undefined : new Set(names);
    const out: UiMetricSeries[] = [];
    for (const k of runs) {
      for (const m of this.#metrics.get(runKey(k.experiment, k.runId)) ?? []) {
        if (wanted === undefined || wanted.has(m.name)) out.push(m);
      }
    }
    return Promise.resolve(out);
  }

  attachment(experiment: string, runId: number, name: string): Promise<Uint8Array | undefined> {
    const b64 = this.bundle.attachments[`${experiment}/${runId}/${name}`];
    if (b64 === undefined) return Promise.resolve(undefined);
    const binary = atob(b64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return Promise.resolve(bytes);
  }

  attachmentUrl(): string | undefined {
    return undefined;
  }
}

/** Asks `runledger ui`'s server, sending the token with every request. */
export class ServerSource implements DataSource {
  readonly kind = 'server';

  readonly token: string;
  readonly base: string;

  /** `base`: the server's origin, empty for the page's own. */
  constructor(token: string, base = '') {
    this.token = token;
    this.base = base;
  }

  async #get(path: string): Promise<Response> {
    const res = await fetch(`${this.base}${path}`, {
      headers: { 'X-Runledger-Token': this.token },
    });
    if (!res.ok) {
      let message = `The server answered ${res.status} to ${path.split('?')[0]}.`;
      let code = `HTTP_${res.status}`;
      try {
        const body = (await res.json()) as { error?: { code?: string; message?: string } };
        if (body.error?.message !== undefined) message = body.error.message;
        if (body.error?.code !== undefined) code = body.error.code;
      } catch {
        // Not JSON: keep the status line.
      }
      throw new PageError(message, code);
    }
    return res;
  }

  /** The store state the study was read at (the server's `X-Runledger-State`). */
  #state: string | null = null;

  async study(): Promise<UiStudy> {
    const res = await this.#get('/api/study');
    this.#state = res.headers.get('X-Runledger-State');
    const study = (await res.json()) as UiStudy;
    checkVersion(study);
    return study;
  }

  async changed(): Promise<boolean> {
    const { state } = (await (await this.#get('/api/state')).json()) as { state?: string };
    return this.#state !== null && state !== this.#state;
  }

  async run(experiment: string, runId: number): Promise<UiRunDetail> {
    const q = new URLSearchParams({ e: experiment, r: String(runId) });
    return (await (await this.#get(`/api/run?${q}`)).json()) as UiRunDetail;
  }

  async metrics(runs: readonly RunKey[], names?: readonly string[]): Promise<UiMetricSeries[]> {
    if (runs.length === 0) return [];
    let q = `runs=${encodeURIComponent(runs.map((r) => `${r.experiment}:${r.runId}`).join(','))}`;
    if (names !== undefined) {
      q += `&names=${encodeURIComponent(names.map((n) => encodeURIComponent(n)).join(','))}`;
    }
    const list = (await (await this.#get(`/api/metrics?${q}`)).json()) as UiMetricSeries[];
    // JSON writes a non-finite value as null; the page's charts take numbers (a null would be
    // drawn at 0), so it becomes NaN: a gap, as a report's NaN is.
    return list.map((m) =>
      m.values.includes(null as unknown as number)
        ? { ...m, values: m.values.map((v) => (v === null ? Number.NaN : v)) }
        : m
    );
  }

  async attachment(
    experiment: string,
    runId: number,
    name: string
  ): Promise<Uint8Array | undefined> {
    const q = new URLSearchParams({ e: experiment, r: String(runId), name });
    const res = await this.#get(`/api/attachment?${q}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  attachmentUrl(experiment: string, runId: number, name: string): string {
    const q = new URLSearchParams({ e: experiment, r: String(runId), name, token: this.token });
    return `${this.base}/api/attachment?${q}`;
  }
}
