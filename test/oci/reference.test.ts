import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatReference,
  normalizeReference,
  parseReference,
  type Reference,
} from '../../src/oci/reference.js';
import { expectError } from '../helpers/expect-code.js';

const HEX = '0123456789abcdef'.repeat(4);
const DIGEST = `sha256:${HEX}`;

type Expected = { registry: string; repository: string; tag?: string; digest?: string };

const valid: readonly [input: string, parsed: Expected, normalised: string][] = [
  [
    'ubuntu',
    { registry: 'docker.io', repository: 'library/ubuntu', tag: 'latest' },
    'docker.io/library/ubuntu:latest',
  ],
  [
    'ubuntu:22.04',
    { registry: 'docker.io', repository: 'library/ubuntu', tag: '22.04' },
    'docker.io/library/ubuntu:22.04',
  ],
  [
    'docker.io/ubuntu',
    { registry: 'docker.io', repository: 'library/ubuntu', tag: 'latest' },
    'docker.io/library/ubuntu:latest',
  ],
  [
    'index.docker.io/ubuntu',
    { registry: 'docker.io', repository: 'library/ubuntu', tag: 'latest' },
    'docker.io/library/ubuntu:latest',
  ],
  [
    'registry-1.docker.io/library/ubuntu',
    { registry: 'docker.io', repository: 'library/ubuntu', tag: 'latest' },
    'docker.io/library/ubuntu:latest',
  ],
  [
    'docker.io/library/ubuntu',
    { registry: 'docker.io', repository: 'library/ubuntu', tag: 'latest' },
    'docker.io/library/ubuntu:latest',
  ],
  [
    'library/ubuntu',
    { registry: 'docker.io', repository: 'library/ubuntu', tag: 'latest' },
    'docker.io/library/ubuntu:latest',
  ],
  [
    'acme/qap',
    { registry: 'docker.io', repository: 'acme/qap', tag: 'latest' },
    'docker.io/acme/qap:latest',
  ],
  [
    'ghcr.io/acme/qap:tai20a',
    { registry: 'ghcr.io', repository: 'acme/qap', tag: 'tai20a' },
    'ghcr.io/acme/qap:tai20a',
  ],
  ['ghcr.io/qap', { registry: 'ghcr.io', repository: 'qap', tag: 'latest' }, 'ghcr.io/qap:latest'],
  [
    'example.com/x',
    { registry: 'example.com', repository: 'x', tag: 'latest' },
    'example.com/x:latest',
  ],
  [
    'localhost:5000/a/b',
    { registry: 'localhost:5000', repository: 'a/b', tag: 'latest' },
    'localhost:5000/a/b:latest',
  ],
  ['localhost/x:1', { registry: 'localhost', repository: 'x', tag: '1' }, 'localhost/x:1'],
  [
    `127.0.0.1:5000/x@${DIGEST}`,
    { registry: '127.0.0.1:5000', repository: 'x', digest: DIGEST },
    `127.0.0.1:5000/x@${DIGEST}`,
  ],
  [
    `ghcr.io/a/b:t@${DIGEST}`,
    { registry: 'ghcr.io', repository: 'a/b', tag: 't', digest: DIGEST },
    `ghcr.io/a/b:t@${DIGEST}`,
  ],
  [
    `ubuntu@${DIGEST}`,
    { registry: 'docker.io', repository: 'library/ubuntu', digest: DIGEST },
    `docker.io/library/ubuntu@${DIGEST}`,
  ],
  ['[::1]:5000/x:y', { registry: '[::1]:5000', repository: 'x', tag: 'y' }, '[::1]:5000/x:y'],
  [
    'registry.example.com:443/team/project/image:v1.2.3-rc_1',
    { registry: 'registry.example.com:443', repository: 'team/project/image', tag: 'v1.2.3-rc_1' },
    'registry.example.com:443/team/project/image:v1.2.3-rc_1',
  ],
  [
    'ghcr.io/a_b/c__d/e-f--g/h.i:_T.a-g',
    { registry: 'ghcr.io', repository: 'a_b/c__d/e-f--g/h.i', tag: '_T.a-g' },
    'ghcr.io/a_b/c__d/e-f--g/h.i:_T.a-g',
  ],
  [
    `x:${'a'.repeat(128)}`,
    { registry: 'docker.io', repository: 'library/x', tag: 'a'.repeat(128) },
    `docker.io/library/x:${'a'.repeat(128)}`,
  ],
];

