/**
 * Unit tests of the pure helpers under the remote client: the origin policy (checkTarget,
 * sameOrigin, addressClass), redaction (redactUrl, redactText), WWW-Authenticate parsing,
 * scope merging and Retry-After parsing. Sources of the rules: ../shared/spec/oci-reference.md
 * §10 (security pitfalls) and RFC 9110 §10.2.3 (Retry-After), §11.6.1 (WWW-Authenticate).
 */
import { describe, expect, it } from 'vitest';
import { RemoteError } from '../../src/errors.js';
import { mergeScopes, parseChallenges } from '../../src/remote/auth.js';
import { parseRetryAfter } from '../../src/remote/http.js';
import {
  addressClass,
  checkTarget,
  originOf,
  redactText,
  redactUrl,
  sameOrigin,
} from '../../src/remote/origin.js';
import { expectError } from '../helpers/expect-code.js';

describe('sameOrigin and originOf', () => {
  it('fills in default ports and ignores host name case and paths', () => {
    expect(originOf(new URL('https://Registry.Example/v2/'))).toBe('https://registry.example:443');
    expect(originOf(new URL('http://registry.example/v2/'))).toBe('http://registry.example:80');
    expect(sameOrigin(new URL('https://r.example/a'), new URL('https://r.example:443/b?x=1'))).toBe(
      true
    );
  });

  it('tells apart scheme, port and host name', () => {
    const base = new URL('http://127.0.0.1:5000/v2/');
    expect(sameOrigin(base, new URL('https://127.0.0.1:5000/v2/'))).toBe(false);
    expect(sameOrigin(base, new URL('http://127.0.0.1:5001/v2/'))).toBe(false);
    expect(sameOrigin(base, new URL('http://localhost:5000/v2/'))).toBe(false);
    expect(sameOrigin(base, new URL('http://127.0.0.1:5000/other'))).toBe(true);
  });
});

describe('addressClass', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.0.0.2', 'loopback'],
    ['localhost', 'loopback'],
    ['api.localhost', 'loopback'],
    ['[::1]', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['[fe80::1]', 'link-local'],
    ['[fd00::1]', 'private'],
    ['[::ffff:169.254.169.254]', 'link-local'],
    ['[::ffff:10.0.0.1]', 'private'],
    ['0.0.0.0', 'unspecified'],
    ['[::]', 'unspecified'],
    ['8.8.8.8', 'public'],
    ['registry.example', 'public'],
  ] as const)('%s is %s', (host, cls) => {
    expect(addressClass(host)).toBe(cls);
  });

  it('classifies the host names URL parsing produces (IPv4-mapped IPv6 is normalised to hex)', () => {
    // new URL('http://[::ffff:169.254.169.254]/').hostname === '[::ffff:a9fe:a9fe]'
    expect(addressClass(new URL('http://[::ffff:169.254.169.254]/').hostname)).toBe('link-local');
    expect(addressClass(new URL('http://[::ffff:127.0.0.1]/').hostname)).toBe('loopback');
    expect(addressClass(new URL('http://[::ffff:192.168.0.1]/').hostname)).toBe('private');
    expect(addressClass(new URL('http://[::ffff:8.8.8.8]/').hostname)).toBe('public');
  });
});

