import type { DescMessage, FileRegistry } from '@bufbuild/protobuf';
export declare const ommxRegistry: FileRegistry;
export declare function ommxMessage(name: string): DescMessage;