describe('parseReference', () => {
  it.each(valid)('parses %s', (input, parsed) => {
    expect(parseReference(input)).toStrictEqual(parsed);
  });

  it.each(valid)('normalises %s', (input, _parsed, normalised) => {
    expect(normalizeReference(input)).toBe(normalised);
    expect(formatReference(parseReference(input))).toBe(normalised);
    expect(normalizeReference(normalised)).toBe(normalised);
  });

  it('leaves tag out rather than undefined when there is only a digest', () => {
    const r = parseReference(`ghcr.io/x@${DIGEST}`);
    expect('tag' in r).toBe(false);
    expect(r.digest).toBe(DIGEST);
    expect('digest' in parseReference('ghcr.io/x:y')).toBe(false);
  });

  it('accepts a name of exactly 255 characters', () => {
    const name = `ghcr.io/${'a'.repeat(255 - 'ghcr.io/'.length)}`;
    expect(name).toHaveLength(255);
    expect(normalizeReference(`${name}:t`)).toBe(`${name}:t`);
  });

  it('counts the name length once normalised, so a formatted reference parses back', () => {
    const longest = 'a'.repeat(255 - 'docker.io/library/'.length);
    const r = parseReference(longest);
    expect(formatReference(r)).toBe(`docker.io/library/${longest}:latest`);
    expect(parseReference(formatReference(r))).toStrictEqual(r);
    const e = expectError(() => parseReference(`${longest}a`), 'REFERENCE_INVALID');
    expect(e.message).toContain('255');
  });

  const invalid: readonly [why: string, input: string][] = [
    ['a space in the path', 'ghcr.io/a b:c'],
    ['a leading space', ' ghcr.io/a:b'],
    ['a trailing space', 'ghcr.io/a:b '],
    ['a trailing newline', 'ghcr.io/a:b\n'],
    ['a tab', 'ghcr.io/a\t:b'],
    ['the empty string', ''],
    ['an empty path component', 'ghcr.io//x'],
    ['a trailing slash', 'ghcr.io/x/'],
    ['a leading slash', '/x'],
    ['only a slash', '/'],
    ['an empty tag', 'x:'],
    ['an empty tag after a registry', 'ghcr.io/x:'],
    ['only a tag', ':tag'],
    ['only a digest', `@${DIGEST}`],
    ['an uppercase repository', 'ghcr.io/Acme/x'],
    ['an uppercase last component', 'ghcr.io/acme/X'],
    ['a short uppercase digest', 'x@sha256:ABC'],
    ['an uppercase digest', `x@sha256:${HEX.toUpperCase()}`],
    ['a short digest', `x@sha256:${HEX.slice(1)}`],
    ['an empty digest', 'x@'],
    ['a sha512 digest', `x@sha512:${'a'.repeat(128)}`],
    ['a path-traversal digest', 'x@sha256:../../etc'],
    ['two digests', `x@${DIGEST}@${DIGEST}`],
    ['a tag of 129 characters', `x:${'a'.repeat(129)}`],
    ['a tag starting with a dot', 'x:.tag'],
    ['a tag starting with a dash', 'x:-tag'],
    ['a tag with a colon', 'x:a:b'],
    ['a tag with a plus', 'x:1+2'],
    ['a name longer than 255 characters', `ghcr.io/${'a'.repeat(248)}`],
    ['a component starting with a separator', 'ghcr.io/_x'],
    ['a component ending with a separator', 'ghcr.io/x-'],
    ['two dots in a component', 'ghcr.io/a..b'],
    ['three underscores in a component', 'ghcr.io/a___b'],
    ['a dot then a dash', 'ghcr.io/a.-b'],
    ['a path traversal', 'ghcr.io/../x'],
    ['a registry with an underscore', 'my_registry:5000/x'],
    ['a registry with a six-digit port', 'ghcr.io:123456/x'],
    ['a registry with an empty port', 'ghcr.io:/x'],
    ['a registry ending with a dash', 'ghcr-.io/x'],
    ['a registry with an empty label', 'ghcr..io/x'],
    ['an IPv6 registry without brackets', '::1:5000/x'],
    ['a registry and no repository', 'ghcr.io/'],
    ['a scheme', 'https://ghcr.io/x'],
    ['a first component with a dot, read as an invalid host', 'a__b.c/x'],
  ];

  it.each(invalid)('rejects %s with REFERENCE_INVALID', (_why, input) => {
    const e = expectError(() => parseReference(input), 'REFERENCE_INVALID');
    expect(e.data['reference']).toBe(input);
    expectError(() => normalizeReference(input), 'REFERENCE_INVALID');
  });

  it('rejects a non-string with REFERENCE_INVALID', () => {
    expectError(() => parseReference(42 as unknown as string), 'REFERENCE_INVALID');
    expectError(() => parseReference(undefined as unknown as string), 'REFERENCE_INVALID');
  });

  it('caps the reference it reports', () => {
    const e = expectError(() => parseReference('A'.repeat(5000)), 'REFERENCE_INVALID');
    expect(String(e.data['reference'])).toHaveLength(300);
  });
});