describe('checkTarget', () => {
  const PUBLIC = 'https://registry.example';
  const LOOPBACK = 'http://127.0.0.1:5000';
  const PRIVATE = 'https://10.0.0.5';
  // [target, registry, refused?]
  const matrix: readonly (readonly [string, string, boolean])[] = [
    // same origin always passes
    [`${PUBLIC}/v2/a/blobs/uploads/x?_state=s`, PUBLIC, false],
    [`${LOOPBACK}/v2/a/blobs/uploads/x`, LOOPBACK, false],
    // another public https origin: allowed (credentials are stripped elsewhere)
    ['https://storage.example/bucket/blob?sig=x', PUBLIC, false],
    ['https://storage.example:8443/b', PUBLIC, false],
    // https -> http downgrade
    ['http://storage.example/b', PUBLIC, true],
    ['http://registry.example/b', PUBLIC, true],
    // http registry to another http origin: no downgrade
    ['http://storage.example/b', 'http://registry.example', false],
    // non-http schemes
    ['file:///etc/passwd', PUBLIC, true],
    ['ftp://registry.example/x', PUBLIC, true],
    ['javascript:alert(1)', PUBLIC, true],
    ['data:text/plain,hi', LOOPBACK, true],
    // user info
    ['https://user:pw@storage.example/b', PUBLIC, true],
    ['http://user@127.0.0.1:5000/v2/', LOOPBACK, true],
    // cloud metadata (link-local) and 0.0.0.0: refused even from a loopback or private registry
    ['https://169.254.169.254/latest/meta-data/', PUBLIC, true],
    ['http://169.254.169.254/latest/meta-data/', LOOPBACK, true],
    ['https://169.254.169.254/', PRIVATE, true],
    ['https://[fe80::1]/', PUBLIC, true],
    ['https://[::ffff:169.254.169.254]/', PUBLIC, true],
    ['http://0.0.0.0:5000/v2/', LOOPBACK, true],
    // loopback / private targets: refused unless the registry is loopback or private itself
    ['https://127.0.0.2/v2/', PUBLIC, true],
    ['https://localhost/v2/', PUBLIC, true],
    ['https://[::1]/v2/', PUBLIC, true],
    ['https://10.0.0.7/v2/', PUBLIC, true],
    ['https://192.168.1.10/v2/', PUBLIC, true],
    ['https://[fd12::1]/v2/', PUBLIC, true],
    ['https://[::ffff:127.0.0.1]/', PUBLIC, true],
    ['http://127.0.0.1:5001/v2/', LOOPBACK, false],
    ['http://localhost:5000/v2/', LOOPBACK, false],
    ['https://10.0.0.7/v2/', PRIVATE, false],
    ['https://127.0.0.1/v2/', PRIVATE, false],
  ];

  it.each(matrix)('%s from %s: refused=%s', (target, registry, refused) => {
    const run = (): void => checkTarget(new URL(target), new URL(registry), 'redirect', 'GET');
    if (!refused) {
      expect(run).not.toThrow();
      return;
    }
    const e = expectError(run, 'REMOTE_REFUSED') as RemoteError;
    expect(e).toBeInstanceOf(RemoteError);
    expect(e.method).toBe('GET');
    expect(e.status).toBeUndefined();
    expect(e.message).toMatch(/^Refused the redirect /);
    // The refused URL is reported redacted: no user info, no query values.
    expect(e.url).not.toMatch(/pw@|user@|sig=x/);
    expect(JSON.stringify(e.toJSON())).not.toContain('pw@');
  });

  it('names what was refused, for which registry, and why', () => {
    const e = expectError(
      () =>
        checkTarget(
          new URL('https://169.254.169.254/latest?token=abc'),
          new URL('https://registry.example'),
          'upload location',
          'POST'
        ),
      'REMOTE_REFUSED'
    ) as RemoteError;
    expect(e.message).toBe(
      'Refused the upload location https://169.254.169.254/latest?token=… that registry.example sent: 169.254.169.254 is a link-local address.'
    );
    expect(e.url).toBe('https://169.254.169.254/latest?token=…');
    expect(e.data).toMatchObject({ registry: 'registry.example', what: 'upload location' });
    expect(e.method).toBe('POST');
  });
});

describe('redactUrl', () => {
  it('drops user info and fragments and hides every query value', () => {
    expect(
      redactUrl('https://bob:hunter2@r.example/v2/x?X-Amz-Signature=abc&_state=zzz#frag')
    ).toBe('https://r.example/v2/x?X-Amz-Signature=…&_state=…');
    expect(redactUrl(new URL('https://r.example/v2/x?a=1&a=2'))).toBe('https://r.example/v2/x?a=…');
  });

  it('leaves a URL without secrets as is, and does not mutate its argument', () => {
    const u = new URL('https://user:pw@r.example:5000/v2/');
    expect(redactUrl(u)).toBe('https://r.example:5000/v2/');
    expect(u.password).toBe('pw');
    expect(redactUrl('http://127.0.0.1:5000/v2/acme/x/blobs/sha256:00')).toBe(
      'http://127.0.0.1:5000/v2/acme/x/blobs/sha256:00'
    );
  });

  it('does not echo an invalid URL', () => {
    expect(redactUrl('not a url with a s3cret')).toBe('<invalid URL>');
  });
});

describe('redactText', () => {
  const SECRET = 'hunter2-s3cr3t-value';
  it.each([
    [`Authorization: Basic ${Buffer.from(`bob:${SECRET}`).toString('base64')}`],
    [`authorization=Bearer ${SECRET}`],
    [`Proxy-Authorization: Basic ${SECRET}`],
    [`Cookie: session=${SECRET}; other=1`],
    [`sent Bearer ${SECRET} to the server`],
    [`{"token":"${SECRET}","expires_in":60}`],
    [`{"access_token": "${SECRET}"}`],
    [`{"refresh_token":"${SECRET}"}`],
    [`{"id_token":"${SECRET}"}`],
    [`{"identitytoken":"${SECRET}"}`],
    [`password=${SECRET}`],
    [`"secret": "${SECRET}"`],
  ])('hides the secret in %s', (text) => {
    const out = redactText(text);
    expect(out).not.toContain(SECRET);
    expect(out).not.toContain(Buffer.from(`bob:${SECRET}`).toString('base64'));
    expect(out).toContain('…');
  });

  it('leaves ordinary registry error text alone', () => {
    const text = 'blob unknown to registry: sha256:0123abcd';
    expect(redactText(text)).toBe(text);
  });
});

