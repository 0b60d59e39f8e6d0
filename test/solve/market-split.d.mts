import type { InstanceData } from '../../src/ommx/types.js';
export declare function marketSplitData(m: number, seed: number): InstanceData;