describe('formatReference', () => {
  it('writes registry/repository[:tag][@digest]', () => {
    expect(formatReference(parseReference('ghcr.io/a/b'))).toBe('ghcr.io/a/b:latest');
    expect(formatReference(parseReference(`ghcr.io/a/b@${DIGEST}`))).toBe(`ghcr.io/a/b@${DIGEST}`);
    expect(formatReference(parseReference(`ghcr.io/a/b:t@${DIGEST}`))).toBe(
      `ghcr.io/a/b:t@${DIGEST}`
    );
  });
});

// ---- property tests ----------------------------------------------------------------------------

const registryArb = fc.constantFrom(
  undefined,
  'ghcr.io',
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'localhost',
  'localhost:5000',
  '127.0.0.1:5000',
  'registry.example.com:443',
  '[::1]:5000'
);
const alnumArb = fc.stringMatching(/^[a-z0-9]{1,6}$/);
const separatorArb = fc.constantFrom('.', '_', '__', '-', '--', '---');
const componentArb = fc
  .tuple(alnumArb, fc.array(fc.tuple(separatorArb, alnumArb), { maxLength: 2 }))
  .map(([head, tail]) => head + tail.map(([s, a]) => s + a).join(''));
const pathArb = fc.array(componentArb, { minLength: 1, maxLength: 3 });
const tagArb = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
const digestArb = fc.stringMatching(/^[0-9a-f]{64}$/).map((h) => `sha256:${h}`);

const referenceArb = fc
  .record({
    registry: registryArb,
    path: pathArb,
    tag: fc.option(tagArb, { nil: undefined }),
    digest: fc.option(digestArb, { nil: undefined }),
  })
  // Without a registry, a first component with a dot would be read as a host (as in distribution).
  .filter(
    (p) => p.registry !== undefined || p.path.length === 1 || !(p.path[0] ?? '').includes('.')
  )
  .map((parts) => ({
    ...parts,
    text:
      (parts.registry === undefined ? '' : `${parts.registry}/`) +
      parts.path.join('/') +
      (parts.tag === undefined ? '' : `:${parts.tag}`) +
      (parts.digest === undefined ? '' : `@${parts.digest}`),
  }));

describe('parseReference and formatReference (properties)', () => {
  it('parse(format(parse(s))) equals parse(s)', () => {
    fc.assert(
      fc.property(referenceArb, ({ text }) => {
        const r = parseReference(text);
        expect(parseReference(formatReference(r))).toStrictEqual(r);
      })
    );
  });

  it('format(parse(format(r))) is a fixed point', () => {
    fc.assert(
      fc.property(referenceArb, ({ text }) => {
        const r: Reference = parseReference(text);
        const once = formatReference(r);
        const twice = formatReference(parseReference(once));
        expect(twice).toBe(once);
        expect(normalizeReference(once)).toBe(once);
        expect(normalizeReference(text)).toBe(once);
      })
    );
  });

  it('keeps the tag and digest, defaulting the tag to latest only when both are absent', () => {
    fc.assert(
      fc.property(referenceArb, ({ text, tag, digest }) => {
        const r = parseReference(text);
        expect(r.digest).toBe(digest);
        expect(r.tag).toBe(tag ?? (digest === undefined ? 'latest' : undefined));
      })
    );
  });

  it('keeps an explicit registry, mapping Docker Hub aliases to docker.io', () => {
    fc.assert(
      fc.property(referenceArb, ({ text, registry, path }) => {
        fc.pre(registry !== undefined);
        const r = parseReference(text);
        const hub =
          registry === 'docker.io' ||
          registry === 'index.docker.io' ||
          registry === 'registry-1.docker.io';
        expect(r.registry).toBe(hub ? 'docker.io' : registry);
        const repository = path.join('/');
        expect(r.repository).toBe(hub && path.length === 1 ? `library/${repository}` : repository);
      })
    );
  });

  it('rejects any valid reference with whitespace inserted', () => {
    fc.assert(
      fc.property(
        referenceArb,
        fc.nat(),
        fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0', '\u2028'),
        ({ text }, at, ws) => {
          const i = at % (text.length + 1);
          const broken = text.slice(0, i) + ws + text.slice(i);
          expectError(() => parseReference(broken), 'REFERENCE_INVALID');
        }
      )
    );
  });

  it('rejects any valid reference with an uppercase letter in the repository path', () => {
    fc.assert(
      fc.property(referenceArb, ({ registry, path, tag }) => {
        fc.pre(registry !== undefined);
        const upper = [...path.slice(0, -1), `${path[path.length - 1] ?? ''}X`];
        const text = `${registry}/${upper.join('/')}${tag === undefined ? '' : `:${tag}`}`;
        expectError(() => parseReference(text), 'REFERENCE_INVALID');
      })
    );
  });
});
