export { SnapshotError, SnapshotRegistry, decodeGraph, encodeGraph } from './graph.js';
export type { ClassSpec, DecodeOptions, EncodedGraph, EncodeOptions, ExternalRef, GraphData } from './graph.js';
export { labClassSpecs, labRegistry } from './registry.js';
export { captureRuntime, decodeState, encodeState, restoreRuntime } from './runtime-state.js';
export type { RestoreReport, RuntimeState, RuntimeStateInfo } from './runtime-state.js';
