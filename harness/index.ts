/**
 * podpath as a library: everything a script or another tool may build on, one import.
 * Each concern's own index.ts is its public surface; this file only gathers them.
 */
export * from './errors/index.ts';
export * from './probe/index.ts';
export * from './accesslog/index.ts';
export * from './envoy/index.ts';
export * from './lint/index.ts';
export * from './cluster/index.ts';
export * from './kube/index.ts';
export * from './manifests/index.ts';
export * from './runner/index.ts';
export * from './report/index.ts';
export * from './exec/index.ts';
export * from './predict/index.ts';
