import { describe, expect, it } from 'vitest';
import { instanceCodec } from '../../codecs/instance.js';
import { parametricInstanceCodec } from '../../codecs/parametric-instance.js';
import { sampleSetCodec } from '../../codecs/sample-set.js';
import { solutionCodec } from '../../codecs/solution.js';
import { ParametricInstance } from '../../src/ommx/parametric-instance.js';
import { knapsack } from '../helpers/ommx.js';
import { expectError, runCodecContract } from './contract.js';

const instance = knapsack({ 'com.example.k': 'v' });
const parametric = new ParametricInstance({
  decisionVariables: instance.decisionVariables,
  parameters: [{ id: 100, name: 'capacity', subscripts: [], parameters: {} }],
  objective: instance.objective,
  constraints: [],
  removedConstraints: [],
  sense: 'maximize',
  decisionVariableDependency: new Map(),
  namedFunctions: [],
  annotations: {},
});
const garbage = [Uint8Array.of(0xff, 0xfe), Uint8Array.of(0x0a, 0xff, 0xff, 0xff)];

runCodecContract('instance', instanceCodec, [instance, knapsack()], { garbage });
runCodecContract('parametric-instance', parametricInstanceCodec, [parametric], { garbage });
runCodecContract(
  'solution',
  solutionCodec,
  [instance.evaluate({ 0: 0, 1: 1, 2: 1 }), instance.evaluate({ 0: 1, 1: 1, 2: 1 })],
  { garbage }
);
runCodecContract(
  'sample-set',
  sampleSetCodec,
  [
    instance.evaluateSamples([
      { 0: 0, 1: 1, 2: 1 },
      { 0: 1, 1: 1, 2: 1 },
    ]),
  ],
  { garbage }
);

describe('OMMX codecs', () => {
  it('write the v2 media types', () => {
    expect(instanceCodec.mediaType).toBe('application/org.ommx.v2.instance');
    expect(parametricInstanceCodec.mediaType).toBe('application/org.ommx.v2.parametric-instance');
    expect(solutionCodec.mediaType).toBe('application/org.ommx.v2.solution');
    expect(sampleSetCodec.mediaType).toBe('application/org.ommx.v2.sample-set');
  });

  it('refuse to encode anything but their class', () => {
    expectError(() => instanceCodec.encode({} as never), 'ARGUMENT_INVALID');
    expectError(() => solutionCodec.encode(instance as never), 'ARGUMENT_INVALID');
    expectError(() => sampleSetCodec.encode(null as never), 'ARGUMENT_INVALID');
    expectError(() => parametricInstanceCodec.encode(instance as never), 'ARGUMENT_INVALID');
  });
});
