import { describe, expect, it } from 'vitest';
import { arrowCodec } from '../../codecs/arrow.js';
import { bytesCodec } from '../../codecs/bytes.js';
import * as codecs from '../../codecs/index.js';
import { jsonCodec } from '../../codecs/json.js';
import { msgpackCodec } from '../../codecs/msgpack.js';
import { npyArray, npyCodec } from '../../codecs/npy.js';
import { textCodec } from '../../codecs/text.js';
import { assertCodec } from '../../src/experiment/codec.js';

describe('codecs/index', () => {
  it('exports exactly the six codecs, npyArray and builtinCodecs', () => {
    expect(Object.keys(codecs).sort()).toEqual([
      'arrowCodec',
      'builtinCodecs',
      'bytesCodec',
      'jsonCodec',
      'msgpackCodec',
      'npyArray',
      'npyCodec',
      'textCodec',
    ]);
    expect(codecs.npyArray).toBe(npyArray);
  });

  it('builtinCodecs lists the six codecs of the per-codec modules, frozen', () => {
    expect(codecs.builtinCodecs).toEqual([
      jsonCodec,
      textCodec,
      bytesCodec,
      msgpackCodec,
      npyCodec,
      arrowCodec,
    ]);
    expect(Object.isFrozen(codecs.builtinCodecs)).toBe(true);
  });

  it('every built-in codec is valid and has a media type of its own', () => {
    for (const codec of codecs.builtinCodecs) assertCodec(codec);
    const types = codecs.builtinCodecs.map((c) => c.mediaType);
    expect(new Set(types).size).toBe(types.length);
    expect(types).toEqual([
      'application/json',
      'text/plain; charset=utf-8',
      'application/octet-stream',
      'application/msgpack',
      'application/vnd.numpy',
      'application/vnd.apache.arrow.file',
    ]);
  });
});
