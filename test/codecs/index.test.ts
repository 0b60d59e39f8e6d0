import { describe, expect, it } from 'vitest';
import { arrowCodec } from '../../codecs/arrow.js';
import { bytesCodec } from '../../codecs/bytes.js';
import * as codecs from '../../codecs/index.js';
import { jsonCodec } from '../../codecs/json.js';
import { msgpackCodec } from '../../codecs/msgpack.js';
import { npyArray, npyCodec } from '../../codecs/npy.js';
import { textCodec } from '../../codecs/text.js';
import { instanceCodec } from '../../codecs/instance.js';
import { parametricInstanceCodec } from '../../codecs/parametric-instance.js';
import { sampleSetCodec } from '../../codecs/sample-set.js';
import { solutionCodec } from '../../codecs/solution.js';
import { assertCodec } from '../../src/experiment/codec.js';

describe('codecs/index', () => {
  it('exports exactly the ten codecs, npyArray and builtinCodecs', () => {
    expect(Object.keys(codecs).sort()).toEqual([
      'arrowCodec',
      'builtinCodecs',
      'bytesCodec',
      'instanceCodec',
      'jsonCodec',
      'msgpackCodec',
      'npyArray',
      'npyCodec',
      'parametricInstanceCodec',
      'sampleSetCodec',
      'solutionCodec',
      'textCodec',
    ]);
    expect(codecs.npyArray).toBe(npyArray);
  });

  it('builtinCodecs lists the ten codecs of the per-codec modules, frozen', () => {
    expect(codecs.builtinCodecs).toEqual([
      jsonCodec,
      textCodec,
      bytesCodec,
      msgpackCodec,
      npyCodec,
      arrowCodec,
      instanceCodec,
      parametricInstanceCodec,
      solutionCodec,
      sampleSetCodec,
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
      'application/org.ommx.v2.instance',
      'application/org.ommx.v2.parametric-instance',
      'application/org.ommx.v2.solution',
      'application/org.ommx.v2.sample-set',
    ]);
  });
});
