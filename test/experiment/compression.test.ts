/**
 * OMMX's `+zstd` attachment storage rules: the stored media type, the compression annotation and
 * the compression option.
 */
import { describe, expect, it } from 'vitest';
import {
  logicalMediaType,
  parseCompression,
  storedMediaType,
  ZSTD_ANNOTATION,
} from '../../src/experiment/compression.js';
import { expectCode } from '../helpers/expect-code.js';

describe('media types and the compression annotation (ommx-reference §4.3)', () => {
  const zstdAnnotation = { [ZSTD_ANNOTATION]: 'zstd' };

  it('names the annotation as OMMX does', () => {
    expect(ZSTD_ANNOTATION).toBe('org.ommx.v1.attachment.compression');
  });

  it('adds one +zstd suffix when compressed and none otherwise', () => {
    expect(storedMediaType('application/json', 'zstd')).toBe('application/json+zstd');
    expect(storedMediaType('application/json', 'none')).toBe('application/json');
  });

  it('strips exactly one suffix when the annotation says zstd', () => {
    expect(logicalMediaType('text/csv+zstd', zstdAnnotation)).toEqual({
      mediaType: 'text/csv',
      compression: 'zstd',
    });
  });

  it('round-trips a logical type that itself ends in +zstd, in both modes', () => {
    const logical = 'application/x+zstd';
    const zstdStored = storedMediaType(logical, 'zstd');
    expect(zstdStored).toBe('application/x+zstd+zstd');
    expect(logicalMediaType(zstdStored, zstdAnnotation)).toEqual({
      mediaType: logical,
      compression: 'zstd',
    });
    const plainStored = storedMediaType(logical, 'none');
    expect(plainStored).toBe(logical);
    expect(logicalMediaType(plainStored, {})).toEqual({ mediaType: logical, compression: 'none' });
  });

  it('ignores a +zstd suffix without the annotation (other annotations do not matter)', () => {
    expect(logicalMediaType('text/csv+zstd', { 'org.example.k': 'zstd' })).toEqual({
      mediaType: 'text/csv+zstd',
      compression: 'none',
    });
  });

  it('rejects the zstd annotation on a type without the suffix as EXPERIMENT_INVALID', async () => {
    const e = await expectCode(
      () => logicalMediaType('text/csv', zstdAnnotation),
      'EXPERIMENT_INVALID'
    );
    expect(e.message).toContain('text/csv');
    expect(e.message).toContain('+zstd');
    expect(e.data['mediaType']).toBe('text/csv');
  });

  it.each([['gzip'], ['none'], ['ZSTD'], ['']])(
    'rejects the annotation value %j as EXPERIMENT_INVALID',
    async (value) => {
      const e = await expectCode(
        () => logicalMediaType('text/csv+zstd', { [ZSTD_ANNOTATION]: value }),
        'EXPERIMENT_INVALID'
      );
      expect(e.message).toContain(JSON.stringify(value));
      expect(e.data['value']).toBe(value);
    }
  );
});

describe('parseCompression', () => {
  it('accepts none and zstd', () => {
    expect(parseCompression('none')).toBe('none');
    expect(parseCompression('zstd')).toBe('zstd');
  });

  it.each([['gzip'], ['ZSTD'], [''], [undefined], [null], [3], [{}]])(
    'rejects %j with ARGUMENT_INVALID',
    async (value) => {
      const e = await expectCode(() => parseCompression(value), 'ARGUMENT_INVALID');
      expect(e.message).toContain('expected none or zstd');
    }
  );
});
