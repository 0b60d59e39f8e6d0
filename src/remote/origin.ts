/**
 * @module remote/origin
 * The one origin policy of the remote client: which URLs a registry may send us to (redirects,
 * upload `Location`s, token realms, `Link` pages) and whether credentials may go with the request.
 * Every rule is here so that there is one place to audit and one set of tests.
 */
import { isIP } from 'node:net';
import { RemoteError } from '../errors.js';

/** `scheme://host:port` with the default port filled in (so `https://h` equals `https://h:443`). */
export function originOf(url: URL): string {
  const port = url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80';
  return `${url.protocol}//${url.hostname.toLowerCase()}:${port}`;
}

/** Whether two URLs have the same scheme, host and port. */
export function sameOrigin(a: URL, b: URL): boolean {
  return originOf(a) === originOf(b);
}

/** Address classes that must not be reached from a registry's say-so. */
export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'unspecified';

function ipv4Class(ip: string): AddressClass {
  const [a, b] = ip.split('.').map(Number) as [number, number];
  if (a === 127) return 'loopback';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'private';
  if (a === 100 && b >= 64 && b <= 127) return 'private'; // carrier-grade NAT
  if (a === 169 && b === 254) return 'link-local';
  if (a === 0) return 'unspecified';
  return 'public';
}

/**
 * The class of a host name: IP literals by range, `localhost` as loopback, other names public
 * (names are not resolved: resolving would not stop DNS rebinding anyway).
 */
export function addressClass(hostname: string): AddressClass {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return 'loopback';
  const kind = isIP(h);
  if (kind === 4) return ipv4Class(h);
  if (kind === 6) {
    if (h === '::1') return 'loopback';
    if (h === '::') return 'unspecified';
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
    if (mapped !== null) return ipv4Class(mapped[1] as string);
    // WHATWG URL parsing writes IPv4-mapped addresses in hex: [::ffff:169.254.169.254] has the
    // hostname [::ffff:a9fe:a9fe], which must not pass as a public address.
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
    if (hex !== null) {
      const hi = parseInt(hex[1] as string, 16);
      const lo = parseInt(hex[2] as string, 16);
      return ipv4Class(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
    }
    if (/^fe[89ab]/.test(h)) return 'link-local';
    if (/^f[cd]/.test(h)) return 'private';
    return 'public';
  }
  return 'public';
}

/** Whether a registry host is one we talk plain HTTP to without being told (loopback only). */
export function isLoopbackHost(host: string): boolean {
  const hostname = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  return addressClass(hostname ?? host) === 'loopback';
}

/**
 * Checks a URL a registry told us to go to (redirect, upload `Location`, token realm, `Link`)
 * before anything is sent there. Refused: a scheme other than http(s); https → http; a target
 * in the link-local range (cloud metadata services) or `0.0.0.0`, always; a loopback or private
 * address unless the registry itself is one (local testing). Same-origin targets always pass.
 *
 * @param target - where we are sent
 * @param registry - the registry's base URL
 * @param what - what the URL is, for the message ("redirect", "upload location", "token realm")
 * @param method - the request it concerns, for the error
 * @throws RemoteError `REMOTE_REFUSED`
 */
export function checkTarget(target: URL, registry: URL, what: string, method: string): void {
  const refuse = (why: string): never => {
    throw new RemoteError(
      'REMOTE_REFUSED',
      `Refused the ${what} ${redactUrl(target)} that ${registry.host} sent: ${why}.`,
      { method, url: redactUrl(target), data: { registry: registry.host, what } }
    );
  };
  if (target.protocol !== 'https:' && target.protocol !== 'http:') {
    refuse(`only http and https are allowed, not ${target.protocol}`);
  }
  if (target.username !== '' || target.password !== '') refuse('it carries user info');
  if (sameOrigin(target, registry)) return;
  if (registry.protocol === 'https:' && target.protocol === 'http:') {
    refuse('it would downgrade https to plain http');
  }
  const cls = addressClass(target.hostname);
  const registryClass = addressClass(registry.hostname);
  if (cls === 'link-local' || cls === 'unspecified') {
    if (registryClass !== cls) refuse(`${target.hostname} is a ${cls} address`);
  } else if (cls === 'loopback' || cls === 'private') {
    if (registryClass !== 'loopback' && registryClass !== 'private') {
      refuse(`${target.hostname} is a ${cls} address and the registry is not`);
    }
  }
}

/**
 * A URL fit for messages and logs: no user info, no fragment, and every query value replaced
 * with `…` (pre-signed URLs and upload states carry secrets there).
 */
export function redactUrl(url: URL | string): string {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : new URL(url.href);
  } catch {
    return '<invalid URL>';
  }
  u.username = '';
  u.password = '';
  u.hash = '';
  const keys = [...u.searchParams.keys()];
  if (keys.length === 0) return u.href;
  const shown = [...new Set(keys)].map((k) => `${k}=…`).join('&');
  return `${u.origin}${u.pathname}?${shown}`;
}

/** Removes anything that looks like a credential from free text (error bodies, helper output). */
export function redactText(text: string): string {
  return text
    .replace(/(authorization|proxy-authorization|cookie)\s*[:=]\s*[^\r\n]*/gi, '$1: …')
    .replace(/\b(Basic|Bearer)\s+[A-Za-z0-9._~+/=-]{8,}/g, '$1 …')
    .replace(
      /("?(?:token|access_token|refresh_token|id_token|identity_token|identitytoken|password|secret)"?\s*[:=]\s*)"?[^"\s,}]+"?/gi,
      '$1"…"'
    );
}
