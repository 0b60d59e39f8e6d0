/**
 * A pass-through `fetch` that records every request the remote client sends (method, URL,
 * headers, status). It changes nothing: the real registry answers; tests read the log to prove
 * what went over the wire (an `Accept` with OCI types, no request at all…).
 */
import type { FetchLike } from '../../src/remote/http.js';

export interface RecordedRequest {
  readonly method: string;
  readonly url: URL;
  readonly headers: Headers;
  readonly status: number;
}

export interface RecordingFetch {
  readonly fetch: FetchLike;
  readonly requests: RecordedRequest[];
  /** Requests whose path ends with `suffix` (e.g. `/manifests/v1`), optionally of one method. */
  find(suffix: string, method?: string): RecordedRequest[];
}

export function recordingFetch(): RecordingFetch {
  const requests: RecordedRequest[] = [];
  const record: FetchLike = async (input, init) => {
    const res = await fetch(input, init);
    requests.push({
      method: init.method ?? 'GET',
      url: new URL(input),
      headers: new Headers(init.headers),
      status: res.status,
    });
    return res;
  };
  return {
    fetch: record,
    requests,
    find: (suffix, method) =>
      requests.filter(
        (r) => r.url.pathname.endsWith(suffix) && (method === undefined || r.method === method)
      ),
  };
}