describe('parseChallenges', () => {
  it('parses one Bearer challenge with quoted parameters (scope holds a comma)', () => {
    expect(
      parseChallenges(
        'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:acme/x:pull,push"'
      )
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'https://auth.example/token',
          service: 'registry.example',
          scope: 'repository:acme/x:pull,push',
        },
      },
    ]);
  });

  it('splits several challenges in one header, in order, with spaces around the separators', () => {
    const got = parseChallenges(
      'Basic realm="basic, with comma", Bearer realm="https://a.example/t", service=reg , error="insufficient_scope"'
    );
    expect(got).toEqual([
      { scheme: 'basic', params: { realm: 'basic, with comma' } },
      {
        scheme: 'bearer',
        params: { realm: 'https://a.example/t', service: 'reg', error: 'insufficient_scope' },
      },
    ]);
  });

  it('handles escaped quotes, case-insensitive schemes and parameter names, and bare schemes', () => {
    expect(parseChallenges('NEGOTIATE, BASIC Realm="say \\"hi\\""')).toEqual([
      { scheme: 'negotiate', params: {} },
      { scheme: 'basic', params: { realm: 'say "hi"' } },
    ]);
  });

  it('reads two scopes separated by a space inside one quoted value', () => {
    const [c] = parseChallenges(
      'Bearer realm="https://a.example/t",scope="repository:a:pull repository:b:pull,push"'
    );
    expect(c?.params['scope']?.split(' ')).toEqual(['repository:a:pull', 'repository:b:pull,push']);
  });

  it('survives an unterminated quote and garbage without throwing', () => {
    expect(parseChallenges('Bearer realm="https://a.example/t')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://a.example/t' } },
    ]);
    expect(parseChallenges('')).toEqual([]);
    expect(() => parseChallenges('=,=;;"\\')).not.toThrow();
  });
});

describe('mergeScopes', () => {
  it('merges actions per resource, sorted and de-duplicated', () => {
    expect(
      mergeScopes([
        'repository:acme/x:push',
        'repository:acme/x:pull',
        'repository:acme/y:pull',
        'repository:acme/x:pull,push',
      ])
    ).toEqual(['repository:acme/x:pull,push', 'repository:acme/y:pull']);
  });

  it('keeps resource names with colons (registry host:port inside the name) and wildcards', () => {
    expect(
      mergeScopes(['registry:catalog:*', 'repository:a/b:delete', 'repository:a/b:pull'])
    ).toEqual(['registry:catalog:*', 'repository:a/b:delete,pull']);
  });

  it('passes through strings that are not scopes, once each', () => {
    expect(mergeScopes(['odd', 'odd', 'repository:a:pull'])).toEqual(['odd', 'repository:a:pull']);
    expect(mergeScopes([])).toEqual([]);
  });
});

describe('parseRetryAfter', () => {
  const NOW = Date.UTC(2026, 0, 2, 3, 4, 5);
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('2', NOW)).toBe(2000);
    expect(parseRetryAfter(' 120 ', NOW)).toBe(120_000);
    expect(parseRetryAfter('0', NOW)).toBe(0);
  });

  it('reads an HTTP date relative to the clock, and a past date as 0', () => {
    expect(parseRetryAfter(new Date(NOW + 7000).toUTCString(), NOW)).toBe(7000);
    expect(parseRetryAfter('Fri, 02 Jan 2026 03:04:15 GMT', NOW)).toBe(10_000);
    expect(parseRetryAfter(new Date(NOW - 60_000).toUTCString(), NOW)).toBe(0);
    // The obsolete RFC 850 form, which RFC 9110 §5.6.7 says recipients must accept.
    expect(parseRetryAfter('Friday, 02-Jan-26 03:04:25 GMT', NOW)).toBe(20_000);
  });

  it('ignores absent and malformed values', () => {
    expect(parseRetryAfter(null, NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
    expect(parseRetryAfter('-5', NOW)).toBeUndefined();
    expect(parseRetryAfter('1.5', NOW)).toBeUndefined();
  });
});
